"""Before a ClusterVersion step changes anything: read its insights and add-ons, bring lagging add-ons along
(update_addons), and stop with what blocks it unless forced; and say what EKS's own readiness check found."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from pulumi_cluster_connect._plumbing import errors, ownership, progress, protocol
from pulumi_cluster_connect._plumbing import upgrade_readiness as readiness
from pulumi_cluster_connect._plumbing.cluster_updates import (
    ADDON_UPDATE_PACE,
    FINAL_FAILURES,
    ClusterUpdates,
    describe_errors,
    parse_version,
)

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

Answer = TypeVar("Answer", Mapping[str, Any], Mapping[str, Any] | None)


def new_update(what: str, key: str, request: Mapping[str, Any], ask: Callable[[str], Answer]) -> Answer:
    """`ask` with the request's token (ownership.request_token); when EKS answers with an earlier attempt that ended
    (Failed or Cancelled: the token was used before), ask again with the next generation's token. `ask` answers
    None when no update of ours was started (another client's ran instead)."""
    for generation in range(protocol.MAX_GENERATIONS):
        update = ask(ownership.request_token(key, request, generation))
        # A Successful answer is an earlier attempt too: the step was made, then undone (rolled back).
        if update is None or update["status"] == "InProgress":
            return update
    raise errors.ClusterConnectError(f"{what}: EKS answered every request with an update that had ended")


@dataclass(kw_only=True)
class Gate:
    """The readiness checks of one run: its cluster, whether to force, whether to update add-ons, the add-on updates
    made so far and the run's timeout (the deadline is the cluster's)."""

    cluster: ClusterUpdates
    region: str
    force: bool
    update_addons: bool
    timeout: float
    addon_updates: list[dict[str, str]] = field(default_factory=list)

    @property
    def eks(self) -> EKSClient:
        return self.cluster.eks

    @property
    def name(self) -> str:
        return self.cluster.name

    @property
    def token_key(self) -> str:
        """What an update's request token is for: the cluster (whoever asks for the same step of it asks for the
        same update)."""
        return f"ClusterVersion/{self.region}/{self.name}"

    def remaining(self, what: str) -> float:
        remaining = self.cluster.deadline - time.monotonic()
        if remaining <= 0:
            raise errors.WaitTimeout(what, self.timeout, "deadline reached")
        return remaining

    def _get_ready(
        self,
        current: str,
        to: str,
        stale_before: float | None,
        category: readiness.Category = readiness.UPGRADE_READINESS,
    ) -> None:
        """Read the step's insights and add-ons; stop before any change when something blocks it (unless forced);
        with update_addons, bring lagging add-ons to a version that runs on both minors first."""
        rollback = category == readiness.ROLLBACK_READINESS
        step = f"EKS cluster {self.name} {'rollback ' if rollback else ''}{current} -> {to}"
        checker = readiness.Checker(self.eks, self.name, self.cluster.deadline)
        found = checker.read(to, stale_before=stale_before, category=category)
        readiness.report_lines(f"{step}: warning: ", found.cautions())
        bridges = self._bridge_versions(checker, found, current) if self.update_addons else {}
        self._gate(step, current, found.blocking(fixed_addons=bridges))
        if not bridges:
            return
        for addon in found.lagging_addons:
            if addon.name in bridges:
                self._update_addon(addon, bridges[addon.name], current, to)
        # EKS's own check reads its insights, which predate the add-on updates: have them evaluated again.
        note = checker.refresh()
        readiness.report_lines(f"{step}: warning: ", [note] if note else [])
        again = checker.read(to, refresh_errors=False, category=category)
        updated = ", ".join(f"{name} to {version}" for name, version in bridges.items())
        self._gate(step, current, again.blocking(), changed=f"the add-ons were updated ({updated}) but ")

    def _bridge_versions(self, checker: readiness.Checker, found: readiness.Readiness, current: str) -> dict[str, str]:
        bridges = {}
        for addon in found.lagging_addons:
            bridge = checker.bridge_version(addon, current)
            if bridge is not None:
                bridges[addon.name] = bridge
        return bridges

    def _gate(self, step: str, current: str, blocking: list[str], changed: str = "") -> None:
        if not blocking:
            return
        if self.force:
            readiness.report_lines(f"{step}: force is set, going on despite: ", blocking)
            return
        outcome = f"{changed}the control plane was not changed" if changed else "nothing was changed"
        action = "roll back" if " rollback " in step else "upgrade"
        raise readiness.UpgradeBlocked(
            f"{step} is blocked, {outcome} (the cluster stays at Kubernetes {current}):\n"
            + "".join(f"- {line}\n" for line in blocking)
            + f"Fix these and run `pulumi up` again, or set force=True to {action} anyway."
        )

    def _update_addon(self, addon: readiness.LaggingAddon, version: str, current: str, to: str) -> None:
        what = f"EKS cluster {self.name} add-on {addon.name} {addon.version} -> {version}"
        progress.report(f"{what}: runs on Kubernetes {current} and {to}, updating it before the control plane")
        request = {"addon": addon.name, "change": f"{addon.version}->{version}"}
        update = new_update(
            what, self.token_key, request, lambda token: self.cluster.request_addon(addon.name, version, token)
        )
        record = {"id": update["id"], "addon": addon.name, "from": addon.version, "to": version, "status": "InProgress"}
        self.addon_updates.append(record)

        def describe() -> Mapping[str, Any]:
            found = self.cluster.describe_addon_update(update["id"], addon.name)
            record["status"] = str(found["status"])
            return found

        self.cluster.wait(
            f"{what} (update {update['id']})",
            describe,
            done=lambda u: u["status"] == "Successful",
            failure=lambda u: (
                f"{describe_errors(u)}. The control plane was not changed: it stays at Kubernetes {current}"
                if u["status"] in FINAL_FAILURES
                else None
            ),
            timeout=self.remaining(what),
            pace=ADDON_UPDATE_PACE,
        )

    def _refused_as_not_ready(self, what: str, current: str, to: str, err: errors.AwsApiError) -> Exception:
        """EKS's own readiness check refused the step: say what its insights found, as for our own check."""
        checker = readiness.Checker(self.eks, self.name, self.cluster.deadline)
        rollback = parse_version(to) < parse_version(current)
        category = readiness.ROLLBACK_READINESS if rollback else readiness.UPGRADE_READINESS
        try:
            note = checker.refresh()
            found = checker.read(to, refresh_errors=False, category=category)
            lines = found.blocking() + ([note] if note else [])
        except errors.AwsApiError as failed:
            lines = [f"what EKS's insights say could not be read ({failed})"]
        return readiness.UpgradeBlocked(
            f"{what} was refused by EKS, nothing was changed (the cluster stays at Kubernetes {current}): "
            f"{err.code}: {err.message}\n"
            + "".join(f"- {line}\n" for line in lines)
            + (
                "EKS refused although force was set."
                if self.force
                else "Fix these and run `pulumi up` again, or set force=True to "
                + ("roll back anyway." if rollback else "upgrade anyway.")
            )
        )

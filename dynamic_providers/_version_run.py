"""One ClusterVersion create or update: wait out what runs, check each step's readiness, step up or roll back one
minor, await it; repeated until the cluster runs the target version."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pulumi_cluster_connect._plumbing import busy, errors, polling, progress
from pulumi_cluster_connect._plumbing import upgrade_readiness as readiness
from pulumi_cluster_connect._plumbing.cluster_updates import (
    CLUSTER_PACE,
    FINAL_FAILURES,
    JOINED_UPDATE_PACE,
    ROLLBACK_PACE,
    VERSION,
    VERSION_TYPES,
    VERSION_UPDATE_PACE,
    describe_errors,
    in_progress_id,
    minors_below,
    next_minor,
    param,
    parse_version,
    previous_minor,
)

from . import _rollback_rules as rollback_rules
from ._version_gate import Gate, new_update

# Refused as "update in progress" while no update runs: another client's update not visible yet, or EKS still
# settling the step that just finished although the cluster is ACTIVE (aws/containers-roadmap#2677).
RACE_POLL = polling.Backoff(first=1.0, factor=2.0, cap=15.0)


@dataclass(kw_only=True)
class Run(Gate):
    """One create or update: the cluster's update calls, the goal, the deadline and the updates seen so far."""

    target: str
    rollback_timeout_minutes: int | None = None
    updates: list[dict[str, str]] = field(default_factory=list)
    last_step_started: float | None = None
    """When EKS created the last version update this run started (epoch seconds): insights older are stale."""
    after_step: Callable[[str], object] | None = None
    """Called with the version reached after each step and rollback (recycle_fargate_pods)."""

    def reach_target(self) -> Mapping[str, Any]:
        while True:
            cluster = self._active_cluster()
            current = cluster["version"]
            if current == self.target:
                if self._cancel_rollback_away(cluster, current):
                    continue
                return cluster
            if parse_version(self.target) < parse_version(current):
                self._roll_back(cluster, current)
                continue
            to = next_minor(current)
            self._check_nodegroups(current)
            self._get_ready(current, to, self.last_step_started)
            self._step(cluster, current, to)

    def _cancel_rollback_away(self, cluster: Mapping[str, Any], current: str) -> bool:
        """An Auto Mode rollback rolls the nodes back first, the cluster ACTIVE at the version it leaves: when that
        version is the target again (`version` set back while it ran), cancel it, which EKS allows in that phase
        only. Past it, the rollback is waited out and the run steps up again. True when the cluster was touched."""
        if not (cluster.get("computeConfig") or {}).get("enabled"):
            return False
        newest = self.cluster.newest()
        if newest is None or newest.get("type") != "VersionRollback" or newest.get("status") != "InProgress":
            return False
        update_id, to = str(newest["id"]), param(newest, "Version") or "?"
        what = f"EKS cluster {self.name} rollback {current} -> {to} (update {update_id})"
        try:
            self.cluster.cancel(update_id)
        except errors.AwsApiError as err:
            if err.code != "InvalidRequestException":
                raise
            progress.report(
                f"{what}: EKS can no longer cancel it ({err.message}); waiting for it, then back to {current}"
            )
            self._wait_out(newest, current)
            return True
        progress.report(f"{what}: cancelling it, since version is {current} again")
        ended = self._await(update_id, f"{what} to be cancelled", current, None, pace=JOINED_UPDATE_PACE)
        self.updates.append(
            {"id": update_id, "type": "VersionRollback", "from": current, "to": to, "status": str(ended["status"])}
        )
        return True

    def _describe_cluster(self) -> Mapping[str, Any]:
        """The cluster between and around the steps; one two or more minors above the target is refused."""
        cluster = self.cluster.describe_cluster(accepted=bool(self.updates or self.addon_updates))
        if minors_below(cluster["version"], self.target) >= 2:
            raise rollback_rules.RollbackRefused(
                f"EKS cluster {self.name} runs Kubernetes {cluster['version']}; "
                f"{rollback_rules.two_minors_back(cluster['version'], self.target)}"
            )
        return cluster

    def _active_cluster(self) -> Mapping[str, Any]:
        """The cluster once ACTIVE, after waiting out an update in progress (ours after a crash, or not)."""
        while True:
            cluster = self._describe_cluster()
            status = cluster["status"]
            if status == "ACTIVE":
                return cluster
            running = self.cluster.find_running() if status == "UPDATING" else None
            if running is not None:
                self._wait_out(running, cluster["version"])
                continue
            what = f"EKS cluster {self.name} to be ACTIVE"
            self.cluster.wait(
                what,
                self._describe_cluster,
                done=lambda c: c["status"] == "ACTIVE",
                failure=lambda c: (
                    f"cannot upgrade a cluster in status {c['status']}"
                    if c["status"] in ("FAILED", "DELETING")
                    else None
                ),
                timeout=self.remaining(what),
                pace=CLUSTER_PACE,
            )

    def _wait_out(self, update: Mapping[str, Any], current: str) -> None:
        """Wait for an update this run did not start; a failed version update stops us with its errors."""
        if update.get("type") not in VERSION_TYPES:
            progress.report(f"EKS cluster {self.name}: waiting for update {update['id']} ({update.get('type')})")
            what = f"EKS cluster {self.name} {update.get('type')} {update['id']}"
            self._await(update["id"], what, current, None, pace=JOINED_UPDATE_PACE)
            return
        to = param(update, "Version") or "?"
        kind = "rollback" if update.get("type") == "VersionRollback" else "version update"
        progress.report(f"EKS cluster {self.name}: {kind} {current} -> {to} already in progress, waiting")
        what = f"EKS cluster {self.name} {kind} {current} -> {to} (update {update['id']})"
        self._await(update["id"], what, current, to, pace=JOINED_UPDATE_PACE, kind=str(update.get("type")))

    def _await(
        self,
        update_id: str,
        what: str,
        current: str,
        to: str | None,
        *,
        pace: polling.Lifecycle = VERSION_UPDATE_PACE,
        kind: str = "VersionUpdate",
    ) -> Mapping[str, Any]:
        def failure(update: Mapping[str, Any]) -> str | None:
            if to is None or update["status"] not in FINAL_FAILURES:
                return None
            return (
                f"{describe_errors(update)}. The cluster stays at Kubernetes {current}; "
                "run `pulumi up` again to retry from there"
            )

        seen: dict[str, Any] = {"status": "InProgress"}

        def describe() -> Mapping[str, Any]:
            update = self.cluster.describe_update(update_id)
            seen["status"] = update["status"]
            return update

        try:
            return self.cluster.wait(
                what,
                describe,
                done=lambda u: u["status"] != "InProgress" if to is None else u["status"] == "Successful",
                failure=failure,
                timeout=self.remaining(what),
                pace=pace,
            )
        finally:
            if to is not None:
                self.updates.append(
                    {"id": update_id, "type": kind, "from": current, "to": to, "status": str(seen["status"])}
                )

    def _check_nodegroups(self, current: str) -> None:
        """EKS wants every managed node group at the control plane's version before the next minor step."""
        lagging = [
            f"{name} ({version})"
            for name, version in self.cluster.nodegroup_versions()
            if version and VERSION.match(version) and parse_version(version) < parse_version(current)
        ]
        if not lagging:
            return
        listed = ", ".join(lagging)
        if self.force:
            progress.report(
                f"EKS cluster {self.name}: managed node groups behind the control plane at {current}: "
                f"{listed}; going on because force is set"
            )
            return
        raise errors.ClusterConnectError(
            f"EKS cluster {self.name}: managed node groups lag behind the control plane at Kubernetes "
            f"{current}: {listed}. Update them to {current} before the next step, "
            "or set force=True to upgrade anyway"
        )

    def _step(self, cluster: Mapping[str, Any], current: str, to: str) -> None:
        what = f"EKS cluster {self.name} {current} -> {to}"
        step = {"cluster_created_at": str(cluster.get("createdAt", "")), "step": f"{current}->{to}"}
        update = new_update(what, self.token_key, step, lambda token: self._request_step(what, current, to, token))
        if update is None:
            return
        created = update.get("createdAt")
        self.last_step_started = created.timestamp() if isinstance(created, datetime) else time.time()
        self._await_step(update, what, current, to, pace=VERSION_UPDATE_PACE, kind="VersionUpdate")

    def _await_step(
        self, update: Mapping[str, Any], what: str, current: str, to: str, *, pace: polling.Lifecycle, kind: str
    ) -> None:
        started = time.monotonic()
        self._await(update["id"], f"{what} (update {update['id']})", current, to, pace=pace, kind=kind)
        progress.report(f"{what}: done (update {update['id']}, {time.monotonic() - started:.1f}s)")
        if self.after_step is not None:
            self.after_step(to)

    def _roll_back(self, cluster: Mapping[str, Any], current: str) -> None:
        """One minor back (two or more were refused when the cluster was read): join a rollback already running (an
        Auto Mode one keeps the cluster ACTIVE while it rolls the nodes back), else check EKS's rules, the node
        groups, the rollback insights and the add-ons, then ask for it and wait on the update, never on the
        cluster's status."""
        updates = self.cluster.all_updates()
        running = next((u for u in reversed(updates) if u["status"] == "InProgress"), None)
        if running is not None:
            self._wait_out(running, current)
            return
        to = previous_minor(current)
        what = f"EKS cluster {self.name} rollback {current} -> {to}"
        rollback_rules.check(self.eks, cluster, to, updates)
        self._check_nodegroups_for_rollback(what, current, to)
        profiles = self.cluster.fargate_profiles()
        if profiles:
            progress.report(
                f"{what}: warning: EKS does not roll Fargate nodes back (profiles {', '.join(profiles)}): pods "
                f"started at {current} keep their kubelet and fail the kubelet version skew rollback insight; delete "
                "those pods, or set force=True; "
                + (
                    f"they are moved onto {to} kubelets after the rollback (recycle_fargate_pods)"
                    if self.after_step is not None
                    else "with kubeconfig and recycle_fargate_pods=True this resource moves them onto "
                    f"{to} kubelets after the rollback"
                )
            )
        self._get_ready(current, to, self.last_step_started, readiness.ROLLBACK_READINESS)
        step = {"cluster_created_at": str(cluster.get("createdAt", "")), "step": f"{current}->{to}", "kind": "rollback"}
        update = new_update(what, self.token_key, step, lambda token: self._request_step(what, current, to, token))
        if update is not None:
            self._await_step(update, what, current, to, pace=ROLLBACK_PACE, kind="VersionRollback")

    def _check_nodegroups_for_rollback(self, what: str, current: str, to: str) -> None:
        """EKS does not roll managed node groups back, and a kubelet newer than the control plane is not supported."""
        newer = rollback_rules.newer_nodegroups(self.cluster.nodegroup_versions(), to)
        if not newer:
            return
        listed = ", ".join(newer)
        if self.force:
            progress.report(f"{what}: managed node groups newer than {to}: {listed}; going on because force is set")
            return
        raise readiness.UpgradeBlocked(
            f"{what} is blocked, nothing was changed (the cluster stays at Kubernetes {current}): managed node "
            f"groups run a Kubernetes newer than {to} and EKS does not roll them back: {listed}; update them to {to} "
            "first (UpdateNodegroupVersion), or set force=True to roll back anyway"
        )

    def _request_step(self, what: str, current: str, to: str, token: str) -> Mapping[str, Any] | None:
        """UpdateClusterVersion, asked again while EKS is busy with an update it cannot show us yet; None when an
        update of another client ran instead (now waited out)."""
        rollback = parse_version(to) < parse_version(current)
        named: list[Mapping[str, Any]] = []

        def ask() -> Mapping[str, Any] | None:
            named.clear()
            try:
                return self.cluster.request_version(
                    to,
                    token,
                    force=self.force,
                    rollback_timeout_minutes=self.rollback_timeout_minutes if rollback else None,
                )
            except errors.AwsApiError as err:
                if err.code == "InvalidStateException":
                    raise self._refused_as_not_ready(what, current, to, err) from err
                if rollback and err.code in ("InvalidRequestException", "InvalidParameterException"):
                    raise rollback_rules.RollbackRefused(
                        f"{what} was refused by EKS, nothing was changed (the cluster stays at Kubernetes "
                        f"{current}): {err.code}: {err.message}"
                    ) from err
                running_id = in_progress_id(err.message) if err.code == "ResourceInUseException" else None
                running = self.cluster.describe_update(running_id) if running_id else None
                if running is not None and running["status"] == "InProgress":
                    self._wait_out(running, current)
                    return None
                named.extend([running] if running is not None else [])
                raise

        def still_in_progress(_err: errors.AwsApiError) -> str:
            shown = f" ({named[0]['id']}, {named[0]['status']})" if named else ""
            return f"EKS still reports an update in progress{shown}"

        return busy.when_free(
            ask,
            what,
            self.remaining(what),
            busy=lambda err: err.code == "ResourceInUseException",
            reason=still_in_progress,
            backoff=RACE_POLL,
        )

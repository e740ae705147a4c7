"""ClusterVersion: the Kubernetes version of an existing EKS cluster, upgraded one minor version at a time."""

# Longer than 400 lines because the stepping run (_Run: wait out, check readiness, step, await) belongs with
# the provider that drives it; readiness rules live in _upgrade_readiness.py.

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import pulumi
import pulumi.dynamic
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)

from pulumi_cluster_connect._plumbing import aws, configured, credentials, errors, inputs, polling, progress

from . import _upgrade_readiness as readiness

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

VERSION = re.compile(r"^(\d+)\.(\d+)$")
CLUSTER_NAME = inputs.EKS_NAME
DEFAULT_TIMEOUT = 3 * 3600.0
UPDATE_IN_PROGRESS = re.compile(r"currently has update (?P<id>[\w-]+) in progress")
# Refused as "update in progress" while no update runs: another client's update not visible yet, or EKS still
# settling the step that just finished although the cluster is ACTIVE (aws/containers-roadmap#2677).
RACE_POLL = polling.Backoff(first=1.0, factor=2.0, cap=15.0)
# A request token that names an earlier attempt which ended Failed or Cancelled gets the next one.
MAX_ATTEMPTS = 20
# Keep what the user configured on an add-on; apply only the new version.
RESOLVE_CONFLICTS: Literal["PRESERVE"] = "PRESERVE"
FINAL_FAILURES = ("Failed", "Cancelled")

# Version updates take about the same time (8-10 minutes on EKS, seconds in the sandbox): after the first step of
# the deployment, later steps look where it ended (pacing). An update this run joined midway (another client's,
# or ours before a crash) teaches nothing, and neither does a cluster becoming ACTIVE: both are waited for on the
# cold schedule, every 0.5 s, then every 5% of the time waited.
VERSION_UPDATE_PACE = polling.Lifecycle(kind="EKS cluster version update", floor=0.5)
JOINED_UPDATE_PACE = polling.Lifecycle(floor=0.5, look_at_start=True)
ADDON_UPDATE_PACE = polling.Lifecycle(kind="EKS add-on update", floor=0.5)
CLUSTER_PACE = polling.Lifecycle(floor=0.5)


def parse_version(value: str) -> tuple[int, int]:
    found = VERSION.match(value)
    if not found:
        raise ValueError(f"not a Kubernetes minor version: {value!r}")
    return int(found[1]), int(found[2])


def next_minor(version: str) -> str:
    major, minor = parse_version(version)
    return f"{major}.{minor + 1}"


def _check_version(props: Mapping[str, Any], failures: list[CheckFailure]) -> None:
    if "version" not in props or props["version"] is None:
        failures.append(CheckFailure("version", 'is required: the Kubernetes minor version to reach, e.g. "1.32"'))
    elif inputs.known(props, "version"):
        value = props["version"]
        if not isinstance(value, str) or not VERSION.match(value):
            failures.append(
                CheckFailure(
                    "version",
                    f'must be a Kubernetes minor version as a string such as "1.32"{inputs.got(value)}',
                )
            )


def _check_cluster_name(props: Mapping[str, Any], failures: list[CheckFailure]) -> None:
    if "cluster_name" not in props or props["cluster_name"] is None:
        failures.append(CheckFailure("cluster_name", "is required: the name of the EKS cluster to upgrade"))
    elif inputs.known(props, "cluster_name"):
        value = props["cluster_name"]
        if not isinstance(value, str) or not CLUSTER_NAME.match(value):
            failures.append(
                CheckFailure(
                    "cluster_name",
                    f"must be an EKS cluster name: {inputs.EKS_NAME_RULE}{inputs.got(value)}",
                )
            )


def _check_options(props: Mapping[str, Any], failures: list[CheckFailure]) -> None:
    for key in ("force", "update_addons"):
        inputs.check_bool(props, key, failures)
    inputs.check_timeout(props, failures)
    inputs.check_region(props, "region", failures)
    credentials.check(props, failures)


def _describe_errors(update: Mapping[str, Any]) -> str:
    details = [
        f"{e.get('errorCode', 'Unknown')}: {e.get('errorMessage', '')}"
        + (f" ({', '.join(e['resourceIds'])})" if e.get("resourceIds") else "")
        for e in update.get("errors") or []
    ]
    cancellation = update.get("cancellation") or {}
    if cancellation.get("reason"):
        details.insert(0, f"cancelled: {cancellation['reason']}")
    return "; ".join(details) or "no errors reported"


def request_token(*identity: str) -> str:
    """A clientRequestToken derived from what the request is for (region, cluster, what changes, attempt): a
    re-run of the same request after a crash asks for the same thing, and EKS answers with what it started."""
    key = "/".join(("pulumi-cluster-connect/ClusterVersion", *identity))
    return "pcc-" + hashlib.sha256(key.encode()).hexdigest()[:32]


def _param(update: Mapping[str, Any], kind: str) -> str | None:
    return next((p.get("value") for p in update.get("params") or [] if p.get("type") == kind), None)


def preview_lines(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """What an up would do, from the state alone (preview calls no AWS API): the steps from the version the
    cluster ran at the last up or refresh, and what the `readiness` output recorded then for the first one."""
    current, target, name = olds.get("version"), news.get("version"), olds.get("cluster_name", "?")
    if not (isinstance(current, str) and isinstance(target, str) and VERSION.match(current) and VERSION.match(target)):
        return []
    prefix = f"EKS cluster {name}: "
    if parse_version(target) < parse_version(current):
        return [
            f"{prefix}runs Kubernetes {current} (as of the last up or refresh); {target} would be refused: "
            "EKS cannot downgrade a cluster"
        ]
    steps: list[str] = []
    while parse_version(current) < parse_version(target) and len(steps) < 50:
        steps.append(f"{current} -> {next_minor(current)}")
        current = next_minor(current)
    lines = [
        f"{prefix}{olds['version']} -> {target} takes {len(steps)} step{'s' if len(steps) != 1 else ''} "
        f"({', '.join(steps)}); node groups, upgrade insights and add-ons are checked before each one runs"
    ]
    found = olds.get("readiness")
    first = steps[0] if steps else None
    if not isinstance(found, Mapping) or first is None or found.get("version") != next_minor(str(olds["version"])):
        return [*lines, f"{prefix}what {first} would meet is not known: run `pulumi preview --refresh` to read it"]
    when = found.get("checked_at", "the last up or refresh")
    blocking, warnings = (
        [str(x) for x in v] if isinstance(v, list) else [] for v in (found.get("blocking"), found.get("warnings"))
    )
    if blocking:
        overcome = (
            "force is set: the up would go past it" if news.get("force") is True else "set force=True to go past it"
        )
        lines.append(f"{prefix}as of {when}, {first} would be blocked by: {'; '.join(blocking)}; {overcome}")
    else:
        lines.append(f"{prefix}as of {when}, nothing blocks {first}")
    lines += [f"{prefix}as of {when}, {first}: warning: {line}" for line in warnings]
    if len(steps) > 1:
        lines.append(f"{prefix}the later steps are checked during the up, once the cluster has reached them")
    return lines


class ClusterVersionProvider(configured.ConfiguredProvider):
    """Steps an EKS cluster's Kubernetes version up to the target, one UpdateClusterVersion per minor."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        _check_cluster_name(news, failures)
        _check_version(news, failures)
        _check_options(news, failures)
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """`olds` are the outputs: `version` and `region` there are what the cluster really has."""
        replaces = []
        if inputs.is_unknown(news.get("cluster_name")) or news.get("cluster_name") != olds.get("cluster_name"):
            replaces.append("cluster_name")
        new_region = news.get("region") or getattr(self, "_stack_config", {}).get("aws:region")
        if inputs.is_unknown(new_region) or (new_region is not None and new_region != olds.get("region")):
            replaces.append("region")
        moved, route_changes = credentials.identity_changes(olds, news)  # another account: another cluster
        replaces += moved
        version_changed = inputs.is_unknown(news.get("version")) or news.get("version") != olds.get("version")
        if version_changed and not replaces:
            readiness.report_lines("", preview_lines(olds, news))
        return DiffResult(
            changes=bool(replaces) or version_changed or bool(route_changes),
            replaces=replaces,
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        region = aws.region_of(props.get("region"), self._stack_config, credentials.route_of(props))
        outs = self._converge(props, region)
        return CreateResult(f"{region}/{props['cluster_name']}", outs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        region = aws.region_of(news.get("region"), self._stack_config, credentials.route_of(news))
        aws.verify_route(f"ClusterVersion of {news.get('cluster_name')}", _olds, news, region, self._stack_config)
        return UpdateResult(self._converge(news, region))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        region, _, name = id_.rpartition("/")
        region = region or aws.region_of(props.get("region"), self._stack_config, credentials.route_of(props))
        eks = aws.eks(region, self._stack_config, credentials.route_of(props))
        cluster = aws.describe_cluster_or_none(eks, name)
        if cluster is None:
            return ReadResult("", {})
        outs = {
            "updates": [],
            **props,
            "cluster_name": name,
            "region": region,
            "version": cluster["version"],
            "platform_version": cluster["platformVersion"],
            "readiness": _next_step_readiness(eks, name, cluster["version"]),
            credentials.ACCOUNT: credentials.account_in_arn(cluster.get("arn")),
        }
        return ReadResult(id_, inputs.without_none(outs))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        progress.report(
            f"EKS cluster {props.get('cluster_name', id_)}: left at Kubernetes {props.get('version', '?')}; "
            "a version upgrade cannot be undone, so there is nothing to delete"
        )

    def _converge(self, props: Mapping[str, Any], region: str) -> dict[str, Any]:
        """Step from wherever the cluster is (even halfway, after a crash) to the target version."""
        name, target = str(props["cluster_name"]), str(props["version"])
        timeout = inputs.timeout_of(props, DEFAULT_TIMEOUT)
        run = _Run(
            aws.eks(region, self._stack_config, credentials.route_of(props)),
            region,
            name,
            target,
            force=bool(props.get("force", False)),
            update_addons=bool(props.get("update_addons", False)),
            deadline=time.monotonic() + timeout,
            timeout=timeout,
        )
        cluster = run.reach_target()
        return inputs.without_none(
            {
                "cluster_name": name,
                "version": cluster["version"],
                "platform_version": cluster["platformVersion"],
                "region": region,
                "force": props.get("force"),
                "update_addons": props.get("update_addons"),
                inputs.TIMEOUT: props.get(inputs.TIMEOUT),
                "updates": run.updates,
                "addon_updates": run.addon_updates,
                "readiness": _next_step_readiness(run.eks, name, cluster["version"]),
                **{key: props.get(key) for key in credentials.ROUTE_KEYS},
                credentials.ACCOUNT: credentials.account_in_arn(cluster.get("arn")),
            }
        )


def _next_step_readiness(eks: EKSClient, name: str, current: str) -> dict[str, Any]:
    """What the next minor step would meet, as EKS sees it now: kept in the state for a later preview. Never
    fails the up or refresh that asks: when EKS cannot say, the output says so."""
    target = next_minor(current)
    checker = readiness.Checker(eks, name, time.monotonic() + readiness.REFRESH_TIMEOUT)
    try:
        return checker.read(target, refresh_errors=False).as_output()
    except errors.AwsApiError as err:
        found = readiness.Readiness(target, notes=[f"could not read what the next step would meet ({err})"])
        return found.as_output()


@dataclass
class _Run:
    """One create or update: the client, the goal, the deadline and the updates seen so far."""

    eks: EKSClient
    region: str
    name: str
    target: str
    force: bool
    update_addons: bool
    deadline: float
    timeout: float
    updates: list[dict[str, str]] = field(default_factory=list)
    addon_updates: list[dict[str, str]] = field(default_factory=list)
    last_step_started: float | None = None
    """When EKS created the last version update this run started (epoch seconds): insights older are stale."""

    def reach_target(self) -> Mapping[str, Any]:
        while True:
            cluster = self._active_cluster()
            current = cluster["version"]
            if current == self.target:
                return cluster
            to = next_minor(current)
            self._check_nodegroups(current)
            self._get_ready(current, to)
            self._step(cluster, current, to)

    def _remaining(self, what: str) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise errors.WaitTimeout(what, self.timeout, "deadline reached")
        return remaining

    def _describe_cluster(self) -> Mapping[str, Any]:
        cluster = self.eks.describe_cluster(name=self.name)["cluster"]
        if parse_version(cluster["version"]) > parse_version(self.target):
            raise errors.ClusterConnectError(
                f"EKS cluster {self.name} runs Kubernetes {cluster['version']}, above the requested "
                f"{self.target}: EKS cannot downgrade a cluster. "
                f"Set version to {cluster['version']} or later."
            )
        return cluster

    def _active_cluster(self) -> Mapping[str, Any]:
        """The cluster once ACTIVE, after waiting out an update in progress (ours after a crash, or not)."""
        while True:
            cluster = self._describe_cluster()
            status = cluster["status"]
            if status == "ACTIVE":
                return cluster
            running = self._running_update() if status == "UPDATING" else None
            if running is not None:
                self._wait_out(running, cluster["version"])
                continue
            what = f"EKS cluster {self.name} to be ACTIVE"
            polling.wait_for(
                what,
                self._describe_cluster,
                state_of=lambda c: str(c["status"]),
                done=lambda c: c["status"] == "ACTIVE",
                failure=lambda c: (
                    f"cannot upgrade a cluster in status {c['status']}"
                    if c["status"] in ("FAILED", "DELETING")
                    else None
                ),
                timeout=self._remaining(what),
                backoff=CLUSTER_PACE,
            )

    def _running_update(self) -> Mapping[str, Any] | None:
        ids = [i for page in self.eks.get_paginator("list_updates").paginate(name=self.name) for i in page["updateIds"]]
        # Newest last in practice: look from the end, and stop at the first update still running.
        for update_id in reversed(ids):
            update = self._describe_update(update_id)
            if update["status"] == "InProgress":
                return update
        return None

    def _describe_update(self, update_id: str) -> Mapping[str, Any]:
        return self.eks.describe_update(name=self.name, updateId=update_id)["update"]

    def _wait_out(self, update: Mapping[str, Any], current: str) -> None:
        """Wait for an update this run did not start; a failed version update stops us with its errors."""
        if update.get("type") != "VersionUpdate":
            progress.report(f"EKS cluster {self.name}: waiting for update {update['id']} ({update.get('type')})")
            what = f"EKS cluster {self.name} {update.get('type')} {update['id']}"
            self._await(update["id"], what, current, None, JOINED_UPDATE_PACE)
            return
        to = _param(update, "Version") or "?"
        progress.report(f"EKS cluster {self.name}: version update {current} -> {to} already in progress, waiting")
        what = f"EKS cluster {self.name} {current} -> {to} (update {update['id']})"
        self._await(update["id"], what, current, to, JOINED_UPDATE_PACE)

    def _await(
        self, update_id: str, what: str, current: str, to: str | None, pace: polling.Lifecycle = VERSION_UPDATE_PACE
    ) -> Mapping[str, Any]:
        def failure(update: Mapping[str, Any]) -> str | None:
            if to is None or update["status"] not in FINAL_FAILURES:
                return None
            return (
                f"{_describe_errors(update)}. The cluster stays at Kubernetes {current}; "
                "run `pulumi up` again to retry from there"
            )

        seen: dict[str, Any] = {"status": "InProgress"}

        def describe() -> Mapping[str, Any]:
            update = self._describe_update(update_id)
            seen["status"] = update["status"]
            return update

        try:
            update = polling.wait_for(
                what,
                describe,
                state_of=lambda u: str(u["status"]),
                done=lambda u: u["status"] != "InProgress" if to is None else u["status"] == "Successful",
                failure=failure,
                timeout=self._remaining(what),
                backoff=pace,
            )
        finally:
            if to is not None:
                self.updates.append({"id": update_id, "from": current, "to": to, "status": str(seen["status"])})
        return update

    def _check_nodegroups(self, current: str) -> None:
        """EKS wants every managed node group at the control plane's version before the next minor step."""
        lagging = []
        pages = self.eks.get_paginator("list_nodegroups").paginate(clusterName=self.name)
        names = [n for page in pages for n in page["nodegroups"]]
        for nodegroup_name in names:
            nodegroup = self.eks.describe_nodegroup(clusterName=self.name, nodegroupName=nodegroup_name)
            version = nodegroup["nodegroup"].get("version")
            if version and VERSION.match(version) and parse_version(version) < parse_version(current):
                lagging.append(f"{nodegroup_name} ({version})")
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

    def _get_ready(self, current: str, to: str) -> None:
        """Read the step's insights and add-ons; stop before any change when something blocks it (unless forced);
        with update_addons, bring lagging add-ons to a version that runs on both minors first."""
        step = f"EKS cluster {self.name} {current} -> {to}"
        checker = readiness.Checker(self.eks, self.name, self.deadline)
        found = checker.read(to, stale_before=self.last_step_started)
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
        again = checker.read(to, refresh_errors=False)
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
        raise readiness.UpgradeBlocked(
            f"{step} is blocked, {outcome} (the cluster stays at Kubernetes {current}):\n"
            + "".join(f"- {line}\n" for line in blocking)
            + "Fix these and run `pulumi up` again, or set force=True to upgrade anyway."
        )

    def _update_addon(self, addon: readiness.LaggingAddon, version: str, current: str, to: str) -> None:
        what = f"EKS cluster {self.name} add-on {addon.name} {addon.version} -> {version}"
        progress.report(f"{what}: runs on Kubernetes {current} and {to}, updating it before the control plane")

        def request(token: str) -> Mapping[str, Any]:
            return self.eks.update_addon(
                clusterName=self.name,
                addonName=addon.name,
                addonVersion=version,
                resolveConflicts=RESOLVE_CONFLICTS,
                clientRequestToken=token,
            )["update"]

        update = self._new_update(what, request, "addon", addon.name, f"{addon.version}->{version}")
        assert update is not None
        record = {"id": update["id"], "addon": addon.name, "from": addon.version, "to": version, "status": "InProgress"}
        self.addon_updates.append(record)

        def describe() -> Mapping[str, Any]:
            found = self.eks.describe_update(name=self.name, updateId=update["id"], addonName=addon.name)["update"]
            record["status"] = str(found["status"])
            return found

        polling.wait_for(
            f"{what} (update {update['id']})",
            describe,
            state_of=lambda u: str(u["status"]),
            done=lambda u: u["status"] == "Successful",
            failure=lambda u: (
                f"{_describe_errors(u)}. The control plane was not changed: it stays at Kubernetes {current}"
                if u["status"] in FINAL_FAILURES
                else None
            ),
            timeout=self._remaining(what),
            backoff=ADDON_UPDATE_PACE,
        )

    def _step(self, cluster: Mapping[str, Any], current: str, to: str) -> None:
        what = f"EKS cluster {self.name} {current} -> {to}"
        created_at = str(cluster.get("createdAt", ""))
        update = self._new_update(
            what, lambda token: self._request_step(what, current, to, token), created_at, f"{current}->{to}"
        )
        if update is None:
            return
        created = update.get("createdAt")
        self.last_step_started = created.timestamp() if isinstance(created, datetime) else time.time()
        started = time.monotonic()
        self._await(update["id"], f"{what} (update {update['id']})", current, to)
        progress.report(f"{what}: done (update {update['id']}, {time.monotonic() - started:.1f}s)")

    def _new_update(
        self, what: str, request: Callable[[str], Mapping[str, Any] | None], *identity: str
    ) -> Mapping[str, Any] | None:
        """Ask with the request's deterministic token; when EKS answers with an earlier attempt that ended (Failed
        or Cancelled: the token was used before), ask again with the next attempt's token."""
        for attempt in range(MAX_ATTEMPTS):
            update = request(request_token(self.region, self.name, *identity, str(attempt)))
            if update is None or update["status"] not in FINAL_FAILURES:
                return update
        raise errors.ClusterConnectError(f"{what}: EKS answered every request with an update that had ended")

    def _request_step(self, what: str, current: str, to: str, token: str) -> Mapping[str, Any] | None:
        """UpdateClusterVersion; None when an update of another client ran instead (now waited out)."""
        pauses = RACE_POLL.intervals()
        while True:
            self._remaining(what)
            try:
                return self.eks.update_cluster_version(
                    name=self.name, version=to, clientRequestToken=token, force=self.force
                )["update"]
            except errors.AwsApiError as err:
                if err.code == "InvalidStateException":
                    raise self._refused_as_not_ready(what, current, to, err) from err
                if err.code != "ResourceInUseException":
                    raise
                found = UPDATE_IN_PROGRESS.search(err.message)
                named = self._describe_update(found["id"]) if found else None
            if named is not None and named["status"] == "InProgress":
                self._wait_out(named, current)
                return None
            pause = min(pauses(), self._remaining(what))
            progress.report(
                f"{what}: EKS still reports an update in progress"
                + (f" ({named['id']}, {named['status']})" if named is not None else "")
                + f"; asking again in {pause:.0f}s"
            )
            time.sleep(pause)

    def _refused_as_not_ready(self, what: str, current: str, to: str, err: errors.AwsApiError) -> Exception:
        """EKS's own readiness check refused the step: say what its insights found, as for our own check."""
        checker = readiness.Checker(self.eks, self.name, self.deadline)
        try:
            note = checker.refresh()
            found = checker.read(to, refresh_errors=False)
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
                else "Fix these and run `pulumi up` again, or set force=True to upgrade anyway."
            )
        )


class ClusterVersion(pulumi.dynamic.Resource, module="eks", name="ClusterVersion"):
    """The Kubernetes version of an existing EKS cluster; raising `version` upgrades it one minor at a time.

    Deleting this resource leaves the cluster at its version.
    """

    # For type checkers only: the SDK evaluates a Resource class's annotations again for every resource it
    # registers, and these outputs need no conversion (see FargateProfile).
    if TYPE_CHECKING:
        cluster_name: pulumi.Output[str]
        version: pulumi.Output[str]
        platform_version: pulumi.Output[str]
        region: pulumi.Output[str]
        updates: pulumi.Output[list[dict[str, str]]]
        """The version updates the last create or update ran or waited for: {id, from, to, status}."""
        addon_updates: pulumi.Output[list[dict[str, str]]]
        """The add-on updates it ran (update_addons): {id, addon, from, to, status}."""
        readiness: pulumi.Output[dict[str, Any]]
        """What the next minor step would meet, as of the last up or refresh: {version, checked_at, blocking,
        warnings}."""

    def __init__(
        self,
        resource_name: str,
        *,
        cluster_name: pulumi.Input[str],
        version: pulumi.Input[str],
        force: pulumi.Input[bool] | None = None,
        update_addons: pulumi.Input[bool] | None = None,
        region: pulumi.Input[str] | None = None,
        timeout_seconds: pulumi.Input[float] | None = None,
        profile: pulumi.Input[str] | None = None,
        assume_roles: credentials.AssumeRoles | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "cluster_name": cluster_name,
            "version": version,
            "region": region,
            "platform_version": None,
            "updates": None,
            "addon_updates": None,
            "readiness": None,
        }
        # The public outputs are keys above even when None (the SDK makes an attribute only for a key given); a None
        # never reaches the engine, so the other keys go in only with a value (each costs the SDK an Output).
        props.update(
            inputs.without_none({"force": force, "update_addons": update_addons, inputs.TIMEOUT: timeout_seconds})
        )
        props.update(credentials.inputs_of("ClusterVersion", resource_name, opts, profile, assume_roles))
        super().__init__(ClusterVersionProvider(), resource_name, props, opts)

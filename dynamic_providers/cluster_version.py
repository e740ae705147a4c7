"""ClusterVersion: the Kubernetes version of an existing EKS cluster, upgraded one minor version at a time, or rolled
back one minor when EKS allows it."""

# Longer than 400 lines because the stepping run (_Run: wait out, check readiness, step or roll back, await) belongs
# with the provider that drives it; readiness rules live in _upgrade_readiness.py, rollback rules in
# _rollback_rules.py.

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

from pulumi_cluster_connect._plumbing import (
    aws,
    configured,
    credentials,
    errors,
    fargate_pods,
    inputs,
    polling,
    progress,
)

from . import _rollback_rules as rollback_rules
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
VERSION_TYPES = ("VersionUpdate", "VersionRollback")
ROLLBACK_TIMEOUT = "rollback_timeout_minutes"
# rollbackConfig.timeoutMinutes: how long an Auto Mode rollback may take to roll the nodes back (EKS's bounds).
ROLLBACK_TIMEOUT_RANGE = (120, 10080)

# Version updates take about the same time (8-10 minutes on EKS, seconds in the sandbox): after the first step of
# the deployment, later steps look where it ended (pacing). An update this run joined midway (another client's,
# or ours before a crash) teaches nothing, and neither does a cluster becoming ACTIVE: both are waited for on the
# cold schedule, every 0.5 s, then every 5% of the time waited.
VERSION_UPDATE_PACE = polling.Lifecycle(kind="EKS cluster version update", floor=0.5)
JOINED_UPDATE_PACE = polling.Lifecycle(floor=0.5, look_at_start=True)
# A rollback of an Auto Mode cluster rolls the nodes back first, for up to days: its own kind, not an upgrade's prior.
ROLLBACK_PACE = polling.Lifecycle(kind="EKS cluster version rollback", floor=0.5)
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


def previous_minor(version: str) -> str:
    major, minor = parse_version(version)
    return f"{major}.{minor - 1}"


def minors_below(current: str, target: str) -> int:
    """How many minors `target` is below `current` (0 or less when it is not below)."""
    (major, minor), (target_major, target_minor) = parse_version(current), parse_version(target)
    return (major - target_major) * 1000 + minor - target_minor


def two_minors_back(current: str, target: str) -> str:
    return (
        f"{target} is {minors_below(current, target)} minors below {current}: EKS rolls a cluster back one minor "
        f"only (rule: one minor back, once); set version to {previous_minor(current)} or later"
    )


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
    if inputs.known(props, ROLLBACK_TIMEOUT):
        value = props[ROLLBACK_TIMEOUT]
        low, high = ROLLBACK_TIMEOUT_RANGE
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            failures.append(
                CheckFailure(
                    ROLLBACK_TIMEOUT, f"must be a whole number of minutes from {low} to {high}{inputs.got(value)}"
                )
            )
        elif value != int(value):
            failures.append(CheckFailure(ROLLBACK_TIMEOUT, f"must be a whole number of minutes, got {value}"))


def _check_rollback_span(olds: Mapping[str, Any], news: Mapping[str, Any], failures: list[CheckFailure]) -> None:
    """Two or more minors below the version of the last up: refused before the engine asks for a diff."""
    before, target = olds.get("version"), news.get("version")
    if not (isinstance(before, str) and isinstance(target, str) and VERSION.match(before) and VERSION.match(target)):
        return
    if minors_below(before, target) >= 2:
        failures.append(CheckFailure("version", two_minors_back(before, target) + " (as of the last up)"))


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
    if minors_below(current, target) >= 2:
        return [f"{prefix}runs Kubernetes {current} (as of the last up or refresh); {two_minors_back(current, target)}"]
    if minors_below(current, target) == 1:
        forced = "; force is set: EKS's rollback insights would not stop it" if news.get("force") is True else ""
        return [
            f"{prefix}rollback {current} -> {target} (as of the last up or refresh); EKS allows it once, within 7 "
            "days after the in-place upgrade to "
            f"{current} finished; the rules, rollback insights, add-ons, node groups and Fargate profiles are "
            f"checked before it runs{forced}"
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

    secret_keys = (fargate_pods.KUBECONFIG,)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        _check_cluster_name(news, failures)
        _check_version(news, failures)
        _check_options(news, failures)
        _check_rollback_span(olds, news, failures)
        fargate_pods.check(news, failures, fargate_pods.RECYCLE)
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """`olds` are the outputs: `version` and `region` there are what the cluster really has."""
        replaces = []
        if inputs.is_unknown(news.get("cluster_name")) or news.get("cluster_name") != olds.get("cluster_name"):
            replaces.append("cluster_name")
        new_region = news.get("region")
        if inputs.is_unknown(new_region) or (new_region is not None and new_region != olds.get("region")):
            replaces.append("region")
        elif (region_now := aws.moved_region(olds, news, "region", self._stack_config)) is not None:
            replaces.append("region")
            progress.report(aws.moved_message(f"version of {olds.get('cluster_name')}", olds.get("region"), region_now))
        moved, route_changes = credentials.identity_changes(olds, news)  # another account: another cluster
        replaces += moved
        version_changed = inputs.is_unknown(news.get("version")) or news.get("version") != olds.get("version")
        if version_changed and not replaces:
            readiness.report_lines("", preview_lines(olds, news))
        # How Fargate pods are reached and whether they are recycled: an update (which recycles), never a replace.
        pods_changed = any(
            inputs.contains_unknown(news.get(k)) or news.get(k) != olds.get(k) for k in fargate_pods.VERSION_KEYS
        )
        return DiffResult(
            changes=bool(replaces) or version_changed or pods_changed or bool(route_changes),
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
            "deleting this resource changes no version, so there is nothing to delete"
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
            rollback_timeout_minutes=_rollback_timeout(props),
        )
        if props.get(fargate_pods.RECYCLE) and props.get(fargate_pods.KUBECONFIG) is not None:
            # After each step and rollback, and once more at the target (a crash between a step and its recycling).
            run.after_step = lambda version: fargate_pods.recycle(
                props[fargate_pods.KUBECONFIG],
                name,
                rollback_rules.fargate_profiles(run.eks, name),
                version,
                run._remaining(f"recycling the Fargate pods of {name}"),
            )
        cluster = run.reach_target()
        if run.after_step is not None:
            run.after_step(str(cluster["version"]))
        return inputs.without_none(
            {
                "cluster_name": name,
                "version": cluster["version"],
                "platform_version": cluster["platformVersion"],
                "region": region,
                "force": props.get("force"),
                "update_addons": props.get("update_addons"),
                inputs.TIMEOUT: props.get(inputs.TIMEOUT),
                ROLLBACK_TIMEOUT: props.get(ROLLBACK_TIMEOUT),
                **{key: props.get(key) for key in fargate_pods.VERSION_KEYS},
                "updates": run.updates,
                "addon_updates": run.addon_updates,
                "readiness": _next_step_readiness(run.eks, name, cluster["version"]),
                **{key: props.get(key) for key in credentials.ROUTE_KEYS},
                credentials.ACCOUNT: credentials.account_in_arn(cluster.get("arn")),
            }
        )


def _rollback_timeout(props: Mapping[str, Any]) -> int | None:
    value = props.get(ROLLBACK_TIMEOUT)
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


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
    rollback_timeout_minutes: int | None = None
    updates: list[dict[str, str]] = field(default_factory=list)
    addon_updates: list[dict[str, str]] = field(default_factory=list)
    last_step_started: float | None = None
    """When EKS created the last version update this run started (epoch seconds): insights older are stale."""
    after_step: Callable[[str], object] | None = None
    """Called with the version reached after each step and rollback (recycle_fargate_pods)."""

    def reach_target(self) -> Mapping[str, Any]:
        while True:
            cluster = self._active_cluster()
            current = cluster["version"]
            if current == self.target:
                return cluster
            if parse_version(self.target) < parse_version(current):
                self._roll_back(cluster, current)
                continue
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
        """DescribeCluster between and around the steps, through throttling and 5xx storms (as DescribeUpdate); an
        unreachable endpoint is ridden out too once this run has had an update accepted, else it fails fast."""
        cluster = aws.patiently(
            lambda: self.eks.describe_cluster(name=self.name)["cluster"],
            f"describe EKS cluster {self.name}",
            max(0.0, self.deadline - time.monotonic()),
            accepted=bool(self.updates or self.addon_updates),
        )
        if minors_below(cluster["version"], self.target) >= 2:
            raise rollback_rules.RollbackRefused(
                f"EKS cluster {self.name} runs Kubernetes {cluster['version']}; "
                f"{two_minors_back(cluster['version'], self.target)}"
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
        """DescribeUpdate through throttling, 5xx storms and an unreachable endpoint, within the resource's timeout:
        EKS accepted the update, which goes on whatever happens to our polls."""
        what = f"EKS cluster {self.name} update {update_id}"
        return aws.patiently(
            lambda: self.eks.describe_update(name=self.name, updateId=update_id)["update"],
            what,
            max(0.0, self.deadline - time.monotonic()),
            accepted=True,
        )

    def _wait_out(self, update: Mapping[str, Any], current: str) -> None:
        """Wait for an update this run did not start; a failed version update stops us with its errors."""
        if update.get("type") not in VERSION_TYPES:
            progress.report(f"EKS cluster {self.name}: waiting for update {update['id']} ({update.get('type')})")
            what = f"EKS cluster {self.name} {update.get('type')} {update['id']}"
            self._await(update["id"], what, current, None, pace=JOINED_UPDATE_PACE)
            return
        to = _param(update, "Version") or "?"
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
                self.updates.append(
                    {"id": update_id, "type": kind, "from": current, "to": to, "status": str(seen["status"])}
                )
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

    def _get_ready(self, current: str, to: str, category: readiness.Category = readiness.UPGRADE_READINESS) -> None:
        """Read the step's insights and add-ons; stop before any change when something blocks it (unless forced);
        with update_addons, bring lagging add-ons to a version that runs on both minors first."""
        rollback = category == readiness.ROLLBACK_READINESS
        step = f"EKS cluster {self.name} {'rollback ' if rollback else ''}{current} -> {to}"
        checker = readiness.Checker(self.eks, self.name, self.deadline)
        found = checker.read(to, stale_before=self.last_step_started, category=category)
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
        if self.after_step is not None:
            self.after_step(to)

    def _roll_back(self, cluster: Mapping[str, Any], current: str) -> None:
        """One minor back (two or more were refused when the cluster was read): join a rollback already running (an
        Auto Mode one keeps the cluster ACTIVE while it rolls the nodes back), else check EKS's rules, the node
        groups, the rollback insights and the add-ons, then ask for it and wait on the update, never on the
        cluster's status."""
        updates = rollback_rules.described_updates(self.eks, self.name)
        running = next((u for u in reversed(updates) if u["status"] == "InProgress"), None)
        if running is not None:
            self._wait_out(running, current)
            return
        to = previous_minor(current)
        what = f"EKS cluster {self.name} rollback {current} -> {to}"
        rollback_rules.check(self.eks, cluster, to, updates)
        self._check_nodegroups_for_rollback(what, current, to)
        profiles = rollback_rules.fargate_profiles(self.eks, self.name)
        if profiles:
            progress.report(
                f"{what}: warning: EKS does not roll Fargate nodes back (profiles {', '.join(profiles)}): pods "
                f"started at {current} keep their kubelet and fail the kubelet version skew rollback insight; delete "
                "those pods, or set force=True"
            )
        self._get_ready(current, to, readiness.ROLLBACK_READINESS)
        update = self._new_update(
            what,
            lambda token: self._request_step(what, current, to, token),
            str(cluster.get("createdAt", "")),
            f"{current}->{to}",
            "rollback",
        )
        if update is None:
            return
        started = time.monotonic()
        self._await(
            update["id"], f"{what} (update {update['id']})", current, to, pace=ROLLBACK_PACE, kind="VersionRollback"
        )
        progress.report(f"{what}: done (update {update['id']}, {time.monotonic() - started:.1f}s)")
        if self.after_step is not None:
            self.after_step(to)

    def _check_nodegroups_for_rollback(self, what: str, current: str, to: str) -> None:
        """EKS does not roll managed node groups back, and a kubelet newer than the control plane is not supported."""
        newer = rollback_rules.newer_nodegroups(self.eks, self.name, to, parse_version)
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

    def _new_update(
        self, what: str, request: Callable[[str], Mapping[str, Any] | None], *identity: str
    ) -> Mapping[str, Any] | None:
        """Ask with the request's deterministic token; when EKS answers with an earlier attempt that ended (Failed
        or Cancelled: the token was used before), ask again with the next attempt's token."""
        for attempt in range(MAX_ATTEMPTS):
            update = request(request_token(self.region, self.name, *identity, str(attempt)))
            # A Successful answer is an earlier attempt too: the step was made, then undone (rolled back).
            if update is None or update["status"] == "InProgress":
                return update
        raise errors.ClusterConnectError(f"{what}: EKS answered every request with an update that had ended")

    def _request_step(self, what: str, current: str, to: str, token: str) -> Mapping[str, Any] | None:
        """UpdateClusterVersion; None when an update of another client ran instead (now waited out)."""
        pauses = RACE_POLL.intervals()
        rollback = parse_version(to) < parse_version(current)
        extra: dict[str, Any] = {}
        if rollback and self.rollback_timeout_minutes is not None:
            extra["rollbackConfig"] = {"timeoutMinutes": self.rollback_timeout_minutes}
        while True:
            self._remaining(what)
            try:
                return self.eks.update_cluster_version(
                    name=self.name, version=to, clientRequestToken=token, force=self.force, **extra
                )["update"]
            except errors.AwsApiError as err:
                if err.code == "InvalidStateException":
                    raise self._refused_as_not_ready(what, current, to, err) from err
                if rollback and err.code in ("InvalidRequestException", "InvalidParameterException"):
                    raise rollback_rules.RollbackRefused(
                        f"{what} was refused by EKS, nothing was changed (the cluster stays at Kubernetes "
                        f"{current}): {err.code}: {err.message}"
                    ) from err
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


class ClusterVersion(pulumi.dynamic.Resource, module="eks", name="ClusterVersion"):
    """The Kubernetes version of an existing EKS cluster; raising `version` upgrades it one minor at a time, lowering
    it by one minor rolls it back when EKS allows it (docs/guides/upgrades-and-rollbacks.md).

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
        """The version updates and rollbacks the last create or update ran or waited for: {id, type (VersionUpdate or
        VersionRollback), from, to, status}."""
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
        rollback_timeout_minutes: pulumi.Input[int] | None = None,
        profile: pulumi.Input[str] | None = None,
        assume_roles: credentials.AssumeRoles | None = None,
        kubeconfig: pulumi.Input[str | Mapping[str, Any]] | None = None,
        recycle_fargate_pods: pulumi.Input[bool] | None = None,
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
            inputs.without_none(
                {
                    "force": force,
                    "update_addons": update_addons,
                    inputs.TIMEOUT: timeout_seconds,
                    ROLLBACK_TIMEOUT: rollback_timeout_minutes,
                    fargate_pods.KUBECONFIG: None if kubeconfig is None else pulumi.Output.secret(kubeconfig),
                    fargate_pods.RECYCLE: recycle_fargate_pods,
                }
            )
        )
        props.update(credentials.inputs_of("ClusterVersion", resource_name, opts, profile, assume_roles))
        if kubeconfig is not None:
            secret = pulumi.ResourceOptions(additional_secret_outputs=[fargate_pods.KUBECONFIG])
            opts = pulumi.ResourceOptions.merge(opts, secret)
        super().__init__(ClusterVersionProvider(), resource_name, props, opts)

"""ClusterVersion: the Kubernetes version of an existing EKS cluster, upgraded one minor version at a time."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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

from pulumi_cluster_connect._plumbing import aws, configured, errors, inputs, polling, progress

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

VERSION = re.compile(r"^(\d+)\.(\d+)$")
CLUSTER_NAME = inputs.EKS_NAME
DEFAULT_TIMEOUT = 3 * 3600.0
UPDATE_IN_PROGRESS = re.compile(r"currently has update (?P<id>[\w-]+) in progress")
# Another client's update may not show as UPDATING yet (eventually consistent): look again shortly.
RACE_PAUSE_SECONDS = 1.0


UPDATE_POLL = polling.ElapsedBackoff(first=0.25, cap=2.0, fraction=0.05)
CLUSTER_POLL = polling.Backoff(first=1.0, factor=1.5, cap=10.0)


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
    inputs.check_bool(props, "force", failures)
    inputs.check_timeout(props, failures)
    inputs.check_region(props, "region", failures)


def _describe_errors(update: Mapping[str, Any]) -> str:
    details = [
        f"{e.get('errorCode', 'Unknown')}: {e.get('errorMessage', '')}"
        + (f" ({', '.join(e['resourceIds'])})" if e.get("resourceIds") else "")
        for e in update.get("errors") or []
    ]
    return "; ".join(details) or "no errors reported"


def _param(update: Mapping[str, Any], kind: str) -> str | None:
    return next((p.get("value") for p in update.get("params") or [] if p.get("type") == kind), None)


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
        version_changed = inputs.is_unknown(news.get("version")) or news.get("version") != olds.get("version")
        return DiffResult(
            changes=bool(replaces) or version_changed,
            replaces=replaces,
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        region = aws.region_of(props.get("region"), self._stack_config)
        outs = self._converge(props, region)
        return CreateResult(f"{region}/{props['cluster_name']}", outs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        region = aws.region_of(news.get("region"), self._stack_config)
        return UpdateResult(self._converge(news, region))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        region, _, name = id_.rpartition("/")
        region = region or aws.region_of(props.get("region"), self._stack_config)
        cluster = aws.describe_cluster_or_none(aws.eks(region, self._stack_config), name)
        if cluster is None:
            return ReadResult("", {})
        outs = {
            "updates": [],
            **props,
            "cluster_name": name,
            "region": region,
            "version": cluster["version"],
            "platform_version": cluster["platformVersion"],
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
        force = bool(props.get("force", False))
        timeout = inputs.timeout_of(props, DEFAULT_TIMEOUT)
        run = _Run(aws.eks(region, self._stack_config), name, target, force, time.monotonic() + timeout, timeout)
        cluster = run.reach_target()
        return inputs.without_none(
            {
                "cluster_name": name,
                "version": cluster["version"],
                "platform_version": cluster["platformVersion"],
                "region": region,
                "force": props.get("force"),
                inputs.TIMEOUT: props.get(inputs.TIMEOUT),
                "updates": run.updates,
            }
        )


@dataclass
class _Run:
    """One create or update: the client, the goal, the deadline and the updates seen so far."""

    eks: EKSClient
    name: str
    target: str
    force: bool
    deadline: float
    timeout: float
    updates: list[dict[str, str]] = field(default_factory=list)

    def reach_target(self) -> Mapping[str, Any]:
        while True:
            cluster = self._active_cluster()
            current = cluster["version"]
            if current == self.target:
                return cluster
            self._check_nodegroups(current)
            self._step(current, next_minor(current))

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
                backoff=CLUSTER_POLL,
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
            self._await(update["id"], f"EKS cluster {self.name} {update.get('type')} {update['id']}", current, None)
            return
        to = _param(update, "Version") or "?"
        progress.report(f"EKS cluster {self.name}: version update {current} -> {to} already in progress, waiting")
        self._await(update["id"], f"EKS cluster {self.name} {current} -> {to} (update {update['id']})", current, to)

    def _await(self, update_id: str, what: str, current: str, to: str | None) -> Mapping[str, Any]:
        def failure(update: Mapping[str, Any]) -> str | None:
            if to is None or update["status"] not in ("Failed", "Cancelled"):
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
                backoff=UPDATE_POLL,
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

    def _step(self, current: str, to: str) -> None:
        what = f"EKS cluster {self.name} {current} -> {to}"
        self._remaining(what)
        try:
            update = self.eks.update_cluster_version(
                name=self.name,
                version=to,
                clientRequestToken=str(uuid.uuid4()),
                force=self.force,
            )["update"]
        except errors.AwsApiError as err:
            if err.code != "ResourceInUseException":
                raise
            # Another client started an update since we looked: wait for it on the next round.
            found = UPDATE_IN_PROGRESS.search(err.message)
            if found:
                self._wait_out(self._describe_update(found["id"]), current)
            else:
                time.sleep(RACE_PAUSE_SECONDS)
            return
        started = time.monotonic()
        self._await(update["id"], f"{what} (update {update['id']})", current, to)
        progress.report(f"{what}: done (update {update['id']}, {time.monotonic() - started:.1f}s)")


class ClusterVersion(pulumi.dynamic.Resource, module="eks", name="ClusterVersion"):
    """The Kubernetes version of an existing EKS cluster; raising `version` upgrades it one minor at a time.

    Deleting this resource leaves the cluster at its version.
    """

    cluster_name: pulumi.Output[str]
    version: pulumi.Output[str]
    platform_version: pulumi.Output[str]
    region: pulumi.Output[str]
    updates: pulumi.Output[list[dict[str, str]]]

    def __init__(
        self,
        resource_name: str,
        *,
        cluster_name: pulumi.Input[str],
        version: pulumi.Input[str],
        force: pulumi.Input[bool] | None = None,
        region: pulumi.Input[str] | None = None,
        timeout_seconds: pulumi.Input[float] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "cluster_name": cluster_name,
            "version": version,
            "force": force,
            "region": region,
            inputs.TIMEOUT: timeout_seconds,
            "platform_version": None,
            "updates": None,
        }
        super().__init__(ClusterVersionProvider(), resource_name, props, opts)

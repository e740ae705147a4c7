"""EKS cluster updates: describe the cluster and its updates, find the one in progress, request a version or add-on
update, wait for an update; and the minor-version arithmetic they speak in."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from . import aws, polling

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

VERSION = re.compile(r"^(\d+)\.(\d+)$")
FINAL_FAILURES = ("Failed", "Cancelled")
VERSION_TYPES = ("VersionUpdate", "VersionRollback")
# Keep what the user configured on an add-on; apply only the new version.
RESOLVE_CONFLICTS: Literal["PRESERVE"] = "PRESERVE"
UPDATE_IN_PROGRESS = re.compile(r"currently has update (?P<id>[\w-]+) in progress")

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


def describe_errors(update: Mapping[str, Any]) -> str:
    details = [
        f"{e.get('errorCode', 'Unknown')}: {e.get('errorMessage', '')}"
        + (f" ({', '.join(e['resourceIds'])})" if e.get("resourceIds") else "")
        for e in update.get("errors") or []
    ]
    cancellation = update.get("cancellation") or {}
    if cancellation.get("reason"):
        details.insert(0, f"cancelled: {cancellation['reason']}")
    return "; ".join(details) or "no errors reported"


def param(update: Mapping[str, Any], kind: str) -> str | None:
    return next((p.get("value") for p in update.get("params") or [] if p.get("type") == kind), None)


def in_progress_id(message: str) -> str | None:
    """The update an "update in progress" refusal names, if it names one."""
    found = UPDATE_IN_PROGRESS.search(message)
    return found["id"] if found else None


@dataclass(frozen=True)
class ClusterUpdates:
    """The update calls of one EKS cluster, within a deadline (time.monotonic seconds)."""

    eks: EKSClient
    name: str
    deadline: float

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def describe_cluster(self, *, accepted: bool) -> Mapping[str, Any]:
        """DescribeCluster through throttling and 5xx storms; an unreachable endpoint is ridden out too once an
        update was `accepted`, else it fails fast."""
        return aws.patiently(
            lambda: self.eks.describe_cluster(name=self.name)["cluster"],
            f"describe EKS cluster {self.name}",
            self.remaining(),
            accepted=accepted,
        )

    def describe_update(self, update_id: str) -> Mapping[str, Any]:
        """DescribeUpdate through throttling, 5xx storms and an unreachable endpoint: EKS accepted the update, which
        goes on whatever happens to our polls."""
        return aws.patiently(
            lambda: self.eks.describe_update(name=self.name, updateId=update_id)["update"],
            f"EKS cluster {self.name} update {update_id}",
            self.remaining(),
            accepted=True,
        )

    def describe_addon_update(self, update_id: str, addon: str) -> Mapping[str, Any]:
        return self.eks.describe_update(name=self.name, updateId=update_id, addonName=addon)["update"]

    def update_ids(self) -> list[str]:
        return [
            i for page in self.eks.get_paginator("list_updates").paginate(name=self.name) for i in page["updateIds"]
        ]

    def find_running(self) -> Mapping[str, Any] | None:
        """The update in progress, if any."""
        # Newest last in practice: look from the end, and stop at the first update still running.
        for update_id in reversed(self.update_ids()):
            update = self.describe_update(update_id)
            if update["status"] == "InProgress":
                return update
        return None

    def newest(self) -> Mapping[str, Any] | None:
        """The cluster's newest update (ListUpdates lists the oldest first), None when it has had none."""
        ids = self.update_ids()
        return self.describe_update(ids[-1]) if ids else None

    def cancel(self, update_id: str) -> Mapping[str, Any]:
        """CancelUpdate: EKS takes it for an Auto Mode rollback still in its node phase, and refuses it after."""
        return self.eks.cancel_update(name=self.name, updateId=update_id)["update"]

    def all_updates(self) -> list[Mapping[str, Any]]:
        """Every update of the cluster as DescribeUpdate gives it, in ListUpdates' order."""
        return [self.eks.describe_update(name=self.name, updateId=i)["update"] for i in self.update_ids()]

    def request_version(
        self, version: str, token: str, *, force: bool, rollback_timeout_minutes: int | None = None
    ) -> Mapping[str, Any]:
        """UpdateClusterVersion (up, or back when `version` is below the cluster's)."""
        extra: dict[str, Any] = {}
        if rollback_timeout_minutes is not None:
            extra["rollbackConfig"] = {"timeoutMinutes": rollback_timeout_minutes}
        return self.eks.update_cluster_version(
            name=self.name, version=version, clientRequestToken=token, force=force, **extra
        )["update"]

    def request_addon(self, addon: str, version: str, token: str) -> Mapping[str, Any]:
        return self.eks.update_addon(
            clusterName=self.name,
            addonName=addon,
            addonVersion=version,
            resolveConflicts=RESOLVE_CONFLICTS,
            clientRequestToken=token,
        )["update"]

    def wait(
        self,
        what: str,
        describe: Callable[[], Mapping[str, Any]],
        *,
        done: Callable[[Mapping[str, Any]], bool],
        failure: Callable[[Mapping[str, Any]], str | None],
        timeout: float,
        pace: polling.Lifecycle,
    ) -> Mapping[str, Any]:
        """Look at an update (or the cluster) with `describe` until `done`, by its `status`."""
        return polling.wait_for(
            what,
            describe,
            state_of=lambda found: str(found["status"]),
            done=done,
            failure=failure,
            timeout=timeout,
            backoff=pace,
        )

    def nodegroup_versions(self) -> list[tuple[str, str | None]]:
        """The managed node groups and the Kubernetes version each runs."""
        pages = self.eks.get_paginator("list_nodegroups").paginate(clusterName=self.name)
        names = [n for page in pages for n in page["nodegroups"]]
        return [
            (n, self.eks.describe_nodegroup(clusterName=self.name, nodegroupName=n)["nodegroup"].get("version"))
            for n in names
        ]

    def fargate_profiles(self) -> list[str]:
        pages = self.eks.get_paginator("list_fargate_profiles").paginate(clusterName=self.name)
        return [p for page in pages for p in page.get("fargateProfileNames") or []]

"""UpdateClusterVersion, DescribeUpdate, ListUpdates and CancelUpdate: version updates and rollbacks with EKS's rules
and lifecycle, Cancelled updates and the refusal that follows a finished update."""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from moto.eks.models import eks_backends

from . import exceptions, messages, rollbacks, versions
from .call import Call

PLATFORM_VERSION_AFTER_UPGRADE = "eks.1"
MAX_RESULTS = 100

_VERSION = re.compile(r"^(\d+)\.(\d+)$")


@dataclass
class VersionUpdate:
    """One UpdateClusterVersion; its status follows from the clock, applied to the cluster by `settle`."""

    id: str
    account_id: str
    region: str
    cluster: str
    cluster_created_at: Any
    from_version: str
    to_version: str
    created_at: float
    ends_at: float
    token: str | None
    errors: list[dict[str, Any]] = field(default_factory=list)
    applied: bool = False
    cancel_reason: str | None = None
    """Set for an update that ends Cancelled (at `ends_at`) instead of running to its end."""
    kind: str = "VersionUpdate"
    """VersionUpdate (one minor up) or VersionRollback (one minor down)."""
    nodes_until: float | None = None
    """An Auto Mode rollback drifts the nodes back until then, the cluster staying ACTIVE."""

    def in_node_phase(self, now: float) -> bool:
        return self.nodes_until is not None and now < self.nodes_until and self.status(now) == "InProgress"

    def status(self, now: float) -> str:
        if now < self.ends_at:
            return "InProgress"
        if self.cancel_reason is not None:
            return "Cancelled"
        return "Failed" if self.errors else "Successful"

    def describe(self, now: float) -> dict[str, Any]:
        described: dict[str, Any] = {
            "id": self.id,
            "status": self.status(now),
            "type": self.kind,
            "params": [
                {"type": "Version", "value": self.to_version},
                {"type": "PlatformVersion", "value": PLATFORM_VERSION_AFTER_UPGRADE},
            ],
            "createdAt": self.created_at,
            "errors": self.errors,
        }
        if self.cancel_reason is not None and described["status"] == "Cancelled":
            described["cancellation"] = {"status": "Successful", "reason": self.cancel_reason}
        return described


_LOCK = threading.RLock()
_UPDATES: list[VersionUpdate] = []


def _parse(version: str) -> tuple[int, int] | None:
    found = _VERSION.match(version)
    return (int(found[1]), int(found[2])) if found else None


def _cluster(call: Call, name: str) -> Any:
    cluster = call.eks.clusters.get(name)
    if cluster is None:
        raise exceptions.ResourceNotFoundException(messages.CLUSTER_NOT_FOUND.format(cluster=name))
    return cluster


def _updates_of(call: Call, cluster: Any) -> list[VersionUpdate]:
    # A cluster deleted and created again under the same name starts with no updates.
    return [
        u
        for u in _UPDATES
        if (u.account_id, u.region, u.cluster) == (call.account_id, call.region, cluster.name)
        and u.cluster_created_at == cluster.created_at
    ]


def settle(call: Call) -> None:
    """Apply every update whose time has come to moto's cluster objects; show UPDATING while one runs.

    Called first by every handler here, and by DescribeCluster, so that moto serves the current state.
    """
    now = time.time()
    with _LOCK:
        for update in _UPDATES:
            if update.applied:
                continue
            cluster = eks_backends[update.account_id][update.region].clusters.get(update.cluster)
            if cluster is None or cluster.created_at != update.cluster_created_at:
                update.applied = True
                continue
            if update.status(now) == "InProgress":
                cluster.status = "ACTIVE" if update.in_node_phase(now) else "UPDATING"
                continue
            if update.status(now) == "Successful":
                cluster.version = update.to_version
                cluster.platformVersion = PLATFORM_VERSION_AFTER_UPGRADE
            cluster.status = "ACTIVE"
            update.applied = True


def update_in_progress(call: Call, cluster_name: str) -> str | None:
    """The id of the version update running on a cluster, if any (for other operations' concurrency rules)."""
    settle(call)
    now = time.time()
    with _LOCK:
        cluster = call.eks.clusters.get(cluster_name)
        if cluster is None:
            return None
        running = [u for u in _updates_of(call, cluster) if u.status(now) == "InProgress"]
        return running[0].id if running else None


def _lagging_nodegroups(cluster: Any) -> list[str]:
    current = _parse(cluster.version)
    return sorted(
        name
        for name, nodegroup in cluster.nodegroups.items()
        if current is not None and (_parse(nodegroup.version) or current) < current
    )


def _is_rollback(cluster: Any, wanted: str) -> bool:
    current, target = _parse(cluster.version), _parse(wanted)
    return current is not None and target == (current[0], current[1] - 1)


def _check_step(cluster: Any, wanted: str) -> None:
    current, target = _parse(cluster.version), _parse(wanted)
    if target is None or not versions.offered(wanted):
        raise exceptions.InvalidParameterException(messages.UNSUPPORTED_KUBERNETES_VERSION)
    if current is None or target not in ((current[0], current[1] + 1), (current[0], current[1] - 1)):
        raise exceptions.InvalidParameterException(
            messages.UNSUPPORTED_STEP.format(current=cluster.version, wanted=wanted)
        )


def update_cluster_version(call: Call) -> dict[str, Any]:
    settle(call)
    name = call.path_params["name"]
    wanted = str(call.body.get("version", ""))
    token = call.body.get("clientRequestToken")
    force = bool(call.body.get("force", False))
    now = time.time()
    with _LOCK:
        cluster = _cluster(call, name)
        updates = _updates_of(call, cluster)
        same_token = [u for u in updates if token is not None and u.token == token]
        if same_token:
            if same_token[0].to_version != wanted:
                raise exceptions.InvalidParameterException(messages.TOKEN_REUSED.format(token=token))
            return {"update": same_token[0].describe(now)}
        running = [u for u in updates if u.status(now) == "InProgress"]
        if running:
            raise exceptions.ResourceInUseException(
                messages.UPDATE_IN_PROGRESS.format(cluster=name, update_id=running[0].id)
            )
        # EKS can still name the update that just finished as in progress while the cluster is ACTIVE
        # (aws/containers-roadmap#2677): the injected `update_race` fault answers so.
        if updates and call.settings.take("update_race", operation="UpdateClusterVersion", target=name):
            raise exceptions.ResourceInUseException(
                messages.UPDATE_IN_PROGRESS.format(cluster=name, update_id=updates[-1].id)
            )
        if cluster.status != "ACTIVE":
            raise exceptions.InvalidRequestException(messages.CLUSTER_NOT_ACTIVE.format(cluster=name))
        _check_step(cluster, wanted)
        rollback = _is_rollback(cluster, wanted)
        if rollback:
            rollbacks.check(call, cluster, updates, wanted, now)
        timeout_minutes = rollbacks.timeout_minutes(call.body)
        lagging = [] if rollback else _lagging_nodegroups(cluster)
        if lagging and not force:
            raise exceptions.InvalidStateException(
                messages.NODEGROUPS_LAG.format(nodegroups=", ".join(lagging), version=cluster.version, wanted=wanted)
            )
        errors = []
        if call.settings.take("update_failed", operation="UpdateClusterVersion", target=name):
            subnets = list((cluster.resources_vpc_config or {}).get("subnetIds") or [name])
            errors.append(
                {
                    "errorCode": messages.UPDATE_FAILED_ERROR_CODE,
                    "errorMessage": messages.UPDATE_FAILED_ERROR,
                    "resourceIds": subnets,
                }
            )
        cancelled = call.settings.take("update_cancelled", operation="UpdateClusterVersion", target=name)
        cancel_reason = messages.UPDATE_CANCELLED_REASON if cancelled else None
        nodes_until = None
        if rollback and rollbacks.is_auto_mode(call, cluster):
            node_phase = call.settings.durations.rollback_node_phase
            nodes_until = now + min(node_phase, timeout_minutes * 60.0)
            if node_phase > timeout_minutes * 60.0:
                cancel_reason = messages.NODE_PHASE_TIMEOUT_REASON.format(minutes=timeout_minutes)
        # A rollback whose node phase outlasts its timeout ends Cancelled there; the control plane never changes.
        control_plane = 0.0 if cancel_reason and nodes_until else call.settings.durations.cluster_update
        ends_at = (nodes_until or now) + control_plane
        update = VersionUpdate(
            id=str(uuid.uuid4()),
            account_id=call.account_id,
            region=call.region,
            cluster=name,
            cluster_created_at=cluster.created_at,
            from_version=cluster.version,
            to_version=wanted,
            created_at=now,
            ends_at=ends_at,
            token=token,
            errors=errors,
            cancel_reason=cancel_reason,
            kind="VersionRollback" if rollback else "VersionUpdate",
            nodes_until=nodes_until,
        )
        _UPDATES.append(update)
        cluster.status = "ACTIVE" if update.in_node_phase(now) else "UPDATING"
        return {"update": update.describe(now)}


def pending_step(call: Call) -> tuple[Any, str] | None:
    """The cluster and version of an UpdateClusterVersion that would start a new minor step: the cluster exists
    and is ACTIVE, no update runs, the token is new and the version is the next minor. Other models' rules
    for such a step (readiness) apply only then; every other case is answered here."""
    settle(call)
    name = call.path_params["name"]
    wanted = str(call.body.get("version", ""))
    token = call.body.get("clientRequestToken")
    now = time.time()
    with _LOCK:
        cluster = call.eks.clusters.get(name)
        if cluster is None or cluster.status != "ACTIVE":
            return None
        updates = _updates_of(call, cluster)
        if any(u.status(now) == "InProgress" or (token is not None and u.token == token) for u in updates):
            return None
        current, target = _parse(cluster.version), _parse(wanted)
        if current is None or target not in ((current[0], current[1] + 1), (current[0], current[1] - 1)):
            return None
        if target < current and not rollbacks.window_open(updates, now):
            return None
        return cluster, wanted


def cancel_update(call: Call) -> dict[str, Any]:
    settle(call)
    update_id = call.path_params["updateId"]
    now = time.time()
    with _LOCK:
        cluster = _cluster(call, call.path_params["name"])
        found = [u for u in _updates_of(call, cluster) if u.id == update_id]
        if not found:
            raise exceptions.ResourceNotFoundException(messages.UPDATE_NOT_FOUND.format(update_id=update_id))
        update = found[0]
        if update.status(now) != "InProgress":
            raise exceptions.InvalidRequestException(messages.NOT_CANCELLABLE.format(update_id=update_id))
        if update.kind == "VersionRollback" and not update.in_node_phase(now):
            raise exceptions.InvalidRequestException(messages.ROLLBACK_NOT_CANCELLABLE.format(update_id=update_id))
        update.ends_at = now
        update.cancel_reason = messages.CANCEL_REQUESTED_REASON
    settle(call)
    return {"update": update.describe(now)}


def _not_ours(call: Call) -> bool:
    """Node group, add-on and capability updates are not emulated: none exist."""
    return any(call.query_one(key) for key in ("nodegroupName", "addonName", "capabilityName"))


def describe_update(call: Call) -> dict[str, Any]:
    settle(call)
    update_id = call.path_params["updateId"]
    with _LOCK:
        cluster = _cluster(call, call.path_params["name"])
        found = [u for u in _updates_of(call, cluster) if u.id == update_id]
        if not found or _not_ours(call):
            raise exceptions.ResourceNotFoundException(messages.UPDATE_NOT_FOUND.format(update_id=update_id))
        return {"update": found[0].describe(time.time())}


def list_updates(call: Call) -> dict[str, Any]:
    settle(call)
    with _LOCK:
        cluster = _cluster(call, call.path_params["name"])
        ids = [] if _not_ours(call) else [u.id for u in _updates_of(call, cluster)]
    max_results = int(call.query_one("maxResults") or MAX_RESULTS)
    if not 1 <= max_results <= MAX_RESULTS:
        raise exceptions.InvalidParameterException(messages.MAX_RESULTS_RANGE.format(limit=MAX_RESULTS))
    next_token = call.query_one("nextToken")
    start = 0
    if next_token is not None:
        if not next_token.isdigit() or int(next_token) > len(ids):
            raise exceptions.InvalidParameterException(messages.BAD_NEXT_TOKEN)
        start = int(next_token)
    page: dict[str, Any] = {"updateIds": ids[start : start + max_results]}
    if start + max_results < len(ids):
        page["nextToken"] = str(start + max_results)
    return page


def describe_cluster(call: Call) -> None:
    """Settle first, then let moto serve the cluster with its current status and version, and the creation
    options it does not keep (upgradePolicy, computeConfig)."""
    settle(call)
    cluster = call.eks.clusters.get(call.path_params.get("name"))
    if cluster is not None:
        rollbacks.dress(call, cluster)


def history(call: Call, cluster: Any) -> list[VersionUpdate]:
    """The cluster's version updates and rollbacks, oldest first."""
    settle(call)
    with _LOCK:
        return _updates_of(call, cluster)


def advance_clock(seconds: float) -> None:
    """Move the sandbox's calendar forward: every recorded update happened `seconds` earlier (a test moves past
    the 7-day rollback window so; DescribeUpdate's createdAt moves with it)."""
    with _LOCK:
        for update in _UPDATES:
            update.created_at -= seconds
            update.ends_at -= seconds
            if update.nodes_until is not None:
                update.nodes_until -= seconds


def reset() -> None:
    with _LOCK:
        _UPDATES.clear()

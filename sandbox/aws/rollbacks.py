"""EKS's rules for a VersionRollback (UpdateClusterVersion one minor down), and the creation options they read.

The rules, as the guide pages clusters/rollback-cluster.adoc and rollback-automode.adoc give them: only within 7
days after an in-place upgrade finished; one minor back, once (after 1.31 -> 1.32 -> 1.33 the cluster may go back to
1.32, never to 1.31); not for a cluster created at its current version; not to a version in extended support unless
the cluster's upgradePolicy.supportType is EXTENDED; managed node groups newer than the target refuse it unless
forced. moto keeps neither upgradePolicy nor computeConfig: CreateCluster's are recorded here and shown in
DescribeCluster (EKS's default support type is EXTENDED). A cluster created with computeConfig.enabled is an Auto
Mode cluster: its rollback first drifts the nodes back, the cluster staying ACTIVE, for the `rollback_node_phase`
duration (bounded by rollbackConfig.timeoutMinutes), before the control plane rolls back.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from . import exceptions, messages, versions
from .call import Call

WINDOW_SECONDS = 7 * 24 * 3600.0
TIMEOUT_MINUTES = (120, 10080)
DEFAULT_TIMEOUT_MINUTES = 720


class Recorded(Protocol):
    """What the rules read of a recorded version update (updates.VersionUpdate)."""

    kind: str
    to_version: str
    from_version: str
    ends_at: float

    def status(self, now: float) -> str: ...


_LOCK = threading.RLock()
_CREATED_WITH: dict[tuple[str, str, str], dict[str, Any]] = {}


def reset() -> None:
    with _LOCK:
        _CREATED_WITH.clear()


def create_cluster(call: Call) -> None:
    """Record the options moto drops; moto then creates the cluster."""
    name = call.body.get("name")
    if isinstance(name, str):
        with _LOCK:
            _CREATED_WITH[(call.account_id, call.region, name)] = {
                "upgradePolicy": call.body.get("upgradePolicy") or {"supportType": "EXTENDED"},
                "computeConfig": call.body.get("computeConfig"),
            }


def _options(call: Call, cluster: Any) -> dict[str, Any]:
    with _LOCK:
        return _CREATED_WITH.get((call.account_id, call.region, cluster.name)) or {
            "upgradePolicy": {"supportType": "EXTENDED"},
            "computeConfig": None,
        }


def dress(call: Call, cluster: Any) -> None:
    """Put the recorded options on moto's cluster object, which moto then serves in DescribeCluster."""
    options = _options(call, cluster)
    cluster.upgrade_policy = options["upgradePolicy"]
    if options["computeConfig"] is not None:
        cluster.compute_config = options["computeConfig"]


def support_type(call: Call, cluster: Any) -> str:
    return str(_options(call, cluster)["upgradePolicy"].get("supportType") or "EXTENDED")


def is_auto_mode(call: Call, cluster: Any) -> bool:
    return bool((_options(call, cluster)["computeConfig"] or {}).get("enabled"))


def timeout_minutes(body: dict[str, Any]) -> int:
    value = (body.get("rollbackConfig") or {}).get("timeoutMinutes", DEFAULT_TIMEOUT_MINUTES)
    if isinstance(value, bool) or not isinstance(value, int) or not TIMEOUT_MINUTES[0] <= value <= TIMEOUT_MINUTES[1]:
        raise exceptions.InvalidParameterException(messages.ROLLBACK_TIMEOUT)
    return value


def last_version_change(history: Sequence[Recorded], now: float) -> Recorded | None:
    done = [u for u in history if u.status(now) == "Successful"]
    return done[-1] if done else None


def window_open(history: Sequence[Recorded], now: float) -> bool:
    """Whether the last version change is an in-place upgrade finished less than 7 days ago."""
    last = last_version_change(history, now)
    return last is not None and last.kind == "VersionUpdate" and now < last.ends_at + WINDOW_SECONDS


def check(call: Call, cluster: Any, history: Sequence[Recorded], wanted: str, now: float) -> None:
    """Refuse a rollback of `cluster` (ACTIVE, no update running) to `wanted`, one minor below its version."""
    last = last_version_change(history, now)
    if last is None:
        raise exceptions.InvalidRequestException(
            messages.ROLLBACK_CREATED_AT.format(cluster=cluster.name, version=cluster.version)
        )
    if last.kind == "VersionRollback":
        raise exceptions.InvalidRequestException(
            messages.ROLLED_BACK.format(cluster=cluster.name, version=cluster.version)
        )
    if now >= last.ends_at + WINDOW_SECONDS:
        finished = datetime.fromtimestamp(last.ends_at, UTC).isoformat(timespec="seconds")
        raise exceptions.InvalidRequestException(
            messages.ROLLBACK_WINDOW.format(cluster=cluster.name, version=cluster.version, finished=finished)
        )
    if versions.support_status(wanted, now) == versions.EXTENDED_SUPPORT and support_type(call, cluster) != "EXTENDED":
        raise exceptions.InvalidRequestException(
            messages.ROLLBACK_EXTENDED.format(cluster=cluster.name, version=wanted)
        )
    target = tuple(int(p) for p in wanted.split("."))
    newer = sorted(
        name
        for name, nodegroup in cluster.nodegroups.items()
        if nodegroup.version and tuple(int(p) for p in str(nodegroup.version).split(".")[:2]) > target
    )
    if newer and call.body.get("force") is not True:
        raise exceptions.InvalidStateException(
            messages.ROLLBACK_NODEGROUPS.format(nodegroups=", ".join(newer), wanted=wanted)
        )

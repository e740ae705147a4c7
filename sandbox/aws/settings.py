"""Lifecycle durations and injected faults, changed at run time through the control endpoint."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class Durations:
    """Seconds each lifecycle takes in the sandbox (short by default, set longer by the benchmarks)."""

    fargate_create: float = 1.0
    fargate_delete: float = 1.0
    cluster_update: float = 1.0
    cluster_deregister: float = 1.0
    """How long a deregistered cluster stays DELETING before DescribeCluster no longer finds it."""
    activation_lifetime: float = 3 * 24 * 3600.0
    addon_update: float = 1.0
    """How long an add-on takes to be created, updated or deleted."""
    insights_refresh: float = 0.2
    """How long StartInsightsRefresh takes to complete."""
    rollback_node_phase: float = 1.0
    """How long an Auto Mode cluster's rollback drifts the nodes back (the cluster ACTIVE) before the control plane
    rolls back (UPDATING, `cluster_update`)."""
    assumed_role_session: float = 0.0
    """How long an AssumeRole session lasts, at most (0: as asked); AWS's minimum is 900 s, tests shorten it."""

    def update(self, values: dict[str, Any]) -> None:
        names = {f.name for f in fields(self)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown durations {sorted(unknown)}; known: {sorted(names)}")
        for name, value in values.items():
            setattr(self, name, float(value))


@dataclass
class Fault:
    """One injected fault. `kind` is throttle, server_error, unavailable or access_denied (answered before the
    operation runs), or a domain fault the operation itself consults: fargate_create_failed, fargate_delete_failed,
    update_failed, expire_activation, role_propagation; update_cancelled (the version update ends Cancelled),
    update_race (UpdateClusterVersion refused as "update in progress", naming the update that just finished),
    addon_update_failed, insights_refresh_failed. `target` narrows it to a name (the cluster's; the add-on's
    for addon_update_failed); `count` is how many times it fires (0 = until reset)."""

    kind: str
    operation: str | None = None
    target: str | None = None
    count: int = 1


@dataclass
class Settings:
    durations: Durations = field(default_factory=Durations)
    faults: list[Fault] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    """Requests per operation since the last reset (what the benchmarks report)."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, operation: str) -> None:
        with self.lock:
            self.calls[operation] += 1

    def inject(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def take(self, kind: str, operation: str | None = None, target: str | None = None) -> Fault | None:
        """Consume and return a matching fault, if one is armed."""
        with self.lock:
            for fault in self.faults:
                if fault.kind != kind:
                    continue
                if fault.operation not in (None, operation) or fault.target not in (None, target):
                    continue
                if fault.count > 0:
                    fault.count -= 1
                    if fault.count == 0:
                        self.faults.remove(fault)
                return fault
        return None

    def take_any(self, kinds: tuple[str, ...], operation: str) -> Fault | None:
        for kind in kinds:
            fault = self.take(kind, operation)
            if fault:
                return fault
        return None

    def reset(self) -> None:
        with self.lock:
            self.durations = Durations()
            self.faults.clear()
            self.calls.clear()

    def describe(self) -> dict[str, Any]:
        with self.lock:
            return {
                "durations": asdict(self.durations),
                "faults": [asdict(f) for f in self.faults],
                "calls": dict(self.calls),
            }


SETTINGS = Settings()

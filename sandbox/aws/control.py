"""A client for the sandbox's control endpoint: durations, injected faults, insights, the calendar, reset."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SandboxControl:
    endpoint: str

    def _post(self, action: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.endpoint}/_sandbox/{action}",
            data=json.dumps(payload or {}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            result: dict[str, Any] = json.load(response)
            return result

    def set_durations(self, **seconds: float) -> dict[str, Any]:
        return self._post("durations", seconds)

    def inject(self, kind: str, operation: str | None = None, target: str | None = None, count: int = 1) -> None:
        self._post("faults", {"kind": kind, "operation": operation, "target": target, "count": count})

    def reset(self) -> None:
        self._post("reset")

    def set_insights(
        self,
        cluster: str,
        version: str,
        insights: list[dict[str, Any]],
        *,
        after_refresh: bool = False,
        category: str = "UPGRADE_READINESS",
    ) -> None:
        """What EKS's insights of `category` find for `cluster` on Kubernetes `version`, replacing what was set
        before: each a dict of `insights.Finding` fields (name, status, reason, recommendation, description,
        resources, deprecations). With `after_refresh`, they show once the next insights refresh completes.
        ROLLBACK_READINESS insights (`version` the one a rollback would go to) show only during the 7-day window."""
        self._post(
            "insights",
            {
                "cluster": cluster,
                "version": version,
                "insights": insights,
                "after_refresh": after_refresh,
                "category": category,
            },
        )

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox's calendar `seconds` forward: every update recorded so far happened that much earlier."""
        self._post("clock", {"advance": seconds})

    def calls(self) -> dict[str, int]:
        """Requests per operation (every AWS operation, ours and moto's) since the last reset."""
        with urllib.request.urlopen(f"{self.endpoint}/_sandbox/state", timeout=10) as response:
            calls: dict[str, int] = json.load(response)["calls"]
            return calls

    def reset_calls(self) -> None:
        self._post("calls/reset")

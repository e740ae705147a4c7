"""A client for the Loft double's control endpoint: durations, injected faults, reset, state."""

from __future__ import annotations

import json
import ssl
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LoftControl:
    url: str

    def _post(self, action: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.url}/_sandbox/{action}",
            data=json.dumps(payload or {}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        context = ssl._create_unverified_context()  # the double's own self-signed certificate
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            result: dict[str, Any] = json.load(response)
            return result

    def set_durations(self, **seconds: float) -> dict[str, Any]:
        return self._post("durations", seconds)

    def inject(self, kind: str, target: str | None = None, reason: str = "", message: str = "") -> None:
        """Kinds: `phase_failed` (the Cluster turns Failed), `connect_failed` (ClusterConnect says failed),
        `revoked_access_key` (the next accesskey answer is a key the platform no longer accepts)."""
        self._post("faults", {"kind": kind, "target": target, "reason": reason, "message": message})

    def reset(self) -> None:
        self._post("reset")

    def state(self) -> dict[str, Any]:
        return self._post("state")

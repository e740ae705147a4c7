"""One EKS request as the sandbox's handlers see it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID  # type: ignore[attr-defined]

from .settings import SETTINGS, Settings


@dataclass
class Call:
    operation: str
    region: str
    path_params: dict[str, str] = field(default_factory=dict)
    query: dict[str, list[str]] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    account_id: str = DEFAULT_ACCOUNT_ID
    settings: Settings = field(default_factory=lambda: SETTINGS)

    @property
    def eks(self) -> Any:
        """moto's EKS backend for this account and region (its clusters and node groups)."""
        from moto.eks.models import eks_backends

        return eks_backends[self.account_id][self.region]

    @property
    def iam(self) -> Any:
        from moto.iam.models import iam_backends

        return iam_backends[self.account_id]["global"]

    def query_one(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


Handler = Callable[[Call], dict[str, Any] | None]
"""A sandbox operation: the JSON body of the answer, None to let the next handler or moto answer."""

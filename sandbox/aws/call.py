"""One EKS request as the sandbox's handlers see it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID  # type: ignore[attr-defined]

from .settings import SETTINGS, Settings

# Members of EKS's error shapes that name what an operation acts on, and where a request carries them.
CONTEXT_FIELDS = ("clusterName", "nodegroupName", "fargateProfileName", "addonName")


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
    def ec2(self) -> Any:
        """moto's EC2 backend for this account and region (VPCs, subnets, route tables)."""
        from moto.ec2.models import ec2_backends

        return ec2_backends[self.account_id][self.region]

    @property
    def iam(self) -> Any:
        from moto.iam.models import iam_backends

        return iam_backends[self.account_id]["global"]

    def query_one(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def context(self) -> dict[str, str]:
        """The names this request acts on, as EKS puts them in its error bodies (`clusterName`, ...)."""
        found: dict[str, str] = {}
        cluster = self.path_params.get("name") or self.body.get("clusterName")
        if cluster is None and self.operation in ("CreateCluster", "RegisterCluster"):
            cluster = self.body.get("name")
        if isinstance(cluster, str):
            found["clusterName"] = cluster
        for name in CONTEXT_FIELDS[1:]:
            value = self.path_params.get(name) or self.body.get(name) or self.query_one(name)
            if isinstance(value, str):
                found[name] = value
        return found


Handler = Callable[[Call], dict[str, Any] | None]
"""A sandbox operation: the JSON body of the answer, None to let the next handler or moto answer."""

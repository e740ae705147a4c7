"""RegisteredCluster's create as the protocol sees it (`protocol.Adapter`): look, adopt, make way, register.

Registrations differ from other objects in one way: EKS returns the activation code only when registering. So a
registration of ours is never adopted as is: the create's request token replays it (code and all), and one no token
replays, or one already connected (a state holds it: `pulumi up --replace`), is deregistered and registered anew.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pulumi_cluster_connect._plumbing import errors, progress, protocol, registrations

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient


def words_for(name: str) -> protocol.Words:
    return protocol.Words(
        what=f"EKS cluster {name}",
        exists="is already registered",
        adopt_note=" (a connected, ACTIVE registration only)",
        otherwise="choose another cluster_name",
        unfit_remedy=f"deregister it (`aws eks deregister-cluster --name {name}`) and let this resource register it",
    )


@dataclass
class Registering:
    """One create: the RegisterCluster request (the owner tag among its tags), the token of each generation, and
    whether someone else's (connected) registration may be adopted."""

    eks: EKSClient
    request: Mapping[str, Any]
    token_of: Callable[[int], str]
    identity: str
    adopt_existing: bool = False
    words: protocol.Words = field(init=False)

    def __post_init__(self) -> None:
        self.words = words_for(self.name)

    @property
    def name(self) -> str:
        return str(self.request["name"])

    def look(self, first: bool) -> protocol.Existing | None:
        cluster = registrations.describe(self.eks, self.name)
        if cluster is None:
            return None
        if not cluster.get("connectorConfig"):
            raise errors.ClusterConnectError(
                f"{self.words.what} is an EKS cluster, not a registered (connected) one: choose another cluster_name"
            )
        marks = cluster.get("tags") or {}
        status = str(cluster.get("status"))
        ours = protocol.whose(marks, self.identity) is protocol.Whose.OURS
        if first and ours and status != "DELETING":
            # Not met but registered again: the request token replays it, with the activation code adopting loses.
            progress.report(f"{self.words.what} was registered by an interrupted run of this resource: replaying that")
            return None
        return protocol.Existing(
            marks, status=status, going=status == "DELETING", unfit=self._unfit(ours, status), details=cluster
        )

    @staticmethod
    def _unfit(ours: bool, status: str) -> str | None:
        if ours:
            return "no request token of this create replays it, so its activation code is lost"
        if status != "ACTIVE":
            return (
                f"it is {status}, and EKS returns an activation code only when registering, so only a connected "
                "(ACTIVE) registration can be adopted"
            )
        return None

    def adopt(self, existing: protocol.Existing) -> dict[str, Any]:
        return dict(existing.details)

    def make_way(self, existing: protocol.Existing) -> None:
        registrations.deregister(self.eks, self.name)
        registrations.wait_gone(self.eks, self.name)

    def wait_gone(self, existing: protocol.Existing) -> None:
        registrations.wait_gone(self.eks, self.name)

    def create(self, generation: int) -> dict[str, Any]:
        try:
            answer = registrations.register(self.eks, self.request, self.token_of(generation))
        except errors.AwsApiError as err:
            if err.code == "ResourceInUseException":
                raise protocol.AlreadyExists from err
            raise
        live = registrations.describe(self.eks, self.name)
        if live is None or registrations.activation_id(live) != registrations.activation_id(answer):
            raise protocol.Replayed  # the answer of an earlier registration with this token, gone since
        status = live.get("status")
        if status == "ACTIVE":
            # Connected, so its manifest was applied: a state holds it, and this create replaces it
            # (`pulumi up --replace`). A registration left by a crash was never connected.
            progress.report(f"{self.words.what} is registered and connected: registering it anew")
            registrations.deregister(self.eks, self.name)
        if status in ("ACTIVE", "DELETING"):
            registrations.wait_gone(self.eks, self.name)
            raise protocol.Replayed
        return {**answer, "status": status}

"""How a RegisteredCluster create leaves its registration: registered now, replayed, or adopted on request."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pulumi_cluster_connect._plumbing import aws, errors, ownership, polling, progress

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

# A create probes request tokens of successive generations while EKS replays one whose registration is gone.
MAX_GENERATIONS = 20
# Deregistration takes EKS a while; a register of the same name must not follow before it is done.
DEREGISTER_TIMEOUT = 20 * 60.0
DESCRIBE_PATIENCE = 180.0
GONE_POLL = polling.Backoff(first=0.25, factor=1.5, cap=5.0)


def describe(eks: EKSClient, name: str) -> dict[str, Any] | None:
    """DescribeCluster through throttling: what it says decides the fate of a registration EKS accepted."""
    return aws.patiently(lambda: aws.describe_cluster_or_none(eks, name), f"describe {name}", DESCRIBE_PATIENCE)


def still_ours_to_delete(eks: EKSClient, name: str, activation_id: str | None) -> bool:
    """Whether the registration of that name is still the one a state holds (its activation id): a replacement
    may have registered the name anew since."""
    live = describe(eks, name)
    if live is None:
        return False
    live_activation = (live.get("connectorConfig") or {}).get("activationId")
    if activation_id is not None and live_activation != activation_id:
        progress.report(f"EKS cluster {name} was registered anew by the resource that replaced this one: leaving it")
        return False
    return True


def wait_gone(eks: EKSClient, name: str, timeout: float) -> None:
    """Until DescribeCluster no longer finds the registration: a register of the same name may follow then."""
    polling.wait_for(
        f"deregistration of {name}",
        lambda: describe(eks, name),
        state_of=lambda c: "GONE" if c is None else str(c.get("status")),
        done=lambda c: c is None,
        timeout=timeout,
        backoff=GONE_POLL,
    )


@dataclass(frozen=True)
class Registering:
    """One create: the RegisterCluster request (the owner tag among its tags), the token of each generation, the
    call that retries while IAM propagates, and whether someone else's registration may be adopted."""

    eks: EKSClient
    request: Mapping[str, Any]
    token_of: Callable[[int], str]
    register: Callable[[Callable[[], dict[str, Any]]], dict[str, Any]]
    adopt_existing: bool = False

    @property
    def name(self) -> str:
        return str(self.request["name"])

    def _ours(self, cluster: Mapping[str, Any]) -> bool:
        mark = self.request["tags"][ownership.OWNER_KEY]
        return bool((cluster.get("tags") or {}).get(ownership.OWNER_KEY) == mark)

    def _attempt(self, token: str) -> Callable[[], dict[str, Any]]:
        return lambda: dict(self.eks.register_cluster(**self.request, clientRequestToken=token)["cluster"])

    def run(self) -> dict[str, Any]:
        """The registration this resource asks for: registered now, replayed (ours, from an interrupted run), or
        adopted (someone else's, connected, with `adopt_existing`). Someone else's otherwise fails, unchanged."""
        before = describe(self.eks, self.name)
        if before is not None and self._ours(before):
            progress.report(
                f"EKS cluster {self.name} was registered by an interrupted run of this resource: replaying that"
            )
        generation = 0
        for _ in range(MAX_GENERATIONS + 5):
            token = self.token_of(generation)
            try:
                answer = self.register(self._attempt(token))
            except errors.AwsApiError as err:
                if err.code != "ResourceInUseException":
                    raise
                existing = describe(self.eks, self.name)
                if existing is None:
                    continue  # gone since
                adopted = self._meet(existing)
                if adopted is not None:
                    return adopted
                continue  # made way: it was being deregistered, or ours and lost
            live = describe(self.eks, self.name)
            activation = (answer.get("connectorConfig") or {}).get("activationId")
            if live is not None and (live.get("connectorConfig") or {}).get("activationId") == activation:
                status = live.get("status")
                if status not in ("DELETING", "ACTIVE"):
                    return {**answer, "status": status}
                if status == "ACTIVE":
                    # Connected, so its manifest was applied: a state holds it, and this create replaces it
                    # (`pulumi up --replace`). A registration left by a crash was never connected.
                    progress.report(f"EKS cluster {self.name} is registered and connected: registering it anew")
                    self.eks.deregister_cluster(name=self.name)
                wait_gone(self.eks, self.name, DEREGISTER_TIMEOUT)
            # EKS replayed the answer of an earlier registration with this token, which is gone since.
            generation += 1
        raise errors.ClusterConnectError(f"could not register {self.name}: the registration kept changing meanwhile")

    def _meet(self, existing: Mapping[str, Any]) -> dict[str, Any] | None:
        """A cluster of the name exists: adopt it (returned), make way for a new registration (None, once it is
        gone), or fail without changing anything."""
        what = f"EKS cluster {self.name}"
        if not existing.get("connectorConfig"):
            raise errors.ClusterConnectError(
                f"{what} is an EKS cluster, not a registered (connected) one: choose another cluster_name"
            )
        status = str(existing.get("status"))
        if status == "DELETING":
            progress.report(f"{what} is being deregistered; waiting until it is gone")
            wait_gone(self.eks, self.name, DEREGISTER_TIMEOUT)
            return None
        if self._ours(existing):
            # No token of ours replays it, so its activation code is lost: register it again.
            progress.report(f"{what} was registered by an interrupted run of this resource: registering it again")
            self.eks.deregister_cluster(name=self.name)
            wait_gone(self.eks, self.name, DEREGISTER_TIMEOUT)
            return None
        owner = (existing.get("tags") or {}).get(ownership.OWNER_KEY)
        whose = f"another resource's (tag {ownership.OWNER_KEY}={owner})" if owner else "not made by this resource"
        if not self.adopt_existing:
            raise errors.ClusterConnectError(
                f"{what} is already registered and is {whose}. Nothing was changed. To manage it with this "
                "resource, set `adopt_existing=True` on it (a connected, ACTIVE registration only); or choose another "
                "cluster_name"
            )
        if status != "ACTIVE":
            raise errors.ClusterConnectError(
                f"cannot adopt {what}: it is {status}, and EKS returns an activation code only when registering, "
                "so only a connected (ACTIVE) registration can be adopted. Nothing was changed: deregister it "
                f"(`aws eks deregister-cluster --name {self.name}`) and let this resource register it"
            )
        progress.report(f"{what} is registered and ACTIVE (adopt_existing=True): adopting it")
        return dict(existing)

"""EKS Connector registrations (RegisterCluster / DeregisterCluster): find, register, deregister, wait until gone.

RegisteredCluster and ConnectionWait both speak of registrations through this module, so neither imports the other.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from . import aws, busy, errors, polling, progress

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

CLUSTER_NAME, REGION = "cluster_name", "region"
# eksctl retries IAM propagation for three minutes; so do we.
PROPAGATION_TIMEOUT = 180.0
# IAM changes usually propagate within seconds: retry RegisterCluster soon, at most 3 s apart.
PROPAGATION_BACKOFF = polling.Backoff(first=1.0, factor=1.5, cap=3.0)
PROPAGATION_MESSAGES = ("not existing role", "nonexistent role")
# Deregistration takes EKS a while; a register of the same name must not follow before it is done.
DEREGISTER_TIMEOUT = 20 * 60.0
DESCRIBE_PATIENCE = 180.0
GONE_POLL = polling.Backoff(first=0.25, factor=1.5, cap=5.0)


def utc(value: datetime.datetime | float | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, datetime.datetime):
        value = datetime.datetime.fromtimestamp(value, datetime.UTC)
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def activation_id(cluster: Mapping[str, Any] | None) -> str | None:
    return ((cluster or {}).get("connectorConfig") or {}).get("activationId")


def describe(eks: EKSClient, name: str) -> dict[str, Any] | None:
    """DescribeCluster through throttling: what it says decides the fate of a registration EKS accepted."""
    return aws.patiently(lambda: aws.describe_cluster_or_none(eks, name), f"describe {name}", DESCRIBE_PATIENCE)


def is_propagation_delay(err: errors.AwsApiError) -> bool:
    """RegisterCluster's "not yet": the IAM role or the service-linked role is still propagating."""
    if err.code == "ResourcePropagationDelayException":
        return True
    return err.code == "InvalidRequestException" and err.message.lower().startswith(PROPAGATION_MESSAGES)


def register(
    eks: EKSClient,
    request: Mapping[str, Any],
    token: str,
    *,
    timeout: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """RegisterCluster with this request token (the Cluster it answers), asked again while IAM propagates."""
    return busy.when_free(
        lambda: dict(eks.register_cluster(**request, clientRequestToken=token)["cluster"]),
        f"register {request['name']}",
        PROPAGATION_TIMEOUT if timeout is None else timeout,
        busy=is_propagation_delay,
        reason=lambda err: f"IAM is still propagating ({err.message})",
        backoff=PROPAGATION_BACKOFF,
        clock=clock,
        sleep=sleep,
    )


def deregister(eks: EKSClient, name: str) -> bool:
    """DeregisterCluster; False when there was nothing of that name to deregister."""
    try:
        eks.deregister_cluster(name=name)
    except errors.AwsApiError as err:
        if err.code != "ResourceNotFoundException":
            raise
        return False
    return True


def wait_gone(eks: EKSClient, name: str, timeout: float = DEREGISTER_TIMEOUT) -> None:
    """Until DescribeCluster no longer finds the registration: a register of the same name may follow then."""
    polling.wait_for(
        f"deregistration of {name}",
        lambda: describe(eks, name),
        state_of=lambda c: "GONE" if c is None else str(c.get("status")),
        done=lambda c: c is None,
        timeout=timeout,
        backoff=GONE_POLL,
    )


def still_ours_to_delete(eks: EKSClient, name: str, activation: str | None) -> bool:
    """Whether the registration of that name is still the one a state holds (its activation id): a replacement
    may have registered the name anew since."""
    live = describe(eks, name)
    if live is None:
        return False
    if activation is not None and activation_id(live) != activation:
        progress.report(f"EKS cluster {name} was registered anew by the resource that replaced this one: leaving it")
        return False
    return True

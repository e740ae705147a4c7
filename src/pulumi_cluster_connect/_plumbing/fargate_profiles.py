"""EKS Fargate profiles: find, create, delete, retag, and wait until active or gone, one operation per cluster.

EKS runs one Fargate profile operation per cluster at a time and answers any other with ResourceInUseException,
which the changing verbs wait out (`busy.when_free`). Profiles are immutable but for their tags.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from . import aws, busy, errors, ownership, polling

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

ROLE_ARN, SELECTORS, SUBNETS = "pod_execution_role_arn", "selectors", "subnet_ids"
FAILED = ("CREATE_FAILED", "DELETE_FAILED")
# How long a ResourceInUse from outside this process (another stack, a cluster update) is waited out.
BUSY_TIMEOUT = 15 * 60.0
BUSY_RETRY = polling.Backoff(first=1.0, factor=1.5, cap=10.0)
# Profile operations of one kind take about the same time (minutes on EKS, seconds in the sandbox): later waits
# look where the first ones ended (pacing), so most cost one or two DescribeFargateProfile calls; the first looks
# every 0.7 s (then every 5% of the time waited), about ten looks for a 7 s sandbox operation. A deletion looks
# first where the profile's creation ended (`expected`).
CREATE_PACE = polling.Lifecycle(kind="EKS Fargate profile creation", floor=0.7)
DELETE_PACE = polling.Lifecycle(kind="EKS Fargate profile deletion", floor=0.7)
# A profile this run did not start (taken over after a crash, or being deleted) teaches nothing of how long one takes.
JOINED_PACE = polling.Lifecycle(floor=0.65, look_at_start=True)

_cluster_locks: dict[tuple[str, str], threading.Lock] = {}
_cluster_locks_guard = threading.Lock()


def left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.0)


@contextmanager
def one_operation_per_cluster(region: str, cluster: str) -> Iterator[None]:
    """EKS allows one Fargate profile operation per cluster. The engine runs them one at a time (FargateProfile
    orders a cluster's profiles), so this lock covers what it does not order: deletes from an older state."""
    with _cluster_locks_guard:
        lock = _cluster_locks.setdefault((region, cluster), threading.Lock())
    with lock:
        yield


# --- find ---------------------------------------------------------------------------------------


def find(eks: EKSClient, cluster: str, name: str) -> dict[str, Any] | None:
    """The profile as EKS reports it, None when it (or its cluster) does not exist."""
    return aws.find(
        lambda: dict(eks.describe_fargate_profile(clusterName=cluster, fargateProfileName=name)["fargateProfile"])
    )


def find_patiently(
    eks: EKSClient, cluster: str, name: str, what: str, timeout: float, *, accepted: bool = False
) -> dict[str, Any] | None:
    """`find` through throttling and server faults: what it says decides the fate of a profile made.
    `accepted`: EKS took the operation this look follows, so an unreachable endpoint is waited out too."""
    return aws.patiently(lambda: find(eks, cluster, name), f"describe {what}", timeout, accepted=accepted)


# Per EKS client (one per credentials and endpoint), the profile names of each cluster as listed at the first create
# on that cluster in this process. A name missing from the listing is created straight away.
_listed: weakref.WeakKeyDictionary[object, dict[str, frozenset[str]]] = weakref.WeakKeyDictionary()
_listed_guard = threading.Lock()


def may_exist(eks: EKSClient, cluster: str, name: str) -> bool:
    """False only when this process's listing of the cluster's profiles lacks `name`.

    One ListFargateProfiles per cluster per process instead of a DescribeFargateProfile before every create. The
    listing may be stale, and both ways are safe: a profile made since it was taken makes the create fail with
    "already exists" (then the describe says whose it is), one deleted since costs a describe that finds nothing.
    """
    with _listed_guard:
        names = _listed.setdefault(eks, {}).get(cluster)
    if names is None:
        try:
            pages = eks.get_paginator("list_fargate_profiles").paginate(clusterName=cluster)
            names = frozenset(n for page in pages for n in page.get("fargateProfileNames") or [])
        except errors.AwsApiError:
            return True  # the describe that follows meets the same fault, and says it properly
        with _listed_guard:
            _listed.setdefault(eks, {})[cluster] = names
    return name in names


def listed_now(eks: EKSClient, cluster: str, name: str) -> None:
    """A profile this process just made: a later create of the same name here (a replacement) looks first."""
    with _listed_guard:
        listings = _listed.setdefault(eks, {})
        if cluster in listings:
            listings[cluster] |= {name}


def forget_listings() -> None:
    """Drop every listing (tests that reset the service under a reused client)."""
    with _listed_guard:
        _listed.clear()


# --- what to ask for ----------------------------------------------------------------------------


def create_request(props: Mapping[str, Any], identity: str) -> dict[str, Any]:
    """CreateFargateProfile's parameters but the token, with the owner tag among the tags."""
    request: dict[str, Any] = {
        "clusterName": str(props["cluster_name"]),
        "fargateProfileName": str(props["fargate_profile_name"]),
        "podExecutionRoleArn": props[ROLE_ARN],
        "selectors": [
            {"namespace": s["namespace"], **({"labels": dict(s["labels"])} if s.get("labels") else {})}
            for s in props[SELECTORS]
        ],
        "tags": ownership.with_mark(props.get("tags"), identity),
    }
    if props.get(SUBNETS):
        request["subnets"] = list(props[SUBNETS])
    return request


def _selectors(selectors: Any) -> list[dict[str, Any]]:
    return sorted(
        ({"namespace": s.get("namespace"), "labels": dict(s.get("labels") or {})} for s in selectors or []),
        key=repr,
    )


def differences(profile: Mapping[str, Any], request: Mapping[str, Any]) -> list[str]:
    """The inputs an existing profile does not match (profiles are immutable: these cannot be changed)."""
    found = []
    if profile.get("podExecutionRoleArn") != request["podExecutionRoleArn"]:
        found.append(ROLE_ARN)
    if _selectors(profile.get("selectors")) != _selectors(request["selectors"]):
        found.append(SELECTORS)
    # Without subnet_ids EKS chose the cluster's private subnets: any will do.
    if "subnets" in request and sorted(profile.get("subnets") or []) != sorted(request["subnets"]):
        found.append(SUBNETS)
    return found


def health_message(profile: Mapping[str, Any]) -> str | None:
    issues = (profile.get("health") or {}).get("issues") or []
    lines = []
    for issue in issues:
        resources = issue.get("resourceIds") or []
        on = f" (resources: {', '.join(resources)})" if resources else ""
        lines.append(f"{issue.get('code', 'Unknown')}: {issue.get('message', '')}{on}")
    return "; ".join(lines) or None


# --- change -------------------------------------------------------------------------------------


def _when_cluster_free(call: Callable[[], Any], action: str, timeout: float) -> Any:
    return busy.when_free(call, action, min(timeout, BUSY_TIMEOUT), backoff=BUSY_RETRY)


def create(eks: EKSClient, request: Mapping[str, Any], token: str, what: str, timeout: float) -> dict[str, Any]:
    """CreateFargateProfile, waiting out the cluster's other operations; through throttling too, as a retry with
    the same token is the same create. EKS's answer: the profile it accepted (or an earlier answer it replays)."""
    deadline = time.monotonic() + timeout
    action = f"create {what}"

    def attempt() -> dict[str, Any]:
        return dict(eks.create_fargate_profile(**request, clientRequestToken=token)["fargateProfile"])

    answer: dict[str, Any] = _when_cluster_free(lambda: aws.patiently(attempt, action, left(deadline)), action, timeout)
    listed_now(eks, request["clusterName"], request["fargateProfileName"])
    return answer


def retag(eks: EKSClient, arn: str, tags: Mapping[str, Any], wanted: Mapping[str, Any]) -> None:
    """Leave the profile's tags `wanted`, from `tags` (what it has)."""
    removed = sorted(set(tags) - set(wanted))
    changed = {k: v for k, v in wanted.items() if tags.get(k) != v}
    if removed:
        eks.untag_resource(resourceArn=arn, tagKeys=removed)
    if changed:
        eks.tag_resource(resourceArn=arn, tags=changed)


def delete(eks: EKSClient, cluster: str, name: str, what: str, timeout: float) -> bool:
    """Ask EKS to delete the profile, waiting out the cluster's other operations; False when it is gone already."""

    def start_delete() -> bool:
        try:
            eks.delete_fargate_profile(clusterName=cluster, fargateProfileName=name)
        except errors.AwsApiError as err:
            if err.code == "ResourceNotFoundException":
                return False
            raise
        return True

    return bool(_when_cluster_free(start_delete, f"delete {what}", timeout))


# --- wait ---------------------------------------------------------------------------------------


def wait_active(
    eks: EKSClient,
    cluster: str,
    name: str,
    what: str,
    timeout: float,
    *,
    pace: polling.Lifecycle = CREATE_PACE,
    first_look: Callable[[Mapping[str, Any] | None], None] | None = None,
    took: Callable[[float, float], None] | None = None,
) -> dict[str, Any]:
    """Wait until the profile is ACTIVE. `first_look` sees what the first look found (None: no profile) and may
    end the wait by raising: a create's answer is confirmed there, one look instead of a describe after it."""
    deadline = time.monotonic() + timeout
    unconfirmed = first_look

    def describe() -> dict[str, Any]:
        nonlocal unconfirmed
        profile = find_patiently(eks, cluster, name, what, left(deadline), accepted=True)
        if unconfirmed is not None:
            unconfirmed(profile)
            unconfirmed = None
        if profile is None:
            raise errors.ClusterConnectError(f"{what} disappeared while it was being created")
        return profile

    return polling.wait_for(
        what,
        describe,
        state_of=lambda p: str(p.get("status", "")),
        done=lambda p: p.get("status") == "ACTIVE",
        failure=lambda p: (
            (health_message(p) or "no health issues reported") if p.get("status") == "CREATE_FAILED" else None
        ),
        timeout=timeout,
        backoff=pace,
        took=took,
    )


def wait_gone(
    eks: EKSClient,
    cluster: str,
    name: str,
    what: str,
    timeout: float,
    *,
    joined: bool = False,
    expected: tuple[float, float] | None = None,
) -> None:
    """Wait until the profile is gone; `joined`: this run did not start the deletion (nothing to learn);
    `expected`: when the deletion should end, in seconds after it began."""
    deadline = time.monotonic() + timeout
    polling.wait_for(
        f"{what} deletion",
        lambda: find_patiently(eks, cluster, name, what, left(deadline), accepted=True),
        state_of=lambda p: "GONE" if p is None else str(p.get("status", "")),
        done=lambda p: p is None,
        failure=lambda p: (
            (health_message(p) or "no health issues reported")
            if p is not None and p.get("status") == "DELETE_FAILED"
            else None
        ),
        timeout=timeout,
        backoff=JOINED_PACE if joined else DELETE_PACE,
        expected=expected,
    )


def delete_and_wait(
    eks: EKSClient, cluster: str, name: str, what: str, timeout: float, *, expected: tuple[float, float] | None = None
) -> None:
    if delete(eks, cluster, name, what, timeout):
        wait_gone(eks, cluster, name, what, timeout, expected=expected)

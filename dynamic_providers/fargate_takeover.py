"""How a FargateProfile create leaves its profile: made now, or taken over (ours, or anyone's with `adopt_existing`)."""

from __future__ import annotations

import secrets
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pulumi_cluster_connect._plumbing import aws, errors, ownership, progress

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

    from .fargate_profile import FargateProfileProvider

ROLE_ARN, SELECTORS, SUBNETS = "pod_execution_role_arn", "selectors", "subnet_ids"
CLAIM_KEY = "pulumi-cluster-connect/claim"
"""A tag whose value a create that adopted a profile chose; the state keeps it as the `claim` output, and a delete
whose state holds another claim leaves the profile alone (it belongs to the replacement that adopted it)."""
FAILED = ("CREATE_FAILED", "DELETE_FAILED")
# A create probes request tokens of successive generations while EKS replays one whose profile is gone.
MAX_GENERATIONS = 20
MAX_TAKE_OVERS = 25


def left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.0)


def left_in_place(err: errors.ClusterConnectError, what: str) -> errors.ClusterConnectError:
    """The error for a create that failed after EKS accepted it: the profile stays, and is adopted next time."""
    return errors.ClusterConnectError(
        f"{err}. EKS accepted {what}: it is left in place, marked as this resource's, and the next `pulumi up` "
        "adopts it"
    )


def kept_changing(what: str) -> errors.ClusterConnectError:
    """The error for a create that gave up: the profile of its name kept appearing, changing or vanishing."""
    return errors.ClusterConnectError(f"could not create {what}: it kept changing while being created")


def user_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """The tags as the user gave them: our owner and claim tags are never shown as a difference."""
    return {k: v for k, v in ownership.without_mark(tags).items() if k != CLAIM_KEY}


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


def foreign_message(what: str, tags: Mapping[str, str]) -> str:
    owner = tags.get(ownership.OWNER_KEY)
    whose = f"another resource's (tag {ownership.OWNER_KEY}={owner})" if owner else "not made by pulumi-cluster-connect"
    return (
        f"{what} already exists and is {whose}. Nothing was changed. To manage it with this resource, set "
        "`adopt_existing=True` on it (its inputs must match the profile: profiles cannot be changed); or choose "
        "another fargate_profile_name"
    )


# Per EKS client (one per credentials and endpoint), the profile names of each cluster as listed at the first create
# on that cluster in this process. A name missing from the listing is created straight away; see Creation.run.
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


class ReplayedAnswer(Exception):
    """The first look after a create found no profile, or another one: EKS answered with the answer of an earlier
    create with this request token, whose profile is gone since. The create is asked again with the next
    generation's token. (Not a ClusterConnectError: it never reaches the user.)"""


@dataclass(frozen=True)
class Made:
    """What Creation.run left: `arn`, what EKS answered when this run made the profile (None: it took one over);
    `generation`, the request token generation it used."""

    arn: str | None
    generation: int


@dataclass(frozen=True)
class Creation:
    """One create: its provider (for the EKS calls), the client, what it asks for and until when."""

    provider: FargateProfileProvider
    eks: EKSClient
    props: Mapping[str, Any]
    what: str
    deadline: float

    @property
    def identity(self) -> str:
        return str(self.props.get(ownership.IDENTITY) or "")

    def run(self, generation: int = 0) -> Made:
        """Leave a profile of this name that is ours and matches the inputs: made now (`Made.arn` is what EKS
        answered; the caller's first look confirms it, see ReplayedAnswer), or taken over (`Made.arn` None).
        Someone else's profile fails the create before anything is changed."""
        request = create_request(self.props, self.identity)
        for attempt in range(MAX_TAKE_OVERS):
            listed = attempt > 0 or may_exist(self.eks, request["clusterName"], request["fargateProfileName"])
            existing = self._describe(request) if listed else None
            if existing is not None:
                if self._take_over(existing, request):
                    return Made(None, generation)
                continue  # ours but unfit (failed, other inputs, being deleted), and gone now
            token = ownership.request_token(self.identity, request, generation)
            try:
                made = self._create(request, token)
            except errors.AwsApiError as err:
                if "already exists" in err.message:
                    continue  # made since we looked: the next look says whose it is
                raise
            listed_now(self.eks, request["clusterName"], request["fargateProfileName"])
            return Made(str(made.get("fargateProfileArn")), generation)
        raise kept_changing(self.what)

    def _describe(self, request: Mapping[str, Any]) -> dict[str, Any] | None:
        cluster, name = request["clusterName"], request["fargateProfileName"]
        return self.provider.describe_patiently(self.eks, cluster, name, self.what, self.deadline)

    def _create(self, request: Mapping[str, Any], token: str) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            answer = self.eks.create_fargate_profile(**request, clientRequestToken=token)
            return dict(answer["fargateProfile"])

        action = f"create {self.what}"
        # Through throttling too: a retry with the same token is the same create.
        return self.provider._when_cluster_free(
            action,
            lambda: aws.patiently(attempt, action, left(self.deadline)),
            left(self.deadline),
            "EKS CreateFargateProfile",
        )

    def _take_over(self, existing: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
        """Adopt the existing profile (True), or make way when it is ours but unfit (False, once it is gone)."""
        cluster, name = request["clusterName"], request["fargateProfileName"]
        status = str(existing.get("status"))
        tags = dict(existing.get("tags") or {})
        ours = tags.get(ownership.OWNER_KEY) == request["tags"][ownership.OWNER_KEY]
        if status == "DELETING":
            progress.report(f"{self.what} is being deleted; waiting until it is gone")
            self.provider.wait_gone(self.eks, cluster, name, self.what, left(self.deadline), joined=True)
            return False
        if not ours and not ownership.adopting(self.props):
            raise errors.ClusterConnectError(foreign_message(self.what, tags))
        unfit = f"it is {status}" if status in FAILED else None
        mismatched = differences(existing, request)
        if mismatched:
            unfit = f"its {', '.join(mismatched)} differ from the inputs"
        if unfit and not ours:
            raise errors.ClusterConnectError(
                f"cannot adopt {self.what}: {unfit}, and Fargate profiles cannot be changed. Nothing was changed: "
                "make the inputs match the profile, or delete it and let this resource create it"
            )
        if unfit:
            progress.report(f"{self.what} was left by an interrupted run of this resource, but {unfit}: replacing it")
            self.provider._delete_and_wait(self.eks, cluster, name, self.what, left(self.deadline))
            return False
        source = "left by an interrupted run of this resource" if ours else "adopt_existing=True"
        progress.report(f"{self.what} exists ({source}, {status}): adopting it")
        self._claim(str(existing["fargateProfileArn"]), tags, request["tags"])
        return True

    def _claim(self, arn: str, tags: Mapping[str, str], wanted: Mapping[str, str]) -> None:
        """Tag an adopted profile as ours, with the inputs' tags and a new claim."""
        wanted = {**wanted, CLAIM_KEY: secrets.token_hex(8)}
        removed = sorted(set(tags) - set(wanted))
        if removed:
            self.eks.untag_resource(resourceArn=arn, tagKeys=removed)
        self.eks.tag_resource(resourceArn=arn, tags={k: v for k, v in wanted.items() if tags.get(k) != v})

"""Fargate profiles with their real lifecycle, the one-operation-per-cluster rule, limits and faults."""

from __future__ import annotations

import base64
import bisect
import copy
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from . import exceptions, fargate_checks, messages, tokens
from .call import Call

ARN_TEMPLATE = "arn:aws:eks:{region}:{account_id}:fargateprofile/{cluster}/{name}/{uuid}"
PROFILE_ARN = re.compile(
    r"^arn:aws[a-z-]*:eks:(?P<region>[^:]+):(?P<account>\d{12}):fargateprofile/(?P<cluster>[^/]+)/(?P<name>[^/]+)/[^/]+$"
)
MAX_PROFILES_PER_CLUSTER = 10


CREATING, ACTIVE, DELETING = "CREATING", "ACTIVE", "DELETING"
CREATE_FAILED, DELETE_FAILED, GONE = "CREATE_FAILED", "DELETE_FAILED", "GONE"


@dataclass
class Profile:
    """One profile; its status is computed from when its create or delete began and how long that takes."""

    name: str
    arn: str
    cluster: str
    role_arn: str
    selectors: list[dict[str, Any]]
    subnets: list[str]
    tags: dict[str, str]
    created_at: float
    create_ends: float
    create_issue: tuple[str, str] | None = None
    delete_ends: float | None = None
    delete_issue: tuple[str, str] | None = None

    def status(self, now: float) -> str:
        if self.delete_ends is not None:
            if now < self.delete_ends:
                return DELETING
            return DELETE_FAILED if self.delete_issue else GONE
        if now < self.create_ends:
            return CREATING
        return CREATE_FAILED if self.create_issue else ACTIVE

    def describe(self, now: float) -> dict[str, Any]:
        status = self.status(now)
        issue = {CREATE_FAILED: self.create_issue, DELETE_FAILED: self.delete_issue}.get(status)
        issues = [{"code": issue[0], "message": issue[1], "resourceIds": [self.role_arn]}] if issue else []
        return {
            "fargateProfileName": self.name,
            "fargateProfileArn": self.arn,
            "clusterName": self.cluster,
            "createdAt": self.created_at,
            "podExecutionRoleArn": self.role_arn,
            "subnets": list(self.subnets),
            "selectors": [dict(s) for s in self.selectors],
            "status": status if status != GONE else DELETING,
            "tags": dict(self.tags),
            "health": {"issues": issues},
        }


@dataclass
class ClusterProfiles:
    """The profiles of one cluster; `cluster_id` tells a re-created cluster of the same name apart."""

    cluster_id: str
    profiles: dict[str, Profile] = field(default_factory=dict)


_lock = threading.Lock()
_clusters: dict[tuple[str, str, str], ClusterProfiles] = {}
_TOKENS = tokens.RequestTokens()


def reset() -> None:
    with _lock:
        _clusters.clear()
    _TOKENS.reset()


def _now() -> float:
    return time.monotonic()


def _moto_cluster(call: Call, name: str) -> Any:
    cluster = call.eks.clusters.get(name)
    if cluster is None:
        raise exceptions.ResourceNotFoundException(messages.CLUSTER_NOT_FOUND.format(cluster=name))
    return cluster


def _profiles_of(call: Call, cluster_name: str) -> dict[str, Profile]:
    """The live profiles of an existing cluster (callers hold `_lock`); finished deletions are dropped."""
    cluster = _moto_cluster(call, cluster_name)
    key = (call.account_id, call.region, cluster_name)
    cluster_id = f"{cluster.arn}@{cluster.created_at}"
    entry = _clusters.get(key)
    if entry is None or entry.cluster_id != cluster_id:
        entry = _clusters[key] = ClusterProfiles(cluster_id)
    now = _now()
    for name in [n for n, p in entry.profiles.items() if p.status(now) == GONE]:
        del entry.profiles[name]
    return entry.profiles


def _check_not_busy(call: Call, profiles: dict[str, Profile], verb: str, name: str, cluster_name: str) -> None:
    """EKS runs one Fargate profile operation per cluster at a time, and none while the cluster updates."""
    now = _now()
    for other in profiles.values():
        status = other.status(now)
        if status in (CREATING, DELETING):
            raise exceptions.ResourceInUseException(
                messages.PROFILE_OPERATION_IN_PROGRESS.format(
                    verb=verb, name=name, cluster=cluster_name, other=other.name, status=status
                )
            )
    if getattr(_moto_cluster(call, cluster_name), "status", None) == "UPDATING":
        raise exceptions.ResourceInUseException(
            messages.PROFILE_CLUSTER_UPDATING.format(verb=verb, name=name, cluster=cluster_name)
        )


def _parameters(call: Call) -> dict[str, Any]:
    """A create request's parameters, checked in form (what a token is compared on)."""
    body = call.body
    return {
        "clusterName": call.path_params["name"],
        "fargateProfileName": fargate_checks.validated_name(body.get("fargateProfileName")),
        "podExecutionRoleArn": fargate_checks.validated_role_arn(body.get("podExecutionRoleArn")),
        "selectors": fargate_checks.validated_selectors(body.get("selectors")),
        "subnets": [str(s) for s in body.get("subnets") or []],
        "tags": {str(k): str(v) for k, v in (body.get("tags") or {}).items()},
    }


def _replayed(profiles: dict[str, Profile], remembered: tokens.Remembered, now: float) -> dict[str, Any]:
    """The answer to a retried create: the profile as it is now, or the first answer once it is gone."""
    first = remembered.answer["fargateProfile"]
    live = profiles.get(first["fargateProfileName"])
    if live is not None and live.arn == first["fargateProfileArn"]:
        return {"fargateProfile": live.describe(now)}
    return copy.deepcopy(remembered.answer)


def create_fargate_profile(call: Call) -> dict[str, Any]:
    parameters = _parameters(call)
    cluster_name, name = parameters["clusterName"], parameters["fargateProfileName"]
    role_arn = parameters["podExecutionRoleArn"]
    with _lock:
        profiles = _profiles_of(call, cluster_name)
        cluster = _moto_cluster(call, cluster_name)
        now = _now()
        remembered = _TOKENS.recall(call, parameters)
        if remembered is not None:
            return _replayed(profiles, remembered, now)
        if name in profiles:
            raise exceptions.ResourceInUseException(messages.PROFILE_EXISTS)
        fargate_checks.check_role(role_arn)
        subnets = fargate_checks.subnets_for(call, cluster, parameters["subnets"])
        _check_not_busy(call, profiles, "create", name, cluster_name)
        if len(profiles) >= MAX_PROFILES_PER_CLUSTER:
            raise exceptions.ResourceLimitExceededException(messages.PROFILE_LIMIT.format(cluster=cluster_name))
        fault = call.settings.take("fargate_create_failed", operation=call.operation, target=name)
        issue = (
            (messages.PROFILE_CREATE_FAILED_ISSUE[0], messages.PROFILE_CREATE_FAILED_ISSUE[1].format(role=role_arn))
            if fault
            else None
        )
        profile = Profile(
            name=name,
            arn=ARN_TEMPLATE.format(
                region=call.region,
                account_id=call.account_id,
                cluster=cluster_name,
                name=name,
                uuid=uuid.uuid4(),
            ),
            cluster=cluster_name,
            role_arn=role_arn,
            selectors=parameters["selectors"],
            subnets=subnets,
            tags=dict(parameters["tags"]),
            created_at=time.time(),
            create_ends=now + call.settings.durations.fargate_create,
            create_issue=issue,
        )
        profiles[name] = profile
        answer = {"fargateProfile": profile.describe(now)}
        _TOKENS.remember(call, parameters, answer)
        return answer


def _profile(call: Call, profiles: dict[str, Profile]) -> Profile:
    name = call.path_params["fargateProfileName"]
    profile = profiles.get(name)
    if profile is None:
        raise exceptions.ResourceNotFoundException(messages.PROFILE_NOT_FOUND.format(name=name))
    return profile


def describe_fargate_profile(call: Call) -> dict[str, Any]:
    with _lock:
        profile = _profile(call, _profiles_of(call, call.path_params["name"]))
        return {"fargateProfile": profile.describe(_now())}


def delete_fargate_profile(call: Call) -> dict[str, Any]:
    cluster_name = call.path_params["name"]
    with _lock:
        profiles = _profiles_of(call, cluster_name)
        profile = _profile(call, profiles)
        _check_not_busy(call, profiles, "delete", profile.name, cluster_name)
        now = _now()
        fault = call.settings.take("fargate_delete_failed", operation=call.operation, target=profile.name)
        profile.delete_issue = (
            (messages.PROFILE_DELETE_FAILED_ISSUE[0], messages.PROFILE_DELETE_FAILED_ISSUE[1].format(name=profile.name))
            if fault
            else None
        )
        profile.delete_ends = now + call.settings.durations.fargate_delete
        return {"fargateProfile": profile.describe(now)}


def _page_token(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def _page_start(names: list[str], token: str | None) -> int:
    """Where a page starts: the first name at or after the one the token holds (robust to deletions between
    pages); a token the sandbox did not hand out is refused, as EKS refuses it."""
    if token is None:
        return 0
    try:
        after = base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError) as err:
        raise exceptions.InvalidParameterException(messages.BAD_NEXT_TOKEN) from err
    if not after or _page_token(after) != token:
        raise exceptions.InvalidParameterException(messages.BAD_NEXT_TOKEN)
    return bisect.bisect_left(names, after)


def list_fargate_profiles(call: Call) -> dict[str, Any]:
    raw_max = call.query_one("maxResults")
    max_results = int(raw_max) if raw_max else 100
    if not 1 <= max_results <= 100:
        raise exceptions.InvalidParameterException(messages.MAX_RESULTS_RANGE.format(limit=100))
    with _lock:
        names = sorted(_profiles_of(call, call.path_params["name"]))
    start = _page_start(names, call.query_one("nextToken"))
    result: dict[str, Any] = {"fargateProfileNames": names[start : start + max_results]}
    if start + max_results < len(names):
        result["nextToken"] = _page_token(names[start + max_results])
    return result


def delete_cluster(call: Call) -> None:
    """EKS deletes no cluster that still has Fargate profiles; without any, moto deletes it."""
    name = call.path_params["name"]
    with _lock:
        if call.eks.clusters.get(name) is None:
            return None
        now = _now()
        states = {p.status(now) for p in _profiles_of(call, name).values()}
    if states & {ACTIVE, CREATING}:
        raise exceptions.ResourceInUseException(messages.CLUSTER_HAS_PROFILES.format(states=f"{ACTIVE}/{CREATING}"))
    if states:
        raise exceptions.ResourceInUseException(messages.CLUSTER_HAS_PROFILES.format(states="/".join(sorted(states))))
    return None


def _tagged_profile(call: Call) -> Profile | None:
    """The profile an ARN names, None for an ARN that is not a profile's (moto then answers for clusters)."""
    arn = call.path_params.get("resourceArn", "")
    found = PROFILE_ARN.match(arn)
    if not found:
        return None
    with _lock:
        try:
            profiles = _profiles_of(call, found["cluster"])
        except exceptions.ResourceNotFoundException:
            profiles = {}
        profile = profiles.get(found["name"])
    if profile is None or profile.arn != arn:
        raise exceptions.NotFoundException(messages.TAGGED_RESOURCE_NOT_FOUND.format(arn=arn))
    return profile


def tag_resource(call: Call) -> dict[str, Any] | None:
    profile = _tagged_profile(call)
    if profile is None:
        return None
    tags = call.body.get("tags")
    if not isinstance(tags, dict) or not tags:
        raise exceptions.BadRequestException(messages.TAGS_EMPTY)
    with _lock:
        profile.tags.update({str(k): str(v) for k, v in tags.items()})
    return {}


def untag_resource(call: Call) -> dict[str, Any] | None:
    profile = _tagged_profile(call)
    if profile is None:
        return None
    with _lock:
        for key in call.query.get("tagKeys", []):
            profile.tags.pop(key, None)
    return {}


def list_tags_for_resource(call: Call) -> dict[str, Any] | None:
    profile = _tagged_profile(call)
    if profile is None:
        return None
    with _lock:
        return {"tags": dict(profile.tags)}

"""Fargate profiles with their real lifecycle, the one-operation-per-cluster rule, limits and faults."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import exceptions
from .call import Call

ARN_TEMPLATE = "arn:aws:eks:{region}:{account_id}:fargateprofile/{cluster}/{name}/{uuid}"
PROFILE_ARN = re.compile(
    r"^arn:aws[a-z-]*:eks:(?P<region>[^:]+):(?P<account>\d{12}):fargateprofile/(?P<cluster>[^/]+)/(?P<name>[^/]+)/[^/]+$"
)
NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
RESERVED_PREFIX = "eks-"
MAX_SELECTORS, MAX_LABELS, MAX_PROFILES_PER_CLUSTER = 5, 5, 10

CLUSTER_NOT_FOUND_MSG = "No cluster found for name: {cluster}."
PROFILE_NOT_FOUND_MSG = "No Fargate Profile found with name: {name}."
PROFILE_EXISTS_MSG = "A Fargate Profile already exists with this name in this cluster."
IN_USE_MSG = (
    "Cannot {verb} Fargate Profile {name} because cluster {cluster} currently has Fargate profile {other} "
    "in status {status}"
)
CLUSTER_UPDATING_MSG = (
    "Cannot {verb} Fargate Profile {name} because cluster {cluster} currently has an update in progress"
)
NEEDS_SELECTOR_MSG = "Fargate Profile requires at least one selector."
NEEDS_NAMESPACE_MSG = "Fargate Profile must have at least one selector with at least one namespace value."
TOO_MANY_SELECTORS_MSG = "Fargate Profile cannot have more than 5 selectors"
TOO_MANY_LABELS_MSG = "Request contains Selector with more than 5 Label pairs"
RESERVED_PREFIX_MSG = "Fargate Profile name cannot start with the reserved prefix 'eks-'"
BAD_NAME_MSG = (
    "Fargate Profile name must be 1-100 characters, start with a letter or digit and contain only letters, "
    "digits, hyphens and underscores"
)
NEEDS_ROLE_MSG = "podExecutionRoleArn is required"
LIMIT_MSG = "Cluster {cluster} already has the maximum number of Fargate profiles (10)"
CREATE_FAILED_ISSUE = (
    "AccessDenied",
    "The pod execution role {role} cannot be assumed by eks-fargate-pods.amazonaws.com",
)
DELETE_FAILED_ISSUE = (
    "InternalFailure",
    "Deleting Fargate profile {name} failed because of an internal failure",
)
TAG_NOT_FOUND_MSG = "Resource was not found: {arn}"

CREATING, ACTIVE, DELETING = "CREATING", "ACTIVE", "DELETING"
CREATE_FAILED, DELETE_FAILED, GONE = "CREATE_FAILED", "DELETE_FAILED", "GONE"


class NotFoundException(exceptions.EksError):
    """The tagging operations' own not-found error (EKS uses a different name there)."""

    code = "NotFoundException"
    status = 404


class BadRequestException(exceptions.EksError):
    code = "BadRequestException"


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
    token: str | None
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


def reset() -> None:
    with _lock:
        _clusters.clear()


def _now() -> float:
    return time.monotonic()


def _moto_cluster(call: Call, name: str) -> Any:
    cluster = call.eks.clusters.get(name)
    if cluster is None:
        raise exceptions.ResourceNotFoundException(CLUSTER_NOT_FOUND_MSG.format(cluster=name))
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
                IN_USE_MSG.format(verb=verb, name=name, cluster=cluster_name, other=other.name, status=status)
            )
    if getattr(_moto_cluster(call, cluster_name), "status", None) == "UPDATING":
        raise exceptions.ResourceInUseException(CLUSTER_UPDATING_MSG.format(verb=verb, name=name, cluster=cluster_name))


def _validated_selectors(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise exceptions.InvalidParameterException(NEEDS_SELECTOR_MSG)
    if len(raw) > MAX_SELECTORS:
        raise exceptions.InvalidParameterException(TOO_MANY_SELECTORS_MSG)
    selectors = []
    for selector in raw:
        if not isinstance(selector, dict) or not selector.get("namespace"):
            raise exceptions.InvalidParameterException(NEEDS_NAMESPACE_MSG)
        labels = selector.get("labels") or {}
        if len(labels) > MAX_LABELS:
            raise exceptions.InvalidParameterException(TOO_MANY_LABELS_MSG)
        selectors.append(
            {"namespace": str(selector["namespace"]), "labels": {str(k): str(v) for k, v in labels.items()}}
        )
    return selectors


def _validated_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise exceptions.InvalidParameterException("fargateProfileName is required")
    if name.startswith(RESERVED_PREFIX):
        raise exceptions.InvalidParameterException(RESERVED_PREFIX_MSG)
    if not NAME.match(name):
        raise exceptions.InvalidParameterException(BAD_NAME_MSG)
    return name


def create_fargate_profile(call: Call) -> dict[str, Any]:
    cluster_name = call.path_params["name"]
    body = call.body
    name = _validated_name(body.get("fargateProfileName"))
    role_arn = body.get("podExecutionRoleArn")
    if not isinstance(role_arn, str) or not role_arn:
        raise exceptions.InvalidParameterException(NEEDS_ROLE_MSG)
    selectors = _validated_selectors(body.get("selectors"))
    token = body.get("clientRequestToken")
    with _lock:
        profiles = _profiles_of(call, cluster_name)
        now = _now()
        existing = profiles.get(name)
        if existing is not None:
            if token and existing.token == token:
                return {"fargateProfile": existing.describe(now)}
            raise exceptions.ResourceInUseException(PROFILE_EXISTS_MSG)
        _check_not_busy(call, profiles, "create", name, cluster_name)
        if len(profiles) >= MAX_PROFILES_PER_CLUSTER:
            raise exceptions.ResourceLimitExceededException(LIMIT_MSG.format(cluster=cluster_name))
        fault = call.settings.take("fargate_create_failed", operation=call.operation, target=name)
        issue = (CREATE_FAILED_ISSUE[0], CREATE_FAILED_ISSUE[1].format(role=role_arn)) if fault else None
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
            selectors=selectors,
            subnets=[str(s) for s in body.get("subnets") or []],
            tags={str(k): str(v) for k, v in (body.get("tags") or {}).items()},
            token=token,
            created_at=time.time(),
            create_ends=now + call.settings.durations.fargate_create,
            create_issue=issue,
        )
        profiles[name] = profile
        return {"fargateProfile": profile.describe(now)}


def _profile(call: Call, profiles: dict[str, Profile]) -> Profile:
    name = call.path_params["fargateProfileName"]
    profile = profiles.get(name)
    if profile is None:
        raise exceptions.ResourceNotFoundException(PROFILE_NOT_FOUND_MSG.format(name=name))
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
            (DELETE_FAILED_ISSUE[0], DELETE_FAILED_ISSUE[1].format(name=profile.name)) if fault else None
        )
        profile.delete_ends = now + call.settings.durations.fargate_delete
        return {"fargateProfile": profile.describe(now)}


def list_fargate_profiles(call: Call) -> dict[str, Any]:
    raw_max = call.query_one("maxResults")
    max_results = int(raw_max) if raw_max else 100
    if not 1 <= max_results <= 100:
        raise exceptions.InvalidParameterException("maxResults must be between 1 and 100")
    with _lock:
        names = sorted(_profiles_of(call, call.path_params["name"]))
    token = call.query_one("nextToken")
    start = names.index(token) if token in names else 0
    page = names[start : start + max_results]
    result: dict[str, Any] = {"fargateProfileNames": page}
    if start + max_results < len(names):
        result["nextToken"] = names[start + max_results]
    return result


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
        raise NotFoundException(TAG_NOT_FOUND_MSG.format(arn=arn))
    return profile


def tag_resource(call: Call) -> dict[str, Any] | None:
    profile = _tagged_profile(call)
    if profile is None:
        return None
    tags = call.body.get("tags")
    if not isinstance(tags, dict) or not tags:
        raise BadRequestException("tags must be a non-empty map")
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


HANDLERS: dict[str, Callable[[Call], dict[str, Any] | None]] = {
    "CreateFargateProfile": create_fargate_profile,
    "DescribeFargateProfile": describe_fargate_profile,
    "DeleteFargateProfile": delete_fargate_profile,
    "ListFargateProfiles": list_fargate_profiles,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}

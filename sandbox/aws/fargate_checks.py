"""What CreateFargateProfile refuses before it makes anything: the name, selectors, role and subnets."""

from __future__ import annotations

import re
from typing import Any

from . import exceptions, messages, network, roles
from .call import Call

NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
RESERVED_PREFIX = "eks-"
MAX_SELECTORS, MAX_LABELS = 5, 5
FARGATE_PODS = "eks-fargate-pods.amazonaws.com"


def validated_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise exceptions.InvalidParameterException(messages.PROFILE_NAME_REQUIRED)
    if name.startswith(RESERVED_PREFIX):
        raise exceptions.InvalidParameterException(messages.RESERVED_PREFIX)
    if not NAME.match(name):
        raise exceptions.InvalidParameterException(messages.BAD_PROFILE_NAME)
    return name


def validated_selectors(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise exceptions.InvalidParameterException(messages.NEEDS_SELECTOR)
    if len(raw) > MAX_SELECTORS:
        raise exceptions.InvalidParameterException(messages.TOO_MANY_SELECTORS)
    selectors = []
    for selector in raw:
        if not isinstance(selector, dict) or not selector.get("namespace"):
            raise exceptions.InvalidParameterException(messages.NEEDS_NAMESPACE)
        labels = selector.get("labels") or {}
        if len(labels) > MAX_LABELS:
            raise exceptions.InvalidParameterException(messages.TOO_MANY_LABELS)
        selectors.append(
            {"namespace": str(selector["namespace"]), "labels": {str(k): str(v) for k, v in labels.items()}}
        )
    return selectors


def validated_role_arn(raw: Any) -> str:
    """The ARN's form only: whether the role exists and trusts Fargate is `check_role`'s."""
    if not isinstance(raw, str) or not raw:
        raise exceptions.InvalidParameterException(messages.NEEDS_ROLE)
    if not roles.is_role_arn(raw):
        raise exceptions.InvalidParameterException(messages.BAD_ROLE_ARN.format(arn=raw))
    return raw


def check_role(role_arn: str) -> None:
    role = roles.find(role_arn)
    if role is None or not roles.trusts(role, FARGATE_PODS):
        raise exceptions.InvalidParameterException(messages.ROLE_TRUST)


def subnets_for(call: Call, cluster: Any, raw: Any) -> list[str]:
    """The subnets a new profile gets: those given, each existing, in the cluster's VPC and private; else the
    cluster's own private subnets."""
    if not raw:
        private = network.private_subnets_of(call, cluster)
        if not private:
            raise exceptions.InvalidParameterException(messages.NO_PRIVATE_SUBNETS.format(cluster=cluster.name))
        return private
    subnets = [str(s) for s in raw]
    vpc = network.cluster_vpc(call, cluster)
    for subnet_id in subnets:
        found = network.subnet(call, subnet_id)
        if found is None:
            raise exceptions.InvalidParameterException(messages.NO_SUCH_SUBNET.format(subnet=subnet_id))
        if str(found.vpc_id) != vpc:
            raise exceptions.InvalidParameterException(
                messages.OTHER_VPC.format(subnet=subnet_id, cluster=cluster.name)
            )
        if not network.is_private(call, subnet_id):
            raise exceptions.InvalidParameterException(messages.NOT_PRIVATE.format(subnet=subnet_id))
    return subnets

"""What CreateFargateProfile refuses before it makes anything: the name, selectors, role and subnets."""

from __future__ import annotations

import re
from typing import Any

from . import exceptions, network, roles
from .call import Call

NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
RESERVED_PREFIX = "eks-"
MAX_SELECTORS, MAX_LABELS = 5, 5
FARGATE_PODS = "eks-fargate-pods.amazonaws.com"

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
# EKS's text for an ARN that is not a role's is not documented; this names the parameter and the rule.
BAD_ROLE_ARN_MSG = "podExecutionRoleArn {arn} is not an IAM role ARN"
# EKS's own answer for a role it cannot find or that does not trust Fargate (Terraform retries on it while a
# new role propagates, which is a role EKS cannot see yet).
ROLE_TRUST_MSG = (
    "Misconfigured PodExecutionRole Trust Policy; Please add the eks-fargate-pods.amazonaws.com Service Principal"
)
NOT_PRIVATE_MSG = "Subnet {subnet} provided in Fargate Profile is not a private subnet"  # EKS's own text
# For a subnet that does not exist EKS passes on EC2's InvalidSubnetID.NotFound text; for one outside the
# cluster's VPC its text is not documented, so this says it in the words of the private-subnet message.
NO_SUCH_SUBNET_MSG = "The subnet ID '{subnet}' does not exist"
OTHER_VPC_MSG = "Subnet {subnet} provided in Fargate Profile is not in the VPC of cluster {cluster}"
# A profile without subnets gets the cluster's private subnets; EKS's text when it has none is not documented.
NO_PRIVATE_SUBNETS_MSG = (
    "Fargate Profile needs private subnets: none were given and cluster {cluster} has no private subnet"
)


def validated_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise exceptions.InvalidParameterException("fargateProfileName is required")
    if name.startswith(RESERVED_PREFIX):
        raise exceptions.InvalidParameterException(RESERVED_PREFIX_MSG)
    if not NAME.match(name):
        raise exceptions.InvalidParameterException(BAD_NAME_MSG)
    return name


def validated_selectors(raw: Any) -> list[dict[str, Any]]:
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


def validated_role_arn(raw: Any) -> str:
    """The ARN's form only: whether the role exists and trusts Fargate is `check_role`'s."""
    if not isinstance(raw, str) or not raw:
        raise exceptions.InvalidParameterException(NEEDS_ROLE_MSG)
    if not roles.is_role_arn(raw):
        raise exceptions.InvalidParameterException(BAD_ROLE_ARN_MSG.format(arn=raw))
    return raw


def check_role(role_arn: str) -> None:
    role = roles.find(role_arn)
    if role is None or not roles.trusts(role, FARGATE_PODS):
        raise exceptions.InvalidParameterException(ROLE_TRUST_MSG)


def subnets_for(call: Call, cluster: Any, raw: Any) -> list[str]:
    """The subnets a new profile gets: those given, each existing, in the cluster's VPC and private; else the
    cluster's own private subnets."""
    if not raw:
        private = network.private_subnets_of(call, cluster)
        if not private:
            raise exceptions.InvalidParameterException(NO_PRIVATE_SUBNETS_MSG.format(cluster=cluster.name))
        return private
    subnets = [str(s) for s in raw]
    vpc = network.cluster_vpc(call, cluster)
    for subnet_id in subnets:
        found = network.subnet(call, subnet_id)
        if found is None:
            raise exceptions.InvalidParameterException(NO_SUCH_SUBNET_MSG.format(subnet=subnet_id))
        if str(found.vpc_id) != vpc:
            raise exceptions.InvalidParameterException(OTHER_VPC_MSG.format(subnet=subnet_id, cluster=cluster.name))
        if not network.is_private(call, subnet_id):
            raise exceptions.InvalidParameterException(NOT_PRIVATE_MSG.format(subnet=subnet_id))
    return subnets

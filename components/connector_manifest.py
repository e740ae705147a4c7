"""The EKS Connector's Kubernetes objects and console-access RBAC, rendered from our pinned templates."""

from __future__ import annotations

import base64
import re
import string
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

import yaml

CONNECTOR_IMAGE = "public.ecr.aws/eks-connector/eks-connector:0.0.11"
AGENT_IMAGE = "public.ecr.aws/amazon-ssm-agent/amazon-ssm-agent:3.1.1927.0"
NAMESPACE = "eks-connector"
CONNECTOR_TEMPLATE = "eks-connector.yaml"
CONSOLE_TEMPLATE = "console-access.yaml"
IMPERSONATION_ROLE = "eks-connector-service"
DASHBOARD_BINDING = "eks-connector-console-dashboard-full-access-clusterrole-binding"

_IAM_PRINCIPAL = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):(?P<kind>user|role)/(?:[\w+=,.@-]+/)*(?P<name>[\w+=,.@-]+)$"
)
_ASSUMED_ROLE = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):sts::(?P<account>\d{12}):assumed-role/(?P<name>[\w+=,.@-]+)/[\w+=,.@-]+$"
)


def canonical_principal(arn: str) -> str:
    """The IAM ARN the console presents for a principal: STS assumed-role sessions become their role,
    role paths are dropped (the console's identity has none); user ARNs stay as they are."""
    assumed = _ASSUMED_ROLE.match(arn)
    if assumed:
        return f"arn:{assumed['partition']}:iam::{assumed['account']}:role/{assumed['name']}"
    principal = _IAM_PRINCIPAL.match(arn)
    if principal is None:
        raise ValueError(f"{arn!r} is not an IAM user or role ARN (nor an STS assumed-role ARN)")
    if principal["kind"] == "role":
        return f"arn:{principal['partition']}:iam::{principal['account']}:role/{principal['name']}"
    return arn


def canonical_principals(arns: Iterable[str]) -> list[str]:
    return sorted({canonical_principal(arn) for arn in arns})


@cache
def _template(name: str) -> str:
    return resources.files(__package__).joinpath("templates", name).read_text()


def _fill(node: Any, values: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return string.Template(node).substitute(values) if "${" in node else node
    if isinstance(node, list):
        return [_fill(item, values) for item in node]
    if isinstance(node, dict):
        return {key: _fill(value, values) for key, value in node.items()}
    return node


def _objects(template: str, values: Mapping[str, str]) -> list[dict[str, Any]]:
    return [_fill(doc, values) for doc in yaml.safe_load_all(_template(template)) if doc]


def connector_objects(
    *,
    activation_id: str,
    activation_code: str,
    region: str,
    connector_image: str = CONNECTOR_IMAGE,
    agent_image: str = AGENT_IMAGE,
) -> list[dict[str, Any]]:
    """Namespace, activation Secret, Role/RoleBinding, ServiceAccount, token Secret, ConfigMap, meta-access
    ClusterRole/Binding and the StatefulSet, for one activation."""
    values = {
        "activation_id": activation_id,
        "activation_code_base64": base64.b64encode(activation_code.encode()).decode(),
        "region": region,
        "connector_image": connector_image,
        "agent_image": agent_image,
    }
    return _objects(CONNECTOR_TEMPLATE, values)


def console_access_objects(principal_arns: Iterable[str]) -> list[dict[str, Any]]:
    """Impersonation and read-only dashboard access for the given IAM principals; none for none."""
    principals = canonical_principals(principal_arns)
    if not principals:
        return []
    objects = _objects(CONSOLE_TEMPLATE, {})
    for obj in objects:
        name = obj["metadata"]["name"]
        if obj["kind"] == "ClusterRole" and name == IMPERSONATION_ROLE:
            obj["rules"][0]["resourceNames"] = principals
        elif obj["kind"] == "ClusterRoleBinding" and name == DASHBOARD_BINDING:
            obj["subjects"] = [
                {"kind": "User", "name": arn, "apiGroup": "rbac.authorization.k8s.io"} for arn in principals
            ]
    return objects


def render(
    *,
    activation_id: str,
    activation_code: str,
    region: str,
    console_access_arns: Iterable[str] = (),
    connector_image: str | None = None,
    agent_image: str | None = None,
) -> list[dict[str, Any]]:
    """Every object the component applies to the connected cluster."""
    return connector_objects(
        activation_id=activation_id,
        activation_code=activation_code,
        region=region,
        connector_image=connector_image or CONNECTOR_IMAGE,
        agent_image=agent_image or AGENT_IMAGE,
    ) + console_access_objects(console_access_arns)

"""IAM roles as EKS checks them: an IAM role ARN, a role that exists, a trust policy naming the service."""

from __future__ import annotations

import json
import re
from typing import Any, TypeGuard
from urllib.parse import unquote

ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/(?:[\w+=,.@-]+/)*(?P<name>[\w+=,.@-]+)$")


def is_role_arn(arn: object) -> TypeGuard[str]:
    return isinstance(arn, str) and ROLE_ARN.match(arn) is not None


def find(arn: str) -> Any | None:
    """moto's role for an IAM role ARN, looked up in the ARN's own account; None when there is none."""
    from moto.iam.models import iam_backends

    found = ROLE_ARN.match(arn)
    if found is None:
        return None
    try:
        return iam_backends[found["account"]]["global"].get_role(found["name"])
    except Exception:  # moto's IAMNotFoundException, or no such account
        return None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def trusts(role: Any, service: str) -> bool:
    """Whether the role's trust policy lets `service` assume it (an Allow of sts:AssumeRole to that principal)."""
    document = role.assume_role_policy_document
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            try:
                document = json.loads(unquote(document))
            except ValueError:
                return False
    if not isinstance(document, dict):
        return False
    for statement in _as_list(document.get("Statement")):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        actions = _as_list(statement.get("Action"))
        if not any(action in ("sts:AssumeRole", "sts:*", "*") for action in actions):
            continue
        principal = statement.get("Principal")
        if isinstance(principal, dict) and service in _as_list(principal.get("Service")):
            return True
    return False

"""STS as AWS enforces it, around moto's: trust policies, session limits, expired session credentials.

moto's AssumeRole accepts any role, existing or not, from anyone, and its session keys never expire. Here an
AssumeRole is refused with STS's own AccessDenied unless the role exists and its trust policy allows the caller
(`Principal.AWS`: `*`, the caller's account or its root, the caller's user or role ARN; an `sts:ExternalId`
condition must match); a chained session asks at most an hour; a session lasts `durations.assumed_role_session`
seconds when that is set (AWS's minimum is 15 minutes: tests shorten it); a request signed with an expired session
key is refused with ExpiredToken. moto keys a session's credentials to the role's account, so each account's
resources answer only there.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode

from . import messages, roles
from .settings import SETTINGS

CHAIN_LIMIT = 3600


def _session_of(access_key: str) -> Any | None:
    """moto's assumed-role session whose key this is, in whichever account it was made."""
    from moto.sts.models import sts_backends

    for _account, backend in list(sts_backends.items()):
        for partition in list(backend):
            found = backend[partition].get_assumed_role_from_access_key(access_key)
            if found is not None:
                return found
    return None


def expired(access_key: str | None) -> bool:
    """Whether the key is an assumed role's whose session has ended."""
    from moto.core.utils import utcnow

    session = _session_of(access_key) if access_key else None
    return session is not None and session.expiration <= utcnow()


def _caller(access_key: str | None, account: str) -> tuple[str, list[str]]:
    """The caller's ARN as STS names it, and the principals a trust policy may name to allow it."""
    session = _session_of(access_key) if access_key else None
    if session is not None:
        return str(session.arn), [str(session.role_arn), str(session.arn)]
    from moto.iam.models import iam_backends

    user = iam_backends[account]["global"].get_user_from_access_key_id(access_key) if access_key else None
    arn = str(user.arn) if user is not None else f"arn:aws:iam::{account}:user/moto"
    return arn, [arn]


def _statements(role: Any) -> list[dict[str, Any]]:
    document = role.assume_role_policy_document
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            document = json.loads(unquote(document))
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    return [s for s in (statements if isinstance(statements, list) else [statements]) if isinstance(s, dict)]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(statement: dict[str, Any], account: str, principals: list[str], external_id: str | None) -> bool:
    if not any(a in ("sts:AssumeRole", "sts:*", "*") for a in _as_list(statement.get("Action"))):
        return False
    principal = statement.get("Principal")
    named = _as_list(principal.get("AWS")) if isinstance(principal, dict) else _as_list(principal)
    allowed = {"*", account, f"arn:aws:iam::{account}:root", *principals}
    if not any(p in allowed for p in named):
        return False
    wanted = (statement.get("Condition") or {}).get("StringEquals", {}).get("sts:ExternalId")
    return wanted is None or external_id in _as_list(wanted)


def refusal(params: dict[str, str], access_key: str | None, account: str) -> tuple[int, str, str] | None:
    """(status, code, message) of STS's answer refusing this AssumeRole, or None to let moto make the session."""
    arn = params.get("RoleArn", "")
    caller, principals = _caller(access_key, account)
    denied = (403, "AccessDenied", messages.ASSUME_ROLE_DENIED.format(caller=caller, arn=arn))
    role = roles.find(arn)
    if role is None:
        return denied
    statements = _statements(role)
    external_id = params.get("ExternalId")
    if any(s.get("Effect") == "Deny" and _matches(s, account, principals, external_id) for s in statements):
        return denied
    if not any(s.get("Effect") == "Allow" and _matches(s, account, principals, external_id) for s in statements):
        return denied
    duration = int(params.get("DurationSeconds") or 3600)
    if _session_of(access_key or "") is not None and duration > CHAIN_LIMIT:
        return 400, "ValidationError", messages.CHAINED_SESSION_TOO_LONG
    if duration > int(role.max_session_duration or 3600):
        return 400, "ValidationError", messages.SESSION_OVER_ROLE_MAXIMUM
    return None


def shortened(body: bytes) -> bytes:
    """The AssumeRole request with its duration cut to `durations.assumed_role_session`, when that is set."""
    lifetime = SETTINGS.durations.assumed_role_session
    if lifetime <= 0:
        return body
    params = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    params["DurationSeconds"] = str(max(1, int(min(float(params.get("DurationSeconds") or 3600), lifetime))))
    return urlencode(params).encode()

"""Loft API errors as the real server returns them: Kubernetes Status objects with a reason and a code."""

from __future__ import annotations

from typing import Any, ClassVar

GROUP = "management.loft.sh"
ALREADY_EXISTS = "{resource}." + GROUP + ' "{name}" already exists'
NOT_FOUND = "{resource}." + GROUP + ' "{name}" not found'
UNAUTHORIZED = "Unauthorized"
NO_RESOURCE = "the server could not find the requested resource"
CONNECT_FAILED = "error connecting to cluster: {error}"
AGENT_UNAUTHORIZED_REASON = "AgentUnauthorized"
AGENT_UNAUTHORIZED = (
    "the agent at {where} connected with an access key that is no longer valid for cluster {name} "
    "(revoked or rotated): install it again with the key that clusters/{name}/accesskey answers"
)
INVALID = "{kind}." + GROUP + ' "{name}" is invalid: {causes}'


class LoftStatusError(Exception):
    """An error answered as a `Status`; subclasses declare the reason and the HTTP code."""

    reason: ClassVar[str] = "InternalError"
    code: ClassVar[int] = 500

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


class BadRequestError(LoftStatusError):
    reason = "BadRequest"
    code = 400


class UnauthorizedError(LoftStatusError):
    reason = "Unauthorized"
    code = 401


class NotFoundError(LoftStatusError):
    reason = "NotFound"
    code = 404


class AlreadyExistsError(LoftStatusError):
    reason = "AlreadyExists"
    code = 409


class InvalidError(LoftStatusError):
    reason = "Invalid"
    code = 422


class InternalServerError(LoftStatusError):
    reason = "InternalError"
    code = 500


def not_found(resource: str, name: str) -> NotFoundError:
    return NotFoundError(
        NOT_FOUND.format(resource=resource, name=name), {"name": name, "group": GROUP, "kind": resource}
    )


def already_exists(resource: str, name: str) -> AlreadyExistsError:
    return AlreadyExistsError(
        ALREADY_EXISTS.format(resource=resource, name=name), {"name": name, "group": GROUP, "kind": resource}
    )


def invalid(kind: str, name: str, causes: list[dict[str, str]]) -> InvalidError:
    summary = ", ".join(f"{c['field']}: {c['message']}" for c in causes)
    return InvalidError(
        INVALID.format(kind=kind, name=name, causes=f"[{summary}]"),
        {"name": name, "group": GROUP, "kind": kind, "causes": causes},
    )

"""EKS errors as the real service returns them: an HTTP status, an error type header and a JSON body.

The body carries every member of the exception's shape in botocore's model, as EKS (and moto) send it:
the operation's context (`clusterName`, `fargateProfileName`, ...) where it has one, null elsewhere, and
the `message`.
"""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar

import botocore.model
import botocore.session


@cache
def _members(code: str) -> tuple[str, ...]:
    model = botocore.session.get_session().get_service_model("eks")
    if code not in model.shape_names:
        return ("message",)
    shape = model.shape_for(code)
    assert isinstance(shape, botocore.model.StructureShape)
    return tuple(shape.members)


class EksError(Exception):
    code: ClassVar[str] = "ClientException"
    status: ClassVar[int] = 400

    def __init__(self, message: str, **context: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.context = dict(context)

    def body(self) -> dict[str, Any]:
        """The JSON body EKS sends: each member of the shape, null where this error has no value for it."""
        body: dict[str, Any] = {name: self.context.get(name) for name in _members(self.code) if name != "message"}
        body["message"] = self.message
        return body


class ClientException(EksError):
    code = "ClientException"


class InvalidParameterException(EksError):
    code = "InvalidParameterException"


class InvalidRequestException(EksError):
    code = "InvalidRequestException"


class ResourceInUseException(EksError):
    code = "ResourceInUseException"
    status = 409


class ResourceNotFoundException(EksError):
    code = "ResourceNotFoundException"
    status = 404


class NotFoundException(EksError):
    """The tagging operations' own not-found error (EKS uses a different name there)."""

    code = "NotFoundException"
    status = 404


class BadRequestException(EksError):
    code = "BadRequestException"


class ResourceLimitExceededException(EksError):
    code = "ResourceLimitExceededException"


class ResourcePropagationDelayException(EksError):
    code = "ResourcePropagationDelayException"
    status = 428


class InvalidStateException(EksError):
    code = "InvalidStateException"


class ThrottlingException(EksError):
    code = "ThrottlingException"
    status = 429


class ServerException(EksError):
    code = "ServerException"
    status = 500


class ServiceUnavailableException(EksError):
    code = "ServiceUnavailableException"
    status = 503


class AccessDeniedException(EksError):
    """The caller's IAM policy does not allow the operation (answered before the operation runs)."""

    code = "AccessDeniedException"
    status = 403


class ExpiredTokenException(EksError):
    """The request was signed with the keys of a session that has ended."""

    code = "ExpiredTokenException"
    status = 403

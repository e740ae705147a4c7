"""EKS errors as the real service returns them: an HTTP status, an error type header and a message."""

from __future__ import annotations

from typing import ClassVar


class EksError(Exception):
    code: ClassVar[str] = "ClientException"
    status: ClassVar[int] = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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

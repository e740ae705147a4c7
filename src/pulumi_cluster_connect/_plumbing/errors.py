"""The exceptions every provider raises, with AWS and Kubernetes errors translated in one place.

ClusterConnectError
├── AwsApiError          an AWS call failed; carries the service's code and message
├── StatusError          a Kubernetes-style API answered a Status; carries its reason and message
│   ├── KubernetesApiError   from a Kubernetes API server
│   └── LoftApiError         from the Loft management API
├── HelmError            the Helm CLI failed; carries what it was doing and Helm's own error
├── LifecycleFailed      a resource reached a failure state (CREATE_FAILED, Failed, ...)
├── WaitTimeout          a wait ran out of time before the resource reached its goal
└── Cancelled            the engine asked to stop (Ctrl-C): a wait ended at its next look
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import botocore.exceptions


class ClusterConnectError(Exception):
    """Base of every error this library raises on purpose."""


class AwsApiError(ClusterConnectError):
    """`where` says whose AWS answered (region and account), or which endpoint could not be reached."""

    def __init__(self, operation: str, code: str, message: str, status: int | None = None, where: str = "") -> None:
        self.operation = operation
        self.code = code
        self.message = message
        self.status = status
        self.where = where
        super().__init__(f"{operation} failed{' ' + where if where else ''}: {code}: {message}")


class StatusError(ClusterConnectError):
    def __init__(
        self, action: str, reason: str, message: str, status: int | None = None, server: str | None = None
    ) -> None:
        self.action = action
        self.reason = reason
        self.message = message
        self.status = status
        self.server = server
        where = f" on {server}" if server else ""
        super().__init__(f"{action} failed{where}: {reason}: {message}")


class KubernetesApiError(StatusError):
    """`server` is the API server URL tried (never credentials: kube.server_for_messages strips them)."""


class LoftApiError(StatusError):
    pass


class HelmError(ClusterConnectError):
    def __init__(self, action: str, message: str) -> None:
        self.action = action
        self.message = message
        super().__init__(f"{action} failed: {message}")


class LifecycleFailed(ClusterConnectError):
    def __init__(self, what: str, state: str, reason: str) -> None:
        self.what = what
        self.state = state
        self.reason = reason
        super().__init__(f"{what} reached {state}: {reason}")


class Cancelled(ClusterConnectError):
    def __init__(self, what: str, last_state: str) -> None:
        self.what = what
        self.last_state = last_state
        super().__init__(f"cancelled while waiting for {what} (last seen: {last_state})")


class WaitTimeout(ClusterConnectError):
    def __init__(self, what: str, seconds: float, last_state: str) -> None:
        self.what = what
        self.seconds = seconds
        self.last_state = last_state
        super().__init__(f"timed out after {seconds:.0f}s waiting for {what} (last seen: {last_state})")


def status_reason_and_message(status: Mapping[str, Any], fallback_reason: str) -> tuple[str, str]:
    """Reason and message of a Kubernetes-style Status object (Kubernetes and Loft answer with one);
    an empty message is made of `details.causes`."""
    reason = str(status.get("reason") or fallback_reason)
    message = str(status.get("message") or "")
    details = status.get("details")
    causes = details.get("causes") if isinstance(details, Mapping) else None
    if causes and not message:
        message = "; ".join(f"{c.get('field')}: {c.get('message')}" for c in causes if isinstance(c, Mapping))
    return reason, message


def aws_error_code(err: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError (or of an AwsApiError), else None."""
    if isinstance(err, AwsApiError):
        return err.code
    if isinstance(err, botocore.exceptions.ClientError):
        return str(err.response.get("Error", {}).get("Code", "")) or None
    return None


CONNECTION_NOT_OPENED = frozenset(
    {"EndpointConnectionError", "ConnectTimeoutError", "SSLError", "ProxyConnectionError", "InvalidProxiesConfigError"}
)
"""botocore's errors for a request that never reached the service: nothing it asked for can have been done."""

CREDENTIAL_CODES = frozenset({"NoCredentialsError", "PartialCredentialsError", "NoAuthTokenError"})
CREDENTIAL_HINT = (
    "boto3 looked, in order, in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), "
    "the profile named by `aws:profile` or AWS_PROFILE in the shared files (~/.aws/credentials, ~/.aws/config, or "
    "AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE), web identity (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN), "
    "the container credentials endpoint and the instance metadata service: set one of them, for instance "
    "`pulumi config set aws:profile NAME`"
)


@contextlib.contextmanager
def translated_aws_errors(operation: str, where: Callable[[], str] | None = None) -> Iterator[None]:
    """Turn botocore's exceptions into AwsApiError with the service's own code and message.

    `where()` names whose AWS answered (called only on a service's error, so it may ask AWS who we are); a request
    that never reached the service names its endpoint instead (botocore's message does), and missing credentials
    say where boto3 looked.
    """
    try:
        yield
    except botocore.exceptions.ClientError as err:
        error = err.response.get("Error", {})
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code, message = str(error.get("Code", "Unknown")), str(error.get("Message", ""))
        raise AwsApiError(operation, code, message, status, where() if where else "") from err
    except botocore.exceptions.BotoCoreError as err:
        code, message = type(err).__name__, str(err)
        if code in CREDENTIAL_CODES:
            message = f"{message}; {CREDENTIAL_HINT}"
        raise AwsApiError(operation, code, message) from err

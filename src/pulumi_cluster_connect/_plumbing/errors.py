"""The exceptions every provider raises, with AWS and Kubernetes errors translated in one place.

ClusterConnectError
├── AwsApiError          an AWS call failed; carries the service's code and message
├── StatusError          a Kubernetes-style API answered a Status; carries its reason and message
│   ├── KubernetesApiError   from a Kubernetes API server
│   └── LoftApiError         from the Loft management API
├── HelmError            the Helm CLI failed; carries what it was doing and Helm's own error
├── LifecycleFailed      a resource reached a failure state (CREATE_FAILED, Failed, ...)
└── WaitTimeout          a wait ran out of time before the resource reached its goal
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import botocore.exceptions


class ClusterConnectError(Exception):
    """Base of every error this library raises on purpose."""


class AwsApiError(ClusterConnectError):
    def __init__(self, operation: str, code: str, message: str, status: int | None = None) -> None:
        self.operation = operation
        self.code = code
        self.message = message
        self.status = status
        super().__init__(f"{operation} failed: {code}: {message}")


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


@contextlib.contextmanager
def translated_aws_errors(operation: str) -> Iterator[None]:
    """Turn botocore's exceptions into AwsApiError with the service's own code and message."""
    try:
        yield
    except botocore.exceptions.ClientError as err:
        error = err.response.get("Error", {})
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        raise AwsApiError(operation, str(error.get("Code", "Unknown")), str(error.get("Message", "")), status) from err
    except botocore.exceptions.BotoCoreError as err:
        raise AwsApiError(operation, type(err).__name__, str(err)) from err

"""How a lifecycle method's error reaches the user: one sentence through the gRPC status, secrets scrubbed.

The Python SDK's dynamic provider server (`pulumi/dynamic/__main__.py`) lets exceptions escape to grpc, whose
server (`grpc/_server.py`, `_call_behavior`) logs them with a traceback and answers
"Exception calling application: <str(err)>". Instead, a provider method wrapped here finds the servicer's
`context` on the call stack and aborts the RPC with the sentence it chose: grpc then neither logs nor rewraps
it, and the engine shows that sentence as the resource's error.

Risk: this leans on SDK and grpc internals that are not an API: that the servicer method (Check, Diff, Create,
Read, Update, Delete of a `ResourceProviderServicer`) calls the provider with its `context` as a local, that
`context.abort` ends the call with our code and details, and that what the SDK does with the exception
afterwards goes through that same context (SDK 3.260 and later abort again with a traceback: `answer` keeps
ours). When the context cannot be found (another SDK, or a provider called directly, as unit tests do) the
exception is raised unchanged: the user then reads the SDK's own rendering of it, a traceback at worst.
tests/integration/test_bad_input.py pins the user-visible result through the real engine on the pinned SDK,
and the compatibility suite (tests/compat) on the oldest and the newest SDK.
"""

from __future__ import annotations

import base64
import functools
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping
from types import FrameType
from typing import Any, ClassVar, NoReturn, TypeVar

import grpc
from pulumi.dynamic import CheckFailure, CheckResult, ResourceProvider

from . import cancellation, errors, kube

F = TypeVar("F", bound=Callable[..., Any])
LIFECYCLE = ("check", "diff", "create", "read", "update", "delete")
SERVICER_METHODS = frozenset({"Check", "Diff", "Create", "Read", "Update", "Delete"})
DYNAMIC_PROVIDER_MAIN = "pulumi.dynamic.__main__"
REDACTED = "[secret]"
ABORTED = "_cluster_connect_aborted"
MAX_MESSAGE = 4000
MIN_SECRET = 4


def servicer_context() -> grpc.ServicerContext | None:
    """The gRPC context of the provider RPC this thread is serving, or None outside one."""
    from pulumi.runtime.proto import provider_pb2_grpc

    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name in SERVICER_METHODS:
            servicer, context = frame.f_locals.get("self"), frame.f_locals.get("context")
            if isinstance(servicer, provider_pb2_grpc.ResourceProviderServicer) and isinstance(
                context, grpc.ServicerContext
            ):
                return context
        frame = frame.f_back
    return None


def secrets_in(values: Iterable[object]) -> list[str]:
    """The strings no message may show: each secret value, the credentials of kubeconfigs, and their base64."""
    found: list[str] = []
    for value in values:
        if isinstance(value, str):
            found.append(value)
        found += kube.credentials_in(value)
    encoded = [base64.b64encode(s.encode()).decode() for s in found]
    # Longest first, so a secret is replaced whole before any part of it.
    return sorted({s for s in found + encoded if len(s) >= MIN_SECRET}, key=len, reverse=True)


def scrubbed(message: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        message = message.replace(secret, REDACTED)
    return message


def sentence(err: BaseException, where: str) -> str:
    """What the user reads: our errors as they are; anything else as an unexpected error with its place."""
    if isinstance(err, errors.ClusterConnectError):
        text = str(err)
    else:
        frames = traceback.extract_tb(err.__traceback__)
        place = f" at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""
        text = f"unexpected {type(err).__name__} in {where}{place} (please report it): {err}"
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def unquoted(result: CheckResult, secret_keys: Iterable[str]) -> CheckResult:
    """Failures of secret properties named in the reason instead: the engine prints a failing property's value
    beside its failure (`property X value V has a problem`), secret or not."""
    secret = set(secret_keys)
    failures = [
        CheckFailure("", f"{f.property}: {f.reason}") if f.property.split("[")[0].split(".")[0] in secret else f
        for f in result.failures
    ]
    return CheckResult(result.inputs, failures)


def answer(context: grpc.ServicerContext, code: grpc.StatusCode, details: str) -> NoReturn:
    """End the call with our code and sentence, and keep them whatever aborts the call again.

    SDK 3.260 and later (pulumi/pulumi#24465) wrap every servicer method in `_abort_with_traceback`, which catches
    the exception our abort raises and aborts once more with `traceback.format_exc()`: grpc keeps the last
    details given, so the user would read a bare traceback. The first answer is the one that counts, so this
    call's context answers any later `abort`, `abort_with_status` or `set_details` with ours (grpc's `_Context`
    is a plain object: an attribute on the instance shadows the method for this call alone).
    """

    def abort_again(_code: grpc.StatusCode, _details: str) -> NoReturn:
        first_abort(code, details)
        raise AssertionError("grpc's abort returned")  # pragma: no cover - abort always raises

    first_abort = context.abort
    context.abort = abort_again
    context.abort_with_status = lambda _status: abort_again(code, details)
    context.set_details = lambda _details: None
    first_abort(code, details)
    raise AssertionError("grpc's abort returned")  # pragma: no cover - abort always raises


def reported(method: F) -> F:
    """`method`, with any exception it raises under the provider server answered as one clean sentence; the
    engine's Cancel heard from the first call on (cancellation.listen)."""

    @functools.wraps(method)
    def wrapper(self: ResourceProvider, *args: Any) -> Any:
        cancellation.listen()
        try:
            result = method(self, *args)
            if isinstance(result, CheckResult) and result.failures and servicer_context() is not None:
                return unquoted(result, getattr(self, "secret_keys", ()))
            return result
        except Exception as err:
            context = None if getattr(err, ABORTED, False) else servicer_context()
            if context is None:
                raise  # outside the provider server, or already answered by a method this one called
            props = [arg for arg in args if isinstance(arg, Mapping)]
            keys = getattr(self, "secret_keys", ())
            secrets = secrets_in(p[key] for p in props for key in keys if key in p)
            try:
                answer(context, grpc.StatusCode.UNKNOWN, scrubbed(sentence(err, method.__qualname__), secrets))
            except Exception as aborted:
                setattr(aborted, ABORTED, True)
                raise aborted from None
            raise  # unreachable: answer always raises

    wrapper.__reported__ = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


class ReportingProvider(ResourceProvider):
    """A provider whose check, diff, create, read, update and delete report errors through `reported`.

    `secret_keys` names the properties whose values (and kubeconfig credentials) are scrubbed from messages.
    """

    secret_keys: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in LIFECYCLE:
            method = cls.__dict__.get(name)
            if callable(method) and not getattr(method, "__reported__", False):
                setattr(cls, name, reported(method))


class _WithoutTraceback(logging.Filter):
    """grpc logs an escaped exception with its traceback; in the provider process keep only the sentence."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


def _in_provider_process() -> bool:
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", None) == DYNAMIC_PROVIDER_MAIN


if _in_provider_process():
    logging.getLogger("grpc._server").addFilter(_WithoutTraceback())

"""Ctrl-C reaches our waits: the engine's Cancel call sets a flag that every wait looks at before it looks again.

On the first Ctrl-C the engine asks each provider to cancel (the `Cancel` RPC) and then waits for the operations in
flight. The SDK's dynamic provider server answers `Cancel` and does nothing, so a 30-minute wait would go on to its
end. `listen` makes that method set our flag first; `polling.wait_for` and `aws.patiently` then end at their next
look with `errors.Cancelled`, which the resources word as what was left where.

Risk: SDK internals, not an API. The server (`python -m pulumi.dynamic`, so the module `__main__`) registered the
bound method `DynamicResourceProviderServicer.Cancel` with grpc when it started, so replacing the class attribute
would change nothing: the method's code is replaced instead, by `_cancel`, which calls the same `empty_pb2.Empty()`
that every SDK from 3.231 to 3.272 answers with. When the class or that method's shape is not found, nothing is
changed and `listen` says so (tests/unit/test_reporting_through_provider_server.py fails, naming the SDK).
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from . import errors

SERVER_MODULE = "pulumi.dynamic.__main__"
_requested = threading.Event()
_guard = threading.Lock()


def request() -> None:
    """What the engine's Cancel does in this process: every wait ends at its next look."""
    _requested.set()


def requested() -> bool:
    return _requested.is_set()


def raise_if_requested(what: str, last_state: str) -> None:
    if _requested.is_set():
        raise errors.Cancelled(what, last_state)


def _cancel(self: Any, request: Any, context: Any) -> Any:
    """The servicer's Cancel, as it becomes: set our flag, then answer as the SDK does."""
    # Runs with the server module's globals: reach this module by its name.
    __import__("pulumi_cluster_connect._plumbing.cancellation", fromlist=["request"]).request()
    return empty_pb2.Empty()  # type: ignore[name-defined]  # noqa: F821 - a name of the server's module


_listening = threading.Event()


def listen() -> bool:
    """In the dynamic provider process, make the engine's Cancel reach our waits; False where it cannot. Called at
    the start of every lifecycle call (reporting.reported): after the first, one look at a flag."""
    if _listening.is_set():
        return True
    main = sys.modules.get("__main__")
    if getattr(getattr(main, "__spec__", None), "name", None) != SERVER_MODULE:
        return False
    servicer = getattr(main, "DynamicResourceProviderServicer", None)
    method = getattr(servicer, "Cancel", None)
    if method is None or not hasattr(method, "__code__") or "empty_pb2" not in vars(main):
        return False
    with _guard:
        if method.__code__ is not _cancel.__code__:
            if method.__code__.co_freevars or method.__code__.co_argcount != _cancel.__code__.co_argcount:
                return False
            method.__code__ = _cancel.__code__
        _listening.set()
    return True

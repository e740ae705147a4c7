"""More than four calls at once in the dynamic provider process: widen the gRPC thread pool that runs us.

`python -m pulumi.dynamic` serves every call of a deployment from one `ThreadPoolExecutor(max_workers=4)`
(pulumi/dynamic/__main__.py). A Fargate profile or version update holds its thread for minutes, so a fleet would
run four clusters at a time. The pool is reached through the worker thread that runs the current call (its
`_args[0]` is a weak reference to its executor, CPython 3.8-3.14) and its `_max_workers` raised: the executor
starts another thread on the next submit when none is idle. If the SDK ever serves differently (grpc.aio, another
executor, a process pool), nothing is changed and `widen` says so; tests/integration/test_fleet.py fails then.
"""

from __future__ import annotations

import threading
import weakref
from concurrent import futures

WORKERS = 64
"""Calls in flight at once: more than the engine's default parallelism (4 x CPUs) on any common runner."""

NUDGES = 8
"""No-op submits after widening: each starts a thread if none is idle (see `widen`)."""

_widened: set[int] = set()
_guard = threading.Lock()


def serving_pool() -> futures.ThreadPoolExecutor | None:
    """The thread pool running the current call, if it is a ThreadPoolExecutor worker thread."""
    arguments = getattr(threading.current_thread(), "_args", None)
    if not arguments or not isinstance(arguments[0], weakref.ReferenceType):
        return None
    pool = arguments[0]()
    return pool if isinstance(pool, futures.ThreadPoolExecutor) else None


def widen(workers: int = WORKERS) -> bool:
    """Let the pool serving this call run up to `workers` calls at once; False when there is no such pool."""
    pool = serving_pool()
    if pool is None or not isinstance(getattr(pool, "_max_workers", None), int):
        return False
    with _guard:
        if id(pool) in _widened:
            return True
        pool._max_workers = max(pool._max_workers, workers)
        _widened.add(id(pool))
    # Calls submitted before this one may be queued behind the four busy threads (a destroy sends every Delete at
    # once). A new thread starts only on a submit: submitting no-ops starts threads, which take the queue in order.
    for _ in range(NUDGES):
        pool.submit(_nothing)
    return True


def _nothing() -> None:
    pass

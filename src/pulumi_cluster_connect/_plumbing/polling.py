"""Waiting for a lifecycle: paced looks (see pacing), an overall timeout, failure states, progress lines."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from . import cancellation, errors, pacing, progress
from .pacing import Lifecycle

__all__ = ["Backoff", "ElapsedBackoff", "Lifecycle", "wait_for"]

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """Poll intervals: `first`, growing by `factor` up to `cap` seconds."""

    first: float = 0.5
    factor: float = 1.5
    cap: float = 5.0

    def intervals(self) -> Callable[[], float]:
        current = self.first

        def next_interval() -> float:
            nonlocal current
            value = current
            current = min(current * self.factor, self.cap)
            return value

        return next_interval


@dataclass(frozen=True)
class ElapsedBackoff(Backoff):
    """Intervals that grow with the time already waited, so a wait ends at most `fraction` of it late.

    Short sandbox updates are polled every `first` seconds; a real ten-minute update every `cap` seconds.
    """

    first: float = 0.25
    cap: float = 2.0
    fraction: float = 0.05

    def intervals(self) -> Callable[[], float]:
        started = time.monotonic()

        def next_interval() -> float:
            return min(self.cap, max(self.first, (time.monotonic() - started) * self.fraction))

        return next_interval


class _BackoffPace:
    """A fixed sequence of pauses (retries, short waits), with the same interface as pacing.Pace."""

    def __init__(self, backoff: Backoff) -> None:
        self._next_interval = backoff.intervals()
        self._pending_at = 0.0

    def first_delay(self) -> float:
        return 0.0

    def pending(self, sent_elapsed: float) -> None:
        self._pending_at = sent_elapsed

    def completed(self, received_elapsed: float) -> None:
        pass

    def close(self) -> None:
        pass

    def ended_within(self, received_elapsed: float) -> tuple[float, float]:
        return self._pending_at, received_elapsed

    def rest(self, elapsed: Callable[[], float], limit: float, sleep: Callable[[float], None] | None) -> None:
        (sleep or time.sleep)(min(self._next_interval(), limit))


def wait_for(
    what: str,
    describe: Callable[[], T],
    *,
    state_of: Callable[[T], str],
    done: Callable[[T], bool],
    failure: Callable[[T], str | None] = lambda _: None,
    timeout: float,
    backoff: Backoff | Lifecycle = Backoff(),
    expected: tuple[float, float] | None = None,
    took: Callable[[float, float], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] | None = None,
) -> T:
    """Call `describe` until `done`; raise LifecycleFailed when `failure` gives a reason, WaitTimeout at the end,
    Cancelled before the next look once the engine asked to cancel (Ctrl-C).

    A `Lifecycle` paces the looks by what the process has learned of its kind (pacing), and by `expected`, the
    (after, by] seconds the caller expects this wait to end in (a pacing prior); a `Backoff` is a plain sequence
    of pauses. `took(after, by)` hears when the lifecycle ended (pacing.Pace.ended_within). Progress lines (what,
    elapsed, state) are printed when the state changes and every half minute. `sleep` replaces the real pause in
    tests.
    """
    started = clock()
    pace: _BackoffPace | pacing.Pace
    if isinstance(backoff, Lifecycle):
        pace = pacing.Pace(backoff, prior=pacing.Known(*expected) if expected else None)
    else:
        pace = _BackoffPace(backoff)

    def elapsed() -> float:
        return clock() - started

    last_state: str | None = None
    last_report = started
    try:
        first = min(pace.first_delay(), timeout)
        if first > 0:
            pace.rest(elapsed, first, sleep)
        while True:
            cancellation.raise_if_requested(what, last_state or "pending")
            sent = elapsed()
            observed = describe()
            state = state_of(observed)
            now = clock()
            if state != last_state or now - last_report >= 30:
                progress.report(f"{what}: {state or 'pending'} ({now - started:.0f}s)")
                last_state, last_report = state, now
            if done(observed):
                if took is not None:
                    took(*pace.ended_within(now - started))
                pace.completed(now - started)
                return observed
            reason = failure(observed)
            if reason is not None:
                raise errors.LifecycleFailed(what, state, reason)
            remaining = timeout - (now - started)
            if remaining <= 0:
                raise errors.WaitTimeout(what, timeout, state)
            pace.pending(sent)
            pace.rest(elapsed, remaining, sleep)
    finally:
        pace.close()

"""Waiting for a lifecycle: fast first polls, capped backoff, an overall timeout, failure states."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from . import errors, progress

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


def wait_for(
    what: str,
    describe: Callable[[], T],
    *,
    state_of: Callable[[T], str],
    done: Callable[[T], bool],
    failure: Callable[[T], str | None] = lambda _: None,
    timeout: float,
    backoff: Backoff = Backoff(),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `describe` until `done`; raise LifecycleFailed when `failure` gives a reason, WaitTimeout at the end.

    Progress lines (what, elapsed, state) are printed when the state changes and every half minute.
    """
    started = clock()
    next_interval = backoff.intervals()
    last_state: str | None = None
    last_report = started
    while True:
        observed = describe()
        state = state_of(observed)
        now = clock()
        if state != last_state or now - last_report >= 30:
            progress.report(f"{what}: {state or 'pending'} ({now - started:.0f}s)")
            last_state, last_report = state, now
        if done(observed):
            return observed
        reason = failure(observed)
        if reason is not None:
            raise errors.LifecycleFailed(what, state, reason)
        remaining = timeout - (now - started)
        if remaining <= 0:
            raise errors.WaitTimeout(what, timeout, state)
        sleep(min(next_interval(), remaining))

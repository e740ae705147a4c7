"""When to look at a service lifecycle again: bounded by the time waited, sharpened by earlier waits of the same kind.

A cold wait (nothing learned yet) looks every `floor` seconds, then every `fraction` of the time it has waited, so
it sees the end at most max(floor, fraction x elapsed) late. Every wait of a named `kind` that completes tells the
process when the fastest one so far finished, as an interval (lo, hi]; later waits of that kind look first in the
middle of it and then just after it, which halves the interval each time, instead of polling all the way there.
While the first wait of a kind (the pathfinder) is still running, the others of that kind wait for its answer
instead of polling. After `insurance_after` seconds every wait looks at least every `insurance_fraction` of the
time it has waited, whatever was learned. The knowledge lives in this process only (one deployment).

A wait may also bring a `prior` of its own: an interval its caller expects it to end in, from an earlier deployment
(a Fargate profile's deletion is expected to take about as long as its creation did, which its state records). It
is used like learned knowledge, narrowed by what this process has learned where the two overlap; where they do not,
what this process has seen wins.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Lifecycle:
    """How waits on one kind of lifecycle are paced (see the module docstring); `kind=None` learns nothing."""

    kind: str | None = None
    floor: float = 0.5
    fraction: float = 0.05
    cap: float = 60.0
    look_at_start: bool = False
    """Look once before the first pause (the lifecycle may be over already, e.g. an agent that connected earlier)."""
    insurance_after: float = 20.0
    insurance_fraction: float = 0.25
    margin: float = 0.05
    """How far after the expected end the confirming look goes (covers the jitter of request latencies)."""
    resolution: float = 0.2
    """Below this width the expected interval is no longer halved: later waits look just after its end."""

    def cold_delay(self, elapsed: float) -> float:
        return min(self.cap, max(self.floor, self.fraction * elapsed))

    def insured(self, elapsed: float, delay: float) -> float:
        """`delay`, shortened so that no wait past `insurance_after` rests longer than its share of the time waited."""
        longest = max(self.insurance_after - elapsed, self.insurance_fraction * elapsed, self.floor)
        return min(delay, longest)


@dataclass
class Known:
    """The fastest completion of a kind seen so far lies in (lo, hi] seconds after its wait began."""

    lo: float
    hi: float


def narrowed(known: Known | None, prior: Known | None) -> Known | None:
    """What a wait goes by: the overlap of the process's knowledge and its own prior, or the knowledge alone when
    they disagree (seen in this deployment beats expected from an earlier one)."""
    if known is None or prior is None:
        return known or prior
    lo, hi = max(known.lo, prior.lo), min(known.hi, prior.hi)
    return Known(lo, hi) if lo < hi else known


@dataclass
class Expectations:
    """What this process has learned of each kind of lifecycle, and which kinds have a pathfinder out."""

    _news: threading.Condition = field(default_factory=threading.Condition)
    _known: dict[str, Known] = field(default_factory=dict)
    _pathfinding: set[str] = field(default_factory=set)
    _generation: int = 0

    def known(self, kind: str) -> Known | None:
        with self._news:
            found = self._known.get(kind)
            return Known(found.lo, found.hi) if found else None

    def forget(self) -> None:
        with self._news:
            self._known.clear()
            self._pathfinding.clear()
            self._generation += 1
            self._news.notify_all()

    def _learn(self, kind: str, lo: float, hi: float) -> None:
        """Keep the interval of the fastest completion: a faster one replaces it, an overlapping one narrows it."""
        current = self._known.get(kind)
        if current is None or hi <= current.lo:
            self._known[kind] = Known(lo, hi)
        elif lo < current.hi:
            self._known[kind] = Known(max(current.lo, lo), min(current.hi, hi))

    def _announce(self) -> None:
        self._generation += 1
        self._news.notify_all()

    def _wait_for_news(self, seen: int, seconds: float) -> bool:
        """Sleep up to `seconds`; True when something was learned (or a pathfinder gave up) meanwhile."""
        with self._news:
            return self._news.wait_for(lambda: self._generation != seen, timeout=seconds)


EXPECTATIONS = Expectations()
"""The process-wide knowledge: one provider process serves one deployment, so it is that deployment's."""


class Pace:
    """The pauses of one wait: cold, following a pathfinder, or probing where the fastest of its kind ended."""

    def __init__(
        self, lifecycle: Lifecycle, expectations: Expectations = EXPECTATIONS, prior: Known | None = None
    ) -> None:
        self._lifecycle = lifecycle
        self._expectations = expectations
        self._prior = prior
        self._pathfinder = False
        self._following = False
        self._pending_at = 0.0
        self._overdue = 0
        self._generation = 0

    def pending(self, sent_elapsed: float) -> None:
        """A look sent `sent_elapsed` seconds into the wait found the lifecycle still running."""
        self._pending_at = max(self._pending_at, sent_elapsed)

    def first_delay(self) -> float:
        return 0.0 if self._lifecycle.look_at_start else self.next_delay(0.0)

    def next_delay(self, elapsed: float) -> float:
        lifecycle, kind = self._lifecycle, self._lifecycle.kind
        if kind is None:
            if self._prior is None:
                return lifecycle.cold_delay(elapsed)
            return lifecycle.insured(elapsed, self._expected_delay(elapsed, self._prior))
        with self._expectations._news:
            self._generation = self._expectations._generation
            known = self._expectations._known.get(kind)
            if known is None and not self._pathfinder and kind not in self._expectations._pathfinding:
                self._pathfinder = True
                self._expectations._pathfinding.add(kind)
            known = narrowed(Known(known.lo, known.hi) if known else None, self._prior)
        self._following = known is None and not self._pathfinder
        if known is None:
            if self._pathfinder:
                return lifecycle.cold_delay(elapsed)
            return lifecycle.insured(elapsed, float("inf"))
        return lifecycle.insured(elapsed, self._expected_delay(elapsed, known))

    def _expected_delay(self, elapsed: float, known: Known) -> float:
        lifecycle = self._lifecycle
        confirm = known.hi + lifecycle.margin
        if elapsed < confirm:
            middle = (known.lo + known.hi) / 2
            halve = known.hi - known.lo > lifecycle.resolution and self._pending_at < middle
            return max(0.0, (middle if halve else confirm) - elapsed)
        # Slower than the fastest seen: look again soon (it may be just late), then back off to the cold schedule.
        step = 2 * lifecycle.margin * float(2**self._overdue)
        self._overdue += 1
        return min(step, lifecycle.cold_delay(elapsed))

    def ended_within(self, received_elapsed: float) -> tuple[float, float]:
        """Where this wait's lifecycle ended, as (after, by] seconds: after the last look that found it running, or
        after the start of the interval the fastest of its kind ended in (a wait that looked once, where it was
        expected, cannot tell more; one faster than every earlier one is rare, and this is an estimate)."""
        after = self._pending_at
        kind = self._lifecycle.kind
        known = self._expectations.known(kind) if kind is not None else None
        if known is not None and after < known.lo < received_elapsed:
            after = known.lo
        return after, received_elapsed

    def completed(self, received_elapsed: float) -> None:
        """The lifecycle was over by `received_elapsed`: teach the process, and release the pathfinder role."""
        kind = self._lifecycle.kind
        if kind is None:
            return
        with self._expectations._news:
            self._expectations._learn(kind, self._pending_at, received_elapsed)
            self._release()
            self._expectations._announce()

    def close(self) -> None:
        """The wait ended without completing (failure, timeout, error): let another wait find the way."""
        kind = self._lifecycle.kind
        if kind is None or not self._pathfinder:
            return
        with self._expectations._news:
            self._release()
            self._expectations._announce()

    def _release(self) -> None:
        if self._pathfinder and self._lifecycle.kind is not None:
            self._expectations._pathfinding.discard(self._lifecycle.kind)
        self._pathfinder = False

    def rest(self, elapsed: Callable[[], float], limit: float, sleep: Callable[[float], None] | None) -> None:
        """Pause until the next look (at most `limit` seconds). A wait following a pathfinder re-plans as soon as
        the pathfinder finishes or gives up. With an injected `sleep` (tests), pause once for the planned delay."""
        started = elapsed()
        delay = min(self.next_delay(started), limit)
        if sleep is not None or not self._following:
            (sleep or time.sleep)(delay)
            return
        while delay > 0 and self._following:
            if not self._expectations._wait_for_news(self._generation, delay):
                return
            now = elapsed()
            delay = min(self.next_delay(now), limit - (now - started))
        if delay > 0:
            time.sleep(delay)

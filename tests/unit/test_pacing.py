"""Lifecycle waits see the end soon after it with few looks: cold, learned from earlier waits, behind a pathfinder."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from pulumi_cluster_connect._plumbing import errors, pacing, polling

FARGATE = polling.Lifecycle(kind="test lifecycle", floor=0.65)


@pytest.fixture(autouse=True)
def fresh_knowledge() -> Iterator[None]:
    pacing.EXPECTATIONS.forget()
    yield
    pacing.EXPECTATIONS.forget()


@dataclass
class Operation:
    """A service operation that ends `duration` seconds after its wait starts, on a fake clock."""

    duration: float
    now: float = 0.0
    looks: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def describe(self) -> str:
        self.looks.append(self.now)
        return "DONE" if self.now >= self.duration else "RUNNING"

    took: tuple[float, float] | None = None

    def wait(self, lifecycle: polling.Lifecycle, expected: tuple[float, float] | None = None) -> Operation:
        def took(after: float, by: float) -> None:
            self.took = (after, by)

        polling.wait_for(
            "operation",
            self.describe,
            state_of=str,
            done=lambda s: s == "DONE",
            timeout=3600,
            backoff=lifecycle,
            expected=expected,
            took=took,
            clock=self.clock,
            sleep=self.sleep,
        )
        return self

    @property
    def lateness(self) -> float:
        return self.looks[-1] - self.duration


def bound(lifecycle: polling.Lifecycle, duration: float) -> float:
    return max(lifecycle.floor, lifecycle.fraction * duration)


@pytest.mark.parametrize("duration", [0.3, 1.0, 4.5, 7.3, 30.0, 200.0, 600.0])
def test_a_cold_wait_sees_the_end_within_its_floor_or_five_percent_of_the_wait(duration: float) -> None:
    operation = Operation(duration).wait(FARGATE)

    assert 0 <= operation.lateness <= bound(FARGATE, duration) + 1e-9
    assert operation.looks[0] == pytest.approx(FARGATE.floor)  # no look when the operation has just begun


@pytest.mark.parametrize("duration", [4.5, 7.3])
def test_waits_of_a_known_kind_look_where_the_first_one_ended_and_cost_few_looks(duration: float) -> None:
    # Request latencies make each operation look a few milliseconds shorter or longer.
    operations = [Operation(duration + jitter).wait(FARGATE) for jitter in (0.0, -0.02, 0.01, -0.01, 0.02, 0.0)]

    first, later = operations[0], operations[1:]
    assert len(first.looks) == int(duration / FARGATE.floor) + 1
    assert all(len(o.looks) <= 2 for o in later)
    # A create or delete call plus these looks: at most 4 calls per operation over the series.
    assert sum(1 + len(o.looks) for o in operations) <= 4 * len(operations)
    assert all(o.lateness <= bound(FARGATE, duration) for o in operations)
    assert max(o.lateness for o in operations[3:]) <= FARGATE.resolution + FARGATE.margin + 0.02


def test_the_interval_of_the_fastest_end_narrows_with_every_wait() -> None:
    widths = []
    for _ in range(4):
        Operation(4.5).wait(FARGATE)
        known = pacing.EXPECTATIONS.known(FARGATE.kind or "")
        assert known is not None and known.lo < 4.5 <= known.hi
        widths.append(known.hi - known.lo)

    assert widths[1] < widths[0]
    assert widths[-1] <= FARGATE.resolution


def test_a_slower_operation_than_the_fastest_seen_is_still_seen_within_the_cold_bound() -> None:
    Operation(4.5).wait(FARGATE)
    slower = Operation(9.0).wait(FARGATE)

    assert 0 <= slower.lateness <= bound(FARGATE, 9.0)


def test_a_faster_operation_is_seen_no_later_than_where_the_fastest_so_far_ended() -> None:
    first = Operation(7.3).wait(FARGATE)
    faster = Operation(3.0).wait(FARGATE)

    assert faster.looks[-1] <= first.looks[-1] + FARGATE.margin
    known = pacing.EXPECTATIONS.known(FARGATE.kind or "")
    assert known is not None and known.hi <= faster.looks[-1]  # it narrowed the interval it was seen in


def test_kinds_are_learned_apart_and_a_wait_without_a_kind_learns_nothing() -> None:
    Operation(7.3).wait(FARGATE)
    other = Operation(2.0).wait(polling.Lifecycle(kind="another lifecycle", floor=0.65))
    unnamed = Operation(2.0).wait(polling.Lifecycle(floor=0.65))

    assert other.looks == unnamed.looks  # both cold: nothing of the first kind applied
    assert pacing.EXPECTATIONS.known("another lifecycle") is not None


def test_a_wait_that_looks_at_start_sees_a_finished_lifecycle_with_one_look() -> None:
    operation = Operation(0.0).wait(polling.Lifecycle(floor=0.5, look_at_start=True))

    assert operation.looks == [0.0]


def test_a_follower_rests_until_insurance_then_looks_every_quarter_of_its_wait() -> None:
    pathfinder = pacing.Pace(FARGATE)
    pathfinder.first_delay()  # takes the pathfinder role and never finishes
    follower = Operation(60.0).wait(FARGATE)

    assert follower.looks[0] == pytest.approx(FARGATE.insurance_after)
    gaps = [b - a for a, b in zip(follower.looks, follower.looks[1:], strict=False)]
    assert all(gap <= FARGATE.insurance_fraction * a + 1e-9 for gap, a in zip(gaps, follower.looks, strict=False))
    pathfinder.close()


@dataclass
class Clocked:
    """An operation on the real clock, for waits in threads that wake each other."""

    duration: float
    started: float = field(default_factory=time.monotonic)
    looks: list[float] = field(default_factory=list)

    def describe(self) -> str:
        elapsed = time.monotonic() - self.started
        self.looks.append(elapsed)
        return "DONE" if elapsed >= self.duration else "RUNNING"


def wait_in_thread(operation: Clocked, lifecycle: polling.Lifecycle, failed: bool = False) -> threading.Thread:
    def run() -> None:
        with contextlib.suppress(errors.LifecycleFailed):
            polling.wait_for(
                "operation",
                operation.describe,
                state_of=str,
                done=lambda s: s == "DONE",
                failure=lambda s: "it broke" if failed and s == "RUNNING" and len(operation.looks) > 2 else None,
                timeout=60,
                backoff=lifecycle,
            )

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_waits_that_start_together_let_one_pathfinder_look_and_follow_its_answer() -> None:
    lifecycle = polling.Lifecycle(kind="together", floor=0.1)
    pathfinder = Clocked(0.6)
    thread = wait_in_thread(pathfinder, lifecycle)
    time.sleep(0.02)  # the first wait takes the pathfinder role
    followers = [Clocked(0.6) for _ in range(3)]
    threads = [wait_in_thread(f, lifecycle) for f in followers]
    for t in [thread, *threads]:
        t.join(timeout=30)

    assert len(pathfinder.looks) >= 6
    first_answer = pathfinder.looks[-1] - (followers[0].started - pathfinder.started)
    for follower in followers:
        assert 1 <= len(follower.looks) <= 2
        assert follower.looks[0] >= first_answer - 0.05  # nothing before the pathfinder knew


def test_when_the_pathfinder_gives_up_a_follower_finds_the_way_itself() -> None:
    lifecycle = polling.Lifecycle(kind="given up", floor=0.1)
    failing = Clocked(60.0)
    thread = wait_in_thread(failing, lifecycle, failed=True)
    time.sleep(0.02)
    follower = Clocked(0.8)
    follower_thread = wait_in_thread(follower, lifecycle)
    for t in (thread, follower_thread):
        t.join(timeout=30)

    assert not follower_thread.is_alive()
    assert follower.looks[-1] >= 0.8
    assert len(follower.looks) >= 3  # it polled on the cold schedule once the pathfinder gave up


@pytest.mark.parametrize("duration", [0.3, 4.5, 7.3, 200.0])
def test_a_wait_tells_the_interval_its_lifecycle_ended_in(duration: float) -> None:
    operation = Operation(duration).wait(FARGATE)

    assert operation.took is not None
    after, by = operation.took
    assert after < duration <= by == operation.looks[-1]
    assert after == (operation.looks[-2] if len(operation.looks) > 1 else 0.0)


@pytest.mark.parametrize(("duration", "most_looks"), [(4.5, 2), (7.3, 2), (30.0, 4)])
def test_a_cold_wait_with_a_prior_looks_where_it_expects_the_end(duration: float, most_looks: int) -> None:
    """A deletion expected to take as long as its creation did: one or two looks instead of a cold schedule (past
    the insurance time, the insurance looks too)."""
    cold = Operation(duration).wait(FARGATE)
    pacing.EXPECTATIONS.forget()
    guided = Operation(duration).wait(FARGATE, expected=(duration - 0.3, duration + 0.1))

    assert len(guided.looks) <= most_looks < len(cold.looks)
    assert 0 <= guided.lateness <= 0.1 + FARGATE.margin + 1e-9


@pytest.mark.parametrize("duration", [2.0, 12.0])
def test_a_prior_that_was_too_short_falls_back_to_the_cold_bound(duration: float) -> None:
    slower = Operation(duration).wait(FARGATE, expected=(0.5, 0.9))

    assert 0 <= slower.lateness <= bound(FARGATE, duration) + 1e-9


def test_a_prior_that_was_too_long_costs_at_most_the_difference_below_the_insurance_time() -> None:
    faster = Operation(3.0).wait(FARGATE, expected=(6.0, 6.4))

    assert faster.looks == [pytest.approx(6.2)]  # the middle of the expected interval: 3.2 s late


def test_a_prior_that_disagrees_with_what_this_process_saw_gives_way_to_it() -> None:
    Operation(3.0).wait(FARGATE)  # learns: the fastest of this kind ended by about 3 s
    guided = Operation(3.0).wait(FARGATE, expected=(6.0, 6.4))

    assert guided.looks[-1] < 4.0
    assert pacing.narrowed(pacing.Known(2.5, 3.2), pacing.Known(3.0, 3.5)) == pacing.Known(3.0, 3.2)
    assert pacing.narrowed(pacing.Known(2.5, 3.2), pacing.Known(6.0, 6.4)) == pacing.Known(2.5, 3.2)
    assert pacing.narrowed(None, pacing.Known(6.0, 6.4)) == pacing.Known(6.0, 6.4)

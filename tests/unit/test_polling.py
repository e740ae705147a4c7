"""polling.wait_for follows a lifecycle: fast first polls, capped backoff, failure states, a timeout."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from pulumi_cluster_connect._plumbing import cancellation, errors, polling

from .fake_clock import FakeClock


def states(*sequence: str) -> Callable[[], str]:
    remaining = list(sequence)
    return lambda: remaining.pop(0) if len(remaining) > 1 else remaining[0]


def test_it_returns_the_first_observation_that_is_done() -> None:
    clock = FakeClock()
    result = polling.wait_for(
        "profile",
        states("CREATING", "CREATING", "ACTIVE"),
        state_of=str,
        done=lambda s: s == "ACTIVE",
        timeout=60,
        clock=clock,
        sleep=clock.sleep,
    )
    assert result == "ACTIVE"
    assert len(clock.sleeps) == 2


def test_intervals_start_fast_and_grow_up_to_the_cap() -> None:
    clock = FakeClock()
    with pytest.raises(errors.WaitTimeout):
        polling.wait_for(
            "profile",
            lambda: "CREATING",
            state_of=str,
            done=lambda s: False,
            timeout=30,
            backoff=polling.Backoff(first=0.25, factor=2, cap=2),
            clock=clock,
            sleep=clock.sleep,
        )
    assert clock.sleeps[:4] == [0.25, 0.5, 1.0, 2.0]
    assert max(clock.sleeps) == 2


def test_a_failure_state_stops_the_wait_with_the_service_reason() -> None:
    clock = FakeClock()
    with pytest.raises(errors.LifecycleFailed) as failed:
        polling.wait_for(
            "Fargate profile apps",
            states("CREATING", "CREATE_FAILED"),
            state_of=str,
            done=lambda s: s == "ACTIVE",
            failure=lambda s: "AccessDenied: the role cannot be assumed" if s == "CREATE_FAILED" else None,
            timeout=60,
            clock=clock,
            sleep=clock.sleep,
        )
    assert str(failed.value) == "Fargate profile apps reached CREATE_FAILED: AccessDenied: the role cannot be assumed"


def test_the_timeout_names_what_was_awaited_and_the_last_state() -> None:
    clock = FakeClock()
    with pytest.raises(errors.WaitTimeout) as timed_out:
        polling.wait_for(
            "update 1.29 -> 1.30",
            lambda: "InProgress",
            state_of=str,
            done=lambda s: False,
            timeout=10,
            clock=clock,
            sleep=clock.sleep,
        )
    assert "update 1.29 -> 1.30" in str(timed_out.value)
    assert "InProgress" in str(timed_out.value)
    assert clock.now == pytest.approx(10)


def test_progress_lines_are_printed_when_the_state_changes(capsys: pytest.CaptureFixture[str]) -> None:
    clock = FakeClock()
    polling.wait_for(
        "cluster",
        states("PENDING", "PENDING", "ACTIVE"),
        state_of=str,
        done=lambda s: s == "ACTIVE",
        timeout=60,
        clock=clock,
        sleep=clock.sleep,
    )
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(": ")[1].split(" ")[0] for line in lines] == ["PENDING", "ACTIVE"]


def test_elapsed_backoff_polls_fast_at_first_then_grows_with_the_time_waited_up_to_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    next_interval = polling.ElapsedBackoff(first=0.25, cap=2.0, fraction=0.05).intervals()

    seen = []
    for elapsed in (0.0, 4.0, 20.0, 30.0, 600.0):
        now[0] = 100.0 + elapsed
        seen.append(next_interval())

    assert seen == [0.25, 0.25, 1.0, 1.5, 2.0]


def test_a_cancel_ends_a_wait_before_its_next_look(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cancellation, "_requested", threading.Event())
    looks: list[str] = []

    def describe() -> str:
        looks.append("CREATING")
        cancellation.request()
        return "CREATING"

    with pytest.raises(errors.Cancelled, match=r"profile p .*last seen: CREATING"):
        polling.wait_for(
            "profile p", describe, state_of=str, done=lambda s: s == "ACTIVE", timeout=60, sleep=lambda _: None
        )
    assert looks == ["CREATING"]

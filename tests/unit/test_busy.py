"""The one "service busy, try again" retry (_plumbing/busy.py), on a fake clock."""

from __future__ import annotations

import pytest

from pulumi_cluster_connect._plumbing import busy, cancellation, errors

from .fake_clock import FakeClock

pytestmark = pytest.mark.unit


def in_use(message: str = "Cannot create profile: cluster has profile b in status CREATING") -> errors.AwsApiError:
    return errors.AwsApiError("EKS CreateFargateProfile", "ResourceInUseException", message, 409)


def test_busy_answers_are_waited_out_with_growing_pauses() -> None:
    clock, busy_answers = FakeClock(), [in_use(), in_use()]

    def call() -> str:
        if busy_answers:
            raise busy_answers.pop(0)
        return "made"

    assert busy.when_free(call, "create profile a", 60, clock=clock, sleep=clock.sleep) == "made"
    assert clock.sleeps == [2.0, 3.0]


def test_already_exists_is_not_busy_and_other_errors_pass_at_once() -> None:
    clock = FakeClock()
    for err in (in_use("A Fargate Profile already exists with this name"), errors.AwsApiError("EKS X", "Boom", "no")):

        def call(err: errors.AwsApiError = err) -> None:
            raise err

        with pytest.raises(errors.AwsApiError) as raised:
            busy.when_free(call, "create profile a", 60, clock=clock, sleep=clock.sleep)
        assert raised.value is err
    assert clock.sleeps == []


@pytest.mark.parametrize("timeout", [10.0, 45.0])
def test_still_busy_at_the_timeout_says_so_with_the_services_reason(timeout: float) -> None:
    clock = FakeClock()

    def call() -> None:
        raise in_use()

    with pytest.raises(errors.AwsApiError) as raised:
        busy.when_free(call, "create profile a", timeout, clock=clock, sleep=clock.sleep)
    assert raised.value.code == "ResourceInUseException"
    assert raised.value.message.endswith("in status CREATING (still busy after waiting to create profile a)")
    assert clock.now == pytest.approx(timeout)


def test_a_cancel_ends_the_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(cancellation._requested, "is_set", lambda: True)

    def call() -> None:
        raise in_use()

    with pytest.raises(errors.Cancelled):
        busy.when_free(call, "create profile a", 60, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == []

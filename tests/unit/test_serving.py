"""The dynamic provider process serves more than four calls at once once one of our providers is configured."""

from __future__ import annotations

import threading
from concurrent import futures

from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_cluster_connect._plumbing import configured, serving

CALLS = 8


def all_at_once(pool: futures.ThreadPoolExecutor, widen_in_first_call: bool) -> bool:
    """Submit CALLS calls that each wait for all the others, as the SDK's gRPC server submits RPCs."""
    together = threading.Barrier(CALLS, timeout=2)

    def call(index: int) -> bool:
        if index == 0 and widen_in_first_call:
            configured.ConfiguredProvider().configure(ConfigureRequest(Config({}, "project")))
        try:
            together.wait()
        except threading.BrokenBarrierError:
            return False
        return True

    submitted = [pool.submit(call, i) for i in range(CALLS)]
    return all(f.result(timeout=30) for f in submitted)


def test_the_sdk_pool_of_four_cannot_hold_eight_calls_at_once() -> None:
    with futures.ThreadPoolExecutor(max_workers=4) as pool:
        assert not all_at_once(pool, widen_in_first_call=False)


def test_configuring_a_provider_widens_the_pool_that_serves_it_even_for_calls_already_queued() -> None:
    # Like a destroy: every Delete is submitted before the first one configures the provider.
    with futures.ThreadPoolExecutor(max_workers=4) as pool:
        assert all_at_once(pool, widen_in_first_call=True)


def test_outside_a_thread_pool_widen_changes_nothing_and_says_so() -> None:
    assert serving.serving_pool() is None
    assert serving.widen() is False

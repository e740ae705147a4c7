"""Fixtures the unit tests share: the AWS sandbox, served once per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pulumi_cluster_connect._plumbing import fargate_profiles
from pulumi_cluster_connect.sandbox.aws.server import AwsSandbox


@pytest.fixture(autouse=True)
def _no_listing_from_an_earlier_test() -> Iterator[None]:
    """FargateProfile's per-process listing of a cluster's profiles must not outlive the test that made it: the
    next test resets the sandbox under the same cached client."""
    fargate_profiles.forget_listings()
    yield


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """The URL of an AWS sandbox started for this test module (modules with their own `endpoint` override it)."""
    sandbox = AwsSandbox().start()
    try:
        yield sandbox.url
    finally:
        sandbox.stop()

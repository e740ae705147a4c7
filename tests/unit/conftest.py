"""Fixtures the unit tests share: the AWS sandbox, served once per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pulumi_cluster_connect.sandbox.aws.server import AwsSandbox


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """The URL of an AWS sandbox started for this test module (modules with their own `endpoint` override it)."""
    sandbox = AwsSandbox().start()
    try:
        yield sandbox.url
    finally:
        sandbox.stop()

"""LoftClusterInitialized: check and diff as the engine sends them, the wait against the in-process v4 double."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.output import Unknown

from pulumi_cluster_connect._plumbing import errors, loft_api
from pulumi_cluster_connect.dynamic_providers import loft_cluster_initialized as lci
from pulumi_cluster_connect.sandbox.loft import LoftControl, LoftSandbox, exceptions


def props(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "loft_url": "https://loft.example.com",
        "access_key": "loft-access-key",
        "cluster_name": "edge",
        "agent_revision": 1.0,
        "timeout_seconds": 300.0,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def failures(news: dict[str, Any], config: dict[str, Any] | None = None) -> dict[str, str]:
    return {f.property: f.reason for f in lci.check(news, config or {}).failures}


def test_complete_inputs_pass_and_the_stack_config_stands_in_for_url_and_key() -> None:
    assert failures(props()) == {}
    config = {"loft:url": "https://loft.example.com", "loft:accessKey": "k"}
    assert failures(props(loft_url=None, access_key=None), config) == {}
    assert set(failures(props(loft_url=None, access_key=None))) == {"loft_url", "access_key"}


def test_bad_inputs_are_named_and_unknowns_pass() -> None:
    found = failures(props(cluster_name="Edge", loft_url="loft.example.com", ca_data="x", timeout_seconds=0.0))
    assert set(found) == {"cluster_name", "loft_url", "ca_data", "timeout_seconds"}
    assert failures(props(cluster_name=Unknown(), loft_url=Unknown(), agent_revision=Unknown())) == {}


def test_a_new_agent_revision_waits_again_in_place() -> None:
    olds = {**props(), "phase": "Initialized"}
    result = lci.diff(olds, props(agent_revision=2.0))
    assert result.changes
    assert result.replaces == []
    assert not lci.diff(olds, props(timeout_seconds=10.0)).changes


def test_another_cluster_is_another_wait() -> None:
    assert lci.diff({**props(), "phase": "Initialized"}, props(cluster_name="other")).replaces == ["cluster_name"]


def test_a_phase_refresh_saw_not_initialized_waits_again() -> None:
    assert lci.diff({**props(), "phase": "Failed"}, props()).changes


@pytest.fixture(scope="module")
def v4() -> Iterator[LoftSandbox]:
    sandbox = LoftSandbox(version="v4", tls=True).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def platform(v4: LoftSandbox) -> Iterator[LoftControl]:
    control = LoftControl(v4.url)
    control.reset()
    control.set_durations(initialize=0.1, delete=0.1)
    yield control
    control.reset()


def on(v4: LoftSandbox, **overrides: Any) -> dict[str, Any]:
    return props(loft_url=v4.url, access_key=v4.access_key, ca_data=v4.ca_data, **overrides)


def connect_cluster(v4: LoftSandbox, name: str) -> dict[str, Any]:
    api = loft_api.LoftApi(v4.url, v4.access_key, v4.ca_data)
    api.create_cluster({"metadata": {"name": name}, "spec": {"networkPeer": True}})
    return api.get_cluster_access_key(name)


def test_the_wait_ends_initialized_once_the_agent_connected(v4: LoftSandbox, platform: LoftControl) -> None:
    key = connect_cluster(v4, "edge")
    assert v4.backend is not None
    v4.backend.connect_agent(key["loftHost"], key["accessKey"], "loft/loft")

    outs = lci.LoftClusterInitializedProvider().create(on(v4)).outs or {}

    assert (outs["phase"], outs["reason"]) == ("Initialized", "")


def test_without_an_agent_the_wait_times_out_saying_so(v4: LoftSandbox, platform: LoftControl) -> None:
    connect_cluster(v4, "edge")

    with pytest.raises(errors.WaitTimeout) as raised:
        lci.LoftClusterInitializedProvider().create(on(v4, timeout_seconds=0.5))

    assert lci.NOT_CONNECTED in str(raised.value)


def test_a_failed_cluster_stops_the_wait_with_the_platforms_reason(v4: LoftSandbox, platform: LoftControl) -> None:
    platform.inject("revoked_access_key", "edge")
    key = connect_cluster(v4, "edge")
    assert v4.backend is not None
    with pytest.raises(exceptions.UnauthorizedError):
        v4.backend.connect_agent(key["loftHost"], key["accessKey"], "loft/loft")

    with pytest.raises(errors.LifecycleFailed) as raised:
        lci.LoftClusterInitializedProvider().create(on(v4))

    assert raised.value.state == "Failed"
    assert raised.value.reason.startswith(exceptions.AGENT_UNAUTHORIZED_REASON)


def test_read_sees_the_cluster_gone(v4: LoftSandbox, platform: LoftControl) -> None:
    assert lci.LoftClusterInitializedProvider().read("edge", on(v4)).id == ""
    connect_cluster(v4, "edge")
    assert (lci.LoftClusterInitializedProvider().read("edge", on(v4)).outs or {})["phase"] == ""

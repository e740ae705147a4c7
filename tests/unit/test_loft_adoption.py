"""LoftClusterConnect across crashes and adoption: a create that meets its own Cluster adopts it, someone else's
is refused unchanged unless adopt_existing=True; v4 (agent) and v3 (ClusterConnect), against the Loft double."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.output import Unknown

from pulumi_cluster_connect._plumbing import errors, loft_api, loft_clusters, ownership
from pulumi_cluster_connect.dynamic_providers import loft_cluster_connect as lcc
from pulumi_cluster_connect.sandbox.loft import LoftControl, LoftSandbox, target

from .test_loft_cluster_connect import on, props

OURS = "proj/dev/pulumi-python:dynamic/loft:ClusterConnect::conn"
THEIRS = "other/prod/pulumi-python:dynamic/loft:ClusterConnect::conn"


@pytest.fixture(scope="module", params=["v3", "v4"])
def server(request: pytest.FixtureRequest) -> Iterator[LoftSandbox]:
    sandbox = LoftSandbox(version=request.param, tls=request.param == "v4").start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def loft(server: LoftSandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[LoftSandbox]:
    # The connected cluster is not reached here (the integration tests reach a real one).
    monkeypatch.setattr(target, "connect", lambda kubeconfig, name, namespace, host: f"loft-cluster-config-{name}")
    monkeypatch.setattr(target, "disconnect", lambda kubeconfig, namespace, secret: None)
    control = LoftControl(server.url)
    control.reset()
    control.set_durations(initialize=0.2, delete=0.2)
    yield server
    control.reset()


def inputs_of(loft: LoftSandbox, identity: str | None = OURS, **overrides: Any) -> dict[str, Any]:
    mode = {"mode": "agent", "kubeconfig": None} if loft.ca_data else {"mode": "cluster-connect"}
    return on(loft, **{**mode, ownership.IDENTITY: identity, **overrides})


def create(loft: LoftSandbox, identity: str | None = OURS, **overrides: Any) -> dict[str, Any]:
    return lcc.LoftClusterConnectProvider().create(inputs_of(loft, identity, **overrides)).outs or {}


def api(loft: LoftSandbox) -> loft_api.LoftApi:
    return loft_api.LoftApi(loft.url, loft.access_key, loft.ca_data or None)


def the_cluster(loft: LoftSandbox) -> dict[str, Any]:
    return api(loft).get_cluster("prod-eu")


def test_the_cluster_carries_the_owner_annotation_of_the_resource(loft: LoftSandbox) -> None:
    create(loft)

    annotations = the_cluster(loft)["metadata"]["annotations"]
    assert annotations[ownership.OWNER_KEY] == ownership.owner_mark(OURS)


def test_a_create_re_run_after_a_crash_adopts_its_own_cluster_without_a_second_one(loft: LoftSandbox) -> None:
    first = create(loft)  # the engine never heard of it: the run was killed

    again = create(loft)

    assert again["uid"] == first["uid"]
    assert again["phase"] == ("" if loft.ca_data else "Initialized")
    assert LoftControl(loft.url).state()["clusters"] == ["prod-eu"]
    if loft.ca_data:
        assert again["agent_access_key"] == first["agent_access_key"]


@pytest.mark.parametrize("owner", [THEIRS, None], ids=["another-resource", "unmarked"])
def test_someone_elses_cluster_is_refused_with_nothing_changed(loft: LoftSandbox, owner: str | None) -> None:
    create(loft, owner)
    before_cluster, before_state = the_cluster(loft), LoftControl(loft.url).state()

    with pytest.raises(errors.ClusterConnectError) as raised:
        create(loft, display_name="Mine now")

    assert "Loft cluster 'prod-eu' already exists" in str(raised.value)
    assert "Nothing was changed" in str(raised.value)
    assert "`adopt_existing=True`" in str(raised.value)
    assert loft.access_key not in str(raised.value)
    assert the_cluster(loft) == before_cluster
    assert LoftControl(loft.url).state() == before_state


def test_adopt_existing_takes_over_someone_elses_cluster(loft: LoftSandbox) -> None:
    theirs = create(loft, THEIRS)

    adopted = create(loft, adopt_existing=True)

    assert adopted["uid"] == theirs["uid"]
    assert adopted["connected_via"] == ("agent" if loft.ca_data else "cluster-connect")
    assert LoftControl(loft.url).state()["clusters"] == ["prod-eu"]
    if loft.ca_data:
        assert adopted["agent_access_key"] == theirs["agent_access_key"]


def test_a_cluster_being_disconnected_is_waited_out_and_connected_anew(loft: LoftSandbox) -> None:
    old = create(loft)
    api(loft).delete_cluster("prod-eu")

    new = create(loft)

    assert new["uid"] != old["uid"]
    assert LoftControl(loft.url).state()["clusters"] == ["prod-eu"]


def test_a_failure_on_an_adopted_cluster_leaves_it_as_it_was(
    loft: LoftSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    create(loft, wait_for_initialized=False)
    if loft.ca_data:  # the agent flow waits for no phase: its failure is the access key's
        monkeypatch.setattr(loft_api.LoftApi, "get_cluster_access_key", _unavailable)
        failure = "ServiceUnavailable: try again"
    else:
        LoftControl(loft.url).inject("phase_failed", "prod-eu", reason="AgentError", message="agent crashed")
        failure = "reached Failed: AgentError: agent crashed"

    with pytest.raises(errors.ClusterConnectError) as raised:
        create(loft)

    assert failure in str(raised.value)
    assert "existed before this create: it is left connected as it was" in str(raised.value)
    assert LoftControl(loft.url).state()["clusters"] == ["prod-eu"]


def test_a_failure_after_the_platform_accepted_says_the_cluster_was_left_when_disconnecting_fails(
    loft: LoftSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(api: loft_api.LoftApi, name: str, timeout: float) -> None:
        raise errors.LoftApiError(f"Loft delete Cluster {name}", "Forbidden", "not allowed", 403)

    monkeypatch.setattr(loft_clusters, "delete", refuse)
    if loft.ca_data:
        monkeypatch.setattr(loft_api.LoftApi, "get_cluster_access_key", _unavailable)
    else:
        LoftControl(loft.url).inject("phase_failed", "prod-eu", reason="AgentError", message="agent crashed")

    with pytest.raises(errors.ClusterConnectError) as raised:
        create(loft)

    message = str(raised.value)
    assert "Loft accepted cluster prod-eu, and disconnecting it again failed" in message
    assert "Forbidden: not allowed" in message
    assert "it is left connected, marked as this resource's, and the next `pulumi up` adopts it" in message
    assert LoftControl(loft.url).state()["clusters"] == ["prod-eu"]


def _unavailable(self: loft_api.LoftApi, name: str) -> dict[str, Any]:
    raise errors.LoftApiError(f"Loft get Cluster {name} accesskey", "ServiceUnavailable", "try again", 503)


def test_identity_and_adopt_existing_never_make_a_difference() -> None:
    olds = {**props(), "connected_via": "cluster-connect", ownership.IDENTITY: OURS}
    for news in (
        {**props(), ownership.IDENTITY: THEIRS, ownership.ADOPT: True},
        {**props(), ownership.IDENTITY: Unknown(), ownership.ADOPT: Unknown()},
    ):
        result = lcc.diff(olds, news)
        assert (result.changes, result.replaces) == (False, [])


def test_check_wants_adopt_existing_to_be_a_bool() -> None:
    failures = {f.property: f.reason for f in lcc.check({}, props(adopt_existing="yes"), {}).failures}
    assert failures == {"adopt_existing": "must be true or false, got a string"}
    assert lcc.check({}, props(adopt_existing=True), {}).failures == []
    assert lcc.check({}, props(adopt_existing=Unknown()), {}).failures == []

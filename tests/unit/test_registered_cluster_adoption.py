"""RegisteredCluster creates that meet a registration: ours from an interrupted run, someone else's, `adopt_existing`;
a fresh token per registration generation; a delete that returns once the registration is gone."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import fields
from typing import Any

import boto3
import pytest

from pulumi_cluster_connect._plumbing import aws, errors, ownership, polling
from pulumi_cluster_connect._plumbing import registrations as eks_registrations
from pulumi_cluster_connect.dynamic_providers import connection_wait
from pulumi_cluster_connect.dynamic_providers import registered_cluster as rc
from pulumi_cluster_connect.sandbox.aws import registrations, server
from pulumi_cluster_connect.sandbox.aws.settings import SETTINGS, Durations, Fault

REGION = "us-west-2"
ROLE = "arn:aws:iam::123456789012:role/eks-connector-agent"
IDENTITY = "proj/dev/pulumi-python:dynamic/eks:RegisteredCluster::edge"
NEWS: dict[str, Any] = {"cluster_name": "edge", "connector_provider": "OTHER", "role_arn": ROLE, "identity": IDENTITY}
CHANGING_CALLS = ("RegisterCluster", "DeregisterCluster")


@pytest.fixture
def sandbox(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "sandbox",
        "AWS_SECRET_ACCESS_KEY": "sandbox-secret",
        "AWS_DEFAULT_REGION": REGION,
        aws.MAX_ATTEMPTS_ENV: "1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setattr(aws, "PATIENT_RETRY", polling.Backoff(first=0.05, cap=0.1))
    monkeypatch.setattr(eks_registrations, "GONE_POLL", polling.Backoff(first=0.05, cap=0.1))
    server.reset()
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    boto3.client("iam", region_name=REGION).create_role(
        RoleName="eks-connector-agent", AssumeRolePolicyDocument=json.dumps(trust)
    )
    yield boto3.client("eks", region_name=REGION)
    server.reset()


def create(**overrides: Any) -> dict[str, Any]:
    return rc.RegisteredClusterProvider().create({**NEWS, **overrides}).outs or {}


def changing_calls() -> dict[str, int]:
    calls = SETTINGS.describe()["calls"]
    return {op: calls[op] for op in CHANGING_CALLS if calls.get(op)}


def slow_deregistration(seconds: float) -> bool:
    """Deregistrations take `seconds` where the sandbox models their delay (durations.cluster_deregister)."""
    if "cluster_deregister" not in {f.name for f in fields(Durations)}:
        return False
    SETTINGS.durations.update({"cluster_deregister": seconds})
    return True


def test_each_generation_has_its_own_token_and_a_rerun_the_same() -> None:
    props = {**NEWS, "region": REGION}
    assert rc.client_request_token(props) == rc.client_request_token(dict(props))
    assert rc.client_request_token(props, 1) != rc.client_request_token(props, 0)
    assert rc.client_request_token(props) != rc.client_request_token({**props, "identity": "proj/prod/x::edge"})


def test_a_create_rerun_after_a_crash_replays_the_registration_with_its_code(sandbox: Any) -> None:
    first = create()
    again = create()
    assert (again["activation_id"], again["activation_code"]) == (first["activation_id"], first["activation_code"])
    assert changing_calls() == {"RegisterCluster": 2}
    tags = sandbox.describe_cluster(name="edge")["cluster"]["tags"]
    assert tags == {ownership.OWNER_KEY: ownership.owner_mark(IDENTITY)}
    assert "tags" not in first, "our mark is not the user's tags"


def test_a_registration_after_a_deregistration_is_a_new_one(sandbox: Any) -> None:
    """Destroy then up, or an expired activation re-registered: the same inputs, the next generation."""
    first = create()
    rc.RegisteredClusterProvider().delete("edge", first)
    second = create()
    assert second["activation_id"] != first["activation_id"]
    assert (
        sandbox.describe_cluster(name="edge")["cluster"]["connectorConfig"]["activationId"] == (second["activation_id"])
    )
    rc.RegisteredClusterProvider().delete("edge", second)
    third = create()
    assert third["activation_id"] not in (first["activation_id"], second["activation_id"])


def test_delete_returns_only_once_the_registration_is_gone(sandbox: Any) -> None:
    outs = create()
    slow = slow_deregistration(0.5)
    started = time.monotonic()
    rc.RegisteredClusterProvider().delete("edge", outs)
    if slow:
        assert time.monotonic() - started >= 0.5
    with pytest.raises(sandbox.exceptions.ResourceNotFoundException):
        sandbox.describe_cluster(name="edge")
    rc.RegisteredClusterProvider().delete("edge", outs)  # gone is success


def test_a_create_while_the_name_is_being_deregistered_waits_then_registers(sandbox: Any) -> None:
    old = create()
    slow_deregistration(0.5)
    sandbox.deregister_cluster(name="edge")
    new = create()
    assert new["activation_id"] != old["activation_id"]


def test_a_create_meeting_someone_elses_registration_fails_before_changing_anything(sandbox: Any) -> None:
    sandbox.register_cluster(name="edge", connectorConfig={"provider": "OTHER", "roleArn": ROLE})
    SETTINGS.calls.clear()
    with pytest.raises(errors.ClusterConnectError) as refused:
        create()
    message = str(refused.value)
    assert "EKS cluster edge is already registered and is not made by pulumi-cluster-connect" in message
    assert "adopt_existing=True" in message and "import" not in message
    assert changing_calls() in ({}, {"RegisterCluster": 1}), "only the refused RegisterCluster"
    assert registrations.registration(REGION, "edge") is not None


def test_adopt_takes_over_a_connected_registration_without_registering_again(sandbox: Any) -> None:
    theirs = sandbox.register_cluster(name="edge", connectorConfig={"provider": "OTHER", "roleArn": ROLE})["cluster"]
    code = theirs["connectorConfig"]["activationCode"]
    assert registrations.connect(REGION, "edge", theirs["connectorConfig"]["activationId"], code)
    outs = create(adopt_existing=True)
    assert outs["activation_id"] == theirs["connectorConfig"]["activationId"]
    assert outs["status"] == "ACTIVE"
    assert "activation_code" not in outs, "EKS returns it only when registering"


def test_adopt_refuses_an_unconnected_registration_and_changes_nothing(sandbox: Any) -> None:
    theirs = sandbox.register_cluster(name="edge", connectorConfig={"provider": "OTHER", "roleArn": ROLE})["cluster"]
    with pytest.raises(errors.ClusterConnectError, match="cannot adopt EKS cluster edge: it is PENDING"):
        create(adopt_existing=True)
    live = sandbox.describe_cluster(name="edge")["cluster"]
    assert live["connectorConfig"]["activationId"] == theirs["connectorConfig"]["activationId"]


def test_ours_that_no_token_replays_is_registered_again(sandbox: Any) -> None:
    """Ours (the owner tag) but made with a token EKS no longer knows: its code is lost, so a new registration."""
    mark = {ownership.OWNER_KEY: ownership.owner_mark(IDENTITY)}
    lost = sandbox.register_cluster(name="edge", connectorConfig={"provider": "OTHER", "roleArn": ROLE}, tags=mark)
    outs = create()
    assert outs["activation_id"] != lost["cluster"]["connectorConfig"]["activationId"]
    assert outs["activation_code"]


def test_an_eks_cluster_of_the_name_is_refused(sandbox: Any) -> None:
    sandbox.create_cluster(name="edge", roleArn=ROLE, resourcesVpcConfig={"subnetIds": []})
    with pytest.raises(errors.ClusterConnectError, match="is an EKS cluster, not a registered"):
        create()


def test_a_describe_storm_after_registering_is_waited_out(sandbox: Any) -> None:
    outcome: list[Any] = []
    thread = threading.Thread(target=lambda: outcome.append(create()))
    thread.start()
    deadline = time.monotonic() + 10
    while not SETTINGS.describe()["calls"].get("RegisterCluster") and time.monotonic() < deadline:
        time.sleep(0.005)
    SETTINGS.inject(Fault("throttle", operation="DescribeCluster", count=15))
    thread.join(30)
    assert outcome and outcome[0]["activation_code"]
    assert registrations.registration(REGION, "edge") is not None
    assert changing_calls() == {"RegisterCluster": 1}


def test_a_forced_replacement_of_a_connected_registration_registers_anew_and_the_old_delete_leaves_it(
    sandbox: Any,
) -> None:
    """`pulumi up --replace`: the replacement is created first, with the same inputs, so the same token."""
    old = create()
    assert registrations.connect(REGION, "edge", old["activation_id"], old["activation_code"])
    new = create()
    assert new["activation_id"] != old["activation_id"], "a connected registration is in a state: not a leftover"
    rc.RegisteredClusterProvider().delete("edge", old)
    live = sandbox.describe_cluster(name="edge")["cluster"]
    assert live["connectorConfig"]["activationId"] == new["activation_id"]
    rc.RegisteredClusterProvider().delete("edge", new)
    with pytest.raises(sandbox.exceptions.ResourceNotFoundException):
        sandbox.describe_cluster(name="edge")


def test_a_refresh_during_a_deregistration_drops_the_registration_and_its_wait(sandbox: Any) -> None:
    outs = create()
    assert registrations.connect(REGION, "edge", outs["activation_id"], outs["activation_code"])
    wait_props = {"cluster_name": "edge", "activation_id": outs["activation_id"], "status": "ACTIVE"}
    assert connection_wait.ConnectionWaitProvider().read("edge/x", dict(wait_props)).id == "edge/x"
    assert slow_deregistration(5.0)
    sandbox.deregister_cluster(name="edge")
    assert sandbox.describe_cluster(name="edge")["cluster"]["status"] == "DELETING"
    assert rc.RegisteredClusterProvider().read("edge", outs).id == ""
    assert connection_wait.ConnectionWaitProvider().read("edge/x", dict(wait_props)).id == ""

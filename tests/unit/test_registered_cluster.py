"""RegisteredCluster and ConnectionWait: check and diff as the engine calls them, lifecycle in the sandbox."""

from __future__ import annotations

import contextlib
import datetime
import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import dill
import pytest
from pulumi.output import Unknown

from pulumi_cluster_connect._plumbing import errors, polling
from pulumi_cluster_connect._plumbing import registrations as eks_registrations
from pulumi_cluster_connect.dynamic_providers import connection_wait
from pulumi_cluster_connect.dynamic_providers import registered_cluster as rc
from pulumi_cluster_connect.dynamic_providers.connection_wait import connection_failure
from pulumi_cluster_connect.sandbox.aws import registrations, server
from pulumi_cluster_connect.sandbox.aws.settings import SETTINGS, Fault

REGION = "us-west-2"
ROLE = "arn:aws:iam::123456789012:role/eks-connector-agent"
NEWS: dict[str, Any] = {
    "cluster_name": "edge",
    "connector_provider": "OTHER",
    "role_arn": ROLE,
    "identity": "proj/dev/edge",
}
NOW = 1_800_000_000.0


@contextlib.contextmanager
def socket_calls_refused() -> Iterator[None]:
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("diff opened a connection")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket, "create_connection", refuse)
        yield


def unknown() -> Any:
    return Unknown()


def iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat().replace("+00:00", "Z")


def state(**overrides: Any) -> dict[str, Any]:
    base = {
        **NEWS,
        "region": REGION,
        "status": "PENDING",
        "activation_id": "id-1",
        "activation_code": "code",
        "activation_expiry": iso(NOW + 3600),
    }
    return {**base, **overrides}


def failed_properties(props: dict[str, Any]) -> list[str]:
    return [f.property for f in rc.RegisteredClusterProvider().check({}, props).failures]


# check --------------------------------------------------------------------------------------------------


def test_valid_inputs_pass_check() -> None:
    assert failed_properties({**NEWS, "tags": {"team": "platform"}, "region": "eu-west-1"}) == []


@pytest.mark.parametrize(
    ("overrides", "prop"),
    [
        ({"cluster_name": "-edge"}, "cluster_name"),
        ({"cluster_name": "my.cluster"}, "cluster_name"),
        ({"cluster_name": "x" * 101}, "cluster_name"),
        ({"connector_provider": "K3S"}, "connector_provider"),
        ({"role_arn": "arn:aws:iam::123:role/x"}, "role_arn"),
        ({"role_arn": "arn:aws:iam::123456789012:user/x"}, "role_arn"),
        ({"tags": {f"k{i}": "v" for i in range(51)}}, "tags"),
        ({"tags": {"k" * 129: "v"}}, "tags"),
        ({"tags": {"k": "v" * 257}}, "tags"),
        ({"region": "mars"}, "region"),
    ],
)
def test_check_names_the_property_that_breaks_a_rule(overrides: dict[str, Any], prop: str) -> None:
    assert failed_properties({**NEWS, **overrides}) == [prop]


def test_check_requires_provider_and_role() -> None:
    assert failed_properties({"cluster_name": "edge"}) == ["connector_provider", "role_arn"]


def test_unknown_values_pass_check_in_preview() -> None:
    props = {
        **NEWS,
        "cluster_name": unknown(),
        "role_arn": unknown(),
        "tags": {"a": unknown()},
        "region": unknown(),
    }
    assert failed_properties(props) == []


# diff ---------------------------------------------------------------------------------------------------


def test_no_change_means_no_diff() -> None:
    result = rc.diff_registration(state(), dict(NEWS), now=NOW)
    assert result.changes is False
    assert result.replaces == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("connector_provider", "GKE"),
        ("role_arn", "arn:aws:iam::123456789012:role/other"),
        ("tags", {"team": "x"}),
        ("region", "eu-west-1"),
        ("connector_provider", unknown()),
    ],
)
def test_changes_replace_deleting_first_since_the_name_stays(key: str, value: Any) -> None:
    result = rc.diff_registration(state(), {**NEWS, key: value}, now=NOW)
    assert result.replaces == [key]
    assert result.delete_before_replace is True


def test_a_new_name_replaces_creating_first() -> None:
    result = rc.diff_registration(state(), {**NEWS, "cluster_name": "edge2"}, now=NOW)
    assert result.replaces == ["cluster_name"]
    assert result.delete_before_replace is False


def test_an_absent_region_keeps_the_resolved_one_and_identity_is_bookkeeping() -> None:
    result = rc.diff_registration(state(region="eu-central-1"), {**NEWS, "identity": "renamed"}, now=NOW)
    assert result.changes is False


def test_a_failed_activation_replaces() -> None:
    result = rc.diff_registration(state(status="FAILED"), dict(NEWS), now=NOW)
    assert result.replaces == ["status"]
    assert result.delete_before_replace is True


def test_a_pending_activation_past_expiry_is_an_update_for_aws_to_confirm() -> None:
    expired = state(activation_expiry=iso(NOW - 1))
    result = rc.diff_registration(expired, dict(NEWS), now=NOW)
    assert (result.changes, result.replaces) == (True, [])


def test_a_pending_activation_before_expiry_is_unchanged() -> None:
    assert rc.diff_registration(state(activation_expiry=iso(NOW + 60)), dict(NEWS), now=NOW).changes is False


def test_an_unreadable_expiry_in_the_state_is_no_expiry() -> None:
    assert rc.diff_registration(state(activation_expiry="yesterday"), dict(NEWS), now=NOW).changes is False


def test_an_active_registration_never_expires() -> None:
    active = state(status="ACTIVE", activation_expiry=iso(NOW - 86400))
    assert rc.diff_registration(active, dict(NEWS), now=NOW).changes is False


def test_the_wait_replaces_on_a_new_activation_and_after_a_refresh_saw_it_disconnected() -> None:
    olds = {"cluster_name": "edge", "activation_id": "id-1", "status": "ACTIVE"}
    assert connection_wait.diff_wait(olds, {"cluster_name": "edge", "activation_id": "id-1"}).changes is False
    assert connection_wait.diff_wait(olds, {"cluster_name": "edge", "activation_id": unknown()}).replaces == [
        "activation_id"
    ]
    pending = {**olds, "status": "PENDING"}
    assert connection_wait.diff_wait(pending, {"cluster_name": "edge", "activation_id": "id-1"}).replaces == ["status"]
    timeout = connection_wait.diff_wait(
        olds, {"cluster_name": "edge", "activation_id": "id-1", "timeout_seconds": 60.0}
    )
    assert (timeout.changes, timeout.replaces) == (True, [])


# the token and the retry -------------------------------------------------------------------------------


def test_the_request_token_is_stable_per_resource_and_inputs() -> None:
    token = rc.client_request_token({**NEWS, "region": REGION})
    assert token == rc.client_request_token({**NEWS, "region": REGION})
    assert token != rc.client_request_token({**NEWS, "region": REGION, "identity": "proj/prod/edge"})
    assert token != rc.client_request_token({**NEWS, "region": REGION, "connector_provider": "GKE"})


def propagation_error(message: str = "Not existing role") -> errors.AwsApiError:
    return errors.AwsApiError("EKS RegisterCluster", "InvalidRequestException", message, 400)


class Answering:
    """An EKS client whose RegisterCluster calls `attempt`."""

    def __init__(self, attempt: Callable[[], dict[str, Any]]) -> None:
        self.attempt = attempt

    def register_cluster(self, **_request: Any) -> dict[str, Any]:
        return {"cluster": self.attempt()}


def register(attempt: Callable[[], dict[str, Any]], **retry: Any) -> dict[str, Any]:
    return eks_registrations.register(Answering(attempt), {"name": "edge"}, "token", **retry)  # type: ignore[arg-type]


def test_register_retries_iam_propagation_then_succeeds() -> None:
    outcomes: list[Any] = [
        propagation_error(),
        propagation_error("Nonexistent role or missing ssm service principal in trust policy"),
        errors.AwsApiError("EKS RegisterCluster", "ResourcePropagationDelayException", "later", 428),
        {"name": "edge"},
    ]
    slept: list[float] = []

    def attempt() -> dict[str, Any]:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return dict(outcome)

    assert register(attempt, sleep=slept.append, clock=lambda: 0.0) == {"name": "edge"}
    assert slept == [1.0, 1.5, 2.25]


def test_register_gives_up_on_propagation_after_the_timeout() -> None:
    clock = iter([0.0, 0.0, 200.0])

    def attempt() -> dict[str, Any]:
        raise propagation_error()

    with pytest.raises(errors.AwsApiError, match="Not existing role"):
        register(attempt, sleep=lambda _: None, clock=lambda: next(clock), timeout=180)


def test_register_does_not_retry_other_errors() -> None:
    calls = []

    def attempt() -> dict[str, Any]:
        calls.append(1)
        raise errors.AwsApiError("EKS RegisterCluster", "ResourceInUseException", "in use", 409)

    with pytest.raises(errors.AwsApiError, match="ResourceInUseException"):
        register(attempt, sleep=lambda _: None)
    assert len(calls) == 1


def test_connection_failure_explains_expiry_and_gone() -> None:
    assert connection_failure({"status": "PENDING", "connectorConfig": {"activationExpiry": NOW + 5}}, NOW) is None
    assert connection_failure({"status": "ACTIVE", "connectorConfig": {"activationExpiry": NOW - 5}}, NOW) is None
    expired = connection_failure({"status": "PENDING", "connectorConfig": {"activationExpiry": NOW - 5}}, NOW)
    assert expired is not None and "pulumi up" in expired
    assert connection_failure({"status": "FAILED"}, NOW) is not None
    assert connection_failure(None, NOW) == "the registration is gone (deregistered)"


# against the sandbox -----------------------------------------------------------------------------------


@pytest.fixture
def sandbox(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "sandbox")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "sandbox-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    server.reset()
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    boto3.client("iam", region_name=REGION).create_role(
        RoleName="eks-connector-agent", AssumeRolePolicyDocument=json.dumps(trust)
    )
    yield endpoint
    server.reset()


def test_create_registers_and_returns_every_output(sandbox: str) -> None:
    provider = rc.RegisteredClusterProvider()
    created = provider.create({**NEWS, "tags": {"team": "platform"}})
    outs = created.outs or {}
    assert created.id == "edge"
    assert outs["status"] == "PENDING"
    assert outs["region"] == REGION
    assert outs["arn"] == f"arn:aws:eks:{REGION}:123456789012:cluster/edge"
    assert outs["activation_code"] == registrations.registration(REGION, "edge").activation_code  # type: ignore[union-attr]
    assert outs["activation_expiry"].endswith("Z") and outs["created_at"].endswith("Z")
    assert outs["tags"] == {"team": "platform"}


def test_a_create_retried_after_a_crash_replays_the_same_registration(sandbox: str) -> None:
    first = rc.RegisteredClusterProvider().create(dict(NEWS)).outs or {}
    again = rc.RegisteredClusterProvider().create(dict(NEWS)).outs or {}
    assert again["activation_id"] == first["activation_id"]
    assert again["activation_code"] == first["activation_code"]


def test_create_waits_out_role_propagation(sandbox: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(eks_registrations, "PROPAGATION_BACKOFF", polling.Backoff(first=0.05, cap=0.1))
    SETTINGS.inject(Fault("role_propagation", target="edge", count=2))
    assert (rc.RegisteredClusterProvider().create(dict(NEWS)).outs or {})["status"] == "PENDING"


def test_read_refreshes_status_and_keeps_the_code(sandbox: str) -> None:
    provider = rc.RegisteredClusterProvider()
    outs = provider.create(dict(NEWS)).outs or {}
    assert registrations.connect(REGION, "edge", outs["activation_id"], outs["activation_code"])
    read = provider.read("edge", outs)
    assert read.id == "edge"
    refreshed = read.outs or {}
    assert refreshed["status"] == "ACTIVE"
    assert refreshed["activation_code"] == outs["activation_code"]
    assert refreshed["identity"] == NEWS["identity"]


def test_read_imports_without_a_code(sandbox: str) -> None:
    rc.RegisteredClusterProvider().create(dict(NEWS))
    imported = rc.RegisteredClusterProvider().read("edge", {}).outs or {}
    assert imported["cluster_name"] == "edge" and imported["connector_provider"] == "OTHER"
    assert "activation_code" not in imported


def test_read_reports_gone_after_deregistration(sandbox: str) -> None:
    provider = rc.RegisteredClusterProvider()
    outs = provider.create(dict(NEWS)).outs or {}
    SETTINGS.durations.update({"cluster_deregister": 2})
    boto3.client("eks", region_name=REGION).deregister_cluster(name="edge")
    assert registrations.registration(REGION, "edge") is not None, "EKS still shows it, DELETING"
    assert provider.read("edge", outs).id == "", "a deregistration cannot be undone: gone for the state"
    deadline = time.monotonic() + 5
    while registrations.registration(REGION, "edge") is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert provider.read("edge", outs).id == ""


def test_read_refuses_to_adopt_an_eks_cluster(sandbox: str) -> None:
    boto3.client("eks", region_name=REGION).create_cluster(
        name="managed", roleArn=ROLE, resourcesVpcConfig={"subnetIds": []}
    )
    with pytest.raises(errors.ClusterConnectError, match="not a registered"):
        rc.RegisteredClusterProvider().read("managed", {})


def test_delete_deregisters_and_not_found_is_success(sandbox: str) -> None:
    provider = rc.RegisteredClusterProvider()
    outs = provider.create(dict(NEWS)).outs or {}
    provider.delete("edge", outs)
    assert registrations.registration(REGION, "edge") is None
    provider.delete("edge", outs)


def test_diff_decides_from_the_state_and_update_records_a_late_connection(sandbox: str) -> None:
    provider = rc.RegisteredClusterProvider()
    outs = provider.create(dict(NEWS)).outs or {}
    stale = {**outs, "activation_expiry": iso(0)}
    with socket_calls_refused():
        result = provider.diff("edge", stale, dict(NEWS))
    assert (result.changes, result.replaces) == (True, [])
    assert registrations.connect(REGION, "edge", outs["activation_id"], outs["activation_code"])
    updated = provider.update("edge", stale, dict(NEWS)).outs or {}
    assert (updated["status"], updated["activation_id"]) == ("ACTIVE", outs["activation_id"])
    assert provider.diff("edge", updated, dict(NEWS)).changes is False


def test_update_records_an_expiry_eks_confirms_and_the_next_diff_replaces(sandbox: str) -> None:
    provider = rc.RegisteredClusterProvider()
    outs = provider.create(dict(NEWS)).outs or {}
    stale = {**outs, "activation_expiry": iso(0)}
    SETTINGS.inject(Fault("expire_activation", target="edge"))
    updated = provider.update("edge", stale, dict(NEWS)).outs or {}
    assert (updated["status"], updated["activation_id"]) == ("FAILED", outs["activation_id"])
    assert provider.diff("edge", updated, dict(NEWS)).replaces == ["status"]


def test_the_wait_returns_active_and_fails_early_on_expiry(sandbox: str) -> None:
    outs = rc.RegisteredClusterProvider().create(dict(NEWS)).outs or {}
    wait = connection_wait.ConnectionWaitProvider()
    props = {"cluster_name": "edge", "activation_id": outs["activation_id"], "timeout_seconds": 5.0}
    registrations.connect(REGION, "edge", outs["activation_id"], outs["activation_code"])
    assert (wait.create(dict(props)).outs or {})["status"] == "ACTIVE"
    SETTINGS.inject(Fault("expire_activation", target="late"))
    late = rc.RegisteredClusterProvider().create({**NEWS, "cluster_name": "late"}).outs or {}
    with pytest.raises(errors.LifecycleFailed, match="expired"):
        wait.create({"cluster_name": "late", "activation_id": late["activation_id"], "timeout_seconds": 5.0})


def test_the_wait_times_out_with_a_hint(sandbox: str) -> None:
    outs = rc.RegisteredClusterProvider().create(dict(NEWS)).outs or {}
    props = {"cluster_name": "edge", "activation_id": outs["activation_id"], "timeout_seconds": 0.2}
    with pytest.raises(errors.WaitTimeout, match="connector-init"):
        connection_wait.ConnectionWaitProvider().create(props)


def test_providers_pickle_small_and_without_clients() -> None:
    provider = rc.RegisteredClusterProvider()
    provider._stack_config = {"aws:region": REGION}
    assert len(dill.dumps(provider, recurse=True)) < 4096
    assert len(dill.dumps(connection_wait.ConnectionWaitProvider(), recurse=True)) < 4096

"""The sandbox's connected-cluster API: rules, lifecycle, faults, and botocore's exact contract."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import botocore.model
import botocore.session
import pytest

from pulumi_cluster_connect.components import connector_manifest
from pulumi_cluster_connect.sandbox import agent
from pulumi_cluster_connect.sandbox.aws import accounts, exceptions, messages, registrations, server
from pulumi_cluster_connect.sandbox.aws.call import Call
from pulumi_cluster_connect.sandbox.aws.settings import SETTINGS, Fault

from .. import contract

REGION = "us-west-2"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


@pytest.fixture
def eks(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "sandbox")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "sandbox-secret")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    server.reset()
    yield boto3.client("eks", region_name=REGION, endpoint_url=endpoint)
    server.reset()


@pytest.fixture
def role_arn(endpoint: str, eks: Any) -> str:
    iam = boto3.client("iam", region_name=REGION, endpoint_url=endpoint)
    return str(iam.create_role(RoleName="eks-connector-agent", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"])


def call(operation: str, body: dict[str, Any] | None = None, **path: str) -> Call:
    return Call(operation, REGION, path_params=dict(path), body=body or {})


def register_body(name: str, role_arn: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "connectorConfig": {"provider": "OTHER", "roleArn": role_arn}, **extra}


def register(name: str, role_arn: str, **extra: Any) -> dict[str, Any]:
    """The `cluster` of a RegisterCluster answer."""
    cluster: dict[str, Any] = registrations.register_cluster(
        call("RegisterCluster", register_body(name, role_arn, **extra))
    )["cluster"]
    return cluster


def output_problems(operation: str, body: dict[str, Any]) -> list[str]:
    # EKS sends timestamps as epoch seconds, and so must these handlers.
    return contract.output_problems(operation, body, epoch_only=True)


def assert_modelled_error(err: exceptions.EksError, operation: str | None = None) -> None:
    assert contract.error_problems(err.code, err.status, operation) == []


def test_register_cluster_answers_in_the_exact_output_shape(role_arn: str) -> None:
    body = registrations.register_cluster(call("RegisterCluster", register_body("edge", role_arn, tags={"team": "a"})))
    assert output_problems("RegisterCluster", body) == []
    connector = body["cluster"]["connectorConfig"]
    assert body["cluster"]["status"] == "PENDING"
    assert connector["activationCode"] and connector["activationId"]
    assert connector["activationExpiry"] > time.time() + 3600


def test_describe_list_and_deregister_answer_in_the_exact_output_shapes(role_arn: str) -> None:
    register("edge", role_arn)
    described = registrations.describe_cluster(call("DescribeCluster", name="edge"))
    assert described is not None
    assert output_problems("DescribeCluster", described) == []
    assert "activationCode" not in described["cluster"]["connectorConfig"]
    listed = registrations.list_clusters(Call("ListClusters", REGION, query={"include": ["all"]}))
    assert listed is not None
    assert output_problems("ListClusters", listed) == []
    gone = registrations.deregister_cluster(call("DeregisterCluster", name="edge"))
    assert output_problems("DeregisterCluster", gone) == []
    assert gone["cluster"]["status"] == "DELETING"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"name": "-bad", "connectorConfig": {"provider": "OTHER", "roleArn": "ROLE"}},
            "InvalidParameterException",
        ),
        (
            {"name": "x" * 101, "connectorConfig": {"provider": "OTHER", "roleArn": "ROLE"}},
            "InvalidParameterException",
        ),
        (
            {"name": "ok", "connectorConfig": {"provider": "K3S", "roleArn": "ROLE"}},
            "InvalidParameterException",
        ),
        (
            {"name": "ok", "connectorConfig": {"provider": "OTHER", "roleArn": "not-an-arn"}},
            "InvalidParameterException",
        ),
        (
            {
                "name": "ok",
                "connectorConfig": {"provider": "OTHER", "roleArn": "ROLE"},
                "tags": {f"k{i}": "v" for i in range(51)},
            },
            "InvalidParameterException",
        ),
        (
            {
                "name": "ok",
                "connectorConfig": {"provider": "OTHER", "roleArn": "ROLE"},
                "tags": {"k" * 129: "v"},
            },
            "InvalidParameterException",
        ),
        (
            {
                "name": "ok",
                "connectorConfig": {"provider": "OTHER", "roleArn": "ROLE"},
                "tags": {"k": "v" * 257},
            },
            "InvalidParameterException",
        ),
    ],
)
def test_register_cluster_rejects_what_the_api_rejects(role_arn: str, body: dict[str, Any], expected: str) -> None:
    config = body["connectorConfig"]
    if config["roleArn"] == "ROLE":
        config["roleArn"] = role_arn
    with pytest.raises(exceptions.EksError) as raised:
        registrations.register_cluster(call("RegisterCluster", body))
    assert raised.value.code == expected
    assert_modelled_error(raised.value, "RegisterCluster")


def test_register_cluster_needs_a_role_that_trusts_ssm(endpoint: str, eks: Any) -> None:
    iam = boto3.client("iam", region_name=REGION, endpoint_url=endpoint)
    other = iam.create_role(RoleName="not-for-ssm", AssumeRolePolicyDocument=TRUST.replace("ssm.", "ec2."))
    with pytest.raises(exceptions.InvalidRequestException) as raised:
        register("edge", other["Role"]["Arn"])
    assert raised.value.message == messages.ROLE_PROPAGATING


def test_register_cluster_needs_the_role_to_exist(eks: Any) -> None:
    with pytest.raises(exceptions.InvalidRequestException) as raised:
        register("edge", "arn:aws:iam::123456789012:role/nope")
    assert raised.value.message.startswith("Not existing role")
    # Unmodelled for RegisterCluster, as on real AWS, but a shape the model knows.
    assert_modelled_error(raised.value)


def test_a_duplicate_name_is_in_use(role_arn: str) -> None:
    register("edge", role_arn)
    with pytest.raises(exceptions.ResourceInUseException) as raised:
        register("edge", role_arn)
    assert_modelled_error(raised.value, "RegisterCluster")


def test_the_eleventh_registration_in_a_region_exceeds_the_limit(role_arn: str) -> None:
    for index in range(10):
        register(f"c{index}", role_arn)
    with pytest.raises(exceptions.ResourceLimitExceededException) as raised:
        register("c10", role_arn)
    assert_modelled_error(raised.value, "RegisterCluster")
    other = Call("RegisterCluster", "eu-west-1", body=register_body("c10", role_arn))
    assert registrations.register_cluster(other)["cluster"]["name"] == "c10"


def test_the_same_client_request_token_returns_the_same_registration(role_arn: str) -> None:
    first = register("edge", role_arn, clientRequestToken="t1")
    again = register("edge", role_arn, clientRequestToken="t1")
    assert again["connectorConfig"] == first["connectorConfig"]
    with pytest.raises(exceptions.InvalidParameterException):
        register("other", role_arn, clientRequestToken="t1")


def test_a_token_is_remembered_after_its_registration_is_gone(role_arn: str) -> None:
    SETTINGS.durations.update({"cluster_deregister": 0})
    first = register("edge", role_arn, clientRequestToken="t1")
    registrations.deregister_cluster(call("DeregisterCluster", name="edge"))
    again = register("edge", role_arn, clientRequestToken="t1")
    assert again == first, "the first answer again, not a new registration"
    assert registrations.describe_cluster(call("DescribeCluster", name="edge")) is None
    with pytest.raises(exceptions.InvalidParameterException):
        register("edge", role_arn, clientRequestToken="t1", tags={"team": "b"})
    assert register("edge", role_arn, clientRequestToken="t2")["connectorConfig"] != first["connectorConfig"]


def test_a_deregistered_cluster_is_deleting_for_the_deregister_duration_then_gone(role_arn: str) -> None:
    SETTINGS.durations.update({"cluster_deregister": 0.3})
    register("edge", role_arn)
    assert registrations.deregister_cluster(call("DeregisterCluster", name="edge"))["cluster"]["status"] == "DELETING"
    during = registrations.describe_cluster(call("DescribeCluster", name="edge"))
    assert during is not None
    assert during["cluster"]["status"] == "DELETING"
    with pytest.raises(exceptions.ResourceInUseException):
        register("edge", role_arn)
    time.sleep(0.4)
    assert registrations.describe_cluster(call("DescribeCluster", name="edge")) is None
    assert register("edge", role_arn)["status"] == "PENDING"


def test_connect_turns_a_pending_registration_active(role_arn: str) -> None:
    config = register("edge", role_arn)["connectorConfig"]
    assert not registrations.connect(REGION, "edge", config["activationId"], "wrong-code")
    assert not registrations.connect(REGION, "edge", "wrong-id", config["activationCode"])
    assert not registrations.connect("eu-west-1", "edge", config["activationId"], config["activationCode"])
    assert registrations.connect(REGION, None, config["activationId"], config["activationCode"])
    described = registrations.describe_cluster(call("DescribeCluster", name="edge"))
    assert described is not None
    assert described["cluster"]["status"] == "ACTIVE"


def test_an_activation_that_expires_unconnected_fails(role_arn: str) -> None:
    SETTINGS.durations.update({"activation_lifetime": 0.2})
    config = register("edge", role_arn)["connectorConfig"]
    time.sleep(0.3)
    described = registrations.describe_cluster(call("DescribeCluster", name="edge"))
    assert described is not None
    assert described["cluster"]["status"] == "FAILED"
    assert not registrations.connect(REGION, "edge", config["activationId"], config["activationCode"])


def test_the_expire_activation_fault_makes_the_next_registration_of_that_name_expired(role_arn: str) -> None:
    SETTINGS.inject(Fault("expire_activation", target="edge"))
    assert register("other", role_arn)["status"] == "PENDING"
    expired = register("edge", role_arn)
    assert expired["status"] == "FAILED"
    assert expired["connectorConfig"]["activationExpiry"] <= time.time()


def test_the_expire_activation_fault_expires_an_existing_registration(role_arn: str) -> None:
    register("edge", role_arn)
    SETTINGS.inject(Fault("expire_activation", target="edge"))
    described = registrations.describe_cluster(call("DescribeCluster", name="edge"))
    assert described is not None
    assert described["cluster"]["status"] == "FAILED"


def test_the_role_propagation_fault_fires_count_times(role_arn: str) -> None:
    SETTINGS.inject(Fault("role_propagation", target="edge", count=2))
    for _ in range(2):
        with pytest.raises(exceptions.InvalidRequestException, match="Nonexistent role"):
            register("edge", role_arn)
    assert register("edge", role_arn)["name"] == "edge"


def test_describe_cluster_falls_through_to_moto_for_other_clusters(eks: Any) -> None:
    assert registrations.describe_cluster(call("DescribeCluster", name="managed")) is None
    assert registrations.list_clusters(Call("ListClusters", REGION)) is None


def test_boto3_sees_registrations_through_the_endpoint(eks: Any, role_arn: str) -> None:
    eks.create_cluster(name="managed", roleArn=role_arn, resourcesVpcConfig={"subnetIds": []})
    registered = eks.register_cluster(name="edge", connectorConfig={"provider": "GKE", "roleArn": role_arn})
    assert registered["cluster"]["connectorConfig"]["activationCode"]
    assert eks.describe_cluster(name="edge")["cluster"]["status"] == "PENDING"
    assert eks.describe_cluster(name="managed")["cluster"]["name"] == "managed"
    assert eks.list_clusters()["clusters"] == ["managed"]
    assert eks.list_clusters(include=["all"])["clusters"] == ["managed", "edge"]
    first = eks.list_clusters(include=["all"], maxResults=1)
    assert first["clusters"] == ["managed"]
    second = eks.list_clusters(include=["all"], maxResults=1, nextToken=first["nextToken"])
    assert second["clusters"] == ["edge"]
    assert "nextToken" not in second
    with pytest.raises(eks.exceptions.ResourceInUseException):
        eks.register_cluster(name="managed", connectorConfig={"provider": "GKE", "roleArn": role_arn})
    SETTINGS.durations.update({"cluster_deregister": 0})
    eks.deregister_cluster(name="edge")
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.deregister_cluster(name="edge")
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        eks.register_cluster(name="edge", connectorConfig={"provider": "GKE", "roleArn": role_arn + "x"})
    assert raised.value.response["Error"]["Code"] == "InvalidRequestException"


# what EKS refuses for a registered cluster, through boto3 -------------------------------------------


def error_of(call: Any) -> tuple[str, str, int]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def recorded(eks: Any) -> Iterator[contract.Recorder]:
    """The test's EKS answers, each checked against the model (errors among those the operation declares)."""
    recorder = contract.Recorder()
    recorder.attach(eks)
    yield recorder
    assert recorder.violations(epoch_only=True) == []


def test_create_cluster_with_a_registered_cluster_name_is_in_use(
    eks: Any, role_arn: str, recorded: contract.Recorder
) -> None:
    eks.register_cluster(name="edge", connectorConfig={"provider": "OTHER", "roleArn": role_arn})
    refused = error_of(lambda: eks.create_cluster(name="edge", roleArn=role_arn, resourcesVpcConfig={}))
    assert refused == ("ResourceInUseException", messages.CLUSTER_NAME_IN_USE.format(name="edge"), 409)
    assert eks.create_cluster(name="managed", roleArn=role_arn, resourcesVpcConfig={})["cluster"]["name"] == "managed"


@pytest.mark.parametrize(
    ("operation", "attempt"),
    [
        ("UpdateClusterVersion", lambda eks: eks.update_cluster_version(name="edge", version="1.31")),
        (
            "CreateFargateProfile",
            lambda eks: eks.create_fargate_profile(
                clusterName="edge",
                fargateProfileName="web",
                podExecutionRoleArn="arn:aws:iam::123456789012:role/pods",
                selectors=[{"namespace": "apps"}],
            ),
        ),
        ("DeleteCluster", lambda eks: eks.delete_cluster(name="edge")),
    ],
    ids=["UpdateClusterVersion", "CreateFargateProfile", "DeleteCluster"],
)
def test_operations_of_eks_run_clusters_on_a_registered_cluster_point_to_deregister(
    eks: Any, role_arn: str, recorded: contract.Recorder, operation: str, attempt: Any
) -> None:
    eks.register_cluster(name="edge", connectorConfig={"provider": "OTHER", "roleArn": role_arn})
    code, message, status = error_of(lambda: attempt(eks))
    assert (code, status) == ("InvalidRequestException", 400)
    assert message == messages.NOT_FOR_CONNECTED.format(name="edge", operation=operation)
    assert "DeregisterCluster" in message
    assert json.loads(recorded.exchanges[-1].body)["clusterName"] == "edge"
    assert eks.describe_cluster(name="edge")["cluster"]["status"] == "PENDING", "the registration is untouched"


def test_deregistering_a_cluster_eks_runs_is_refused_pointing_to_delete_cluster(
    eks: Any, role_arn: str, recorded: contract.Recorder
) -> None:
    eks.create_cluster(name="managed", roleArn=role_arn, resourcesVpcConfig={})
    refused = error_of(lambda: eks.deregister_cluster(name="managed"))
    assert refused == ("ClientException", messages.NOT_REGISTERED.format(name="managed"), 400)
    assert eks.describe_cluster(name="managed")["cluster"]["status"] == "ACTIVE"


def test_describe_cluster_shows_a_deregistration_deleting_until_it_is_gone(
    eks: Any, role_arn: str, recorded: contract.Recorder
) -> None:
    SETTINGS.durations.update({"cluster_deregister": 0.3})
    eks.register_cluster(name="edge", connectorConfig={"provider": "OTHER", "roleArn": role_arn})
    assert eks.deregister_cluster(name="edge")["cluster"]["status"] == "DELETING"
    assert eks.describe_cluster(name="edge")["cluster"]["status"] == "DELETING"
    assert eks.list_clusters(include=["all"])["clusters"] == ["edge"]
    time.sleep(0.4)
    assert error_of(lambda: eks.describe_cluster(name="edge"))[0] == "ResourceNotFoundException"


def test_requests_signed_for_another_account_are_answered_in_that_account(
    endpoint: str, eks: Any, role_arn: str
) -> None:
    admin = accounts.role("111111111111", "admin", [accounts.HUB_ACCOUNT], endpoint=endpoint)  # STS checks its trust
    sts = boto3.client("sts", region_name=REGION, endpoint_url=endpoint)
    keys = sts.assume_role(RoleArn=admin, RoleSessionName="test")["Credentials"]
    other = boto3.session.Session(
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
        region_name=REGION,
    )
    trust = other.client("iam", endpoint_url=endpoint).create_role(RoleName="agent", AssumeRolePolicyDocument=TRUST)
    theirs = other.client("eks", endpoint_url=endpoint)
    theirs.create_cluster(name="prod", version="1.29", roleArn=trust["Role"]["Arn"], resourcesVpcConfig={})
    update = theirs.update_cluster_version(name="prod", version="1.30")["update"]
    registered = theirs.register_cluster(
        name="edge", connectorConfig={"provider": "OTHER", "roleArn": trust["Role"]["Arn"]}
    )
    assert theirs.describe_update(name="prod", updateId=update["id"])["update"]["id"] == update["id"]
    assert registered["cluster"]["arn"].startswith(f"arn:aws:eks:{REGION}:111111111111:cluster/")
    assert theirs.describe_cluster(name="edge")["cluster"]["status"] == "PENDING"
    assert eks.list_clusters(include=["all"])["clusters"] == [], "the default account sees none of it"


# the simulated agent ------------------------------------------------------------------------------------


class FakeCluster:
    """Just enough of a lightkube client for the agent: the two objects it reads, the secrets it writes."""

    def __init__(self, statefulset: dict[str, Any], secret: dict[str, Any]) -> None:
        self.objects = {"StatefulSet": statefulset, "Secret": secret}
        self.applied: list[str] = []

    def get(self, resource: Any, name: str, namespace: str | None = None) -> Any:
        return resource.from_dict(self.objects[resource.__name__])

    def apply(self, obj: Any, force: bool = False) -> None:
        self.applied.append(obj.metadata.name)


def connector_cluster(activation_id: str, code: str, *, key: str = "code", encode: bool = True) -> FakeCluster:
    objects = {
        (o["kind"], o["metadata"]["name"]): o
        for o in connector_manifest.render(activation_id=activation_id, activation_code=code, region=REGION)
    }
    secret = objects[("Secret", agent.ACTIVATION_SECRET)]
    secret["data"] = {key: base64.b64encode(code.encode()).decode() if encode else code}
    return FakeCluster(objects[("StatefulSet", agent.STATEFULSET)], secret)


def test_the_agent_connects_a_correctly_applied_manifest_and_saves_its_state(role_arn: str) -> None:
    config = register("edge", role_arn)["connectorConfig"]
    cluster = connector_cluster(config["activationId"], config["activationCode"])
    activation = agent.SimulatedAgent("unused").poll(cluster)  # type: ignore[arg-type]
    assert activation == agent.Activation(REGION, config["activationId"], config["activationCode"])
    assert registrations.registration(REGION, "edge").status(time.time()) == "ACTIVE"  # type: ignore[union-attr]
    assert cluster.applied == list(agent.STATE_SECRETS)


def test_an_agent_with_a_connect_delay_connects_only_that_long_after_it_first_saw_the_activation(
    role_arn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = register("edge", role_arn)["connectorConfig"]
    cluster = connector_cluster(config["activationId"], config["activationCode"])
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    delayed = agent.SimulatedAgent("unused", connect_delay=15.0)

    assert delayed.poll(cluster) is None  # type: ignore[arg-type]
    now[0] += 14.9
    assert delayed.poll(cluster) is None  # type: ignore[arg-type]
    assert registrations.registration(REGION, "edge").connected_at is None  # type: ignore[union-attr]
    now[0] += 0.1
    assert delayed.poll(cluster) is not None  # type: ignore[arg-type]
    assert registrations.registration(REGION, "edge").status(time.time()) == "ACTIVE"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "fault",
    ["wrong key", "wrong encoding", "mismatched id", "wrong code", "expired"],
)
def test_the_agent_does_not_connect_a_broken_manifest(role_arn: str, fault: str) -> None:
    if fault == "expired":
        SETTINGS.inject(Fault("expire_activation", target="edge"))
    config = register("edge", role_arn)["connectorConfig"]
    activation_id, code = config["activationId"], config["activationCode"]
    cluster = {
        "wrong key": lambda: connector_cluster(activation_id, code, key="activationCode"),
        "wrong encoding": lambda: connector_cluster(activation_id, base64.b64encode(code.encode()).decode()),
        "mismatched id": lambda: connector_cluster("7d1c9e4a-0000-4000-8000-000000000000", code),
        "wrong code": lambda: connector_cluster(activation_id, code + "x"),
        "expired": lambda: connector_cluster(activation_id, code),
    }[fault]()
    assert agent.SimulatedAgent("unused").poll(cluster) is None  # type: ignore[arg-type]
    assert registrations.registration(REGION, "edge").connected_at is None  # type: ignore[union-attr]
    assert cluster.applied == []


def test_the_agent_reads_nothing_from_an_unwired_statefulset() -> None:
    objects = {
        o["kind"]: o
        for o in connector_manifest.render(activation_id="id", activation_code="code", region=REGION)
        if o["kind"] in ("StatefulSet",)
    }
    statefulset = objects["StatefulSet"]
    init = statefulset["spec"]["template"]["spec"]["initContainers"][0]
    init["env"][1]["valueFrom"]["secretKeyRef"]["name"] = "another-secret"
    secret = {"data": {"code": base64.b64encode(b"code").decode()}}
    assert agent.activation_of(statefulset, secret) is None
    init["env"] = []
    assert agent.activation_of(statefulset, secret) is None

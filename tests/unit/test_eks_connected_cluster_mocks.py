"""EksConnectedCluster's wiring under pulumi's mocks: the pulumi-aws agent role path and argument checks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest

from pulumi_cluster_connect.components import eks_connected_cluster as ecc

KUBECONFIG = (
    "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
    "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:6443'}}]\nusers: [{name: u, user: {token: t0ken}}]\n"
)


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.created: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.created.append(args)
        outputs = dict(args.inputs)
        if args.typ == "aws:iam/role:Role":
            outputs["arn"] = f"arn:aws:iam::123456789012:role/{args.name}-abc123"
        if args.typ.endswith("RegisteredCluster"):
            outputs.update(
                arn="arn:aws:eks:us-west-2:123456789012:cluster/edge",
                status="PENDING",
                activation_id="2b1f6c0e-0000-4000-8000-000000000000",
                activation_code="secret-code",
                activation_expiry="2030-01-01T00:00:00Z",
                region="us-west-2",
            )
        if args.typ.endswith("ConnectionWait"):
            outputs["status"] = "ACTIVE"
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None

    def of_type(self, suffix: str) -> list[pulumi.runtime.MockResourceArgs]:
        return [r for r in self.created if r.typ.endswith(suffix)]


@pytest.fixture
def mocks() -> Iterator[Mocks]:
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="proj", stack="dev", preview=False)
    yield mocks


def resolved(output: pulumi.Output[Any]) -> Any:
    """The value of an output, once every mocked resource has been registered."""
    future: Any = None

    def keep(value: Any) -> None:
        nonlocal future
        future = value

    output.apply(keep)
    pulumi.runtime.sync_await._sync_await(pulumi.runtime.stack.wait_for_rpcs())
    return future


def args(**overrides: Any) -> ecc.EksConnectedClusterArgs:
    base: dict[str, Any] = {
        "cluster_name": "edge",
        "kubeconfig": KUBECONFIG,
        "connector_provider": "OTHER",
        "region": "us-west-2",
    }
    return ecc.EksConnectedClusterArgs(**{**base, **overrides})  # type: ignore[typeddict-item]


def test_without_a_role_arn_the_component_makes_the_agent_role_and_policy(mocks: Mocks) -> None:
    cluster = ecc.EksConnectedCluster("edge", args(tags={"team": "platform"}))
    assert resolved(cluster.role_arn).startswith("arn:aws:iam::123456789012:role/edge-agent-role")
    (role,) = mocks.of_type("aws:iam/role:Role")
    assert role.name == "edge-agent-role"
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    assert role.inputs["tags"] == {"team": "platform", ecc.CLUSTER_NAME_TAG: "edge"}
    (policy,) = mocks.of_type("aws:iam/rolePolicy:RolePolicy")
    assert policy.name == "edge-agent-policy"
    statements = json.loads(policy.inputs["policy"])["Statement"]
    assert statements[0]["Action"] == ["ssmmessages:CreateControlChannel"]
    assert statements[0]["Resource"] == "arn:aws:eks:*:*:cluster/*"
    assert sorted(statements[1]["Action"]) == [
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
    ]
    (registration,) = mocks.of_type("RegisteredCluster")
    assert registration.inputs["role_arn"] == resolved(cluster.role_arn)


def test_the_registration_waits_for_the_policy_and_children_are_parented_and_named(mocks: Mocks) -> None:
    cluster = ecc.EksConnectedCluster("edge", args())
    assert resolved(cluster.status) == "ACTIVE"
    names = sorted(r.name for r in mocks.created if r.typ != ecc.TYPE_TOKEN)
    assert names == sorted(
        ["edge-agent-role", "edge-agent-policy", "edge-registration", "edge-connector", "edge-connection"]
    )
    assert {r.custom for r in mocks.created if r.typ != ecc.TYPE_TOKEN} == {True}
    (component,) = [r for r in mocks.created if r.typ == ecc.TYPE_TOKEN]
    assert component.name == "edge"


def test_a_given_role_arn_makes_no_role(mocks: Mocks) -> None:
    role = "arn:aws:iam::123456789012:role/eks-connector-agent"
    cluster = ecc.EksConnectedCluster("edge", args(role_arn=role))
    assert resolved(cluster.role_arn) == role
    assert mocks.of_type("aws:iam/role:Role") == []
    assert mocks.of_type("aws:iam/rolePolicy:RolePolicy") == []


def test_the_partition_follows_the_region() -> None:
    assert ecc.partition_of("cn-north-1") == "aws-cn"
    assert ecc.partition_of("us-gov-west-1") == "aws-us-gov"
    assert ecc.partition_of(None) == "aws"
    assert "arn:aws-cn:eks:*:*:cluster/*" in ecc.agent_policy("aws-cn")


def test_the_wait_can_be_turned_off(mocks: Mocks) -> None:
    cluster = ecc.EksConnectedCluster("edge", args(wait_for_active=False))
    assert resolved(cluster.status) == "PENDING"
    assert mocks.of_type("ConnectionWait") == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"connector_provider": "K3S"}, "connector_provider"),
        ({"cluster_name": "my.cluster"}, "cluster_name"),
        ({"console_access_arns": ["arn:aws:iam::123456789012:group/devs"]}, "console_access_arns[0]"),
        ({"console_access_arns": "arn:aws:iam::123456789012:user/alice"}, "console_access_arns: must be a list"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"timeout_seconds": "600"}, "timeout_seconds"),
        ({"kubeconfig": None}, "kubeconfig"),
        ({"kubeconfig": "users: [\n  - token: t0ken: ]"}, "not valid YAML"),
        ({"tags": ["team=a"]}, "tags: must be a map"),
        ({"role_arn": 12.0}, "role_arn"),
        ({"wait_for_active": "yes"}, "wait_for_active"),
        ({"rolearn": "x"}, "rolearn: is not an argument"),
    ],
)
def test_bad_arguments_are_rejected_before_any_resource(mocks: Mocks, overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(pulumi.InputPropertiesError, match=re.escape(message)) as raised:
        ecc.EksConnectedCluster("edge", args(**overrides))
    assert mocks.created == []
    assert "t0ken" not in str(raised.value)
    assert raised.value.errors and {e["property_path"].split("[")[0] for e in raised.value.errors} <= {
        *ecc.EksConnectedClusterArgs.__annotations__,
        "rolearn",
    }


def test_every_bad_argument_is_reported_at_once_and_the_language_host_prints_it_cleanly(mocks: Mocks) -> None:
    with pytest.raises(pulumi.InputPropertiesError) as raised:
        ecc.EksConnectedCluster("edge", args(connector_provider="K3S", timeout_seconds=-1, tags="x"))
    assert [e["property_path"] for e in raised.value.errors or []] == ["connector_provider", "tags", "timeout_seconds"]
    # A RunError is reported by the language host as its message, without a Python traceback.
    assert isinstance(raised.value, pulumi.RunError)


def test_a_kubeconfig_map_as_pulumi_eks_outputs_it_is_accepted(mocks: Mocks) -> None:
    import yaml

    cluster = ecc.EksConnectedCluster("edge", args(kubeconfig=yaml.safe_load(KUBECONFIG)))
    assert resolved(cluster.status) == "ACTIVE"
    assert len(mocks.of_type("Manifest")) == 1


def test_arguments_still_unknown_are_left_to_the_providers(mocks: Mocks) -> None:
    late = pulumi.Output.from_input("arn:aws:iam::123456789012:user/alice")
    cluster = ecc.EksConnectedCluster("edge", args(console_access_arns=[late], role_arn=pulumi.Output.from_input("r")))
    assert resolved(cluster.status) == "ACTIVE"
    assert len(mocks.of_type("RegisteredCluster")) == 1

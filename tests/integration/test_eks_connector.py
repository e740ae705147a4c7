"""EksConnectedCluster through the real engine: sandbox EKS, a real kube-apiserver and the simulated agent."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import lightkube
import pulumi
import pytest
from lightkube.core.exceptions import ApiError
from lightkube.resources.apps_v1 import StatefulSet
from lightkube.resources.core_v1 import Namespace, Secret
from lightkube.resources.rbac_authorization_v1 import ClusterRole
from pulumi import automation as auto

from pulumi_cluster_connect._plumbing import kube as kube_clients
from pulumi_cluster_connect.components.eks_connected_cluster import EksConnectedCluster
from pulumi_cluster_connect.sandbox import agent as simulated
from pulumi_cluster_connect.sandbox import kubernetes
from pulumi_cluster_connect.sandbox.aws import registrations
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl
from pulumi_cluster_connect.sandbox.stacks import StackFactory, TestStack

REGION = "us-west-2"
CONSOLE_USER = "arn:aws:iam::123456789012:user/alice"
CONSOLE_SESSION = "arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


@pytest.fixture
def role_arn(aws: SandboxControl, aws_endpoint: str) -> str:
    iam = boto3.client("iam", region_name=REGION, endpoint_url=aws_endpoint)
    role = iam.create_role(RoleName="eks-connector-agent", AssumeRolePolicyDocument=json.dumps(TRUST))
    return str(role["Role"]["Arn"])


@pytest.fixture
def eks(aws_endpoint: str) -> Any:
    return boto3.client("eks", region_name=REGION, endpoint_url=aws_endpoint)


@pytest.fixture
def k8s(kube: kubernetes.ControlPlane) -> lightkube.Client:
    return kube_clients.client(kube.kubeconfig_text())


@dataclass
class World:
    """Everything a connector test touches: the engine, the sandbox, the cluster and its agent."""

    stacks: StackFactory
    kube: kubernetes.ControlPlane
    aws: SandboxControl
    agent: simulated.SimulatedAgent
    role_arn: str
    eks: Any
    k8s: lightkube.Client


@pytest.fixture
def world(
    *,
    stacks: StackFactory,
    kube: kubernetes.ControlPlane,
    aws: SandboxControl,
    agent: simulated.SimulatedAgent,
    role_arn: str,
    eks: Any,
    k8s: lightkube.Client,
) -> World:
    return World(stacks, kube, aws, agent, role_arn, eks, k8s)


def program(
    kube: kubernetes.ControlPlane, role_arn: str, cluster_name: str, provider: str = "OTHER"
) -> Callable[[], None]:
    def run() -> None:
        cluster = EksConnectedCluster(
            "edge",
            {
                "cluster_name": cluster_name,
                "kubeconfig": pulumi.Output.secret(kube.kubeconfig_text()),
                "connector_provider": provider,
                "role_arn": role_arn,
                "region": REGION,
                "console_access_arns": [CONSOLE_USER, CONSOLE_SESSION],
                "timeout_seconds": 60,
            },
        )
        pulumi.export("status", cluster.status)
        pulumi.export("arn", cluster.arn)
        pulumi.export("activation_id", cluster.activation_id)

    return run


def exists(client: lightkube.Client, resource: Any, name: str, namespace: str | None = None) -> bool:
    try:
        client.get(resource, name, namespace=namespace)
    except ApiError as err:
        if err.status.code == 404:
            return False
        raise
    return True


def init_env(client: lightkube.Client) -> dict[str, Any]:
    statefulset = client.get(StatefulSet, "eks-connector", namespace="eks-connector")
    assert statefulset.spec is not None and statefulset.spec.template.spec is not None
    init = (statefulset.spec.template.spec.initContainers or [])[0]
    return {e.name: e.value for e in init.env or []}


def assert_no_secrets_leak(stack: TestStack, kube: kubernetes.ControlPlane, codes: list[str]) -> None:
    state, output = stack.state_text(), stack.output
    for secret in [kube.token, *codes, *(base64.b64encode(c.encode()).decode() for c in codes)]:
        assert secret not in state
        assert secret not in output


def assert_nothing_left(eks: Any, k8s: lightkube.Client, cluster_name: str) -> None:
    assert cluster_name not in eks.list_clusters(include=["all"])["clusters"]
    assert not exists(k8s, Namespace, "eks-connector")
    for role in ("eks-connector-service", "eks-connector-cluster-meta-access"):
        assert not exists(k8s, ClusterRole, role)


def destroyed(stack: TestStack) -> None:
    stack.destroy()
    stack.stack.workspace.remove_stack(stack.stack.name)


def test_up_connects_through_iam_propagation_then_preview_is_clean_and_destroy_leaves_nothing(world: World) -> None:
    world.aws.inject("role_propagation", "RegisterCluster", "edge-a", count=2)
    stack = world.stacks.inline(program(world.kube, world.role_arn, "edge-a"))
    try:
        result = stack.up()
        assert result.outputs["status"].value == "ACTIVE"
        assert world.eks.describe_cluster(name="edge-a")["cluster"]["status"] == "ACTIVE"
        registration = registrations.registration(REGION, "edge-a")
        assert registration is not None
        assert init_env(world.k8s)["EKS_ACTIVATION_ID"] == registration.activation_id
        for state_secret in simulated.STATE_SECRETS:
            assert exists(world.k8s, Secret, state_secret, "eks-connector")
        impersonation = world.k8s.get(ClusterRole, "eks-connector-service")
        assert impersonation.rules is not None
        assert impersonation.rules[0].resourceNames == sorted([CONSOLE_USER, "arn:aws:iam::123456789012:role/Admin"])
        assert "IAM is still propagating" in stack.output

        preview = stack.preview()
        assert set(preview.change_summary) == {auto.OpType.SAME}, preview.change_summary
        assert_no_secrets_leak(stack, world.kube, [registration.activation_code])
    finally:
        destroyed(stack)
    assert_nothing_left(world.eks, world.k8s, "edge-a")


def test_changing_the_connector_provider_replaces_and_reconnects(world: World) -> None:
    stack = world.stacks.inline(program(world.kube, world.role_arn, "edge-b"))
    try:
        first = stack.up().outputs["activation_id"].value
        first_code = registrations.registration(REGION, "edge-b").activation_code  # type: ignore[union-attr]
        stack.stack.workspace.program = program(world.kube, world.role_arn, "edge-b", provider="GKE")
        preview = stack.preview()
        assert preview.change_summary.get(auto.OpType.REPLACE) == 2, preview.change_summary
        result = stack.up()
        assert result.outputs["status"].value == "ACTIVE"
        second = result.outputs["activation_id"].value
        assert second != first
        cluster = world.eks.describe_cluster(name="edge-b")["cluster"]
        assert (cluster["status"], cluster["connectorConfig"]["provider"]) == ("ACTIVE", "GKE")
        # The new activation rolled the StatefulSet.
        assert init_env(world.k8s)["EKS_ACTIVATION_ID"] == second
        second_code = registrations.registration(REGION, "edge-b").activation_code  # type: ignore[union-attr]
        assert_no_secrets_leak(stack, world.kube, [first_code, second_code])
    finally:
        destroyed(stack)
    assert_nothing_left(world.eks, world.k8s, "edge-b")


def test_an_expired_activation_fails_clearly_and_is_re_registered_by_the_next_up(world: World) -> None:
    world.aws.inject("expire_activation", target="edge-c")
    stack = world.stacks.inline(program(world.kube, world.role_arn, "edge-c"))
    try:
        with pytest.raises(auto.CommandError, match="activation expired"):
            stack.up()
        assert world.eks.describe_cluster(name="edge-c")["cluster"]["status"] == "FAILED"
        preview = stack.preview()
        assert preview.change_summary.get(auto.OpType.REPLACE, 0) >= 1, preview.change_summary
        assert "re-registering" in stack.output
        result = stack.up()
        assert result.outputs["status"].value == "ACTIVE"
        assert world.eks.describe_cluster(name="edge-c")["cluster"]["status"] == "ACTIVE"
    finally:
        destroyed(stack)
    assert_nothing_left(world.eks, world.k8s, "edge-c")


def test_refresh_after_an_out_of_band_deregistration_drops_it(world: World) -> None:
    stack = world.stacks.inline(program(world.kube, world.role_arn, "edge-d"))
    try:
        stack.up()
        world.eks.deregister_cluster(name="edge-d")
        stack.refresh()
        assert stack.resources("RegisteredCluster") == []
        assert stack.resources("ConnectionWait") == []
        # The next up registers it again and reconnects.
        assert stack.up().outputs["status"].value == "ACTIVE"
    finally:
        destroyed(stack)
    assert_nothing_left(world.eks, world.k8s, "edge-d")

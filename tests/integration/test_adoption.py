"""Adopting what exists through the real engine, as the docs document it: `adopt_existing=True` on the resource.

Without it, a create that meets an object someone else made fails before changing anything.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

import boto3
import lightkube
import pulumi
import pytest
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap
from pulumi import automation as auto

from pulumi_cluster_connect._plumbing import ownership
from pulumi_cluster_connect.dynamic_providers import FargateProfile, KubernetesManifest, RegisteredCluster
from pulumi_cluster_connect.sandbox import kubernetes
from pulumi_cluster_connect.sandbox.aws import registrations
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl
from pulumi_cluster_connect.sandbox.stacks import StackFactory

REGION = "us-west-2"
CLUSTER = "adoption"


def trust(service: str) -> str:
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture
def eks(aws: SandboxControl, aws_endpoint: str) -> Any:
    aws.set_durations(fargate_create=0.5, fargate_delete=0.5)
    return boto3.client("eks", region_name=REGION, endpoint_url=aws_endpoint)


@pytest.fixture
def pod_role(eks: Any, fargate_cluster: Callable[[str], str]) -> str:
    """An EKS cluster on two private subnets and a pod execution role, as pulumi-aws would have made them."""
    return fargate_cluster(CLUSTER)


@pytest.fixture
def connector_role(aws: SandboxControl, aws_endpoint: str) -> str:
    iam = boto3.client("iam", region_name=REGION, endpoint_url=aws_endpoint)
    role = iam.create_role(RoleName="adoption-connector", AssumeRolePolicyDocument=trust("ssm.amazonaws.com"))
    return str(role["Role"]["Arn"])


def failing_up(stack: Any) -> str:
    with pytest.raises(auto.CommandError) as failed:
        stack.up()
    return str(failed.value)


def profile_program(role: str, adopt: bool) -> Callable[[], None]:
    def program() -> None:
        profile = FargateProfile(
            "web",
            cluster_name=CLUSTER,
            fargate_profile_name="web",
            pod_execution_role_arn=role,
            selectors=[{"namespace": "web"}],
            region=REGION,
            adopt_existing=adopt,
        )
        pulumi.export("arn", profile.arn)

    return program


def test_a_fargate_profile_made_elsewhere_is_refused_then_adopted_with_adopt(
    stacks: StackFactory, eks: Any, pod_role: str
) -> None:
    theirs = eks.create_fargate_profile(
        clusterName=CLUSTER,
        fargateProfileName="web",
        podExecutionRoleArn=pod_role,
        selectors=[{"namespace": "web"}],
        tags={"made-by": "console"},
    )["fargateProfile"]
    stack = stacks.inline(profile_program(pod_role, adopt=False))
    message = failing_up(stack)
    assert "Fargate profile web on cluster adoption already exists" in message and "adopt_existing=True" in message
    assert "pulumi import" not in message
    assert eks.list_tags_for_resource(resourceArn=theirs["fargateProfileArn"])["tags"] == {"made-by": "console"}

    stack.stack.workspace.program = profile_program(pod_role, adopt=True)
    stack.up()
    assert stack.outputs()["arn"] == theirs["fargateProfileArn"], "adopted, not made again"
    tags = eks.list_tags_for_resource(resourceArn=theirs["fargateProfileArn"])["tags"]
    assert ownership.OWNER_KEY in tags
    assert stack.preview().change_summary == {auto.OpType.SAME: 2}
    stack.destroy()
    assert eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == []


def registration_program(role: str, adopt: bool) -> Callable[[], None]:
    def program() -> None:
        registration = RegisteredCluster(
            "edge",
            cluster_name="edge-adopted",
            connector_provider="OTHER",
            role_arn=role,
            region=REGION,
            adopt_existing=adopt,
        )
        pulumi.export("activation_id", registration.activation_id)
        pulumi.export("status", registration.status)

    return program


def test_a_connected_registration_made_elsewhere_is_refused_then_adopted_with_adopt(
    stacks: StackFactory, eks: Any, connector_role: str
) -> None:
    theirs = eks.register_cluster(name="edge-adopted", connectorConfig={"provider": "OTHER", "roleArn": connector_role})
    connector = theirs["cluster"]["connectorConfig"]
    assert registrations.connect(REGION, "edge-adopted", connector["activationId"], connector["activationCode"])
    stack = stacks.inline(registration_program(connector_role, adopt=False))
    message = failing_up(stack)
    assert "EKS cluster edge-adopted is already registered" in message and "adopt_existing=True" in message

    stack.stack.workspace.program = registration_program(connector_role, adopt=True)
    outputs = stack.up().outputs
    assert outputs["activation_id"].value == connector["activationId"], "adopted, not registered again"
    assert outputs["status"].value == "ACTIVE"
    assert stack.preview().change_summary == {auto.OpType.SAME: 2}
    stack.destroy()
    assert "edge-adopted" not in eks.list_clusters(include=["all"])["clusters"]


def manifest_program(kubeconfig: str, adopt: bool) -> Callable[[], None]:
    def program() -> None:
        settings = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "adopted-settings", "namespace": "default"},
            "data": {"mode": "managed"},
        }
        manifest = KubernetesManifest("settings", kubeconfig=kubeconfig, objects=[settings], adopt_existing=adopt)
        pulumi.export("applied", manifest.applied)

    return program


def test_kubernetes_objects_made_elsewhere_are_refused_then_adopted_with_adopt(
    stacks: StackFactory, kube: kubernetes.ControlPlane
) -> None:
    client = lightkube.Client(lightkube.KubeConfig.from_dict(kube.kubeconfig()))
    metadata = ObjectMeta(name="adopted-settings", namespace="default")
    client.create(ConfigMap(metadata=metadata, data={"mode": "by-hand"}))
    try:
        stack = stacks.inline(manifest_program(kube.kubeconfig_text(), adopt=False))
        message = failing_up(stack)
        assert "v1/ConfigMap/default/adopted-settings" in message and "adopt_existing=True" in message
        untouched = client.get(ConfigMap, "adopted-settings", namespace="default")
        assert untouched.data == {"mode": "by-hand"}

        stack.stack.workspace.program = manifest_program(kube.kubeconfig_text(), adopt=True)
        stack.up()
        adopted = client.get(ConfigMap, "adopted-settings", namespace="default")
        assert adopted.data == {"mode": "managed"}
        assert adopted.metadata is not None and ownership.OWNER_KEY in (adopted.metadata.annotations or {})
        stack.destroy()
        with pytest.raises(lightkube.ApiError):
            client.get(ConfigMap, "adopted-settings", namespace="default")
    finally:
        with contextlib.suppress(lightkube.ApiError):
            client.delete(ConfigMap, "adopted-settings", namespace="default")

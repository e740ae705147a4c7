"""`pulumi up --replace` of a resource whose replacement asks for the same object (an auto-named Fargate profile
with the same inputs, a manifest of the same objects): the replacement adopts it, and the delete of the replaced
resource leaves it alone, so the world still holds what the state says."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import lightkube
import pulumi
import pytest
from lightkube.resources.core_v1 import ConfigMap

from pulumi_cluster_connect.dynamic_providers import FargateProfile, KubernetesManifest
from pulumi_cluster_connect.sandbox import kubernetes
from pulumi_cluster_connect.sandbox.stacks import StackFactory

REGION = "us-west-2"
CLUSTER = "replaced"


@pytest.fixture
def pod_role(fargate_cluster: Callable[[str], str]) -> str:
    return fargate_cluster(CLUSTER)


def urn_of(stack: Any, type_suffix: str) -> str:
    [resource] = stack.resources(type_suffix)
    return str(resource["urn"])


def test_a_forced_replacement_of_an_auto_named_profile_keeps_the_profile(
    stacks: StackFactory, pod_role: str, aws_endpoint: str
) -> None:
    def program() -> None:
        profile = FargateProfile(
            "web", cluster_name=CLUSTER, pod_execution_role_arn=pod_role, selectors=[{"namespace": "web"}]
        )
        pulumi.export("name", profile.fargate_profile_name)

    eks = boto3.client("eks", region_name=REGION, endpoint_url=aws_endpoint)
    stack = stacks.inline(program)
    name = stack.up().outputs["name"].value
    stack.up(replace=[urn_of(stack, "eks:FargateProfile")])
    assert eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == [name]
    assert "now belongs to the resource that replaced this one" in stack.output
    assert eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName=name)["fargateProfile"]["status"] == (
        "ACTIVE"
    )
    stack.destroy()
    assert eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == []


def test_a_forced_replacement_of_a_manifest_keeps_its_objects(
    stacks: StackFactory, kube: kubernetes.ControlPlane
) -> None:
    def program() -> None:
        settings = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "replaced", "namespace": "default"}}
        KubernetesManifest("settings", kubeconfig=kube.kubeconfig_text(), objects=[{**settings, "data": {"a": "b"}}])

    client = lightkube.Client(lightkube.KubeConfig.from_dict(kube.kubeconfig()))
    stack = stacks.inline(program)
    stack.up()
    stack.up(replace=[urn_of(stack, "kubernetes:Manifest")])
    assert client.get(ConfigMap, "replaced", namespace="default").data == {"a": "b"}
    stack.destroy()
    with pytest.raises(lightkube.ApiError):
        client.get(ConfigMap, "replaced", namespace="default")

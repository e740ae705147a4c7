"""Names derived from the resource, through the real engine: the preview shows the name the up really makes, and
a destroy then up asks for that name again and gets a new profile (a new request token generation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pulumi
import pytest
from pulumi import automation as auto

from pulumi_cluster_connect.dynamic_providers import FargateProfile
from pulumi_cluster_connect.sandbox.stacks import StackFactory

REGION = "us-west-2"
CLUSTER = "derived"


@pytest.fixture
def pod_role(fargate_cluster: Callable[[str], str]) -> str:
    """An EKS cluster on two private subnets and a pod execution role."""
    return fargate_cluster(CLUSTER)


def previewed_names(stack: Any) -> list[str]:
    names: list[str] = []

    def on_event(event: auto.EngineEvent) -> None:
        pre = event.resource_pre_event
        if pre is not None and pre.metadata.type.endswith("eks:FargateProfile") and pre.metadata.new is not None:
            names.append(str((pre.metadata.new.inputs or {}).get("fargate_profile_name")))

    stack.preview(on_event=on_event)
    return names


def test_the_preview_shows_the_name_the_up_makes_and_an_up_after_destroy_makes_it_again(
    stacks: StackFactory, pod_role: str, aws_endpoint: str
) -> None:
    def program() -> None:
        profile = FargateProfile(
            "web", cluster_name=CLUSTER, pod_execution_role_arn=pod_role, selectors=[{"namespace": "web"}]
        )
        pulumi.export("name", profile.fargate_profile_name)
        pulumi.export("arn", profile.arn)

    eks = boto3.client("eks", region_name=REGION, endpoint_url=aws_endpoint)
    stack = stacks.inline(program)
    [previewed] = previewed_names(stack)
    assert previewed.startswith("web-")
    first = stack.up().outputs
    assert first["name"].value == previewed
    stack.destroy()
    assert eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == []

    again = stack.up().outputs
    assert again["name"].value == previewed, "the same resource asks for the same name"
    assert again["arn"].value != first["arn"].value, "a new profile, not the replay of the one destroyed"
    live = eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName=previewed)["fargateProfile"]
    assert live["status"] == "ACTIVE" and live["fargateProfileArn"] == again["arn"].value
    stack.destroy()

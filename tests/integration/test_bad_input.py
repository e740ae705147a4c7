"""Bad input through the real engine: no crashed preview, no half-made stack, no secret echoed."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pulumi
import pytest
import yaml
from pulumi import automation as auto

from pulumi_cluster_connect.components.eks_connected_cluster import EksConnectedCluster
from pulumi_cluster_connect.dynamic_providers.cluster_version import ClusterVersion
from pulumi_cluster_connect.dynamic_providers.fargate_profile import FargateProfile
from pulumi_cluster_connect.dynamic_providers.kubernetes_manifest import KubernetesManifest
from pulumi_cluster_connect.dynamic_providers.registered_cluster import RegisteredCluster
from pulumi_cluster_connect.sandbox import seed
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl
from pulumi_cluster_connect.sandbox.stacks import StackFactory, TestStack

REGION = "us-west-2"
CLUSTER = seed.CLUSTER_NAME
TOKEN = "sha256~planted-token-0123456789abcdef"
CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}
# What grpc's server says when an exception escapes a servicer, and the start of a Python traceback.
GRPC_WRAPPING, TRACEBACK = "Exception calling application", "Traceback (most recent call last)"


def kubeconfig(server: str, token: str = TOKEN) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "c",
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
        "clusters": [{"name": "k", "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
        "users": [{"name": "u", "user": {"token": token}}],
    }


def everything_shown(stack: TestStack, failed: pytest.ExceptionInfo[auto.CommandError] | None = None) -> str:
    return stack.output + ("\n" + str(failed.value) if failed is not None else "")


@pytest.fixture
def eks(aws: SandboxControl, aws_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    # botocore reads AWS_DEFAULT_REGION, not the AWS_REGION the shared fixture sets.
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    aws.set_durations(fargate_create=0.5, fargate_delete=0.5)
    return boto3.client("eks", region_name=REGION, endpoint_url=aws_endpoint)


@pytest.fixture
def seeded(eks: Any) -> dict[str, Any]:
    """What a platform team already has: the EKS cluster `platform` on private subnets, the roles EKS trusts."""
    return seed.seed()


def manifest(given_kubeconfig: str | dict[str, Any]) -> Callable[[], None]:
    def program() -> None:
        KubernetesManifest("app", kubeconfig=given_kubeconfig, objects=[CONFIG_MAP])

    return program


def test_a_provider_error_reads_as_one_sentence_with_the_reason_and_no_secret(stacks: StackFactory) -> None:
    # A kubeconfig map (as pulumi-eks outputs it) for a server nobody listens on.
    stack = stacks.inline(manifest(kubeconfig("https://127.0.0.1:9")))
    with pytest.raises(auto.CommandError) as failed:
        stack.up()
    shown = everything_shown(stack, failed)
    # The first call is the check that the object is not someone else's, before anything is applied.
    assert "read of v1/ConfigMap/default/c failed on https://127.0.0.1:9: Unreachable: ConnectError" in shown
    assert GRPC_WRAPPING not in shown
    assert TRACEBACK not in shown
    assert TOKEN not in shown
    assert TOKEN not in stack.state_text()


def test_a_malformed_kubeconfig_holding_a_token_fails_check_without_showing_it(stacks: StackFactory) -> None:
    text = yaml.safe_dump(kubeconfig("https://127.0.0.1:9")).replace(f"token: {TOKEN}", f"token: {TOKEN}: [")
    stack = stacks.inline(manifest(text))
    for run in (stack.preview, stack.up):
        with pytest.raises(auto.CommandError) as failed:
            run()
        shown = everything_shown(stack, failed)
        assert "kubeconfig" in shown and "is not valid YAML or JSON (line" in shown
        assert TOKEN not in shown
    assert TOKEN not in stack.state_text()
    assert stack.resources("Manifest") == []


def test_console_access_arns_given_as_a_string_fails_before_anything_is_registered(
    stacks: StackFactory, eks: Any, seeded: dict[str, Any]
) -> None:
    def program() -> None:
        EksConnectedCluster(
            "edge",
            {
                "cluster_name": "edge-str",
                "kubeconfig": pulumi.Output.secret(yaml.safe_dump(kubeconfig("https://127.0.0.1:9"))),
                "connector_provider": "OTHER",
                "role_arn": seeded["connectorRoleArn"],
                "region": REGION,
                "console_access_arns": "arn:aws:iam::123456789012:user/alice",
            },
        )

    stack = stacks.inline(program)
    with pytest.raises(auto.CommandError) as failed:
        stack.up()
    shown = everything_shown(stack, failed)
    assert "console_access_arns: must be a list of IAM user or role ARNs, got a string" in shown
    assert TRACEBACK not in shown
    assert TOKEN not in shown
    assert "edge-str" not in eks.list_clusters(include=["all"])["clusters"]
    assert [r["type"] for r in stack.resources()] in ([], ["pulumi:pulumi:Stack"])


def profiles(seeded: dict[str, Any], with_late_subnet: bool) -> Callable[[], None]:
    role, (first, second) = seeded["podExecutionRoleArn"], seeded["privateSubnetIds"]

    def program() -> None:
        subnets: list[pulumi.Input[str]] = [first]
        if with_late_subnet:
            other = FargateProfile(
                "other", cluster_name=CLUSTER, pod_execution_role_arn=role, selectors=[{"namespace": "other"}]
            )
            # Unknown until `other` exists: in preview the list mixes a known id and an unknown one.
            subnets.append(other.arn.apply(lambda _: second))
        FargateProfile(
            "web",
            cluster_name=CLUSTER,
            pod_execution_role_arn=role,
            selectors=[{"namespace": "web", "labels": {"tier": "front"}}],
            subnet_ids=subnets,
        )

    return program


def test_a_preview_with_known_and_unknown_subnet_ids_shows_the_replacement(
    stacks: StackFactory, seeded: dict[str, Any]
) -> None:
    stack = stacks.inline(profiles(seeded, with_late_subnet=False))
    stack.up()
    try:
        stack.stack.workspace.program = profiles(seeded, with_late_subnet=True)
        preview = stack.preview(diff=True)
        assert preview.change_summary.get(auto.OpType.CREATE) == 1, preview.change_summary
        assert preview.change_summary.get(auto.OpType.REPLACE) == 1, preview.change_summary
        assert "not supported between instances" not in stack.output
    finally:
        stack.destroy()


def fleet(seeded: dict[str, Any]) -> Callable[[], None]:
    def program() -> None:
        RegisteredCluster("edge", connector_provider="OTHER", role_arn=seeded["connectorRoleArn"], region=REGION)
        ClusterVersion("upgrade", cluster_name=CLUSTER, version=seed.CLUSTER_VERSION)
        FargateProfile(
            "web",
            cluster_name=CLUSTER,
            pod_execution_role_arn=seeded["podExecutionRoleArn"],
            selectors=[{"namespace": "a"}],
        )

    return program


def test_a_preview_without_any_aws_credentials_succeeds_on_an_existing_stack(
    stacks: StackFactory, aws: SandboxControl, seeded: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A registration the state shows PENDING past its expiry: diff once asked DescribeCluster about it.
    aws.set_durations(activation_lifetime=1.0)
    stack = stacks.inline(fleet(seeded))
    stack.up()
    time.sleep(1.5)
    try:
        with monkeypatch.context() as offline:
            for key in [k for k in os.environ if k.startswith("AWS_")]:
                offline.delenv(key)
            empty = tmp_path / "empty"
            empty.write_text("")
            offline.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
            offline.setenv("AWS_CONFIG_FILE", str(empty))
            offline.setenv("AWS_EC2_METADATA_DISABLED", "true")  # fail fast, not after instance-metadata timeouts
            preview = stack.preview()
        assert preview.change_summary.get(auto.OpType.UPDATE) == 1, preview.change_summary
        assert preview.change_summary.get(auto.OpType.SAME) == 3, preview.change_summary
        assert "unless EKS reports it ACTIVE" in stack.output
    finally:
        stack.destroy()

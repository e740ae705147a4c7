"""When the world around a stack moves: a region changed in configuration, an endpoint out of reach, a Ctrl-C."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pulumi
import pytest
from pulumi import automation as auto

from bench import crash_recovery
from pulumi_cluster_connect.dynamic_providers.fargate_profile import FargateProfile
from pulumi_cluster_connect.dynamic_providers.registered_cluster import RegisteredCluster
from pulumi_cluster_connect.sandbox import seed
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl
from pulumi_cluster_connect.sandbox.stacks import StackFactory, TestStack

REGION, OTHER_REGION = "us-west-2", "eu-central-1"
CLUSTER = seed.CLUSTER_NAME
SANDBOX_ACCOUNT = "123456789012"  # moto's default account


@pytest.fixture
def seeded(aws: SandboxControl, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    aws.set_durations(fargate_create=0.5, fargate_delete=0.5)
    return seed.seed()


def eks(region: str = REGION) -> Any:
    return boto3.client("eks", region_name=region)


def shown(stack: TestStack, failed: pytest.ExceptionInfo[auto.CommandError]) -> str:
    return stack.output + "\n" + str(failed.value)


def profile(role: str, **extra: Any) -> Callable[[], None]:
    def program() -> None:
        made = FargateProfile(
            "web", cluster_name=CLUSTER, pod_execution_role_arn=role, selectors=[{"namespace": "web"}], **extra
        )
        pulumi.export("name", made.fargate_profile_name)

    return program


def test_a_region_changed_back_in_configuration_replaces_the_registration_there(
    stacks: StackFactory, seeded: dict[str, Any]
) -> None:
    def program() -> None:
        RegisteredCluster(
            "edge", cluster_name="edge-moved", connector_provider="OTHER", role_arn=seeded["connectorRoleArn"]
        )

    stack = stacks.inline(program)
    stack.set_config("aws:region", OTHER_REGION)
    stack.up()
    assert eks(OTHER_REGION).list_clusters(include=["all"])["clusters"] == ["edge-moved"]

    stack.set_config("aws:region", REGION)
    preview = stack.preview()
    assert preview.change_summary.get(auto.OpType.REPLACE) == 1, preview.change_summary
    assert f"was made in {OTHER_REGION}" in stack.output and f"now resolves {REGION}" in stack.output

    stack.up()
    assert "edge-moved" not in eks(OTHER_REGION).list_clusters(include=["all"])["clusters"]
    assert "edge-moved" in eks(REGION).list_clusters(include=["all"])["clusters"]
    assert stack.up().summary.resource_changes == {"same": 2}
    stack.destroy()
    assert "edge-moved" not in eks(REGION).list_clusters(include=["all"])["clusters"]


def test_an_unreachable_endpoint_fails_within_a_minute_naming_it_with_nothing_made(
    stacks: StackFactory, seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A port nobody listens on, for EKS alone: the endpoint moved, or a typo in AWS_ENDPOINT_URL_EKS.
    monkeypatch.setenv("AWS_ENDPOINT_URL_EKS", "http://127.0.0.1:9")
    stack = stacks.inline(profile(seeded["podExecutionRoleArn"]))
    started = time.monotonic()
    with pytest.raises(auto.CommandError) as failed:
        stack.up()
    took = time.monotonic() - started
    assert took < 60, f"an unreachable endpoint took {took:.0f}s to fail"
    assert "http://127.0.0.1:9" in shown(stack, failed)
    monkeypatch.delenv("AWS_ENDPOINT_URL_EKS")
    assert eks().list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == []
    assert stack.resources("FargateProfile") == []


def test_an_aws_error_names_the_region_and_the_account(stacks: StackFactory, seeded: dict[str, Any]) -> None:
    def program() -> None:
        FargateProfile(
            "web",
            cluster_name="no-such-cluster",
            pod_execution_role_arn=seeded["podExecutionRoleArn"],
            selectors=[{"namespace": "web"}],
        )

    stack = stacks.inline(program)
    with pytest.raises(auto.CommandError) as failed:
        stack.up()
    assert f"failed in {REGION} (account {SANDBOX_ACCOUNT}): ResourceNotFoundException" in shown(stack, failed)


def pulumi_up_process() -> int | None:
    for pid in crash_recovery.descendants(os.getpid()):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if command and command[0].endswith(b"pulumi") and b"up" in command:
            return pid
    return None


def test_ctrl_c_ends_a_long_wait_at_its_next_look_and_the_next_up_adopts_what_was_left(
    stacks: StackFactory, seeded: dict[str, Any], aws: SandboxControl
) -> None:
    # Long enough that the create is still under way when the Ctrl-C comes; the next up waits out the rest.
    aws.set_durations(fargate_create=45)
    stack = stacks.inline(profile(seeded["podExecutionRoleArn"]))
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            stack.up()
            outcome.append(None)
        except BaseException as err:
            outcome.append(err)

    runner = threading.Thread(target=run)
    runner.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and "web" not in str(eks().list_fargate_profiles(clusterName=CLUSTER)):
        time.sleep(0.5)
    assert eks().list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"], "the create never started"
    up = pulumi_up_process()
    assert up is not None
    interrupted = time.monotonic()
    os.kill(up, signal.SIGINT)
    runner.join(timeout=120)
    took = time.monotonic() - interrupted
    assert not runner.is_alive() and took < 30, f"the up went on {took:.0f}s after Ctrl-C"
    assert isinstance(outcome[0], auto.CommandError)
    assert "cancelled while waiting for Fargate profile" in stack.output + str(outcome[0])
    assert stack.resources("FargateProfile") == []

    stack.up()
    assert len(eks().list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"]) == 1
    assert "adopting it" in stack.output
    stack.destroy()
    assert eks().list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == []

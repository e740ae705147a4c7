"""ClusterVersion through the real engine against the sandbox: stepping, failures, resumption, refresh, preview."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pulumi
import pytest
from pulumi import automation as auto

from pulumi_cluster_connect.dynamic_providers.cluster_version import ClusterVersion
from pulumi_cluster_connect.sandbox import stacks as stack_helpers
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl
from pulumi_cluster_connect.sandbox.stacks import StackFactory

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

REGION = "us-west-2"
CLUSTER = "prod"


@pytest.fixture
def eks(aws: SandboxControl, monkeypatch: pytest.MonkeyPatch) -> EKSClient:
    """A sandbox EKS cluster at 1.29 with its IAM role, made with boto3 before any stack."""
    # botocore reads AWS_DEFAULT_REGION, not the AWS_REGION the shared fixture sets.
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    aws.set_durations(cluster_update=1)
    session = boto3.session.Session(region_name=REGION)
    role = session.client("iam").create_role(RoleName="eks-cluster", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = session.client("eks")
    client.create_cluster(
        name=CLUSTER, version="1.29", roleArn=role, resourcesVpcConfig={"subnetIds": ["subnet-a", "subnet-b"]}
    )
    return client


def program(version: str, force: bool = False) -> Callable[[], None]:
    def run() -> None:
        upgrade = ClusterVersion("upgrade", cluster_name=CLUSTER, version=version, force=force or None)
        pulumi.export("version", upgrade.version)
        pulumi.export("platform_version", upgrade.platform_version)
        pulumi.export("updates", upgrade.updates)

    return run


def stack_at(stacks: StackFactory, version: str, force: bool = False) -> stack_helpers.TestStack:
    return stacks.inline(program(version, force), stack="upgrade")


def cluster_version(eks: EKSClient) -> str:
    return eks.describe_cluster(name=CLUSTER)["cluster"]["version"]


def steps(updates: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    return [(u["from"], u["to"], u["status"]) for u in updates]


def wait_for_update(eks: EKSClient, update_id: str) -> None:
    deadline = time.monotonic() + 30
    while eks.describe_update(name=CLUSTER, updateId=update_id)["update"]["status"] == "InProgress":
        assert time.monotonic() < deadline
        time.sleep(0.1)


@pytest.fixture
def fail_second_step(aws: SandboxControl, eks: EKSClient) -> Iterator[None]:
    """Arms update_failed once the first step is under way, so the second UpdateClusterVersion fails."""
    stop = threading.Event()

    def arm() -> None:
        while not stop.is_set():
            if eks.describe_cluster(name=CLUSTER)["cluster"]["status"] == "UPDATING":
                aws.inject("update_failed", operation="UpdateClusterVersion", target=CLUSTER)
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=arm, daemon=True)
    watcher.start()
    yield
    stop.set()
    watcher.join()


def test_one_up_takes_a_cluster_from_1_29_to_1_32_in_three_steps_in_order(stacks: StackFactory, eks: EKSClient) -> None:
    stack = stack_at(stacks, "1.32")

    result = stack.up()

    updates = result.outputs["updates"].value
    assert steps(updates) == [
        ("1.29", "1.30", "Successful"),
        ("1.30", "1.31", "Successful"),
        ("1.31", "1.32", "Successful"),
    ]
    assert eks.list_updates(name=CLUSTER)["updateIds"] == [u["id"] for u in updates]
    assert (result.outputs["version"].value, result.outputs["platform_version"].value) == ("1.32", "eks.1")
    assert cluster_version(eks) == "1.32"
    # The CLI shows each line twice: as it happens, then again under Diagnostics.
    done_lines = [line for line in stack.output_lines if ": done (update " in line and "creating" in line]
    assert [line.split("EKS cluster prod ")[1].split(":")[0] for line in done_lines] == [
        "1.29 -> 1.30",
        "1.30 -> 1.31",
        "1.31 -> 1.32",
    ]


@pytest.mark.usefixtures("fail_second_step")
def test_a_failed_update_stops_the_up_with_its_errors_and_the_next_up_resumes_from_there(
    stacks: StackFactory, eks: EKSClient
) -> None:
    stack = stack_at(stacks, "1.32")

    with pytest.raises(auto.CommandError) as failed:
        stack.up()
    version_after_failure = cluster_version(eks)
    resumed = stack.up()

    assert "reached Failed: InsufficientFreeAddresses" in str(failed.value)
    assert "stays at Kubernetes 1.30" in str(failed.value)
    assert version_after_failure == "1.30"
    assert steps(resumed.outputs["updates"].value) == [
        ("1.30", "1.31", "Successful"),
        ("1.31", "1.32", "Successful"),
    ]
    assert cluster_version(eks) == "1.32"


def test_an_update_already_in_progress_is_waited_out_instead_of_failing(
    stacks: StackFactory, eks: EKSClient, aws: SandboxControl
) -> None:
    # Long enough to outlast the engine's start and the program's run.
    aws.set_durations(cluster_update=12)
    running = eks.update_cluster_version(name=CLUSTER, version="1.30")["update"]
    aws.set_durations(cluster_update=1)

    result = stack_at(stacks, "1.31").up()

    updates = result.outputs["updates"].value
    assert updates[0]["id"] == running["id"]
    assert steps(updates) == [("1.29", "1.30", "Successful"), ("1.30", "1.31", "Successful")]


def test_a_lagging_node_group_blocks_the_up_with_its_name_and_force_proceeds(
    stacks: StackFactory, eks: EKSClient
) -> None:
    role = boto3.session.Session(region_name=REGION).client("iam").get_role(RoleName="eks-cluster")["Role"]["Arn"]
    eks.create_nodegroup(
        clusterName=CLUSTER, nodegroupName="workers", nodeRole=role, subnets=["subnet-a"], version="1.29"
    )

    with pytest.raises(auto.CommandError) as blocked:
        stack_at(stacks, "1.31").up()
    version_when_blocked = cluster_version(eks)
    forced = stack_at(stacks, "1.31", force=True).up()

    assert "managed node groups lag behind the control plane at Kubernetes 1.30: workers (1.29)" in str(blocked.value)
    assert version_when_blocked == "1.30"
    assert forced.outputs["version"].value == "1.31"


def test_a_downgrade_is_refused_with_a_clear_error(stacks: StackFactory, eks: EKSClient) -> None:
    stack_at(stacks, "1.30").up()

    with pytest.raises(auto.CommandError) as refused:
        stack_at(stacks, "1.29").up()

    assert "runs Kubernetes 1.30, above the requested 1.29: EKS cannot downgrade a cluster" in str(refused.value)
    assert cluster_version(eks) == "1.30"


def test_refresh_picks_up_an_out_of_band_upgrade(stacks: StackFactory, eks: EKSClient) -> None:
    stack = stack_at(stacks, "1.29")
    stack.up()
    wait_for_update(eks, eks.update_cluster_version(name=CLUSTER, version="1.30")["update"]["id"])

    stack.refresh()

    [resource] = stack.resources(":ClusterVersion")
    assert resource["outputs"]["version"] == "1.30"


def test_preview_shows_an_in_place_update_of_version(stacks: StackFactory, eks: EKSClient) -> None:
    stack_at(stacks, "1.29").up()
    stack = stack_at(stacks, "1.30")

    preview = stack.preview(diff=True)

    assert preview.change_summary.get(auto.OpType.UPDATE) == 1
    assert auto.OpType.REPLACE not in preview.change_summary
    assert '~ version: "1.29" => "1.30"' in stack.output
    assert cluster_version(eks) == "1.29"


def test_destroy_leaves_the_cluster_at_its_version(stacks: StackFactory, eks: EKSClient) -> None:
    stack = stack_at(stacks, "1.30")
    stack.up()

    stack.destroy()

    assert cluster_version(eks) == "1.30"
    assert "nothing to delete" in stack.output


def test_the_stored_state_holds_no_aws_client(stacks: StackFactory, eks: EKSClient) -> None:
    stack = stack_at(stacks, "1.29")
    stack.up()

    state: dict[str, Any] = stack.resources(":ClusterVersion")[0]
    assert state["id"] == f"{REGION}/{CLUSTER}"
    assert state["type"] == "pulumi-python:dynamic/eks:ClusterVersion"

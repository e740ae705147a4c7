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


def program(version: str, force: bool = False, update_addons: bool = False) -> Callable[[], None]:
    def run() -> None:
        upgrade = ClusterVersion(
            "upgrade",
            cluster_name=CLUSTER,
            version=version,
            force=force or None,
            update_addons=update_addons or None,
        )
        pulumi.export("version", upgrade.version)
        pulumi.export("platform_version", upgrade.platform_version)
        pulumi.export("updates", upgrade.updates)
        pulumi.export("addon_updates", upgrade.addon_updates)
        pulumi.export("readiness", upgrade.readiness)

    return run


def stack_at(
    stacks: StackFactory, version: str, force: bool = False, update_addons: bool = False
) -> stack_helpers.TestStack:
    return stacks.inline(program(version, force, update_addons), stack="upgrade")


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


def test_two_minors_down_is_refused_with_a_clear_error(stacks: StackFactory, eks: EKSClient) -> None:
    stack_at(stacks, "1.31").up()

    with pytest.raises(auto.CommandError) as refused:
        stack_at(stacks, "1.29").up()

    assert "1.29 is 2 minors below 1.31: EKS rolls a cluster back one minor only" in str(refused.value)
    assert cluster_version(eks) == "1.31"


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


# readiness: EKS's upgrade insights and the add-ons, checked before each step

RECOMMENDATION = "Update manifests and API clients to use newer Kubernetes APIs if applicable before upgrading"


def deprecated_apis(version: str, status: str = "ERROR") -> dict[str, Any]:
    return {
        "name": f"Deprecated APIs removed in Kubernetes v{version}",
        "status": status,
        "reason": "Deprecated API usage detected within last 30 days",
        "recommendation": RECOMMENDATION,
        "resources": ["/apis/flowcontrol.apiserver.k8s.io/v1beta2/flowschemas/catch-all"],
    }


def install_addon(eks: EKSClient, name: str, version: str) -> None:
    eks.create_addon(clusterName=CLUSTER, addonName=name, addonVersion=version)
    deadline = time.monotonic() + 30
    while eks.describe_addon(clusterName=CLUSTER, addonName=name)["addon"]["status"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_an_error_insight_blocks_the_up_with_its_recommendation_and_nothing_changes(
    stacks: StackFactory, eks: EKSClient, aws: SandboxControl
) -> None:
    stack_at(stacks, "1.29").up()
    aws.set_insights(CLUSTER, "1.30", [deprecated_apis("1.30")])
    stack = stack_at(stacks, "1.30")

    with pytest.raises(auto.CommandError) as blocked:
        stack.up()

    message = str(blocked.value)
    assert "EKS cluster prod 1.29 -> 1.30 is blocked, nothing was changed" in message
    assert 'insight "Deprecated APIs removed in Kubernetes v1.30" (ERROR)' in message
    assert f"Recommendation: {RECOMMENDATION}" in message
    assert "Affected: /apis/flowcontrol.apiserver.k8s.io/v1beta2/flowschemas/catch-all" in message
    assert eks.list_updates(name=CLUSTER)["updateIds"] == []
    assert cluster_version(eks) == "1.29"
    assert stack.resources(":ClusterVersion")[0]["outputs"]["version"] == "1.29"


def test_force_passes_an_error_insight_and_says_what_it_overrode(
    stacks: StackFactory, eks: EKSClient, aws: SandboxControl
) -> None:
    aws.set_insights(CLUSTER, "1.30", [deprecated_apis("1.30")])
    stack = stack_at(stacks, "1.30", force=True)

    result = stack.up()

    assert result.outputs["version"].value == "1.30"
    assert (
        'EKS cluster prod 1.29 -> 1.30: force is set, going on despite: insight "Deprecated APIs removed in '
        'Kubernetes v1.30" (ERROR)' in stack.output
    )


def test_a_warning_insight_is_printed_and_the_up_goes_on(
    stacks: StackFactory, eks: EKSClient, aws: SandboxControl
) -> None:
    aws.set_insights(CLUSTER, "1.30", [deprecated_apis("1.30", "WARNING")])
    stack = stack_at(stacks, "1.30")

    result = stack.up()

    assert result.outputs["version"].value == "1.30"
    assert (
        'EKS cluster prod 1.29 -> 1.30: warning: insight "Deprecated APIs removed in Kubernetes v1.30" (WARNING)'
        in (stack.output)
    )


def test_an_add_on_that_would_not_run_on_the_next_minor_blocks_the_up_naming_it(
    stacks: StackFactory, eks: EKSClient
) -> None:
    install_addon(eks, "coredns", "v1.10.1-eksbuild.38")

    with pytest.raises(auto.CommandError) as blocked:
        stack_at(stacks, "1.31").up()

    assert "1.30 -> 1.31 is blocked" in str(blocked.value)
    assert "add-on coredns v1.10.1-eksbuild.38 does not run on Kubernetes 1.31; compatible:" in str(blocked.value)
    assert "v1.11.3-eksbuild.2 (default)" in str(blocked.value)
    assert cluster_version(eks) == "1.30"


def test_update_addons_brings_the_add_on_along_and_the_up_finishes(stacks: StackFactory, eks: EKSClient) -> None:
    install_addon(eks, "coredns", "v1.10.1-eksbuild.38")

    result = stack_at(stacks, "1.31", update_addons=True).up()

    assert result.outputs["version"].value == "1.31"
    assert [(u["addon"], u["to"], u["status"]) for u in result.outputs["addon_updates"].value] == [
        ("coredns", "v1.11.3-eksbuild.2", "Successful")
    ]


def test_a_cancelled_update_fails_the_up_clearly_and_the_next_up_finishes_the_upgrade(
    stacks: StackFactory, eks: EKSClient, aws: SandboxControl
) -> None:
    aws.inject("update_cancelled", operation="UpdateClusterVersion", target=CLUSTER)
    stack = stack_at(stacks, "1.31")

    with pytest.raises(auto.CommandError) as failed:
        stack.up()
    version_after_cancel = cluster_version(eks)
    resumed = stack.up()

    assert "1.29 -> 1.30" in str(failed.value)
    assert "reached Cancelled: cancelled: The update was cancelled" in str(failed.value)
    assert "The cluster stays at Kubernetes 1.29; run `pulumi up` again" in str(failed.value)
    assert version_after_cancel == "1.29"
    assert steps(resumed.outputs["updates"].value) == [("1.29", "1.30", "Successful"), ("1.30", "1.31", "Successful")]


def test_the_update_in_progress_race_between_steps_is_absorbed(
    stacks: StackFactory, eks: EKSClient, aws: SandboxControl
) -> None:
    aws.inject("update_race", operation="UpdateClusterVersion", target=CLUSTER, count=2)
    stack = stack_at(stacks, "1.31")

    result = stack.up()

    assert steps(result.outputs["updates"].value) == [("1.29", "1.30", "Successful"), ("1.30", "1.31", "Successful")]
    assert "EKS still reports an update in progress" in stack.output
    assert len(eks.list_updates(name=CLUSTER)["updateIds"]) == 2


def test_preview_lists_the_steps_and_what_the_last_up_found_for_the_first_without_calling_aws(
    stacks: StackFactory, eks: EKSClient, aws: SandboxControl
) -> None:
    aws.set_insights(CLUSTER, "1.30", [deprecated_apis("1.30")])
    stack_at(stacks, "1.29").up()
    stack = stack_at(stacks, "1.31")
    aws.reset_calls()

    stack.preview()

    assert "EKS cluster prod: 1.29 -> 1.31 takes 2 steps (1.29 -> 1.30, 1.30 -> 1.31)" in stack.output
    assert '1.29 -> 1.30 would be blocked by: insight "Deprecated APIs removed in Kubernetes v1.30" (ERROR)' in (
        stack.output
    )
    assert aws.calls() == {}

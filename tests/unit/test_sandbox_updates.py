"""The sandbox's UpdateClusterVersion, DescribeUpdate and ListUpdates, held to botocore's model."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import botocore.exceptions
import botocore.model
import botocore.session
import pytest

from pulumi_cluster_connect.sandbox.aws import messages, updates
from pulumi_cluster_connect.sandbox.aws.call import Call
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl

from .. import contract

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

REGION = "us-west-2"
UPDATE_SECONDS = 0.3
CHECKED_OPERATIONS = {
    "UpdateClusterVersion",
    "DescribeUpdate",
    "ListUpdates",
    "DescribeCluster",
    "CancelUpdate",
    "DescribeClusterVersions",
    "ListInsights",
}


@pytest.fixture
def recorder(endpoint: str) -> Iterator[contract.Recorder]:
    """Resets the sandbox, and after the test checks every recorded response against the model."""
    control = SandboxControl(endpoint)
    control.reset()
    control.set_durations(cluster_update=UPDATE_SECONDS)
    recorded = contract.Recorder(frozenset(CHECKED_OPERATIONS))
    yield recorded
    control.reset()
    assert recorded.violations() == []


def _session() -> boto3.session.Session:
    return boto3.session.Session(
        region_name=REGION, aws_access_key_id="sandbox", aws_secret_access_key="sandbox-secret"
    )


@pytest.fixture
def eks(endpoint: str, recorder: contract.Recorder) -> EKSClient:
    client: EKSClient = recorder.attach(_session().client("eks", endpoint_url=endpoint))
    return client


@pytest.fixture
def role_arn(endpoint: str, recorder: contract.Recorder) -> str:
    iam = _session().client("iam", endpoint_url=endpoint)
    arn: str = iam.create_role(RoleName="cluster", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    return arn


def make_cluster(eks: EKSClient, role_arn: str, name: str = "prod", version: str = "1.29") -> None:
    eks.create_cluster(
        name=name,
        version=version,
        roleArn=role_arn,
        resourcesVpcConfig={"subnetIds": ["subnet-a", "subnet-b"]},
    )


def wait_until_done(eks: EKSClient, cluster: str, update_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        update = eks.describe_update(name=cluster, updateId=update_id)["update"]
        if update["status"] != "InProgress":
            return dict(update)
        time.sleep(0.05)
    raise AssertionError(f"update {update_id} still InProgress")


def error_of(excinfo: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def test_an_update_runs_in_progress_with_the_cluster_updating_then_succeeds_with_the_new_version(
    eks: EKSClient, role_arn: str
) -> None:
    make_cluster(eks, role_arn)

    started = eks.update_cluster_version(name="prod", version="1.30")["update"]
    during = eks.describe_cluster(name="prod")["cluster"]
    finished = wait_until_done(eks, "prod", started["id"])
    after = eks.describe_cluster(name="prod")["cluster"]

    assert started["status"] == "InProgress"
    assert started["type"] == "VersionUpdate"
    assert {p["type"]: p["value"] for p in started["params"]} == {
        "Version": "1.30",
        "PlatformVersion": "eks.1",
    }
    assert (during["status"], during["version"]) == ("UPDATING", "1.29")
    assert (finished["status"], finished["errors"]) == ("Successful", [])
    assert (after["status"], after["version"], after["platformVersion"]) == ("ACTIVE", "1.30", "eks.1")


def test_an_update_lasts_the_configured_cluster_update_duration(eks: EKSClient, role_arn: str) -> None:
    make_cluster(eks, role_arn)
    started = time.monotonic()

    update = eks.update_cluster_version(name="prod", version="1.30")["update"]
    wait_until_done(eks, "prod", update["id"])

    assert UPDATE_SECONDS <= time.monotonic() - started < UPDATE_SECONDS + 1


def test_skipping_a_minor_version_is_refused(eks: EKSClient, role_arn: str) -> None:
    make_cluster(eks, role_arn)

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.update_cluster_version(name="prod", version="1.31")

    assert error_of(excinfo) == (
        "InvalidParameterException",
        "Unsupported Kubernetes minor version update from 1.29 to 1.31",
    )


def test_two_minors_down_is_refused_as_an_unsupported_step(eks: EKSClient, role_arn: str) -> None:
    make_cluster(eks, role_arn)

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.update_cluster_version(name="prod", version="1.27")

    assert error_of(excinfo) == (
        "InvalidParameterException",
        "Unsupported Kubernetes minor version update from 1.29 to 1.27",
    )


def test_the_version_the_cluster_already_runs_is_refused_as_a_minor_step_from_itself(
    eks: EKSClient, role_arn: str
) -> None:
    make_cluster(eks, role_arn)

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.update_cluster_version(name="prod", version="1.29")

    assert error_of(excinfo) == (
        "InvalidParameterException",
        "Unsupported Kubernetes minor version update from 1.29 to 1.29",
    )


@pytest.mark.parametrize(("current", "wanted"), [("1.40", "1.41"), ("1.29", "latest"), ("1.35", "1.36")])
def test_a_version_eks_does_not_offer_is_refused_as_unsupported(
    eks: EKSClient, role_arn: str, recorder: contract.Recorder, current: str, wanted: str
) -> None:
    make_cluster(eks, role_arn, version=current)

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.update_cluster_version(name="prod", version=wanted)

    assert error_of(excinfo) == ("InvalidParameterException", messages.UNSUPPORTED_KUBERNETES_VERSION)
    assert json.loads(recorder.exchanges[-1].body)["clusterName"] == "prod"


def test_a_version_eks_offers_one_minor_up_is_accepted(eks: EKSClient, role_arn: str) -> None:
    make_cluster(eks, role_arn, version="1.34")

    update = eks.update_cluster_version(name="prod", version="1.35")["update"]

    assert wait_until_done(eks, "prod", update["id"])["status"] == "Successful"


def test_a_second_update_while_one_runs_is_refused_naming_the_running_update(eks: EKSClient, role_arn: str) -> None:
    make_cluster(eks, role_arn)
    running = eks.update_cluster_version(name="prod", version="1.30")["update"]

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.update_cluster_version(name="prod", version="1.30")

    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert error_of(excinfo) == (
        "ResourceInUseException",
        f"Cluster prod currently has update {running['id']} in progress",
    )


def test_a_repeated_client_request_token_returns_the_same_update(eks: EKSClient, role_arn: str) -> None:
    make_cluster(eks, role_arn)

    first = eks.update_cluster_version(name="prod", version="1.30", clientRequestToken="step-1")["update"]
    again = eks.update_cluster_version(name="prod", version="1.30", clientRequestToken="step-1")["update"]

    assert again["id"] == first["id"]
    assert eks.list_updates(name="prod")["updateIds"] == [first["id"]]


def test_a_client_request_token_reused_for_another_version_is_refused(eks: EKSClient, role_arn: str) -> None:
    make_cluster(eks, role_arn)
    first = eks.update_cluster_version(name="prod", version="1.30", clientRequestToken="step-1")["update"]
    wait_until_done(eks, "prod", first["id"])

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.update_cluster_version(name="prod", version="1.31", clientRequestToken="step-1")

    assert error_of(excinfo)[0] == "InvalidParameterException"


def test_an_injected_failure_ends_the_update_failed_with_its_errors_and_the_version_unchanged(
    eks: EKSClient, role_arn: str, endpoint: str
) -> None:
    make_cluster(eks, role_arn)
    SandboxControl(endpoint).inject("update_failed", operation="UpdateClusterVersion", target="prod")

    update = eks.update_cluster_version(name="prod", version="1.30")["update"]
    finished = wait_until_done(eks, "prod", update["id"])
    cluster = eks.describe_cluster(name="prod")["cluster"]

    assert finished["status"] == "Failed"
    assert finished["errors"] == [
        {
            "errorCode": "InsufficientFreeAddresses",
            "errorMessage": messages.UPDATE_FAILED_ERROR,
            "resourceIds": ["subnet-a", "subnet-b"],
        }
    ]
    assert (cluster["status"], cluster["version"], cluster["platformVersion"]) == ("ACTIVE", "1.29", "eks.4")


def test_the_fault_fires_once_so_the_next_update_succeeds(eks: EKSClient, role_arn: str, endpoint: str) -> None:
    make_cluster(eks, role_arn)
    SandboxControl(endpoint).inject("update_failed", operation="UpdateClusterVersion", target="prod")
    failed = eks.update_cluster_version(name="prod", version="1.30")["update"]
    wait_until_done(eks, "prod", failed["id"])

    retried = eks.update_cluster_version(name="prod", version="1.30")["update"]

    assert wait_until_done(eks, "prod", retried["id"])["status"] == "Successful"
    assert eks.describe_cluster(name="prod")["cluster"]["version"] == "1.30"


def test_a_fault_for_another_cluster_leaves_this_one_alone(eks: EKSClient, role_arn: str, endpoint: str) -> None:
    make_cluster(eks, role_arn)
    SandboxControl(endpoint).inject("update_failed", operation="UpdateClusterVersion", target="staging")

    update = eks.update_cluster_version(name="prod", version="1.30")["update"]

    assert wait_until_done(eks, "prod", update["id"])["status"] == "Successful"


def test_a_node_group_behind_the_control_plane_blocks_the_update_unless_forced(eks: EKSClient, role_arn: str) -> None:
    make_cluster(eks, role_arn, version="1.30")
    eks.create_nodegroup(
        clusterName="prod", nodegroupName="workers", nodeRole=role_arn, subnets=["subnet-a"], version="1.29"
    )

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.update_cluster_version(name="prod", version="1.31")
    forced = eks.update_cluster_version(name="prod", version="1.31", force=True)["update"]

    assert error_of(excinfo)[0] == "InvalidStateException"
    assert "workers" in error_of(excinfo)[1]
    assert wait_until_done(eks, "prod", forced["id"])["status"] == "Successful"


def test_a_node_group_at_the_cluster_version_does_not_block(eks: EKSClient, role_arn: str) -> None:
    make_cluster(eks, role_arn)
    eks.create_nodegroup(
        clusterName="prod", nodegroupName="workers", nodeRole=role_arn, subnets=["subnet-a"], version="1.29"
    )

    update = eks.update_cluster_version(name="prod", version="1.30")["update"]

    assert wait_until_done(eks, "prod", update["id"])["status"] == "Successful"


def test_an_update_of_a_cluster_not_active_is_refused(eks: EKSClient, role_arn: str, endpoint: str) -> None:
    make_cluster(eks, role_arn)
    Call("DescribeCluster", REGION).eks.clusters["prod"].status = "CREATING"

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.update_cluster_version(name="prod", version="1.30")

    assert error_of(excinfo) == ("InvalidRequestException", "Cluster 'prod' is not in ACTIVE status")


@pytest.mark.parametrize(
    "operation",
    [
        lambda eks: eks.update_cluster_version(name="ghost", version="1.30"),
        lambda eks: eks.describe_update(name="ghost", updateId="0000"),
        lambda eks: eks.list_updates(name="ghost"),
    ],
    ids=["UpdateClusterVersion", "DescribeUpdate", "ListUpdates"],
)
def test_a_missing_cluster_is_not_found(eks: EKSClient, operation: Any) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        operation(eks)

    assert error_of(excinfo) == ("ResourceNotFoundException", "No cluster found for name: ghost.")


def test_an_unknown_update_id_is_not_found(eks: EKSClient, role_arn: str) -> None:
    make_cluster(eks, role_arn)

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.describe_update(name="prod", updateId="0000")

    assert error_of(excinfo) == ("ResourceNotFoundException", "No update found for ID: 0000.")


def test_list_updates_pages_through_every_update_in_order(eks: EKSClient, role_arn: str) -> None:
    make_cluster(eks, role_arn)
    ids = []
    for version in ("1.30", "1.31", "1.32"):
        update = eks.update_cluster_version(name="prod", version=version)["update"]
        wait_until_done(eks, "prod", update["id"])
        ids.append(update["id"])

    first = eks.list_updates(name="prod", maxResults=2)
    second = eks.list_updates(name="prod", maxResults=2, nextToken=first["nextToken"])

    assert first["updateIds"] + second["updateIds"] == ids
    assert "nextToken" not in second
    assert eks.describe_cluster(name="prod")["cluster"]["version"] == "1.32"


def test_list_updates_of_a_node_group_is_empty(eks: EKSClient, role_arn: str) -> None:
    make_cluster(eks, role_arn)
    eks.update_cluster_version(name="prod", version="1.30")

    assert eks.list_updates(name="prod", nodegroupName="workers")["updateIds"] == []


def test_a_cluster_created_again_under_the_same_name_has_no_updates(eks: EKSClient, role_arn: str) -> None:
    make_cluster(eks, role_arn)
    update = eks.update_cluster_version(name="prod", version="1.30")["update"]
    wait_until_done(eks, "prod", update["id"])
    eks.delete_cluster(name="prod")
    make_cluster(eks, role_arn)

    assert eks.list_updates(name="prod")["updateIds"] == []
    assert eks.describe_cluster(name="prod")["cluster"]["version"] == "1.29"


def test_the_running_update_is_visible_to_other_operations(eks: EKSClient, role_arn: str) -> None:
    make_cluster(eks, role_arn)
    update = eks.update_cluster_version(name="prod", version="1.30")["update"]
    call = Call("DescribeCluster", REGION)

    running = updates.update_in_progress(call, "prod")
    wait_until_done(eks, "prod", update["id"])

    assert running == update["id"]
    assert updates.update_in_progress(call, "prod") is None


def test_an_injected_cancellation_ends_the_update_cancelled_with_its_reason_and_the_version_unchanged(
    eks: EKSClient, role_arn: str, endpoint: str
) -> None:
    make_cluster(eks, role_arn)
    SandboxControl(endpoint).inject("update_cancelled", operation="UpdateClusterVersion", target="prod")

    update = eks.update_cluster_version(name="prod", version="1.30")["update"]
    finished = wait_until_done(eks, "prod", update["id"])
    cluster = eks.describe_cluster(name="prod")["cluster"]

    assert update["status"] == "InProgress"
    assert finished["status"] == "Cancelled"
    assert finished["cancellation"] == {"status": "Successful", "reason": messages.UPDATE_CANCELLED_REASON}
    assert (cluster["status"], cluster["version"]) == ("ACTIVE", "1.29")


def test_cancel_update_stops_a_running_update_at_once(eks: EKSClient, role_arn: str) -> None:
    make_cluster(eks, role_arn)
    update = eks.update_cluster_version(name="prod", version="1.30")["update"]

    cancelled = eks.cancel_update(name="prod", updateId=update["id"])["update"]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.cancel_update(name="prod", updateId=update["id"])

    assert cancelled["status"] == "Cancelled"
    assert eks.describe_cluster(name="prod")["cluster"]["status"] == "ACTIVE"
    assert error_of(excinfo)[0] == "InvalidRequestException"


def test_the_injected_race_refuses_the_next_step_naming_the_finished_update_while_the_cluster_is_active(
    eks: EKSClient, role_arn: str, endpoint: str
) -> None:
    make_cluster(eks, role_arn)
    first = eks.update_cluster_version(name="prod", version="1.30")["update"]
    wait_until_done(eks, "prod", first["id"])
    SandboxControl(endpoint).inject("update_race", operation="UpdateClusterVersion", target="prod", count=2)

    refusals = []
    for _ in range(2):
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            eks.update_cluster_version(name="prod", version="1.31")
        refusals.append(error_of(excinfo))
    cluster_meanwhile = eks.describe_cluster(name="prod")["cluster"]
    accepted = eks.update_cluster_version(name="prod", version="1.31")["update"]

    assert refusals == [("ResourceInUseException", f"Cluster prod currently has update {first['id']} in progress")] * 2
    assert (cluster_meanwhile["status"], cluster_meanwhile["version"]) == ("ACTIVE", "1.30")
    assert eks.describe_update(name="prod", updateId=first["id"])["update"]["status"] == "Successful"
    assert accepted["status"] == "InProgress"


def test_the_race_fault_waits_for_a_cluster_with_an_earlier_update(
    eks: EKSClient, role_arn: str, endpoint: str
) -> None:
    make_cluster(eks, role_arn)
    SandboxControl(endpoint).inject("update_race", operation="UpdateClusterVersion", target="prod")

    first = eks.update_cluster_version(name="prod", version="1.30")["update"]
    wait_until_done(eks, "prod", first["id"])
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.update_cluster_version(name="prod", version="1.31")

    assert first["status"] == "InProgress"
    assert error_of(excinfo)[0] == "ResourceInUseException"


# rollbacks: UpdateClusterVersion one minor down, with EKS's rules


def upgrade(eks: EKSClient, version: str, name: str = "prod") -> dict[str, Any]:
    update = eks.update_cluster_version(name=name, version=version)["update"]
    return wait_until_done(eks, name, update["id"])


def test_a_rollback_within_the_window_runs_as_a_version_rollback_back_to_the_earlier_minor(
    eks: EKSClient, role_arn: str
) -> None:
    make_cluster(eks, role_arn, version="1.30")
    upgrade(eks, "1.31")

    started = eks.update_cluster_version(name="prod", version="1.30")["update"]
    during = eks.describe_cluster(name="prod")["cluster"]
    finished = wait_until_done(eks, "prod", started["id"])

    assert (started["type"], started["status"]) == ("VersionRollback", "InProgress")
    assert {p["type"]: p["value"] for p in started["params"]}["Version"] == "1.30"
    assert (during["status"], during["version"]) == ("UPDATING", "1.31")
    assert finished["status"] == "Successful"
    assert eks.describe_cluster(name="prod")["cluster"]["version"] == "1.30"


def test_a_rollback_of_a_cluster_created_at_its_version_is_refused(eks: EKSClient, role_arn: str) -> None:
    make_cluster(eks, role_arn, version="1.30")

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.update_cluster_version(name="prod", version="1.29")

    assert error_of(excinfo) == (
        "InvalidRequestException",
        messages.ROLLBACK_CREATED_AT.format(cluster="prod", version="1.30"),
    )


def test_a_second_rollback_is_refused_one_minor_back_only(eks: EKSClient, role_arn: str) -> None:
    make_cluster(eks, role_arn, version="1.29")
    upgrade(eks, "1.30")
    upgrade(eks, "1.31")
    upgrade(eks, "1.30")

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.update_cluster_version(name="prod", version="1.29")

    assert error_of(excinfo) == (
        "InvalidRequestException",
        messages.ROLLED_BACK.format(cluster="prod", version="1.30"),
    )


def test_a_rollback_after_the_7_day_window_is_refused_with_when_the_upgrade_finished(
    eks: EKSClient, role_arn: str, endpoint: str
) -> None:
    make_cluster(eks, role_arn, version="1.30")
    upgrade(eks, "1.31")
    SandboxControl(endpoint).advance_clock(7 * 24 * 3600 + 60)

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.update_cluster_version(name="prod", version="1.30")

    code, message = error_of(excinfo)
    assert code == "InvalidRequestException"
    assert message.startswith("Rollback is available for 7 days after an in-place upgrade completes; the upgrade of")
    assert "to Kubernetes version 1.31 completed at 20" in message


def test_a_rollback_just_inside_the_window_is_accepted(eks: EKSClient, role_arn: str, endpoint: str) -> None:
    make_cluster(eks, role_arn, version="1.30")
    upgrade(eks, "1.31")
    SandboxControl(endpoint).advance_clock(7 * 24 * 3600 - 60)

    assert upgrade(eks, "1.30")["status"] == "Successful"


def test_a_rollback_to_an_extended_support_version_needs_the_extended_support_policy(
    eks: EKSClient, role_arn: str
) -> None:
    eks.create_cluster(
        name="std",
        version="1.30",
        roleArn=role_arn,
        resourcesVpcConfig={"subnetIds": ["subnet-a"]},
        upgradePolicy={"supportType": "STANDARD"},
    )
    upgrade(eks, "1.31", name="std")

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.update_cluster_version(name="std", version="1.30")

    assert eks.describe_cluster(name="std")["cluster"]["upgradePolicy"] == {"supportType": "STANDARD"}
    assert eks.describe_cluster_versions(clusterVersions=["1.30"])["clusterVersions"][0]["versionStatus"] == (
        "EXTENDED_SUPPORT"
    )
    assert error_of(excinfo) == (
        "InvalidRequestException",
        messages.ROLLBACK_EXTENDED.format(cluster="std", version="1.30"),
    )


def test_a_rollback_readiness_error_blocks_unless_forced_and_shows_only_in_the_window(
    eks: EKSClient, role_arn: str, endpoint: str
) -> None:
    make_cluster(eks, role_arn, version="1.30")
    control = SandboxControl(endpoint)
    skew = {"name": "Kubelet version skew", "status": "ERROR", "reason": "Fargate pods run kubelet 1.31"}
    control.set_insights("prod", "1.30", [skew], category="ROLLBACK_READINESS")
    before_upgrade = eks.list_insights(clusterName="prod", filter={"categories": ["ROLLBACK_READINESS"]})
    upgrade(eks, "1.31")
    listed = eks.list_insights(clusterName="prod", filter={"categories": ["ROLLBACK_READINESS"]})["insights"]

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.update_cluster_version(name="prod", version="1.30")
    forced = eks.update_cluster_version(name="prod", version="1.30", force=True)["update"]

    assert before_upgrade["insights"] == []
    assert [(i["category"], i["kubernetesVersion"], i["insightStatus"]["status"]) for i in listed] == [
        ("ROLLBACK_READINESS", "1.30", "ERROR")
    ]
    assert error_of(excinfo) == ("InvalidStateException", messages.ROLLBACK_BLOCKED)
    assert wait_until_done(eks, "prod", forced["id"])["status"] == "Successful"


def test_an_unknown_rollback_insight_blocks_too(eks: EKSClient, role_arn: str, endpoint: str) -> None:
    make_cluster(eks, role_arn, version="1.30")
    upgrade(eks, "1.31")
    SandboxControl(endpoint).set_insights(
        "prod", "1.30", [{"name": "Cluster health issues", "status": "UNKNOWN"}], category="ROLLBACK_READINESS"
    )

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.update_cluster_version(name="prod", version="1.30")

    assert error_of(excinfo)[0] == "InvalidStateException"


def test_a_node_group_newer_than_the_rollback_target_blocks_unless_forced(eks: EKSClient, role_arn: str) -> None:
    make_cluster(eks, role_arn, version="1.30")
    upgrade(eks, "1.31")
    eks.create_nodegroup(
        clusterName="prod", nodegroupName="workers", nodeRole=role_arn, subnets=["subnet-a"], version="1.31"
    )

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.update_cluster_version(name="prod", version="1.30")
    forced = eks.update_cluster_version(name="prod", version="1.30", force=True)["update"]

    assert error_of(excinfo) == (
        "InvalidStateException",
        messages.ROLLBACK_NODEGROUPS.format(nodegroups="workers", wanted="1.30"),
    )
    assert wait_until_done(eks, "prod", forced["id"])["status"] == "Successful"


@pytest.mark.parametrize("minutes", [119, 10081])
def test_a_rollback_timeout_outside_120_to_10080_minutes_is_refused(
    eks: EKSClient, role_arn: str, minutes: int
) -> None:
    make_cluster(eks, role_arn, version="1.30")
    upgrade(eks, "1.31")

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.update_cluster_version(name="prod", version="1.30", rollbackConfig={"timeoutMinutes": minutes})

    assert error_of(excinfo) == ("InvalidParameterException", messages.ROLLBACK_TIMEOUT)


def make_auto_mode_cluster(eks: EKSClient, role_arn: str) -> None:
    eks.create_cluster(
        name="auto",
        version="1.30",
        roleArn=role_arn,
        resourcesVpcConfig={"subnetIds": ["subnet-a"]},
        computeConfig={"enabled": True, "nodePools": ["general-purpose"], "nodeRoleArn": role_arn},
    )
    upgrade(eks, "1.31", name="auto")


def test_an_auto_mode_rollback_keeps_the_cluster_active_through_the_node_phase_then_updates(
    eks: EKSClient, role_arn: str, endpoint: str
) -> None:
    make_auto_mode_cluster(eks, role_arn)
    SandboxControl(endpoint).set_durations(rollback_node_phase=1.0, cluster_update=UPDATE_SECONDS)

    started = eks.update_cluster_version(name="auto", version="1.30", rollbackConfig={"timeoutMinutes": 120})
    in_node_phase = eks.describe_cluster(name="auto")["cluster"]["status"]
    time.sleep(1.05)
    in_control_plane_phase = eks.describe_cluster(name="auto")["cluster"]["status"]
    with pytest.raises(botocore.exceptions.ClientError) as too_late:
        eks.cancel_update(name="auto", updateId=started["update"]["id"])
    finished = wait_until_done(eks, "auto", started["update"]["id"])

    assert in_node_phase == "ACTIVE"
    assert in_control_plane_phase == "UPDATING"
    assert error_of(too_late) == (
        "InvalidRequestException",
        messages.ROLLBACK_NOT_CANCELLABLE.format(update_id=started["update"]["id"]),
    )
    assert finished["status"] == "Successful"
    assert eks.describe_cluster(name="auto")["cluster"]["version"] == "1.30"


def test_an_auto_mode_rollback_can_be_cancelled_during_the_node_phase(
    eks: EKSClient, role_arn: str, endpoint: str
) -> None:
    make_auto_mode_cluster(eks, role_arn)
    SandboxControl(endpoint).set_durations(rollback_node_phase=30.0)
    started = eks.update_cluster_version(name="auto", version="1.30")["update"]

    cancelled = eks.cancel_update(name="auto", updateId=started["id"])["update"]

    assert cancelled["status"] == "Cancelled"
    assert eks.describe_cluster(name="auto")["cluster"]["version"] == "1.31"

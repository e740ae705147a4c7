"""The sandbox's upgrade insights and the readiness rule of UpdateClusterVersion, held to botocore's model."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import botocore.exceptions
import pytest

from pulumi_cluster_connect.sandbox.aws import messages
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl

from .. import contract

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

REGION = "us-west-2"
REFRESH_SECONDS = 0.3
DEPRECATED_FINDING = {
    "name": "Deprecated APIs removed in Kubernetes v1.30",
    "status": "ERROR",
    "reason": "Deprecated API usage detected within last 30 days",
    "recommendation": "Update manifests and API clients to use newer Kubernetes APIs if applicable before upgrading",
    "resources": ["/apis/flowcontrol.apiserver.k8s.io/v1beta2/flowschemas/catch-all"],
    "deprecations": [
        {
            "usage": "/apis/flowcontrol.apiserver.k8s.io/v1beta2/flowschemas",
            "replacedWith": "/apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas",
            "stopServingVersion": "1.29",
            "startServingReplacementVersion": "1.26",
        }
    ],
}


@pytest.fixture
def control(endpoint: str) -> Iterator[SandboxControl]:
    made = SandboxControl(endpoint)
    made.reset()
    made.set_durations(cluster_update=0.3, insights_refresh=REFRESH_SECONDS, addon_update=0.2)
    yield made
    made.reset()


@pytest.fixture
def eks(endpoint: str, control: SandboxControl) -> Iterator[EKSClient]:
    """A client whose every answer is held to the model; a cluster `prod` at 1.29."""
    session = boto3.session.Session(
        region_name=REGION, aws_access_key_id="sandbox", aws_secret_access_key="sandbox-secret"
    )
    role = session.client("iam", endpoint_url=endpoint).create_role(RoleName="c", AssumeRolePolicyDocument="{}")
    recorder = contract.Recorder()
    client: EKSClient = recorder.attach(session.client("eks", endpoint_url=endpoint))
    client.create_cluster(
        name="prod", version="1.29", roleArn=role["Role"]["Arn"], resourcesVpcConfig={"subnetIds": ["subnet-a"]}
    )
    yield client
    assert recorder.violations(epoch_only=True) == []


def upgrade_insights(eks: EKSClient, version: str, **filters: Any) -> list[dict[str, Any]]:
    wanted: Any = {"categories": ["UPGRADE_READINESS"], "kubernetesVersions": [version], **filters}
    pages = eks.get_paginator("list_insights").paginate(clusterName="prod", filter=wanted)
    return [dict(i) for page in pages for i in page["insights"]]


def wait_for_refresh(eks: EKSClient) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        refresh = dict(eks.describe_insights_refresh(clusterName="prod"))
        if refresh["status"] != "IN_PROGRESS":
            return refresh
        time.sleep(0.05)
    raise AssertionError("insights refresh still IN_PROGRESS")


def error_of(excinfo: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> tuple[str, str]:
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def test_a_new_cluster_has_the_usual_checks_for_its_next_minor_all_passing(eks: EKSClient) -> None:
    found = upgrade_insights(eks, "1.30")

    assert {i["name"] for i in found} == {
        "Deprecated APIs removed in Kubernetes v1.30",
        "Kubelet version skew",
        "Cluster health issues",
        "EKS add-on version compatibility",
    }
    assert {i["insightStatus"]["status"] for i in found} == {"PASSING"}
    assert {i["kubernetesVersion"] for i in found} == {"1.30"}
    assert upgrade_insights(eks, "1.31") == []


def test_a_finding_set_for_a_version_shows_in_the_list_and_whole_in_describe(
    eks: EKSClient, control: SandboxControl
) -> None:
    control.set_insights("prod", "1.30", [DEPRECATED_FINDING])

    [error] = upgrade_insights(eks, "1.30", statuses=["ERROR"])
    insight = eks.describe_insight(clusterName="prod", id=error["id"])["insight"]

    assert error["name"] == DEPRECATED_FINDING["name"]
    assert insight["recommendation"] == DEPRECATED_FINDING["recommendation"]
    assert [r.get("kubernetesResourceUri") for r in insight["resources"]] == DEPRECATED_FINDING["resources"]
    assert insight["categorySpecificSummary"]["deprecationDetails"] == DEPRECATED_FINDING["deprecations"]
    assert insight["insightStatus"] == {"status": "ERROR", "reason": DEPRECATED_FINDING["reason"]}


def test_findings_are_per_cluster_and_version(eks: EKSClient, control: SandboxControl) -> None:
    control.set_insights("staging", "1.30", [DEPRECATED_FINDING])
    control.set_insights("prod", "1.32", [{**DEPRECATED_FINDING, "status": "WARNING"}])

    assert upgrade_insights(eks, "1.30", statuses=["ERROR", "WARNING"]) == []
    assert [i["insightStatus"]["status"] for i in upgrade_insights(eks, "1.32")] == ["WARNING"]


def test_an_unknown_insight_id_is_not_found(eks: EKSClient) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.describe_insight(clusterName="prod", id="00000000-0000-0000-0000-000000000000")

    assert error_of(excinfo)[0] == "ResourceNotFoundException"


def test_list_insights_of_a_missing_cluster_is_not_found(eks: EKSClient) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.list_insights(clusterName="ghost")

    assert error_of(excinfo) == ("ResourceNotFoundException", "No cluster found for name: ghost.")


def test_list_insights_pages(eks: EKSClient) -> None:
    first = eks.list_insights(clusterName="prod", maxResults=3)
    second = eks.list_insights(clusterName="prod", maxResults=3, nextToken=first["nextToken"])

    assert len(first["insights"]) == 3
    assert len(first["insights"] + second["insights"]) == 4
    assert "nextToken" not in second


def test_a_refresh_runs_for_its_duration_then_completes_and_renews_last_refresh_time(eks: EKSClient) -> None:
    before = upgrade_insights(eks, "1.30")[0]["lastRefreshTime"]

    started = eks.start_insights_refresh(clusterName="prod")
    during = eks.describe_insights_refresh(clusterName="prod")
    done = wait_for_refresh(eks)

    assert (started["status"], during["status"], done["status"]) == ("IN_PROGRESS", "IN_PROGRESS", "COMPLETED")
    assert (done["endedAt"] - done["startedAt"]).total_seconds() == pytest.approx(REFRESH_SECONDS, abs=0.05)
    assert upgrade_insights(eks, "1.30")[0]["lastRefreshTime"] > before


def test_findings_set_for_after_the_refresh_show_only_once_it_completes(
    eks: EKSClient, control: SandboxControl
) -> None:
    control.set_insights("prod", "1.30", [DEPRECATED_FINDING])
    control.set_insights("prod", "1.30", [{**DEPRECATED_FINDING, "status": "PASSING"}], after_refresh=True)

    before = upgrade_insights(eks, "1.30", statuses=["ERROR"])
    eks.start_insights_refresh(clusterName="prod")
    wait_for_refresh(eks)

    assert [i["name"] for i in before] == [DEPRECATED_FINDING["name"]]
    assert upgrade_insights(eks, "1.30", statuses=["ERROR"]) == []


def test_an_injected_refresh_failure_ends_failed(eks: EKSClient, control: SandboxControl) -> None:
    control.inject("insights_refresh_failed", operation="StartInsightsRefresh", target="prod")

    eks.start_insights_refresh(clusterName="prod")

    assert wait_for_refresh(eks)["status"] == "FAILED"


def test_describe_refresh_before_any_refresh_is_not_found(eks: EKSClient) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.describe_insights_refresh(clusterName="prod")

    assert error_of(excinfo)[0] == "ResourceNotFoundException"


def test_an_error_insight_for_the_next_minor_refuses_the_update_unless_forced(
    eks: EKSClient, control: SandboxControl
) -> None:
    control.set_insights("prod", "1.30", [DEPRECATED_FINDING])

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.update_cluster_version(name="prod", version="1.30")
    cluster_after_refusal = eks.describe_cluster(name="prod")["cluster"]
    forced = eks.update_cluster_version(name="prod", version="1.30", force=True)["update"]

    assert error_of(excinfo) == ("InvalidStateException", messages.READINESS_BLOCKED)
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert (cluster_after_refusal["status"], cluster_after_refusal["version"]) == ("ACTIVE", "1.29")
    assert eks.list_updates(name="prod")["updateIds"] == [forced["id"]]


def test_warnings_and_errors_for_later_versions_do_not_refuse_the_update(
    eks: EKSClient, control: SandboxControl
) -> None:
    control.set_insights("prod", "1.30", [{**DEPRECATED_FINDING, "status": "WARNING"}])
    control.set_insights("prod", "1.31", [DEPRECATED_FINDING])

    update = eks.update_cluster_version(name="prod", version="1.30")["update"]

    assert update["status"] == "InProgress"


def test_an_incompatible_add_on_fails_the_compatibility_check_and_refuses_the_update(eks: EKSClient) -> None:
    eks.create_addon(clusterName="prod", addonName="kube-proxy", addonVersion="v1.29.0-eksbuild.1")

    [check] = [i for i in upgrade_insights(eks, "1.30") if i["name"] == "EKS add-on version compatibility"]
    described = eks.describe_insight(clusterName="prod", id=check["id"])["insight"]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.update_cluster_version(name="prod", version="1.30")

    assert check["insightStatus"]["status"] == "ERROR"
    [details] = described["categorySpecificSummary"]["addonCompatibilityDetails"]
    assert details["name"] == "kube-proxy"
    assert "v1.29.15-eksbuild.2" in details["compatibleVersions"]
    assert "v1.29.0-eksbuild.1" not in details["compatibleVersions"]
    assert error_of(excinfo)[0] == "InvalidStateException"


def test_a_bad_finding_is_refused_by_the_control_endpoint(control: SandboxControl) -> None:
    with pytest.raises(Exception, match="400"):
        control.set_insights("prod", "1.30", [{"name": "x", "status": "RED"}])


def test_an_injected_access_denial_answers_403_before_the_operation_runs(
    endpoint: str, control: SandboxControl
) -> None:
    # Not recorded for the contract: IAM denials come for every operation, declared or not (as on AWS).
    client = boto3.session.Session(
        region_name=REGION, aws_access_key_id="sandbox", aws_secret_access_key="sandbox-secret"
    ).client("eks", endpoint_url=endpoint)
    control.inject("access_denied", operation="ListInsights")

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.list_insights(clusterName="anything")

    assert error_of(excinfo)[0] == "AccessDeniedException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

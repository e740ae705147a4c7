"""The sandbox's AWS endpoint: moto behind it, operations routed by the EKS model, transport faults on demand."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import pytest

from pulumi_cluster_connect.sandbox.aws import routes
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl


@pytest.fixture
def control(endpoint: str) -> Iterator[SandboxControl]:
    control = SandboxControl(endpoint)
    control.reset()
    yield control
    control.reset()


def client(endpoint: str, service: Any, attempts: int = 3) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-west-2",
        aws_access_key_id="k",
        aws_secret_access_key="s",
        config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    )


def test_every_eks_operation_of_the_model_has_a_route() -> None:
    assert routes.match("POST", "/cluster-registrations") == ("RegisterCluster", {})
    assert routes.match("DELETE", "/cluster-registrations/edge") == ("DeregisterCluster", {"name": "edge"})
    assert routes.match("GET", "/clusters/c/updates/u1") == ("DescribeUpdate", {"name": "c", "updateId": "u1"})
    assert routes.match("GET", "/clusters/c/fargate-profiles/p") == (
        "DescribeFargateProfile",
        {"name": "c", "fargateProfileName": "p"},
    )
    assert routes.match("PATCH", "/nowhere") is None


def test_operations_the_sandbox_does_not_override_are_served_by_moto(endpoint: str, control: SandboxControl) -> None:
    iam = client(endpoint, "iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    eks = client(endpoint, "eks")
    eks.create_cluster(name="c1", version="1.30", roleArn=role, resourcesVpcConfig={"subnetIds": ["s"]})
    assert eks.describe_cluster(name="c1")["cluster"]["version"] == "1.30"


def test_injected_throttling_is_retried_by_botocore(endpoint: str, control: SandboxControl) -> None:
    control.inject("throttle", operation="ListClusters", count=2)
    response = client(endpoint, "eks", attempts=3).list_clusters()
    assert response["ResponseMetadata"]["RetryAttempts"] == 2


def test_server_errors_past_the_retry_budget_surface_with_their_code(endpoint: str, control: SandboxControl) -> None:
    control.inject("unavailable", operation="ListClusters", count=5)
    with pytest.raises(botocore.exceptions.ClientError) as failed:
        client(endpoint, "eks", attempts=2).list_clusters()
    assert failed.value.response["Error"]["Code"] == "ServiceUnavailableException"


def test_faults_for_iam_are_matched_by_the_query_action(endpoint: str, control: SandboxControl) -> None:
    control.inject("server_error", operation="GetRole", count=1)
    iam = client(endpoint, "iam", attempts=1)
    with pytest.raises(botocore.exceptions.ClientError):
        iam.get_role(RoleName="missing")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName="missing")


def test_reset_forgets_resources_and_faults(endpoint: str, control: SandboxControl) -> None:
    client(endpoint, "iam").create_role(RoleName="kept", AssumeRolePolicyDocument="{}")
    control.inject("throttle", operation="ListRoles", count=0)
    control.reset()
    assert client(endpoint, "iam").list_roles()["Roles"] == []


def test_reset_forgets_the_network_too(endpoint: str, control: SandboxControl) -> None:
    ec2 = client(endpoint, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    control.reset()
    assert vpc not in [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]]


def test_durations_are_set_through_the_control_endpoint_and_unknown_ones_refused(
    endpoint: str, control: SandboxControl
) -> None:
    assert control.set_durations(fargate_create=5)["durations"]["fargate_create"] == 5
    request = urllib.request.Request(
        f"{endpoint}/_sandbox/durations",
        data=json.dumps({"nonsense": 1}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 400

"""Seeding the sandbox: what the demo stands on, made once, with private subnets EKS accepts for Fargate."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_cluster_connect.sandbox import seed
from pulumi_cluster_connect.sandbox.aws import network, roles
from pulumi_cluster_connect.sandbox.aws.call import Call
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl
from pulumi_cluster_connect.sandbox.aws.server import DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY

REGION = "us-west-2"

pytestmark = pytest.mark.unit


@pytest.fixture
def environment(endpoint: str) -> Iterator[dict[str, str]]:
    """A client environment for the sandbox, as `AwsSandbox.client_environment()` gives it; reset around."""
    control = SandboxControl(endpoint)
    control.reset()
    yield {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_ACCESS_KEY,
        "AWS_REGION": REGION,
    }
    control.reset()


def test_seeding_twice_makes_nothing_new(environment: dict[str, str]) -> None:
    first = seed.seed(environment)
    again = seed.seed(environment)
    clients = seed.Clients.from_environment(environment)

    assert again == first
    named = clients.ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [seed.VPC_NAME]}])["Vpcs"]
    assert [vpc["VpcId"] for vpc in named] == [first["vpcId"]]
    assert clients.eks.list_clusters()["clusters"] == [seed.CLUSTER_NAME]


def test_the_seeded_subnets_are_private_but_one_and_all_in_the_cluster_vpc(environment: dict[str, str]) -> None:
    seeded = seed.seed(environment)
    call = Call("CreateFargateProfile", REGION)
    cluster = call.eks.clusters[seed.CLUSTER_NAME]

    assert [network.is_private(call, s) for s in seeded["privateSubnetIds"]] == [True, True]
    assert not network.is_private(call, seeded["publicSubnetId"])
    assert network.cluster_vpc(call, cluster) == seeded["vpcId"]
    assert network.private_subnets_of(call, cluster) == seeded["privateSubnetIds"]
    zones = {network.subnet(call, s).availability_zone for s in seeded["privateSubnetIds"]}  # type: ignore[union-attr]
    assert len(zones) == 2, "EKS wants subnets in two availability zones"


@pytest.mark.parametrize(
    ("key", "service"),
    [
        ("clusterRoleArn", "eks.amazonaws.com"),
        ("connectorRoleArn", "ssm.amazonaws.com"),
        ("podExecutionRoleArn", "eks-fargate-pods.amazonaws.com"),
    ],
)
def test_each_seeded_role_trusts_the_service_eks_checks(environment: dict[str, str], key: str, service: str) -> None:
    role = roles.find(seed.seed(environment)[key])

    assert role is not None
    assert roles.trusts(role, service)
    assert not roles.trusts(role, "lambda.amazonaws.com")


def test_the_seeded_cluster_runs_the_demo_version_on_every_seeded_subnet(environment: dict[str, str]) -> None:
    seeded: dict[str, Any] = seed.seed(environment)
    cluster = seed.Clients.from_environment(environment).eks.describe_cluster(name=seeded["eksClusterName"])["cluster"]

    assert (cluster["version"], seeded["eksClusterVersion"]) == (seed.CLUSTER_VERSION, seed.CLUSTER_VERSION)
    assert cluster["resourcesVpcConfig"]["subnetIds"] == [*seeded["privateSubnetIds"], seeded["publicSubnetId"]]
    assert cluster["roleArn"] == seeded["clusterRoleArn"]
    assert json.loads(json.dumps(seeded)) == seeded, "plain JSON values, ready to print or set as config"

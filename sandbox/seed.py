"""Seeds a sandbox with what a platform team already has: a VPC with private subnets, IAM roles, an EKS cluster.

`seed()` makes each piece only when it is missing, so it can run against a sandbox any number of times, and
returns the names, ARNs and ids a stack needs. It speaks to the AWS endpoint through boto3 only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3

VPC_NAME = "cluster-connect-sandbox"
VPC_CIDR = "10.0.0.0/16"
PRIVATE_SUBNETS = (("private-a", "a", "10.0.1.0/24"), ("private-b", "b", "10.0.2.0/24"))
PUBLIC_SUBNET = ("public-a", "a", "10.0.101.0/24")
CLUSTER_NAME = "platform"
CLUSTER_VERSION = "1.30"
CLUSTER_ROLE, CONNECTOR_ROLE, POD_EXECUTION_ROLE = "eks-cluster", "eks-connector-agent", "fargate-pod-execution"
TRUSTED_SERVICE = {
    CLUSTER_ROLE: "eks.amazonaws.com",
    CONNECTOR_ROLE: "ssm.amazonaws.com",
    POD_EXECUTION_ROLE: "eks-fargate-pods.amazonaws.com",
}


@dataclass(frozen=True)
class Clients:
    """The boto3 clients seeding needs."""

    ec2: Any
    iam: Any
    eks: Any

    @classmethod
    def from_environment(cls, environment: Mapping[str, str] | None = None) -> Clients:
        """Clients for the endpoint an environment names (AWS_ENDPOINT_URL, keys, region), the process's own
        when none is given: the sandbox's `client_environment()` or its env file both fit."""
        env = os.environ if environment is None else environment
        session = boto3.session.Session(
            aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
            region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
        )
        endpoint = env.get("AWS_ENDPOINT_URL")
        return cls(*(session.client(name, endpoint_url=endpoint) for name in ("ec2", "iam", "eks")))


def _tags(name: str) -> list[dict[str, Any]]:
    return [{"Key": "Name", "Value": name}]


def _tagged(resource_type: str, name: str) -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type, "Tags": _tags(name)}]


def _named(name: str, *others: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"Name": "tag:Name", "Values": [name]}, *others]


def _vpc(ec2: Any) -> str:
    found = ec2.describe_vpcs(Filters=_named(VPC_NAME))["Vpcs"]
    if found:
        return str(found[0]["VpcId"])
    return str(ec2.create_vpc(CidrBlock=VPC_CIDR, TagSpecifications=_tagged("vpc", VPC_NAME))["Vpc"]["VpcId"])


def _subnet(ec2: Any, vpc_id: str, spec: tuple[str, str, str]) -> str:
    suffix, zone, cidr = spec
    name = f"{VPC_NAME}-{suffix}"
    found = ec2.describe_subnets(Filters=_named(name, {"Name": "vpc-id", "Values": [vpc_id]}))["Subnets"]
    if found:
        return str(found[0]["SubnetId"])
    region = ec2.meta.region_name
    subnet = ec2.create_subnet(
        VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=f"{region}{zone}", TagSpecifications=_tagged("subnet", name)
    )
    return str(subnet["Subnet"]["SubnetId"])


def _internet_gateway(ec2: Any, vpc_id: str) -> str:
    found = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])
    if found["InternetGateways"]:
        return str(found["InternetGateways"][0]["InternetGatewayId"])
    gateway = ec2.create_internet_gateway(TagSpecifications=_tagged("internet-gateway", VPC_NAME))
    gateway_id = str(gateway["InternetGateway"]["InternetGatewayId"])
    ec2.attach_internet_gateway(InternetGatewayId=gateway_id, VpcId=vpc_id)
    return gateway_id


def _route_table(ec2: Any, vpc_id: str, name: str, subnet_ids: list[str], gateway_id: str | None) -> None:
    """A route table for these subnets: with a default route to the internet gateway when one is given
    (a public subnet), with none otherwise (private subnets)."""
    found = ec2.describe_route_tables(Filters=_named(name, {"Name": "vpc-id", "Values": [vpc_id]}))["RouteTables"]
    if found:
        table = found[0]
    else:
        table = ec2.create_route_table(VpcId=vpc_id, TagSpecifications=_tagged("route-table", name))["RouteTable"]
        if gateway_id is not None:
            ec2.create_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway_id)
    associated = {a.get("SubnetId") for a in table.get("Associations", [])}
    for subnet_id in subnet_ids:
        if subnet_id not in associated:
            ec2.associate_route_table(RouteTableId=table["RouteTableId"], SubnetId=subnet_id)


def _role(iam: Any, name: str) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": TRUSTED_SERVICE[name]}, "Action": "sts:AssumeRole"}],
    }
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
    return str(role["Arn"])


def _cluster(eks: Any, role_arn: str, subnet_ids: list[str]) -> dict[str, Any]:
    try:
        return dict(eks.describe_cluster(name=CLUSTER_NAME)["cluster"])
    except eks.exceptions.ResourceNotFoundException:
        created = eks.create_cluster(
            name=CLUSTER_NAME,
            version=CLUSTER_VERSION,
            roleArn=role_arn,
            resourcesVpcConfig={"subnetIds": subnet_ids},
        )
        return dict(created["cluster"])


def seed(source: Mapping[str, str] | Clients | None = None) -> dict[str, Any]:
    """Make what the demo and the examples stand on, where it is missing, and say what it is.

    `source`: boto3 clients, or an environment naming the endpoint (default: this process's environment).
    The VPC has two private subnets (a route table without a route to the internet gateway) and one public
    subnet; the EKS cluster `platform` runs on all three, so a Fargate profile without subnets gets the two
    private ones. The roles trust what EKS checks: the cluster role eks.amazonaws.com, the connector agent's
    ssm.amazonaws.com, the Fargate pod execution role eks-fargate-pods.amazonaws.com.
    """
    clients = source if isinstance(source, Clients) else Clients.from_environment(source)
    ec2 = clients.ec2
    vpc_id = _vpc(ec2)
    private = [_subnet(ec2, vpc_id, spec) for spec in PRIVATE_SUBNETS]
    public = _subnet(ec2, vpc_id, PUBLIC_SUBNET)
    gateway_id = _internet_gateway(ec2, vpc_id)
    _route_table(ec2, vpc_id, f"{VPC_NAME}-private", private, None)
    _route_table(ec2, vpc_id, f"{VPC_NAME}-public", [public], gateway_id)
    arns = {name: _role(clients.iam, name) for name in TRUSTED_SERVICE}
    cluster = _cluster(clients.eks, arns[CLUSTER_ROLE], [*private, public])
    return {
        "region": ec2.meta.region_name,
        "vpcId": vpc_id,
        "privateSubnetIds": private,
        "publicSubnetId": public,
        "clusterRoleArn": arns[CLUSTER_ROLE],
        "connectorRoleArn": arns[CONNECTOR_ROLE],
        "podExecutionRoleArn": arns[POD_EXECUTION_ROLE],
        "eksClusterName": cluster["name"],
        "eksClusterArn": cluster["arn"],
        "eksClusterVersion": cluster["version"],
    }


if __name__ == "__main__":
    print(json.dumps(seed(), indent=2))

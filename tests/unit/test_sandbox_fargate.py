"""The sandbox's Fargate profiles through boto3: lifecycle, one operation per cluster, limits, faults."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import botocore.model
import botocore.session
import pytest
from moto.eks.models import eks_backends

from pulumi_cluster_connect.sandbox import seed
from pulumi_cluster_connect.sandbox.aws import fargate, handlers, messages
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl

from .. import contract

REGION = "us-west-2"
CLUSTER = seed.CLUSTER_NAME
SHORT = 0.4

pytestmark = pytest.mark.unit


@pytest.fixture
def control(endpoint: str) -> Iterator[SandboxControl]:
    control = SandboxControl(endpoint)
    control.reset()
    control.set_durations(fargate_create=SHORT, fargate_delete=SHORT)
    yield control
    control.reset()


def clients(endpoint: str) -> seed.Clients:
    session = boto3.session.Session(
        region_name=REGION, aws_access_key_id="sandbox", aws_secret_access_key="sandbox-secret"
    )
    config = botocore.config.Config(retries={"max_attempts": 0})
    return seed.Clients(*(session.client(name, endpoint_url=endpoint, config=config) for name in ("ec2", "iam", "eks")))


@pytest.fixture
def recorder() -> Iterator[contract.Recorder]:
    """Every answer the test's EKS client received, checked against botocore's model after the test."""
    recorded = contract.Recorder()
    yield recorded
    # Real EKS answers CreateFargateProfile with ResourceInUseException too, which the model does not declare.
    assert recorded.violations(declared=False) == []


@pytest.fixture
def world(endpoint: str, control: SandboxControl) -> dict[str, Any]:
    """The seeded sandbox: a VPC with two private subnets and a public one, the roles, cluster `platform`."""
    return seed.seed(clients(endpoint))


@dataclass
class Sandbox:
    """The seeded sandbox as a test drives it: the EKS client and what the seed made."""

    eks: Any
    world: dict[str, Any]

    @property
    def role(self) -> str:
        return str(self.world["podExecutionRoleArn"])

    def create(self, name: str, **overrides: Any) -> dict[str, Any]:
        params: dict[str, Any] = {
            "clusterName": CLUSTER,
            "fargateProfileName": name,
            "podExecutionRoleArn": self.role,
            "selectors": [{"namespace": "apps", "labels": {"tier": name}}],
            "subnets": self.world["privateSubnetIds"],
            "tags": {"team": "platform"},
            **overrides,
        }
        profile: dict[str, Any] = self.eks.create_fargate_profile(**params)["fargateProfile"]
        return profile

    def status(self, name: str) -> str:
        found = self.eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName=name)
        return str(found["fargateProfile"]["status"])


@pytest.fixture
def sandbox(endpoint: str, world: dict[str, Any], recorder: contract.Recorder) -> Sandbox:
    return Sandbox(recorder.attach(clients(endpoint).eks), world)


def error_of(call: Any) -> tuple[str, str, int]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call()
    response = caught.value.response
    code, status = response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]
    # Some are not declared for the operation (ResourceInUseException on CreateFargateProfile), as on real AWS.
    assert contract.error_problems(code, status) == []
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def wait_settled(seconds: float = SHORT) -> None:
    time.sleep(seconds + 0.15)


# --- lifecycle ----------------------------------------------------------------------------------


def test_a_new_profile_is_creating_until_the_create_duration_has_passed_then_active(sandbox: Sandbox) -> None:
    profile = sandbox.create("web")
    assert profile["status"] == "CREATING"
    assert profile["fargateProfileArn"].startswith(f"arn:aws:eks:{REGION}:123456789012:fargateprofile/{CLUSTER}/web/")
    assert profile["selectors"] == [{"namespace": "apps", "labels": {"tier": "web"}}]
    assert profile["health"] == {"issues": []}
    wait_settled()
    assert sandbox.status("web") == "ACTIVE"


def test_a_deleted_profile_is_deleting_until_the_delete_duration_has_passed_then_gone(sandbox: Sandbox) -> None:
    sandbox.create("web")
    wait_settled()
    deleted = sandbox.eks.delete_fargate_profile(clusterName=CLUSTER, fargateProfileName="web")["fargateProfile"]
    assert deleted["status"] == "DELETING"
    assert sandbox.eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == ["web"]
    wait_settled()
    code, message, http = error_of(lambda: sandbox.status("web"))
    assert (code, http) == ("ResourceNotFoundException", 404)
    assert message == messages.PROFILE_NOT_FOUND.format(name="web")
    assert sandbox.eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == []


def test_a_second_create_while_one_profile_is_creating_is_refused_with_resource_in_use(sandbox: Sandbox) -> None:
    sandbox.create("first")
    code, message, http = error_of(lambda: sandbox.create("second"))
    assert (code, http) == ("ResourceInUseException", 409)
    assert message == messages.PROFILE_OPERATION_IN_PROGRESS.format(
        verb="create", name="second", cluster=CLUSTER, other="first", status="CREATING"
    )
    wait_settled()
    assert sandbox.create("second")["status"] == "CREATING"


def test_a_delete_while_another_profile_is_deleting_is_refused_with_resource_in_use(sandbox: Sandbox) -> None:
    for name in ("a", "b"):
        sandbox.create(name)
        wait_settled()
    sandbox.eks.delete_fargate_profile(clusterName=CLUSTER, fargateProfileName="a")
    code, message, _ = error_of(lambda: sandbox.eks.delete_fargate_profile(clusterName=CLUSTER, fargateProfileName="b"))
    assert code == "ResourceInUseException"
    assert "currently has Fargate profile a in status DELETING" in message


def test_profiles_on_different_clusters_do_not_block_each_other(sandbox: Sandbox) -> None:
    subnets = {"subnetIds": sandbox.world["privateSubnetIds"]}
    sandbox.eks.create_cluster(name="other", roleArn=sandbox.world["clusterRoleArn"], resourcesVpcConfig=subnets)
    sandbox.create("web")
    assert sandbox.create("web", clusterName="other")["status"] == "CREATING"


def test_a_cluster_update_in_progress_blocks_profile_creation(sandbox: Sandbox) -> None:
    cluster = eks_backends["123456789012"][REGION].clusters[CLUSTER]
    cluster.status = "UPDATING"
    try:
        code, message, _ = error_of(lambda: sandbox.create("web"))
    finally:
        cluster.status = "ACTIVE"
    assert code == "ResourceInUseException"
    assert message == messages.PROFILE_CLUSTER_UPDATING.format(verb="create", name="web", cluster=CLUSTER)


# --- validation and limits ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"selectors": [{"namespace": f"ns{i}"} for i in range(6)]}, messages.TOO_MANY_SELECTORS),
        (
            {"selectors": [{"namespace": "a", "labels": {f"k{i}": "v" for i in range(6)}}]},
            messages.TOO_MANY_LABELS,
        ),
        ({"selectors": [{"labels": {"a": "b"}}]}, messages.NEEDS_NAMESPACE),
        ({"selectors": []}, messages.NEEDS_SELECTOR),
        ({"fargateProfileName": "eks-web"}, messages.RESERVED_PREFIX),
        ({"fargateProfileName": "-web"}, messages.BAD_PROFILE_NAME),
        ({"fargateProfileName": "x" * 101}, messages.BAD_PROFILE_NAME),
    ],
)
def test_a_profile_breaking_a_service_rule_is_refused_as_an_invalid_parameter(
    sandbox: Sandbox, overrides: dict[str, Any], message: str
) -> None:
    assert error_of(lambda: sandbox.create("web", **overrides)) == ("InvalidParameterException", message, 400)


def test_an_eleventh_profile_on_a_cluster_exceeds_the_limit(sandbox: Sandbox, control: SandboxControl) -> None:
    control.set_durations(fargate_create=0)
    for i in range(10):
        sandbox.create(f"p{i}")
    code, _, _ = error_of(lambda: sandbox.create("p10"))
    assert code == "ResourceLimitExceededException"


def test_a_profile_on_a_missing_cluster_is_not_found(sandbox: Sandbox) -> None:
    code, message, http = error_of(lambda: sandbox.create("web", clusterName="nope"))
    assert (code, message, http) == ("ResourceNotFoundException", "No cluster found for name: nope.", 404)


def test_a_second_profile_with_the_same_name_already_exists(sandbox: Sandbox) -> None:
    sandbox.create("web")
    wait_settled()
    code, message, _ = error_of(lambda: sandbox.create("web"))
    assert (code, message) == ("ResourceInUseException", messages.PROFILE_EXISTS)


def test_a_create_retried_with_the_same_client_request_token_returns_the_same_profile(sandbox: Sandbox) -> None:
    token = str(uuid.uuid4())
    first = sandbox.create("web", clientRequestToken=token)
    again = sandbox.create("web", clientRequestToken=token)
    assert again["fargateProfileArn"] == first["fargateProfileArn"]
    code, _, _ = error_of(lambda: sandbox.create("web", clientRequestToken=str(uuid.uuid4())))
    assert code == "ResourceInUseException"


# --- faults -------------------------------------------------------------------------------------


def test_an_injected_create_failure_leaves_a_create_failed_profile_with_its_health_issue(
    sandbox: Sandbox, control: SandboxControl
) -> None:
    control.inject("fargate_create_failed", operation="CreateFargateProfile", target="web")
    sandbox.create("web")
    wait_settled()
    profile = sandbox.eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName="web")["fargateProfile"]
    assert profile["status"] == "CREATE_FAILED"
    [issue] = profile["health"]["issues"]
    assert issue["code"] == "AccessDenied"
    assert sandbox.role in issue["message"]
    assert issue["resourceIds"] == [sandbox.role]
    assert sandbox.create("other")["status"] == "CREATING", "a failed profile does not block the cluster"
    wait_settled()
    sandbox.eks.delete_fargate_profile(clusterName=CLUSTER, fargateProfileName="web")
    wait_settled()
    assert sandbox.eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == ["other"]


def test_an_injected_delete_failure_leaves_a_delete_failed_profile_that_can_be_deleted_again(
    sandbox: Sandbox, control: SandboxControl
) -> None:
    sandbox.create("web")
    wait_settled()
    control.inject("fargate_delete_failed", operation="DeleteFargateProfile", target="web")
    sandbox.eks.delete_fargate_profile(clusterName=CLUSTER, fargateProfileName="web")
    wait_settled()
    profile = sandbox.eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName="web")["fargateProfile"]
    assert profile["status"] == "DELETE_FAILED"
    assert profile["health"]["issues"][0]["code"] == "InternalFailure"
    sandbox.eks.delete_fargate_profile(clusterName=CLUSTER, fargateProfileName="web")
    wait_settled()
    assert sandbox.eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == []


# --- listing and tags ---------------------------------------------------------------------------


def test_listing_profiles_pages_through_names_in_order(sandbox: Sandbox, control: SandboxControl) -> None:
    control.set_durations(fargate_create=0)
    for name in ("c", "a", "b"):
        sandbox.create(name)
    first = sandbox.eks.list_fargate_profiles(clusterName=CLUSTER, maxResults=2)
    assert first["fargateProfileNames"] == ["a", "b"]
    second = sandbox.eks.list_fargate_profiles(clusterName=CLUSTER, maxResults=2, nextToken=first["nextToken"])
    assert second["fargateProfileNames"] == ["c"]
    assert "nextToken" not in second


def test_profile_tags_are_added_removed_and_listed_by_arn(sandbox: Sandbox) -> None:
    arn = sandbox.create("web")["fargateProfileArn"]
    sandbox.eks.tag_resource(resourceArn=arn, tags={"env": "dev"})
    sandbox.eks.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert sandbox.eks.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "dev"}
    profile = sandbox.eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName="web")["fargateProfile"]
    assert profile["tags"] == {"env": "dev"}


def test_cluster_tags_are_still_answered_by_moto(sandbox: Sandbox) -> None:
    arn = sandbox.eks.describe_cluster(name=CLUSTER)["cluster"]["arn"]
    sandbox.eks.tag_resource(resourceArn=arn, tags={"env": "dev"})
    assert sandbox.eks.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "dev"}


def test_tags_of_an_unknown_profile_arn_are_not_found(sandbox: Sandbox) -> None:
    arn = f"arn:aws:eks:{REGION}:123456789012:fargateprofile/{CLUSTER}/ghost/0000"
    code, _, http = error_of(lambda: sandbox.eks.list_tags_for_resource(resourceArn=arn))
    assert (code, http) == ("NotFoundException", 404)


# --- rules EKS enforces: subnets, role, tokens, paging, cluster deletion -------------------------


def other_vpc_subnet(endpoint: str) -> str:
    """A private subnet that exists, in a VPC other than the cluster's."""
    ec2 = clients(endpoint).ec2
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    return str(ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"])


def test_a_public_subnet_is_refused_and_private_ones_are_taken(sandbox: Sandbox) -> None:
    public = sandbox.world["publicSubnetId"]
    refused = error_of(lambda: sandbox.create("web", subnets=[sandbox.world["privateSubnetIds"][0], public]))
    assert refused == ("InvalidParameterException", messages.NOT_PRIVATE.format(subnet=public), 400)
    assert sandbox.create("web")["subnets"] == sandbox.world["privateSubnetIds"]


def test_a_subnet_that_does_not_exist_is_refused(sandbox: Sandbox) -> None:
    refused = error_of(lambda: sandbox.create("web", subnets=["subnet-0a1b2c3d4e5f60001"]))
    message = messages.NO_SUCH_SUBNET.format(subnet="subnet-0a1b2c3d4e5f60001")
    assert refused == ("InvalidParameterException", message, 400)


def test_a_subnet_outside_the_cluster_vpc_is_refused(sandbox: Sandbox, endpoint: str) -> None:
    elsewhere = other_vpc_subnet(endpoint)
    refused = error_of(lambda: sandbox.create("web", subnets=[elsewhere]))
    message = messages.OTHER_VPC.format(subnet=elsewhere, cluster=CLUSTER)
    assert refused == ("InvalidParameterException", message, 400)


def test_a_profile_without_subnets_gets_the_cluster_private_subnets(sandbox: Sandbox) -> None:
    profile = sandbox.create("web", subnets=[])
    assert profile["subnets"] == sandbox.world["privateSubnetIds"]
    assert sandbox.world["publicSubnetId"] not in profile["subnets"]


def test_a_profile_without_subnets_on_a_cluster_without_private_subnets_is_refused(
    sandbox: Sandbox, endpoint: str
) -> None:
    role_arn = sandbox.world["clusterRoleArn"]
    public = [sandbox.world["publicSubnetId"]]
    sandbox.eks.create_cluster(name="edge", roleArn=role_arn, resourcesVpcConfig={"subnetIds": public})
    refused = error_of(lambda: sandbox.create("web", clusterName="edge", subnets=[]))
    assert refused[0] == "InvalidParameterException"
    assert refused[1] == messages.NO_PRIVATE_SUBNETS.format(cluster="edge")


def test_a_pod_execution_role_that_is_not_a_role_arn_is_refused(sandbox: Sandbox) -> None:
    user = "arn:aws:iam::123456789012:user/fargate"
    refused = error_of(lambda: sandbox.create("web", podExecutionRoleArn=user))
    assert refused == ("InvalidParameterException", messages.BAD_ROLE_ARN.format(arn=user), 400)


def test_a_pod_execution_role_that_does_not_exist_is_refused(sandbox: Sandbox) -> None:
    missing = "arn:aws:iam::123456789012:role/no-such-role"
    refused = error_of(lambda: sandbox.create("web", podExecutionRoleArn=missing))
    assert refused == ("InvalidParameterException", messages.ROLE_TRUST, 400)


def test_a_pod_execution_role_that_does_not_trust_fargate_is_refused(sandbox: Sandbox) -> None:
    refused = error_of(lambda: sandbox.create("web", podExecutionRoleArn=sandbox.world["connectorRoleArn"]))
    assert refused == ("InvalidParameterException", messages.ROLE_TRUST, 400)


def test_a_client_request_token_sent_again_with_other_parameters_is_refused(sandbox: Sandbox) -> None:
    token = str(uuid.uuid4())
    sandbox.create("web", clientRequestToken=token)
    refused = error_of(lambda: sandbox.create("web", clientRequestToken=token, tags={"team": "other"}))
    assert refused == ("InvalidParameterException", messages.TOKEN_REUSED.format(token=token), 400)
    wait_settled()
    assert error_of(lambda: sandbox.create("api", clientRequestToken=token))[0] == "InvalidParameterException"


def test_a_client_request_token_is_remembered_after_its_profile_is_gone(sandbox: Sandbox) -> None:
    token = str(uuid.uuid4())
    first = sandbox.create("web", clientRequestToken=token)
    wait_settled()
    sandbox.eks.delete_fargate_profile(clusterName=CLUSTER, fargateProfileName="web")
    wait_settled()
    again = sandbox.create("web", clientRequestToken=token)
    assert again == first, "the first answer, as EKS replays a token it has seen"
    assert sandbox.eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == []


def test_a_next_token_the_sandbox_did_not_hand_out_is_refused(sandbox: Sandbox, control: SandboxControl) -> None:
    control.set_durations(fargate_create=0)
    for name in ("a", "b"):
        sandbox.create(name)
    refused = error_of(lambda: sandbox.eks.list_fargate_profiles(clusterName=CLUSTER, nextToken="b"))
    assert refused == ("InvalidParameterException", messages.BAD_NEXT_TOKEN, 400)
    first = sandbox.eks.list_fargate_profiles(clusterName=CLUSTER, maxResults=1)
    sandbox.eks.delete_fargate_profile(clusterName=CLUSTER, fargateProfileName="b")
    second = sandbox.eks.list_fargate_profiles(clusterName=CLUSTER, maxResults=1, nextToken=first["nextToken"])
    assert second["fargateProfileNames"] == ["b"], "a handed-out token still pages after the profile starts deleting"


def test_a_cluster_with_fargate_profiles_is_not_deleted(sandbox: Sandbox, control: SandboxControl) -> None:
    control.set_durations(fargate_create=0, fargate_delete=SHORT)
    sandbox.create("web")
    refused = error_of(lambda: sandbox.eks.delete_cluster(name=CLUSTER))
    assert refused == ("ResourceInUseException", "Cluster has Fargate Profiles in ACTIVE/CREATING state", 409)
    sandbox.eks.delete_fargate_profile(clusterName=CLUSTER, fargateProfileName="web")
    deleting = error_of(lambda: sandbox.eks.delete_cluster(name=CLUSTER))
    assert deleting == ("ResourceInUseException", "Cluster has Fargate Profiles in DELETING state", 409)
    wait_settled()
    assert sandbox.eks.delete_cluster(name=CLUSTER)["cluster"]["name"] == CLUSTER


def test_error_bodies_carry_the_cluster_and_profile_they_are_about(
    sandbox: Sandbox, recorder: contract.Recorder
) -> None:
    error_of(lambda: sandbox.create("web", subnets=[sandbox.world["publicSubnetId"]]))
    body = json.loads(recorder.exchanges[-1].body)
    assert body == {
        "clusterName": CLUSTER,
        "nodegroupName": None,
        "fargateProfileName": "web",
        "addonName": None,
        "subscriptionId": None,
        "message": messages.NOT_PRIVATE.format(subnet=sandbox.world["publicSubnetId"]),
    }


# --- contract: every response matches botocore's shapes -----------------------------------------


def test_every_fargate_operation_answers_in_botocore_shapes(
    sandbox: Sandbox, control: SandboxControl, recorder: contract.Recorder
) -> None:
    """Each operation, a failed profile's health included; the recorder checks every answer of every test."""
    control.inject("fargate_create_failed", target="broken")
    arn = sandbox.create("broken")["fargateProfileArn"]
    sandbox.eks.list_fargate_profiles(clusterName=CLUSTER, maxResults=1)
    wait_settled()
    described = sandbox.eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName="broken")
    assert described["fargateProfile"]["health"]["issues"], "the failed profile's health is part of the check"
    sandbox.eks.tag_resource(resourceArn=arn, tags={"a": "b"})
    sandbox.eks.list_tags_for_resource(resourceArn=arn)
    sandbox.eks.untag_resource(resourceArn=arn, tagKeys=["a"])
    sandbox.eks.delete_fargate_profile(clusterName=CLUSTER, fargateProfileName="broken")
    seen = {exchange.operation for exchange in recorder.exchanges}
    assert handlers.answered_by(fargate) - {"DeleteCluster"} <= seen
    assert recorder.violations(declared=False) == []

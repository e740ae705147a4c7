"""The sandbox's Fargate profiles through boto3: lifecycle, one operation per cluster, limits, faults."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import botocore.model
import botocore.session
import pytest
from moto.eks.models import eks_backends

from pulumi_cluster_connect.sandbox.aws import fargate
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl

from .. import contract

REGION = "us-west-2"
ROLE = "arn:aws:iam::123456789012:role/fargate-pods"
CLUSTER = "sandbox-cluster"
SHORT = 0.4

pytestmark = pytest.mark.unit


@pytest.fixture
def control(endpoint: str) -> Iterator[SandboxControl]:
    control = SandboxControl(endpoint)
    control.reset()
    control.set_durations(fargate_create=SHORT, fargate_delete=SHORT)
    yield control
    control.reset()


@pytest.fixture
def eks(endpoint: str, control: SandboxControl) -> Any:
    client = boto3.client(
        "eks",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox-secret",
        config=botocore.config.Config(retries={"max_attempts": 0}),
    )
    client.create_cluster(name=CLUSTER, roleArn=ROLE.replace("fargate-pods", "cluster"), resourcesVpcConfig={})
    return client


def create(eks: Any, name: str, **overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "clusterName": CLUSTER,
        "fargateProfileName": name,
        "podExecutionRoleArn": ROLE,
        "selectors": [{"namespace": "apps", "labels": {"tier": name}}],
        "subnets": ["subnet-1", "subnet-2"],
        "tags": {"team": "platform"},
        **overrides,
    }
    profile: dict[str, Any] = eks.create_fargate_profile(**params)["fargateProfile"]
    return profile


def status(eks: Any, name: str) -> str:
    return str(eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName=name)["fargateProfile"]["status"])


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


def test_a_new_profile_is_creating_until_the_create_duration_has_passed_then_active(eks: Any) -> None:
    profile = create(eks, "web")
    assert profile["status"] == "CREATING"
    assert profile["fargateProfileArn"].startswith(f"arn:aws:eks:{REGION}:123456789012:fargateprofile/{CLUSTER}/web/")
    assert profile["selectors"] == [{"namespace": "apps", "labels": {"tier": "web"}}]
    assert profile["health"] == {"issues": []}
    wait_settled()
    assert status(eks, "web") == "ACTIVE"


def test_a_deleted_profile_is_deleting_until_the_delete_duration_has_passed_then_gone(eks: Any) -> None:
    create(eks, "web")
    wait_settled()
    deleted = eks.delete_fargate_profile(clusterName=CLUSTER, fargateProfileName="web")["fargateProfile"]
    assert deleted["status"] == "DELETING"
    assert eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == ["web"]
    wait_settled()
    code, message, http = error_of(lambda: status(eks, "web"))
    assert (code, http) == ("ResourceNotFoundException", 404)
    assert message == fargate.PROFILE_NOT_FOUND_MSG.format(name="web")
    assert eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == []


def test_a_second_create_while_one_profile_is_creating_is_refused_with_resource_in_use(eks: Any) -> None:
    create(eks, "first")
    code, message, http = error_of(lambda: create(eks, "second"))
    assert (code, http) == ("ResourceInUseException", 409)
    assert message == fargate.IN_USE_MSG.format(
        verb="create", name="second", cluster=CLUSTER, other="first", status="CREATING"
    )
    wait_settled()
    assert create(eks, "second")["status"] == "CREATING"


def test_a_delete_while_another_profile_is_deleting_is_refused_with_resource_in_use(eks: Any) -> None:
    for name in ("a", "b"):
        create(eks, name)
        wait_settled()
    eks.delete_fargate_profile(clusterName=CLUSTER, fargateProfileName="a")
    code, message, _ = error_of(lambda: eks.delete_fargate_profile(clusterName=CLUSTER, fargateProfileName="b"))
    assert code == "ResourceInUseException"
    assert "currently has Fargate profile a in status DELETING" in message


def test_profiles_on_different_clusters_do_not_block_each_other(eks: Any) -> None:
    eks.create_cluster(name="other", roleArn=ROLE, resourcesVpcConfig={})
    create(eks, "web")
    assert create(eks, "web", clusterName="other")["status"] == "CREATING"


def test_a_cluster_update_in_progress_blocks_profile_creation(eks: Any) -> None:
    cluster = eks_backends["123456789012"][REGION].clusters[CLUSTER]
    cluster.status = "UPDATING"
    try:
        code, message, _ = error_of(lambda: create(eks, "web"))
    finally:
        cluster.status = "ACTIVE"
    assert code == "ResourceInUseException"
    assert message == fargate.CLUSTER_UPDATING_MSG.format(verb="create", name="web", cluster=CLUSTER)


# --- validation and limits ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"selectors": [{"namespace": f"ns{i}"} for i in range(6)]}, fargate.TOO_MANY_SELECTORS_MSG),
        (
            {"selectors": [{"namespace": "a", "labels": {f"k{i}": "v" for i in range(6)}}]},
            fargate.TOO_MANY_LABELS_MSG,
        ),
        ({"selectors": [{"labels": {"a": "b"}}]}, fargate.NEEDS_NAMESPACE_MSG),
        ({"selectors": []}, fargate.NEEDS_SELECTOR_MSG),
        ({"fargateProfileName": "eks-web"}, fargate.RESERVED_PREFIX_MSG),
        ({"fargateProfileName": "-web"}, fargate.BAD_NAME_MSG),
        ({"fargateProfileName": "x" * 101}, fargate.BAD_NAME_MSG),
    ],
)
def test_a_profile_breaking_a_service_rule_is_refused_as_an_invalid_parameter(
    eks: Any, overrides: dict[str, Any], message: str
) -> None:
    assert error_of(lambda: create(eks, "web", **overrides)) == ("InvalidParameterException", message, 400)


def test_an_eleventh_profile_on_a_cluster_exceeds_the_limit(eks: Any, control: SandboxControl) -> None:
    control.set_durations(fargate_create=0)
    for i in range(10):
        create(eks, f"p{i}")
    code, _, _ = error_of(lambda: create(eks, "p10"))
    assert code == "ResourceLimitExceededException"


def test_a_profile_on_a_missing_cluster_is_not_found(eks: Any) -> None:
    code, message, http = error_of(lambda: create(eks, "web", clusterName="nope"))
    assert (code, message, http) == ("ResourceNotFoundException", "No cluster found for name: nope.", 404)


def test_a_second_profile_with_the_same_name_already_exists(eks: Any) -> None:
    create(eks, "web")
    wait_settled()
    code, message, _ = error_of(lambda: create(eks, "web"))
    assert (code, message) == ("ResourceInUseException", fargate.PROFILE_EXISTS_MSG)


def test_a_create_retried_with_the_same_client_request_token_returns_the_same_profile(eks: Any) -> None:
    token = str(uuid.uuid4())
    first = create(eks, "web", clientRequestToken=token)
    again = create(eks, "web", clientRequestToken=token)
    assert again["fargateProfileArn"] == first["fargateProfileArn"]
    code, _, _ = error_of(lambda: create(eks, "web", clientRequestToken=str(uuid.uuid4())))
    assert code == "ResourceInUseException"


# --- faults -------------------------------------------------------------------------------------


def test_an_injected_create_failure_leaves_a_create_failed_profile_with_its_health_issue(
    eks: Any, control: SandboxControl
) -> None:
    control.inject("fargate_create_failed", operation="CreateFargateProfile", target="web")
    create(eks, "web")
    wait_settled()
    profile = eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName="web")["fargateProfile"]
    assert profile["status"] == "CREATE_FAILED"
    [issue] = profile["health"]["issues"]
    assert issue["code"] == "AccessDenied"
    assert ROLE in issue["message"]
    assert issue["resourceIds"] == [ROLE]
    assert create(eks, "other")["status"] == "CREATING", "a failed profile does not block the cluster"
    wait_settled()
    eks.delete_fargate_profile(clusterName=CLUSTER, fargateProfileName="web")
    wait_settled()
    assert eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == ["other"]


def test_an_injected_delete_failure_leaves_a_delete_failed_profile_that_can_be_deleted_again(
    eks: Any, control: SandboxControl
) -> None:
    create(eks, "web")
    wait_settled()
    control.inject("fargate_delete_failed", operation="DeleteFargateProfile", target="web")
    eks.delete_fargate_profile(clusterName=CLUSTER, fargateProfileName="web")
    wait_settled()
    profile = eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName="web")["fargateProfile"]
    assert profile["status"] == "DELETE_FAILED"
    assert profile["health"]["issues"][0]["code"] == "InternalFailure"
    eks.delete_fargate_profile(clusterName=CLUSTER, fargateProfileName="web")
    wait_settled()
    assert eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == []


# --- listing and tags ---------------------------------------------------------------------------


def test_listing_profiles_pages_through_names_in_order(eks: Any, control: SandboxControl) -> None:
    control.set_durations(fargate_create=0)
    for name in ("c", "a", "b"):
        create(eks, name)
    first = eks.list_fargate_profiles(clusterName=CLUSTER, maxResults=2)
    assert first["fargateProfileNames"] == ["a", "b"]
    second = eks.list_fargate_profiles(clusterName=CLUSTER, maxResults=2, nextToken=first["nextToken"])
    assert second["fargateProfileNames"] == ["c"]
    assert "nextToken" not in second


def test_profile_tags_are_added_removed_and_listed_by_arn(eks: Any) -> None:
    arn = create(eks, "web")["fargateProfileArn"]
    eks.tag_resource(resourceArn=arn, tags={"env": "dev"})
    eks.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert eks.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "dev"}
    profile = eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName="web")["fargateProfile"]
    assert profile["tags"] == {"env": "dev"}


def test_cluster_tags_are_still_answered_by_moto(eks: Any) -> None:
    arn = eks.describe_cluster(name=CLUSTER)["cluster"]["arn"]
    eks.tag_resource(resourceArn=arn, tags={"env": "dev"})
    assert eks.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "dev"}


def test_tags_of_an_unknown_profile_arn_are_not_found(eks: Any) -> None:
    arn = f"arn:aws:eks:{REGION}:123456789012:fargateprofile/{CLUSTER}/ghost/0000"
    code, _, http = error_of(lambda: eks.list_tags_for_resource(resourceArn=arn))
    assert (code, http) == ("NotFoundException", 404)


# --- contract: every response matches botocore's output shape -----------------------------------


def raw_body(eks: Any, operation: str, **params: Any) -> Any:
    """The JSON body the sandbox sent, before botocore parsed it."""
    captured: dict[str, Any] = {}

    def keep(http_response: Any, **_: Any) -> None:
        captured["body"] = json.loads(http_response.content) if http_response.content else {}

    event = f"after-call.eks.{operation}"
    eks.meta.events.register(event, lambda http_response, **kw: keep(http_response))
    try:
        getattr(eks, botocore.xform_name(operation))(**params)
    finally:
        eks.meta.events.unregister(event)
    return captured["body"]


def test_every_fargate_response_matches_the_botocore_output_shape(eks: Any, control: SandboxControl) -> None:
    control.inject("fargate_create_failed", target="broken")
    calls: list[tuple[str, dict[str, Any]]] = [
        (
            "CreateFargateProfile",
            {
                "clusterName": CLUSTER,
                "fargateProfileName": "broken",
                "podExecutionRoleArn": ROLE,
                "selectors": [{"namespace": "a", "labels": {"x": "y"}}],
                "subnets": ["s"],
            },
        ),
        ("DescribeFargateProfile", {"clusterName": CLUSTER, "fargateProfileName": "broken"}),
        ("ListFargateProfiles", {"clusterName": CLUSTER, "maxResults": 1}),
    ]
    bodies = [(op, raw_body(eks, op, **params)) for op, params in calls]
    wait_settled()
    bodies.append(
        (
            "DescribeFargateProfile",
            raw_body(eks, "DescribeFargateProfile", clusterName=CLUSTER, fargateProfileName="broken"),
        )
    )
    assert bodies[-1][1]["fargateProfile"]["health"]["issues"], "the failed profile's health is part of the check"
    arn = bodies[0][1]["fargateProfile"]["fargateProfileArn"]
    bodies.append(("TagResource", raw_body(eks, "TagResource", resourceArn=arn, tags={"a": "b"})))
    bodies.append(("ListTagsForResource", raw_body(eks, "ListTagsForResource", resourceArn=arn)))
    bodies.append(("UntagResource", raw_body(eks, "UntagResource", resourceArn=arn, tagKeys=["a"])))
    bodies.append(
        (
            "DeleteFargateProfile",
            raw_body(eks, "DeleteFargateProfile", clusterName=CLUSTER, fargateProfileName="broken"),
        )
    )
    for operation, body in bodies:
        assert contract.output_problems(operation, body) == [], operation

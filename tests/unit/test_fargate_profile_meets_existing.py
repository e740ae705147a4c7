"""FargateProfile creates that meet a profile (ours from a crash, someone else's, adopt_existing) or a storm."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_cluster_connect._plumbing import aws, errors, fargate_profiles, ownership, pacing, polling, protocol
from pulumi_cluster_connect.dynamic_providers import _fargate_profile_adapter as adapter
from pulumi_cluster_connect.dynamic_providers import fargate_profile as fp
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl

REGION = "us-west-2"
CLUSTER = "takeover"
IDENTITY = "proj/dev/pulumi-python:dynamic/eks:FargateProfile::web"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "eks-fargate-pods.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
CHANGING_CALLS = ("CreateFargateProfile", "DeleteFargateProfile", "TagResource", "UntagResource")


@pytest.fixture
def world(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A cluster on private subnets and a pod execution role, in a fresh sandbox; no botocore retries, so a
    throttled call reaches the provider at once."""
    for key, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "a",
        "AWS_SECRET_ACCESS_KEY": "b",
        aws.MAX_ATTEMPTS_ENV: "1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(aws, "PATIENT_RETRY", polling.Backoff(first=0.05, cap=0.1))
    control = SandboxControl(endpoint)
    control.reset()
    control.set_durations(fargate_create=0.3, fargate_delete=0.3)
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate("ab")
    ]
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName="takeover-pods", AssumeRolePolicyDocument=json.dumps(TRUST)
    )["Role"]["Arn"]
    eks = boto3.client("eks", region_name=REGION)
    eks.create_cluster(name=CLUSTER, roleArn=role, resourcesVpcConfig={"subnetIds": subnets})
    yield {"control": control, "eks": eks, "role": role}
    control.reset()


def provider() -> fp.FargateProfileProvider:
    made = fp.FargateProfileProvider()
    made.configure(ConfigureRequest(Config({"aws:region": REGION}, "tests")))
    return made


def inputs(world: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    props = {
        "cluster_name": CLUSTER,
        "fargate_profile_name": "web",
        "pod_execution_role_arn": world["role"],
        "selectors": [{"namespace": "web"}],
        "tags": {"team": "platform"},
        "identity": IDENTITY,
        "timeout_seconds": 20.0,
        **overrides,
    }
    checked = provider().check({}, {k: v for k, v in props.items() if v is not None})
    assert checked.failures == []
    return checked.inputs


def create(props: dict[str, Any]) -> dict[str, Any]:
    result = provider().create(dict(props))
    assert result.outs is not None
    return result.outs


def profiles(world: dict[str, Any]) -> list[str]:
    return sorted(world["eks"].list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"])


def describe(world: dict[str, Any], name: str = "web") -> dict[str, Any]:
    return dict(world["eks"].describe_fargate_profile(clusterName=CLUSTER, fargateProfileName=name)["fargateProfile"])


def unchanged_parts(profile: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in profile.items() if k != "status"}  # CREATING becomes ACTIVE meanwhile


def changing_calls(world: dict[str, Any]) -> dict[str, int]:
    calls = world["control"].calls()
    return {op: calls[op] for op in CHANGING_CALLS if calls.get(op)}


def made_by_someone_else(world: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    request = {
        "clusterName": CLUSTER,
        "fargateProfileName": "web",
        "podExecutionRoleArn": world["role"],
        "selectors": [{"namespace": "web"}],
        "tags": {"made-by": "console"},
        **overrides,
    }
    world["eks"].create_fargate_profile(**request)
    return describe(world)


def test_a_create_rerun_after_a_crash_adopts_the_profile_it_made_instead_of_making_another(
    world: dict[str, Any],
) -> None:
    props = inputs(world, fargate_profile_name=None, auto_name_prefix="web")
    first = create(props)
    again = create(inputs(world, fargate_profile_name=None, auto_name_prefix="web"))
    assert again["fargate_profile_name"] == first["fargate_profile_name"]
    assert again["arn"] == first["arn"]
    assert profiles(world) == [first["fargate_profile_name"]]
    assert again["tags"] == {"team": "platform"}, "our marks are not the user's tags"
    tags = describe(world, first["fargate_profile_name"])["tags"]
    assert tags[ownership.OWNER_KEY] == ownership.owner_mark(IDENTITY)


def test_a_create_meeting_someone_elses_profile_fails_before_changing_anything(world: dict[str, Any]) -> None:
    before = made_by_someone_else(world)
    world["control"].reset_calls()
    with pytest.raises(errors.ClusterConnectError) as refused:
        create(inputs(world))
    message = str(refused.value)
    assert f"Fargate profile web on cluster {CLUSTER} already exists" in message
    assert "adopt_existing=True" in message and "pulumi import" not in message
    assert changing_calls(world) == {}
    assert unchanged_parts(describe(world)) == unchanged_parts(before)


def test_a_profile_of_another_resource_is_someone_elses_too(world: dict[str, Any]) -> None:
    create(inputs(world, identity="proj/dev/pulumi-python:dynamic/eks:FargateProfile::other"))
    with pytest.raises(errors.ClusterConnectError, match="another resource's"):
        create(inputs(world))


def test_adopt_takes_over_a_matching_profile_without_recreating_it(world: dict[str, Any]) -> None:
    before = made_by_someone_else(world)
    outs = create(inputs(world, adopt_existing=True))
    assert outs["arn"] == before["fargateProfileArn"]
    assert outs["status"] == "ACTIVE"
    assert outs["tags"] == {"team": "platform"}
    tags = describe(world)["tags"]
    assert tags[ownership.OWNER_KEY] == ownership.owner_mark(IDENTITY)
    assert "made-by" not in tags, "the inputs' tags are the truth once adopted"
    assert changing_calls(world).get("CreateFargateProfile", 0) == 1, "only the profile made by someone else"
    # Managed from now on: delete removes it.
    provider().delete(f"{CLUSTER}/web", outs)
    assert profiles(world) == []


def test_adopt_refuses_a_profile_that_does_not_match_and_changes_nothing(world: dict[str, Any]) -> None:
    before = made_by_someone_else(world, selectors=[{"namespace": "elsewhere"}])
    world["control"].reset_calls()
    with pytest.raises(errors.ClusterConnectError, match=r"cannot adopt .* its selectors differ"):
        create(inputs(world, adopt_existing=True))
    assert changing_calls(world) == {}
    assert unchanged_parts(describe(world)) == unchanged_parts(before)


def test_our_profile_with_other_inputs_is_replaced(world: dict[str, Any]) -> None:
    old = create(inputs(world, selectors=[{"namespace": "old"}]))
    new = create(inputs(world))
    assert new["arn"] != old["arn"]
    assert new["selectors"] == [{"namespace": "web", "labels": {}}]
    assert profiles(world) == ["web"]


def create_in_a_describe_storm(world: dict[str, Any], props: dict[str, Any], throttles: int) -> Any:
    """Run a create; as soon as EKS accepted it, every DescribeFargateProfile is throttled (`throttles` times,
    0: until reset). Returns the create's outputs, or the exception it raised."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(create(props))
        except errors.ClusterConnectError as err:
            outcome.append(err)

    world["control"].reset_calls()
    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 10
    while not world["control"].calls().get("CreateFargateProfile") and time.monotonic() < deadline:
        time.sleep(0.01)
    world["control"].inject("throttle", operation="DescribeFargateProfile", count=throttles)
    thread.join(30)
    assert outcome, "the create did not return"
    return outcome[0]


def test_a_describe_storm_after_create_is_waited_out_and_leaves_one_profile(world: dict[str, Any]) -> None:
    outs = create_in_a_describe_storm(world, inputs(world), throttles=15)
    assert isinstance(outs, dict), outs
    assert outs["status"] == "ACTIVE"
    assert profiles(world) == ["web"]
    assert world["control"].calls()["CreateFargateProfile"] == 1
    assert world["control"].calls()["DescribeFargateProfile"] > 15


def test_a_describe_storm_longer_than_the_timeout_leaves_the_profile_for_the_next_up_to_adopt(
    world: dict[str, Any],
) -> None:
    failed = create_in_a_describe_storm(world, inputs(world, timeout_seconds=2.0), throttles=500)
    assert isinstance(failed, errors.ClusterConnectError), failed
    assert "left in place, marked as this resource's, and the next `pulumi up` adopts it" in str(failed)
    impatient = boto3.client("eks", region_name=REGION, config=BotoConfig(retries={"total_max_attempts": 1}))
    while True:  # the storm passes
        try:
            impatient.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName="web")
            break
        except impatient.exceptions.ClientError:
            continue
    world["control"].reset_calls()
    outs = create(inputs(world))
    assert outs["status"] == "ACTIVE"
    assert profiles(world) == ["web"]
    assert world["control"].calls().get("CreateFargateProfile") is None, "adopted, not made again"


def test_a_create_failed_profile_whose_cleanup_fails_says_so_and_the_next_create_recovers(
    world: dict[str, Any],
) -> None:
    world["control"].inject("fargate_create_failed", target="web")
    world["control"].inject("fargate_delete_failed", target="web")
    with pytest.raises(errors.LifecycleFailed) as failed:
        create(inputs(world))
    message = str(failed.value)
    assert "Deleting the failed profile failed too" in message
    assert "was deleted" not in message
    assert "left in place" in message
    assert describe(world)["status"] == "DELETE_FAILED"
    outs = create(inputs(world))
    assert outs["status"] == "ACTIVE"
    assert profiles(world) == ["web"]


def test_a_profile_being_deleted_is_waited_out_then_created_again(world: dict[str, Any]) -> None:
    old = create(inputs(world))
    world["eks"].delete_fargate_profile(clusterName=CLUSTER, fargateProfileName="web")
    new = create(inputs(world))
    assert new["arn"] != old["arn"] and new["status"] == "ACTIVE"


def test_the_same_create_after_a_delete_makes_a_new_profile(world: dict[str, Any]) -> None:
    props = inputs(world)
    old = create(props)
    provider().delete(f"{CLUSTER}/web", old)
    new = create(props)
    assert new["arn"] != old["arn"]
    assert describe(world)["status"] == "ACTIVE"


def test_a_replacement_that_adopted_the_profile_keeps_it_when_the_old_resource_is_deleted(
    world: dict[str, Any],
) -> None:
    """`pulumi up --replace` of an auto-named profile: the new create asks for the same name and adopts it."""
    props = inputs(world, fargate_profile_name=None, auto_name_prefix="web")
    old = create(props)
    new = create(props)
    assert new[fp.CLAIM] and old.get(fp.CLAIM) != new[fp.CLAIM]
    name = new["fargate_profile_name"]
    provider().delete(f"{CLUSTER}/{name}", old)
    assert profiles(world) == [name]
    provider().delete(f"{CLUSTER}/{name}", new)
    assert profiles(world) == []


def test_claims_are_our_tags_not_the_users() -> None:
    tags = {"team": "x", ownership.OWNER_KEY: "m", protocol.CLAIM_KEY: "c"}
    assert adapter.user_tags(tags) == {"team": "x"}


def test_a_create_that_takes_over_a_profile_still_being_created_teaches_the_waits_nothing(
    world: dict[str, Any],
) -> None:
    """The wait began midway through someone else's (or an interrupted run's) creation: its length says nothing
    of how long a creation takes, so later waits must not look for the end that early."""
    pacing.EXPECTATIONS.forget()
    world["control"].set_durations(fargate_create=1.0)
    props = inputs(world, adopt_existing=True)
    made_by_someone_else(world)  # CREATING for a second

    time.sleep(0.5)
    outs = create(props)

    assert outs["status"] == "ACTIVE"
    assert pacing.EXPECTATIONS.known(fargate_profiles.CREATE_PACE.kind or "") is None

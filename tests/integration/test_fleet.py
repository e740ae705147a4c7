"""A fleet in one stack through the real engine: clusters side by side, each cluster's profiles one at a time.

Two mechanisms make it work, and these tests fail if a Pulumi SDK or engine change breaks either:
- FargateProfile makes each profile depend on the one declared before it for the same cluster, so the engine
  orders a cluster's operations (creates forward, deletes in reverse) and no provider call waits for a lock;
- our providers widen the dynamic provider process's thread pool (4 threads in pulumi/dynamic/__main__.py), so
  more than four clusters wait on EKS at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pulumi
import pytest

from pulumi_cluster_connect.dynamic_providers import ClusterVersion, FargateProfile
from pulumi_cluster_connect.sandbox import seed
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl
from pulumi_cluster_connect.sandbox.stacks import StackFactory, TestStack

REGION = "us-west-2"
SECONDS = 4.0


@pytest.fixture
def eks(aws: SandboxControl, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    return boto3.client("eks", region_name=REGION)


def new_cluster(eks: Any, name: str, version: str = "1.31") -> None:
    """A cluster on the seeded VPC's private subnets, with the seeded cluster role."""
    seeded = seed.seed()
    eks.create_cluster(
        name=name,
        version=version,
        roleArn=seeded["clusterRoleArn"],
        resourcesVpcConfig={"subnetIds": seeded["privateSubnetIds"]},
    )


def pod_role() -> str:
    return str(seed.seed()["podExecutionRoleArn"])


def fleet(clusters: int, profiles: int, skip: tuple[int, int] | None = None) -> Callable[[], None]:
    def program() -> None:
        for c in range(clusters):
            for p in range(profiles):
                if (c, p) != skip:
                    FargateProfile(
                        f"c{c}-p{p}",
                        cluster_name=f"fleet-{c}",
                        fargate_profile_name=f"p{p}",
                        pod_execution_role_arn=pod_role(),
                        selectors=[{"namespace": f"apps-{p}"}],
                    )

    return program


def created_at(eks: Any, cluster: str, name: str) -> float:
    return float(
        eks.describe_fargate_profile(clusterName=cluster, fargateProfileName=name)["fargateProfile"][
            "createdAt"
        ].timestamp()
    )


def dependencies(stack: TestStack) -> dict[str, set[str]]:
    return {r["urn"].rsplit("::", 1)[-1]: set(r.get("dependencies") or []) for r in stack.resources("FargateProfile")}


def urn_of(stack: TestStack, name: str) -> str:
    return str(next(r["urn"] for r in stack.resources("FargateProfile") if r["urn"].endswith(f"::{name}")))


def test_six_clusters_create_and_destroy_side_by_side_each_one_profile_at_a_time(
    stacks: StackFactory, aws: SandboxControl, eks: Any
) -> None:
    aws.set_durations(fargate_create=SECONDS, fargate_delete=SECONDS)
    for c in range(6):
        new_cluster(eks, f"fleet-{c}")
    stack = stacks.inline(fleet(6, 2))
    try:
        stack.up()
        calls = aws.calls()

        firsts = [created_at(eks, f"fleet-{c}", "p0") for c in range(6)]
        seconds = [created_at(eks, f"fleet-{c}", "p1") for c in range(6)]
        # More than four clusters at once: every first profile began before any of them could have finished.
        assert max(firsts) - min(firsts) < SECONDS
        # One operation per cluster: each second profile began after its cluster's first one was done, and the
        # engine, not a retry after ResourceInUseException, kept them apart.
        assert all(second >= first + SECONDS for first, second in zip(firsts, seconds, strict=True))
        assert calls["CreateFargateProfile"] == 12
        # Whether a name is taken: one listing per cluster for the whole deployment, no describe per create.
        assert calls["ListFargateProfiles"] == 6
        assert "ResourceInUse" not in stack.output
        for profile in stack.resources("FargateProfile"):
            after, by = profile["outputs"]["creation_seconds"]
            assert after < SECONDS + 0.5 and by > SECONDS - 0.5 and after < by
        chain = dependencies(stack)
        for c in range(6):
            assert urn_of(stack, f"c{c}-p0") in chain[f"c{c}-p1"]
            assert not chain[f"c{c}-p0"]

        aws.reset_calls()
        stack.destroy()
        assert aws.calls()["DeleteFargateProfile"] == 12
        assert "ResourceInUse" not in stack.output
        assert all(not eks.list_fargate_profiles(clusterName=f"fleet-{c}")["fargateProfileNames"] for c in range(6))
    finally:
        stack.destroy()


def test_a_deletion_looks_first_where_its_creation_ended(stacks: StackFactory, aws: SandboxControl, eks: Any) -> None:
    aws.set_durations(fargate_create=SECONDS, fargate_delete=SECONDS)
    new_cluster(eks, "fleet-0")
    stack = stacks.inline(fleet(1, 1))
    try:
        stack.up()
        aws.reset_calls()
        stack.destroy()

        # The claim describe, then a look where the creation ended (and one more if it was a little early). A
        # deletion that knew nothing would look about SECONDS / 0.7 times.
        assert aws.calls()["DescribeFargateProfile"] <= 3
        assert not eks.list_fargate_profiles(clusterName="fleet-0")["fargateProfileNames"]
    finally:
        stack.destroy()


def test_a_profile_removed_from_the_middle_of_a_cluster_is_deleted_and_the_next_one_follows_the_one_before(
    stacks: StackFactory, aws: SandboxControl, eks: Any
) -> None:
    aws.set_durations(fargate_create=1, fargate_delete=1)
    new_cluster(eks, "fleet-0")
    stack = stacks.inline(fleet(1, 3))
    try:
        stack.up()
        stack.stack.workspace.program = fleet(1, 3, skip=(0, 1))
        result = stack.up()

        assert result.summary.resource_changes == {"delete": 1, "same": 3}  # the stack, p0, p2
        assert sorted(eks.list_fargate_profiles(clusterName="fleet-0")["fargateProfileNames"]) == ["p0", "p2"]
        assert dependencies(stack)["c0-p2"] == {urn_of(stack, "c0-p0")}
    finally:
        stack.destroy()


def test_profiles_of_a_cluster_named_by_another_resource_are_ordered_once_the_name_is_known(
    stacks: StackFactory, aws: SandboxControl, eks: Any
) -> None:
    aws.set_durations(fargate_create=1, fargate_delete=1, cluster_update=1)
    new_cluster(eks, "fleet-0")

    def program() -> None:
        version = ClusterVersion("version", cluster_name="fleet-0", version="1.31")
        for p in range(3):
            FargateProfile(
                f"p{p}",
                cluster_name=version.cluster_name,
                pod_execution_role_arn=pod_role(),
                selectors=[{"namespace": f"apps-{p}"}],
                opts=pulumi.ResourceOptions(depends_on=[version]),
            )

    stack = stacks.inline(program)
    try:
        stack.up()

        chain = dependencies(stack)
        assert urn_of(stack, "p0") in chain["p1"]
        assert urn_of(stack, "p1") in chain["p2"]
        assert "ResourceInUse" not in stack.output
    finally:
        stack.destroy()

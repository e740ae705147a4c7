"""Fargate profiles through the real engine against the sandbox with its lifecycle delays on."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pulumi
import pytest
from pulumi import automation as auto

from pulumi_cluster_connect._plumbing import ownership
from pulumi_cluster_connect.dynamic_providers.fargate_profile import FargateProfile
from pulumi_cluster_connect.sandbox import seed
from pulumi_cluster_connect.sandbox import stacks as harness
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl
from pulumi_cluster_connect.sandbox.stacks import StackFactory

REPO = Path(__file__).resolve().parents[2]
CLUSTER = seed.CLUSTER_NAME
TYPE = "eks:FargateProfile"


@pytest.fixture
def cluster(aws: SandboxControl, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An EKS cluster on private subnets and a pod execution role in the sandbox, as the demo seeds them."""
    # botocore reads AWS_DEFAULT_REGION, not the AWS_REGION the shared fixture sets.
    monkeypatch.setenv("AWS_DEFAULT_REGION", harness_region())
    aws.set_durations(fargate_create=1, fargate_delete=1)
    seeded = seed.seed()
    assert seeded["eksClusterName"] == CLUSTER
    return {"cluster": CLUSTER, "role": seeded["podExecutionRoleArn"]}


def harness_region() -> str:
    return os.environ.get("AWS_REGION") or "us-west-2"


def eks() -> Any:
    return boto3.client("eks")


def profiles_program(role: str, specs: list[dict[str, Any]]) -> Callable[[], None]:
    def program() -> None:
        for given in specs:
            args = dict(given)
            name = args.pop("resource")
            made = FargateProfile(name, cluster_name=CLUSTER, pod_execution_role_arn=role, **args)
            pulumi.export(name, made.fargate_profile_name)
            pulumi.export(f"{name}-arn", made.arn)

    return program


def spec(resource: str, namespace: str, **extra: Any) -> dict[str, Any]:
    return {"resource": resource, "selectors": [{"namespace": namespace}], **extra}


def profile_names() -> list[str]:
    return sorted(eks().list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"])


def ops_in_order(stack: harness.TestStack, **kwargs: Any) -> list[tuple[str, str]]:
    """Run `up` and return (operation, resource name) in the order the engine started them."""
    seen: list[tuple[str, str]] = []

    def on_event(event: auto.EngineEvent) -> None:
        pre = event.resource_pre_event
        if pre is not None:
            seen.append((str(pre.metadata.op.value), pre.metadata.urn.rsplit("::", 1)[-1]))

    stack.up(on_event=on_event, **kwargs)
    return seen


def test_six_profiles_on_one_cluster_become_active_in_one_up_and_are_destroyed(
    stacks: StackFactory, cluster: dict[str, str]
) -> None:
    specs = [spec(f"p{i}", f"ns{i}", fargate_profile_name=f"p{i}") for i in range(6)]
    stack = stacks.inline(profiles_program(cluster["role"], specs))
    result = stack.up()
    assert result.summary.resource_changes == {"create": 7}
    assert "ResourceInUse" not in stack.output
    statuses = {
        n: eks().describe_fargate_profile(clusterName=CLUSTER, fargateProfileName=n)["fargateProfile"]["status"]
        for n in profile_names()
    }
    assert statuses == {f"p{i}": "ACTIVE" for i in range(6)}
    state = [r["outputs"] for r in stack.resources(TYPE)]
    assert {o["status"] for o in state} == {"ACTIVE"}
    stack.destroy()
    assert profile_names() == []
    assert "ResourceInUse" not in stack.output


def test_a_selector_change_with_an_explicit_name_deletes_the_old_profile_first(
    stacks: StackFactory, cluster: dict[str, str]
) -> None:
    stack = stacks.inline(profiles_program(cluster["role"], [spec("web", "a", fargate_profile_name="web")]))
    stack.up()
    old_arn = stack.outputs()["web-arn"]
    stack.stack.workspace.program = profiles_program(cluster["role"], [spec("web", "b", fargate_profile_name="web")])
    ops = [op for op, name in ops_in_order(stack) if name == "web"]
    assert ops.index("delete-replaced") < ops.index("create-replacement")
    assert stack.outputs()["web-arn"] != old_arn
    profile = eks().describe_fargate_profile(clusterName=CLUSTER, fargateProfileName="web")["fargateProfile"]
    assert profile["selectors"][0]["namespace"] == "b"


def test_a_selector_change_with_an_auto_name_creates_the_new_profile_first(
    stacks: StackFactory, cluster: dict[str, str]
) -> None:
    stack = stacks.inline(profiles_program(cluster["role"], [spec("web", "a")]))
    stack.up()
    old_name = stack.outputs()["web"]
    assert old_name.startswith("web-")
    stack.up()
    assert stack.outputs()["web"] == old_name, "the generated name is stable across updates"
    stack.stack.workspace.program = profiles_program(cluster["role"], [spec("web", "b")])
    ops = [op for op, name in ops_in_order(stack) if name == "web"]
    assert ops.index("create-replacement") < ops.index("delete-replaced")
    new_name = stack.outputs()["web"]
    assert new_name != old_name and new_name.startswith("web-")
    assert profile_names() == [new_name]


def test_a_tag_change_updates_the_profile_in_place(stacks: StackFactory, cluster: dict[str, str]) -> None:
    stack = stacks.inline(profiles_program(cluster["role"], [spec("web", "a", tags={"team": "x"})]))
    stack.up()
    arn = stack.outputs()["web-arn"]
    stack.stack.workspace.program = profiles_program(
        cluster["role"], [spec("web", "a", tags={"team": "y", "env": "dev"})]
    )
    result = stack.up()
    assert result.summary.resource_changes == {"update": 1, "same": 1}
    assert stack.outputs()["web-arn"] == arn
    tags = eks().list_tags_for_resource(resourceArn=arn)["tags"]
    assert ownership.without_mark(tags) == {"team": "y", "env": "dev"}
    assert ownership.OWNER_KEY in tags, "the owner tag stays through tag updates"


def test_an_injected_create_failure_fails_the_up_with_the_health_message_and_the_next_up_succeeds(
    stacks: StackFactory, cluster: dict[str, str], aws: SandboxControl
) -> None:
    aws.inject("fargate_create_failed", operation="CreateFargateProfile", target="web")
    stack = stacks.inline(profiles_program(cluster["role"], [spec("web", "a", fargate_profile_name="web")]))
    with pytest.raises(auto.CommandError) as failed:
        stack.up()
    message = str(failed.value)
    assert "CREATE_FAILED" in message
    assert "AccessDenied" in message
    assert cluster["role"] in message
    assert profile_names() == []
    assert stack.resources(TYPE) == []
    stack.up()
    assert profile_names() == ["web"]


def test_two_stacks_creating_profiles_on_the_same_cluster_at_once_both_succeed(
    stacks: StackFactory, cluster: dict[str, str], tmp_path: Path
) -> None:
    # A copy, so the stacks' config files are not written into the repository.
    project = shutil.copytree(REPO / "examples/fargate", tmp_path / "fargate")
    pair = [stacks.project(project, stack=name) for name in ("blue", "green")]
    for stack in pair:
        stack.set_config("clusterName", CLUSTER)
        stack.set_config("podExecutionRoleArn", cluster["role"])
        for index, namespace in enumerate(("apps", "jobs", "batch")):
            stack.stack.set_config(f"namespaces[{index}]", auto.ConfigValue(namespace), path=True)
    errors: list[BaseException] = []

    def up(stack: harness.TestStack) -> None:
        try:
            stack.up()
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=up, args=(stack,)) for stack in pair]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert profile_names() == sorted(f"{s}-{n}" for s in ("blue", "green") for n in ("apps", "jobs", "batch"))
    for stack in pair:
        stack.destroy()
    assert profile_names() == []


def test_refresh_drops_a_profile_deleted_out_of_band(stacks: StackFactory, cluster: dict[str, str]) -> None:
    stack = stacks.inline(profiles_program(cluster["role"], [spec("web", "a", fargate_profile_name="web")]))
    stack.up()
    eks().delete_fargate_profile(clusterName=CLUSTER, fargateProfileName="web")
    deadline = time.monotonic() + 30
    while profile_names() and time.monotonic() < deadline:
        time.sleep(0.2)
    stack.refresh()
    assert stack.resources(TYPE) == []


def test_bad_selectors_fail_in_preview_naming_the_property(stacks: StackFactory, cluster: dict[str, str]) -> None:
    six = {"resource": "web", "selectors": [{"namespace": f"n{i}"} for i in range(6)]}
    stack = stacks.inline(profiles_program(cluster["role"], [six]))
    with pytest.raises(auto.CommandError) as failed:
        stack.preview()
    assert "selectors" in str(failed.value)
    assert "at most 5 selectors" in str(failed.value)
    assert profile_names() == []

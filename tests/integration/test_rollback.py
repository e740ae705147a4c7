"""ClusterVersion rolling a cluster back one minor through the real engine against the sandbox: EKS's rules refused
before any change, rollback insights and force, Auto Mode's node phase, a throttling storm during the wait."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pulumi
import pytest
from pulumi import automation as auto

from bench import crash_recovery
from pulumi_cluster_connect.dynamic_providers.cluster_version import ClusterVersion
from pulumi_cluster_connect.sandbox import stacks as stack_helpers
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl
from pulumi_cluster_connect.sandbox.stacks import StackFactory

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

REGION = "us-west-2"
CLUSTER = "prod"
EIGHT_DAYS = 8 * 24 * 3600.0
ROLLBACK_SKEW = {
    "name": "Kubelet version skew",
    "status": "ERROR",
    "reason": "Fargate pods run kubelet v1.31",
    "recommendation": "Delete the pods so that they restart, or pass force",
    "resources": ["/api/v1/namespaces/apps/pods/web-1"],
}


@pytest.fixture
def eks(aws: SandboxControl, monkeypatch: pytest.MonkeyPatch) -> Callable[..., EKSClient]:
    """Makes a sandbox EKS cluster at 1.30 (options: EKS's CreateCluster arguments) and returns the EKS client."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    aws.set_durations(cluster_update=1)
    session = boto3.session.Session(region_name=REGION)
    role = session.client("iam").create_role(RoleName="eks-cluster", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = session.client("eks")

    def make(**options: Any) -> EKSClient:
        client.create_cluster(
            name=CLUSTER,
            version="1.30",
            roleArn=role,
            resourcesVpcConfig={"subnetIds": ["subnet-a", "subnet-b"]},
            **options,
        )
        return client

    return make


def program(version: str, force: bool = False) -> Callable[[], None]:
    def run() -> None:
        cluster = ClusterVersion("version", cluster_name=CLUSTER, version=version, force=force or None)
        pulumi.export("version", cluster.version)
        pulumi.export("updates", cluster.updates)

    return run


def stack_at(stacks: StackFactory, version: str, force: bool = False) -> stack_helpers.TestStack:
    return stacks.inline(program(version, force), stack="rollback")


def cluster_version(client: EKSClient) -> str:
    return client.describe_cluster(name=CLUSTER)["cluster"]["version"]


def update_ids(client: EKSClient) -> list[str]:
    return client.list_updates(name=CLUSTER)["updateIds"]


def steps(updates: list[dict[str, str]]) -> list[tuple[str, str, str, str]]:
    return [(u["type"], u["from"], u["to"], u["status"]) for u in updates]


def test_an_upgrade_1_30_to_1_31_is_rolled_back_to_1_30_and_the_state_shows_the_rollback(
    stacks: StackFactory, eks: Callable[..., EKSClient], aws: SandboxControl
) -> None:
    client = eks()
    upgraded = stack_at(stacks, "1.31").up()
    stack = stack_at(stacks, "1.30")
    aws.reset_calls()
    stack.preview()
    preview_calls = aws.calls()

    rolled_back = stack.up()

    assert steps(upgraded.outputs["updates"].value) == [("VersionUpdate", "1.30", "1.31", "Successful")]
    assert "EKS cluster prod: rollback 1.31 -> 1.30 (as of the last up or refresh)" in stack.output
    assert preview_calls == {}
    assert steps(rolled_back.outputs["updates"].value) == [("VersionRollback", "1.31", "1.30", "Successful")]
    assert cluster_version(client) == "1.30"
    [state] = stack.resources(":ClusterVersion")
    assert state["outputs"]["version"] == "1.30"
    assert state["outputs"]["updates"][0]["type"] == "VersionRollback"


def test_a_rollback_after_the_7_day_window_is_refused_naming_the_rule_and_nothing_changes(
    stacks: StackFactory, eks: Callable[..., EKSClient], aws: SandboxControl
) -> None:
    client = eks()
    stack_at(stacks, "1.31").up()
    aws.advance_clock(EIGHT_DAYS)
    before = update_ids(client)

    with pytest.raises(auto.CommandError) as refused:
        stack_at(stacks, "1.30").up()

    message = str(refused.value)
    assert (
        "EKS cluster prod: rollback 1.31 -> 1.30 is refused, nothing was changed (rule: within 7 days after an "
        "in-place upgrade finished): the upgrade to 1.31 started on " in message
    )
    assert "set version to 1.31 and fix forward" in message
    assert update_ids(client) == before
    assert cluster_version(client) == "1.31"


def test_two_minors_down_fails_the_check_against_the_version_in_the_state(
    stacks: StackFactory, eks: Callable[..., EKSClient]
) -> None:
    client = eks()
    stack_at(stacks, "1.31").up()
    before = update_ids(client)

    with pytest.raises(auto.CommandError) as refused:
        stack_at(stacks, "1.29").up()

    assert (
        "1.29 is 2 minors below 1.31: EKS rolls a cluster back one minor only (rule: one minor back, once); set "
        "version to 1.30 or later (as of the last up)" in str(refused.value)
    )
    assert update_ids(client) == before


def test_a_rollback_of_a_cluster_created_at_its_version_is_refused(
    stacks: StackFactory, eks: Callable[..., EKSClient]
) -> None:
    client = eks()
    stack_at(stacks, "1.30").up()

    with pytest.raises(auto.CommandError) as refused:
        stack_at(stacks, "1.29").up()

    assert (
        "EKS cluster prod: rollback 1.30 -> 1.29 is refused, nothing was changed (rule: not for a cluster created at "
        "its current version)" in str(refused.value)
    )
    assert update_ids(client) == []


def test_an_error_rollback_insight_blocks_the_rollback_and_force_goes_past_it(
    stacks: StackFactory, eks: Callable[..., EKSClient], aws: SandboxControl
) -> None:
    client = eks()
    stack_at(stacks, "1.31").up()
    aws.set_insights(CLUSTER, "1.30", [ROLLBACK_SKEW], category="ROLLBACK_READINESS")
    before = update_ids(client)

    with pytest.raises(auto.CommandError) as blocked:
        stack_at(stacks, "1.30").up()
    version_when_blocked = cluster_version(client)
    forced_stack = stack_at(stacks, "1.30", force=True)
    forced = forced_stack.up()

    message = str(blocked.value)
    assert "EKS cluster prod rollback 1.31 -> 1.30 is blocked, nothing was changed" in message
    assert 'insight "Kubelet version skew" (ERROR): Fargate pods run kubelet v1.31' in message
    assert "Affected: /api/v1/namespaces/apps/pods/web-1" in message
    assert "or set force=True to roll back anyway" in message
    assert (version_when_blocked, update_ids(client)[: len(before)]) == ("1.31", before)
    assert 'rollback 1.31 -> 1.30: force is set, going on despite: insight "Kubelet version skew"' in (
        forced_stack.output
    )
    assert steps(forced.outputs["updates"].value) == [("VersionRollback", "1.31", "1.30", "Successful")]


def test_an_auto_mode_rollback_is_waited_on_through_its_node_phase_while_the_cluster_stays_active(
    stacks: StackFactory, eks: Callable[..., EKSClient], aws: SandboxControl
) -> None:
    client = eks(computeConfig={"enabled": True, "nodePools": ["general-purpose"]})
    stack_at(stacks, "1.31").up()
    aws.set_durations(rollback_node_phase=6.0, cluster_update=2.0)
    seen: list[tuple[str, str]] = []
    stop = threading.Event()

    def watch() -> None:
        """The cluster's status while a rollback runs, as (status, the rollback's status)."""
        while not stop.is_set():
            ids = update_ids(client)
            if len(ids) == 2:
                update = client.describe_update(name=CLUSTER, updateId=ids[-1])["update"]
                seen.append((client.describe_cluster(name=CLUSTER)["cluster"]["status"], update["status"]))
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.monotonic()
    try:
        rolled_back = stack_at(stacks, "1.30").up()
    finally:
        took = time.monotonic() - started
        stop.set()
        watcher.join()

    assert steps(rolled_back.outputs["updates"].value) == [("VersionRollback", "1.31", "1.30", "Successful")]
    assert cluster_version(client) == "1.30"
    assert took >= 8.0
    # The node phase: ACTIVE while the rollback runs, for most of the samples; then UPDATING.
    assert seen.count(("ACTIVE", "InProgress")) >= 10
    assert ("UPDATING", "InProgress") in seen


def test_a_throttling_storm_while_waiting_on_the_rollback_is_ridden_out(
    stacks: StackFactory, eks: Callable[..., EKSClient], aws: SandboxControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = eks()
    stack_at(stacks, "1.31").up()
    # The provider's botocore gives up after 2 attempts (8 by default): 6 throttles in a row outlast three calls.
    monkeypatch.setenv("CLUSTER_CONNECT_AWS_MAX_ATTEMPTS", "2")
    aws.set_durations(cluster_update=4.0)
    stop = threading.Event()

    def storm_once_rolling_back() -> None:
        while not stop.is_set():
            if client.describe_cluster(name=CLUSTER)["cluster"]["status"] == "UPDATING":
                aws.inject("throttle", operation="DescribeUpdate", count=6)
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=storm_once_rolling_back, daemon=True)
    watcher.start()
    stack = stack_at(stacks, "1.30")
    try:
        rolled_back = stack.up()
    finally:
        stop.set()
        watcher.join()

    assert steps(rolled_back.outputs["updates"].value) == [("VersionRollback", "1.31", "1.30", "Successful")]
    assert "ThrottlingException, asking again" in stack.output
    assert cluster_version(client) == "1.30"
    assert len(update_ids(client)) == 2


CRASH_PROGRAM = """
import pulumi

from pulumi_cluster_connect.dynamic_providers import ClusterVersion

config = pulumi.Config()
version = ClusterVersion("version", cluster_name=config.require("cluster"), version=config.require("version"))
pulumi.export("version", version.version)
"""


def crash_stack(root: Path) -> crash_recovery.CrashStack:
    """A stack driven through the `pulumi` CLI, so that the whole process tree of an up can be killed."""
    work_dir, backend = root / "project", root / "backend"
    work_dir.mkdir()
    backend.mkdir()
    (work_dir / "Pulumi.yaml").write_text("name: rollback-crash\nruntime: python\n")
    (work_dir / "__main__.py").write_text(CRASH_PROGRAM)
    env = {
        **os.environ,
        "PULUMI_HOME": str(root / "pulumi-home"),
        "PULUMI_BACKEND_URL": backend.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": "rollback-crash",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_PYTHON_CMD": sys.executable,
    }
    subprocess.run(
        ["pulumi", "stack", "init", "crash", "--secrets-provider", "passphrase", "--non-interactive"],
        cwd=work_dir,
        env=env,
        check=True,
        capture_output=True,
    )
    return crash_recovery.CrashStack(work_dir, "crash", env)


def kill_up_once(stack: crash_recovery.CrashStack, when: Callable[[], bool]) -> int:
    """Start `pulumi up`, kill its whole process tree as soon as `when()` holds; how many processes were killed."""
    process = subprocess.Popen(
        stack.command("up", "--yes", "--skip-preview"),
        cwd=stack.work_dir,
        env=stack.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not when():
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    killed = crash_recovery.kill_tree(process.pid)
    process.wait()
    return killed


def test_a_rollback_killed_midway_is_finished_by_the_documented_recovery_without_a_second_rollback(
    pulumi_engine: Path, eks: Callable[..., EKSClient], aws: SandboxControl, tmp_path: Path
) -> None:
    client = eks()
    stack = crash_stack(tmp_path)
    stack.pulumi("config", "set", "cluster", CLUSTER)
    stack.pulumi("config", "set", "version", "1.31")
    stack.pulumi("up", "--yes", "--skip-preview")
    # Long enough for the kill, `pulumi cancel` and the refresh to land while EKS still rolls back.
    aws.set_durations(cluster_update=20.0)
    stack.pulumi("config", "set", "version", "1.30")

    killed = kill_up_once(stack, lambda: client.describe_cluster(name=CLUSTER)["cluster"]["status"] == "UPDATING")
    updates_at_kill = update_ids(client)
    for step in crash_recovery.RECOVERY:
        stack.pulumi(*step)
    stack.pulumi("up", "--yes", "--skip-preview")

    [outputs] = stack.outputs_of(":ClusterVersion")
    kinds = [client.describe_update(name=CLUSTER, updateId=i)["update"]["type"] for i in update_ids(client)]
    assert killed >= 3
    assert update_ids(client) == updates_at_kill
    assert kinds == ["VersionUpdate", "VersionRollback"]
    assert (outputs["version"], cluster_version(client)) == ("1.30", "1.30")
    assert [(u["type"], u["status"]) for u in outputs["updates"]] == [("VersionRollback", "Successful")]


def test_version_set_back_during_an_auto_mode_rollback_cancels_it_in_its_node_phase(
    pulumi_engine: Path, eks: Callable[..., EKSClient], aws: SandboxControl, tmp_path: Path
) -> None:
    client = eks(computeConfig={"enabled": True, "nodePools": ["general-purpose"]})
    stack = crash_stack(tmp_path)
    stack.pulumi("config", "set", "cluster", CLUSTER)
    stack.pulumi("config", "set", "version", "1.31")
    stack.pulumi("up", "--yes", "--skip-preview")
    # A node phase long enough for the kill, the recovery and the next up to land in it.
    aws.set_durations(rollback_node_phase=120.0, cluster_update=2.0)
    stack.pulumi("config", "set", "version", "1.30")
    kill_up_once(stack, lambda: len(update_ids(client)) == 2)
    rollback_id = update_ids(client)[-1]
    for step in crash_recovery.RECOVERY:
        stack.pulumi(*step)

    stack.pulumi("config", "set", "version", "1.31")
    preview = stack.pulumi("preview")
    started = time.monotonic()
    stack.pulumi("up", "--yes", "--skip-preview")
    took = time.monotonic() - started

    rollback = client.describe_update(name=CLUSTER, updateId=rollback_id)["update"]
    [outputs] = stack.outputs_of(":ClusterVersion")
    assert "an update to 1.30 was in progress at the last refresh" in preview.stdout + preview.stderr
    assert (rollback["type"], rollback["status"]) == ("VersionRollback", "Cancelled")
    assert update_ids(client)[-1] == rollback_id, "nothing was asked after the cancel"
    assert (outputs["version"], cluster_version(client)) == ("1.31", "1.31")
    assert [(u["type"], u["to"], u["status"]) for u in outputs["updates"]] == [("VersionRollback", "1.30", "Cancelled")]
    assert took < 60, f"the up waited {took:.0f} s: it should cancel, not wait out the 120 s node phase"

"""A FargateProfile replacement moves its pods through the real engine: budgets honoured, the old profile last."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pulumi
import pytest
from lightkube.resources.core_v1 import Node
from lightkube.resources.policy_v1 import PodDisruptionBudget
from pulumi import automation as auto

from pulumi_cluster_connect.dynamic_providers.cluster_version import ClusterVersion
from pulumi_cluster_connect.dynamic_providers.fargate_profile import FargateProfile
from pulumi_cluster_connect.sandbox import kubernetes, seed
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl
from pulumi_cluster_connect.sandbox.fargate_scheduler import PROFILE_LABEL, FargateScheduler
from pulumi_cluster_connect.sandbox.stacks import StackFactory, TestStack

from . import fargate_world as world

Link = Callable[..., FargateScheduler]
TYPE = "eks:FargateProfile"


def program(
    cluster: str, role: str, kubeconfig: str, selectors: list[dict[str, Any]], timeout: float
) -> Callable[[], None]:
    def run() -> None:
        made = FargateProfile(
            "web",
            cluster_name=cluster,
            pod_execution_role_arn=role,
            selectors=list(selectors),
            kubeconfig=kubeconfig,
            timeout_seconds=timeout,
        )
        pulumi.export("name", made.fargate_profile_name)

    return run


def profile_names(cluster: str) -> list[str]:
    return sorted(boto3.client("eks").list_fargate_profiles(clusterName=cluster)["fargateProfileNames"])


def ops_of(stack: TestStack, **kwargs: Any) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []

    def on_event(event: auto.EngineEvent) -> None:
        pre = event.resource_pre_event
        if pre is not None and pre.metadata.type.endswith(TYPE):
            seen.append((str(pre.metadata.op.value), pre.metadata.urn.rsplit("::", 1)[-1]))

    stack.up(on_event=on_event, **kwargs)
    return seen


@pytest.fixture
def workload(
    request: pytest.FixtureRequest,
    kube: kubernetes.ControlPlane,
    fargate_cluster: Callable[[str], str],
    fargate_pods: Link,
) -> Iterator[dict[str, Any]]:
    """A cluster linked to the control plane, its namespace, and the scheduler double (pods start in 0.5 s)."""
    name = f"pods{int(time.time() * 1000) % 10**7}"
    role = fargate_cluster(name)
    scheduler = fargate_pods(name, start_seconds=0.5)
    client = world.client(kube.kubeconfig_text())
    world.make_namespace(client, name)
    yield {"cluster": name, "role": role, "namespace": name, "scheduler": scheduler, "client": client}


def first_up(
    stacks: StackFactory,
    kube: kubernetes.ControlPlane,
    w: dict[str, Any],
    replicas: int,
    timeout: float = 60,
    **budget: int,
) -> str:
    """The profile made by an up, the Deployment running on it with its budget settled; the profile's name."""
    stack = stacks.inline(
        program(w["cluster"], w["role"], kube.kubeconfig_text(), [{"namespace": w["namespace"]}], timeout), stack="pods"
    )
    stack.up()
    world.deploy(w["client"], w["namespace"], replicas=replicas)
    world.budget(w["client"], w["namespace"], **budget)
    world.wait_until(lambda: len(world.ready_pods(w["client"], w["namespace"])) == replicas, f"{replicas} ready")
    allowed = replicas - budget["min_available"] if "min_available" in budget else budget["max_unavailable"]
    world.wait_until(lambda: world.budget_settled(w["client"], w["namespace"], allowed), "the budget computed")
    return str(stack.outputs()["name"])


def changed(stacks: StackFactory, kube: kubernetes.ControlPlane, w: dict[str, Any], timeout: float) -> TestStack:
    selectors = [{"namespace": w["namespace"], "labels": world.APP}]
    return stacks.inline(program(w["cluster"], w["role"], kube.kubeconfig_text(), selectors, timeout), stack="pods")


def test_a_replacement_keeps_four_replicas_within_their_budget_and_deletes_the_old_profile_last(
    stacks: StackFactory, kube: kubernetes.ControlPlane, workload: dict[str, Any]
) -> None:
    old = first_up(stacks, kube, workload, 4, max_unavailable=1)
    stack = changed(stacks, kube, workload, 60)
    with world.Availability(kube.kubeconfig_text(), workload["namespace"], 4).watching() as watched:
        started = time.monotonic()
        ops = ops_of(stack)
        took = time.monotonic() - started
    print(
        f"replacement up took {took:.1f}s; max unavailable replicas {watched.max_unavailable} ({watched.events} events)"
    )
    assert watched.max_unavailable == 1, "never more than the budget's one replica unavailable"
    assert ops == [("create-replacement", "web"), ("replace", "web"), ("delete-replaced", "web")]
    new = str(stack.outputs()["name"])
    assert profile_names(workload["cluster"]) == [new]
    pods = world.ready_pods(workload["client"], workload["namespace"])
    assert world.profiles_of(pods) == [new] * 4
    assert workload["scheduler"].terminated_by_profile_deletion == [], "the deletion itself terminated no pod"
    assert f"Fargate profile {old} on cluster {workload['cluster']} (replaced by {new}): evicting" in stack.output
    assert "PodDisruptionBudget" in stack.output, "the budget's refusals are shown"
    assert kube.token not in stack.state_text(), "the kubeconfig is stored as a secret"


def test_a_budget_that_cannot_be_satisfied_ends_the_up_naming_it_and_deletes_nothing_until_it_can(
    stacks: StackFactory, kube: kubernetes.ControlPlane, workload: dict[str, Any]
) -> None:
    # A delete sees only the old resource's state: the drain has the old profile's timeout_seconds.
    old = first_up(stacks, kube, workload, 2, timeout=6, min_available=2)
    stack = changed(stacks, kube, workload, 60)
    with pytest.raises(auto.CommandError) as failed:
        stack.up()
    budget = f"PodDisruptionBudget {workload['namespace']}/web-budget (0 disruptions allowed)"
    assert budget in str(failed.value)
    assert old in profile_names(workload["cluster"]), "the old profile is still there"
    assert world.profiles_of(world.ready_pods(workload["client"], workload["namespace"])) == [old] * 2
    assert workload["scheduler"].terminated_by_profile_deletion == []
    # The documented recovery: let the budget allow one disruption, and up again (the old profile's deletion is
    # still pending in the state, so the drain runs again first).
    workload["client"].patch(
        PodDisruptionBudget, "web-budget", {"spec": {"minAvailable": 1}}, namespace=workload["namespace"]
    )
    again = changed(stacks, kube, workload, 60)
    again.up()
    new = str(again.outputs()["name"])
    assert profile_names(workload["cluster"]) == [new]
    assert workload["scheduler"].terminated_by_profile_deletion == []


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def _providers() -> list[int]:
    """The dynamic provider processes this test's engine started (descendants of this process only)."""
    found = []
    for pid in _descendants(os.getpid()):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"pulumi.dynamic" in command:
            found.append(pid)
    return found


@contextmanager
def kill_provider_when(condition: Callable[[], bool]) -> Iterator[list[int]]:
    killed: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            if condition():
                for pid in _providers():
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                return
            time.sleep(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield killed
    finally:
        stop.set()
        thread.join(timeout=5)


def test_a_drain_cut_by_a_crash_is_finished_by_the_next_up_before_the_old_profile_goes(
    stacks: StackFactory, kube: kubernetes.ControlPlane, workload: dict[str, Any]
) -> None:
    old = first_up(stacks, kube, workload, 4, max_unavailable=1)
    stack = changed(stacks, kube, workload, 60)
    client, namespace = workload["client"], workload["namespace"]

    def moved() -> int:
        return sum(1 for p in world.ready_pods(client, namespace) if p["metadata"]["labels"].get(PROFILE_LABEL) != old)

    with kill_provider_when(lambda: moved() >= 1) as killed, pytest.raises(auto.CommandError):
        stack.up()
    assert killed, "the provider was killed mid-drain"
    assert old in profile_names(workload["cluster"]), "the crash left the old profile in place"
    left = [p for p in world.ready_pods(client, namespace) if p["metadata"]["labels"].get(PROFILE_LABEL) == old]
    assert 0 < len(left) < 4, "the drain was cut midway"
    pending = [r for r in stack.resources(TYPE) if r.get("delete")]
    assert [r["outputs"]["fargate_profile_name"] for r in pending] == [old], "the old profile is a pending delete"
    with world.Availability(kube.kubeconfig_text(), namespace, 4).watching() as watched:
        again = changed(stacks, kube, workload, 60)
        again.up()
    new = str(again.outputs()["name"])
    assert profile_names(workload["cluster"]) == [new]
    assert world.profiles_of(world.ready_pods(client, namespace)) == [new] * 4
    assert workload["scheduler"].terminated_by_profile_deletion == []
    assert watched.max_unavailable <= 1


def kubelet_minors(client: Any, namespace: str) -> list[str]:
    minors = []
    for pod in world.ready_pods(client, namespace):
        node = client.get(Node, pod["spec"]["nodeName"]).to_dict()
        minors.append(str(node["status"]["nodeInfo"]["kubeletVersion"]).lstrip("v").rsplit(".", 1)[0])
    return sorted(minors)


def test_an_upgrade_and_a_rollback_with_recycle_leave_every_fargate_pod_on_the_cluster_kubelet_within_the_budget(
    stacks: StackFactory,
    kube: kubernetes.ControlPlane,
    workload: dict[str, Any],
    aws: SandboxControl,
    fargate_pods: Link,
) -> None:
    aws.set_durations(cluster_update=1)
    client, namespace = workload["client"], workload["namespace"]
    cluster, before, after = f"{workload['cluster']}v", "1.31", "1.32"
    seeded = seed.seed(seed.Clients.from_environment())
    boto3.client("eks").create_cluster(
        name=cluster,
        version=before,
        roleArn=seeded["clusterRoleArn"],
        resourcesVpcConfig={"subnetIds": seeded["privateSubnetIds"]},
    )
    fargate_pods(cluster, start_seconds=0.5)

    def upgrade_program(version: str) -> Callable[[], None]:
        def run() -> None:
            FargateProfile(
                "web",
                cluster_name=cluster,
                pod_execution_role_arn=workload["role"],
                selectors=[{"namespace": namespace}],
            )
            made = ClusterVersion(
                "version",
                cluster_name=cluster,
                version=version,
                kubeconfig=kube.kubeconfig_text(),
                recycle_fargate_pods=True,
                timeout_seconds=120,
            )
            pulumi.export("updates", made.updates)

        return run

    stacks.inline(upgrade_program(before), stack="upgrade").up()
    world.deploy(client, namespace, replicas=4)
    world.budget(client, namespace, max_unavailable=1)
    world.wait_until(lambda: len(world.ready_pods(client, namespace)) == 4, "4 ready")
    world.wait_until(lambda: world.budget_settled(client, namespace, 1), "the budget computed")
    assert kubelet_minors(client, namespace) == [before] * 4
    stack = stacks.inline(upgrade_program(after), stack="upgrade")
    with world.Availability(kube.kubeconfig_text(), namespace, 4).watching() as watched:
        stack.up()
    print(f"upgrade with recycle: max unavailable replicas {watched.max_unavailable}")
    assert kubelet_minors(client, namespace) == [after] * 4, "no Fargate pod on the old kubelet"
    assert watched.max_unavailable <= 1
    assert f"4 pod(s) recycled, all run on {after}" in stack.output
    assert kube.token not in stack.state_text()
    # Right after a rollback the pods run a kubelet newer than their control plane: recycled back.
    back = stacks.inline(upgrade_program(before), stack="upgrade")
    with world.Availability(kube.kubeconfig_text(), namespace, 4).watching() as watched_back:
        back.up()
    print(f"rollback with recycle: max unavailable replicas {watched_back.max_unavailable}")
    assert kubelet_minors(client, namespace) == [before] * 4, "no Fargate pod on a kubelet newer than the cluster"
    assert watched_back.max_unavailable <= 1

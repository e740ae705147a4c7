"""The drain (_plumbing/eviction) and the sandbox's Fargate scheduler double, on the real kube-apiserver."""

from __future__ import annotations

import time
from collections.abc import Callable

import boto3
import pytest
from lightkube.models.core_v1 import Container, PodSpec
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Node, Pod

from pulumi_cluster_connect._plumbing import errors, eviction
from pulumi_cluster_connect.sandbox import kubernetes
from pulumi_cluster_connect.sandbox.fargate_scheduler import PROFILE_LABEL, FargateScheduler, kubelet_version

from . import fargate_world as world

Link = Callable[..., FargateScheduler]


@pytest.fixture
def namespace(request: pytest.FixtureRequest, kube: kubernetes.ControlPlane) -> str:
    name = f"drain-{abs(hash(request.node.name)) % 10**8}-{int(time.time() * 1000) % 10**6}"
    world.make_namespace(world.client(kube.kubeconfig_text()), name)
    return name


def test_the_double_runs_matching_pods_on_a_ready_fargate_node_of_the_cluster_version(
    kube: kubernetes.ControlPlane, fargate_cluster: Callable[[str], str], fargate_pods: Link, namespace: str
) -> None:
    role = fargate_cluster("double")
    fargate_pods("double", start_seconds=0.3)
    client = world.client(kube.kubeconfig_text())
    world.create_profile("double", "apps", role, [{"namespace": namespace}])
    world.deploy(client, namespace, replicas=2)
    pods = world.wait_until(
        lambda: len(world.ready_pods(client, namespace)) == 2 and world.ready_pods(client, namespace), "2 ready"
    )
    assert world.profiles_of(pods) == ["apps", "apps"]
    node = client.get(Node, pods[0]["spec"]["nodeName"]).to_dict()
    assert node["metadata"]["name"].startswith("fargate-")
    assert node["metadata"]["labels"][PROFILE_LABEL] == "apps"
    version = boto3.client("eks").describe_cluster(name="double")["cluster"]["version"]
    assert node["status"]["nodeInfo"]["kubeletVersion"] == kubelet_version(version)
    assert {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"] == "True"


def test_a_pod_no_profile_selects_stays_pending_and_deleting_a_profile_terminates_its_pods(
    kube: kubernetes.ControlPlane, fargate_cluster: Callable[[str], str], fargate_pods: Link, namespace: str
) -> None:
    role = fargate_cluster("terminate")
    scheduler = fargate_pods("terminate", start_seconds=0.1)
    client = world.client(kube.kubeconfig_text())
    world.create_profile("terminate", "labelled", role, [{"namespace": namespace, "labels": {"tier": "front"}}])
    world.deploy(client, namespace, replicas=2)
    time.sleep(1.0)
    pods = [p.to_dict() for p in client.list(Pod, namespace=namespace)]
    assert len(pods) == 2 and all(not p["spec"].get("nodeName") for p in pods), "no selector matches app=web alone"
    world.create_profile("terminate", "all", role, [{"namespace": namespace}])
    world.wait_until(lambda: len(world.ready_pods(client, namespace)) == 2, "2 ready on 'all'")
    boto3.client("eks").delete_fargate_profile(clusterName="terminate", fargateProfileName="all")
    world.wait_until(lambda: len(scheduler.terminated_by_profile_deletion) == 2, "both pods terminated")


def test_a_drain_keeps_within_the_budget_and_moves_every_pod_to_the_other_profile(
    kube: kubernetes.ControlPlane, fargate_cluster: Callable[[str], str], fargate_pods: Link, namespace: str
) -> None:
    role = fargate_cluster("drain")
    scheduler = fargate_pods("drain", start_seconds=0.5)
    client = world.client(kube.kubeconfig_text())
    world.create_profile("drain", "old", role, [{"namespace": namespace}])
    world.deploy(client, namespace, replicas=4)
    world.budget(client, namespace, max_unavailable=1)
    world.wait_until(lambda: len(world.ready_pods(client, namespace)) == 4, "4 ready")
    world.wait_until(lambda: world.budget_settled(client, namespace, 1), "the budget computed")
    world.create_profile("drain", "new", role, [{"namespace": namespace, "labels": world.APP}])
    with world.Availability(kube.kubeconfig_text(), namespace, 4).watching() as watched:
        started = time.monotonic()
        drained = eviction.drain(kube.kubeconfig_text(), {PROFILE_LABEL: "old"}, "Fargate profile old", timeout=60)
        took = time.monotonic() - started
    print(f"drain took {took:.1f}s, max unavailable {watched.max_unavailable} over {watched.events} events")
    assert watched.max_unavailable == 1
    assert len(drained.evicted) == 4 and drained.unmanaged == []
    assert world.profiles_of(world.ready_pods(client, namespace)) == ["new"] * 4
    assert scheduler.terminated_by_profile_deletion == []
    assert took > 3 * 0.5, "one pod at a time, each waiting for its replacement to start"


def test_a_budget_that_cannot_be_satisfied_times_out_naming_it_and_evicts_nothing(
    kube: kubernetes.ControlPlane, fargate_cluster: Callable[[str], str], fargate_pods: Link, namespace: str
) -> None:
    role = fargate_cluster("stuck")
    fargate_pods("stuck", start_seconds=0.1)
    client = world.client(kube.kubeconfig_text())
    world.create_profile("stuck", "stuck-old", role, [{"namespace": namespace}])
    world.deploy(client, namespace, replicas=2)
    world.budget(client, namespace, min_available=2)
    world.wait_until(lambda: len(world.ready_pods(client, namespace)) == 2, "2 ready")
    world.wait_until(lambda: world.budget_settled(client, namespace, 0), "the budget computed")
    with pytest.raises(errors.WaitTimeout) as raised:
        eviction.drain(kube.kubeconfig_text(), {PROFILE_LABEL: "stuck-old"}, "Fargate profile stuck-old", timeout=3)
    message = str(raised.value)
    assert f"PodDisruptionBudget {namespace}/web-budget (0 disruptions allowed) refuses evicting" in message
    assert kube.token not in message
    assert len(world.ready_pods(client, namespace)) == 2


def test_a_pod_without_a_controller_is_named_before_its_eviction(
    kube: kubernetes.ControlPlane,
    fargate_cluster: Callable[[str], str],
    fargate_pods: Link,
    namespace: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    role = fargate_cluster("bare")
    fargate_pods("bare", start_seconds=0.1)
    client = world.client(kube.kubeconfig_text())
    world.create_profile("bare", "bare-old", role, [{"namespace": namespace}])
    client.create(
        Pod(
            metadata=ObjectMeta(name="lonely", namespace=namespace),
            spec=PodSpec(containers=[Container(name="c", image="x")]),
        )
    )
    world.wait_until(lambda: client.get(Pod, "lonely", namespace=namespace).spec.nodeName, "lonely bound")  # type: ignore[union-attr]
    drained = eviction.drain(
        kube.kubeconfig_text(), {PROFILE_LABEL: "bare-old"}, "Fargate profile bare-old", timeout=30
    )
    assert drained.unmanaged == [f"{namespace}/lonely"]
    err = capsys.readouterr().err
    named = err.index(f"pod {namespace}/lonely has no controller")
    assert named < err.index("pod(s) evicted")

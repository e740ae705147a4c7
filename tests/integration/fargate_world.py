"""Workloads on the sandbox's Fargate double for the drain tests: a Deployment, its budget, and a watch on it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx2
import lightkube
from lightkube.core.exceptions import ApiError
from lightkube.models.apps_v1 import DeploymentSpec
from lightkube.models.core_v1 import Container, PodSpec, PodTemplateSpec
from lightkube.models.meta_v1 import LabelSelector, ObjectMeta
from lightkube.models.policy_v1 import PodDisruptionBudgetSpec
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Namespace, Pod
from lightkube.resources.policy_v1 import PodDisruptionBudget

from pulumi_cluster_connect.sandbox import kube_clients
from pulumi_cluster_connect.sandbox.fargate_scheduler import PROFILE_LABEL

kube_clients.ready(Deployment, Namespace, Pod, PodDisruptionBudget)

APP: dict[str, Any] = {"app": "web"}


def client(kubeconfig: str) -> lightkube.Client:
    return kube_clients.client(kubeconfig, field_manager="tests", timeout=10)


def make_namespace(kube: lightkube.Client, name: str) -> None:
    kube.create(Namespace(metadata=ObjectMeta(name=name)))


def deploy(kube: lightkube.Client, namespace: str, replicas: int = 4, labels: dict[str, str] | None = None) -> None:
    labels = {**APP, **(labels or {})}
    kube.create(
        Deployment(
            metadata=ObjectMeta(name="web", namespace=namespace),
            spec=DeploymentSpec(
                replicas=replicas,
                selector=LabelSelector(matchLabels=APP),
                template=PodTemplateSpec(
                    metadata=ObjectMeta(labels=labels),
                    spec=PodSpec(containers=[Container(name="web", image="nginx")]),
                ),
            ),
        )
    )


def budget(
    kube: lightkube.Client, namespace: str, *, max_unavailable: int | None = None, min_available: int | None = None
) -> None:
    kube.create(
        PodDisruptionBudget(
            metadata=ObjectMeta(name="web-budget", namespace=namespace),
            spec=PodDisruptionBudgetSpec(
                selector=LabelSelector(matchLabels=APP), maxUnavailable=max_unavailable, minAvailable=min_available
            ),
        )
    )


def ready_pods(kube: lightkube.Client, namespace: str) -> list[dict[str, Any]]:
    pods = [p.to_dict() for p in kube.list(Pod, namespace=namespace, labels=APP)]
    return [p for p in pods if _ready(p)]


def _ready(pod: dict[str, Any]) -> bool:
    if pod["metadata"].get("deletionTimestamp"):
        return False
    conditions = {c["type"]: c["status"] for c in (pod.get("status") or {}).get("conditions") or []}
    return conditions.get("Ready") == "True"


def profiles_of(pods: list[dict[str, Any]]) -> list[str]:
    return sorted(p["metadata"]["labels"].get(PROFILE_LABEL, "") for p in pods)


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def budget_settled(kube: lightkube.Client, namespace: str, allowed: int) -> bool:
    status = kube.get(PodDisruptionBudget, "web-budget", namespace=namespace).to_dict().get("status") or {}
    return bool(status.get("disruptionsAllowed") == allowed)


def create_profile(cluster: str, name: str, role: str, selectors: list[dict[str, Any]]) -> None:
    eks: Any = boto3.client("eks")
    eks.create_fargate_profile(
        clusterName=cluster, fargateProfileName=name, podExecutionRoleArn=role, selectors=selectors
    )
    wait_until(
        lambda: (
            eks.describe_fargate_profile(clusterName=cluster, fargateProfileName=name)["fargateProfile"]["status"]
            == "ACTIVE"
        ),
        f"profile {name} ACTIVE",
    )


@dataclass
class Availability:
    """Watches a Deployment's pods (every event of a watch) and keeps the most that were unavailable at once."""

    kubeconfig: str
    namespace: str
    replicas: int
    max_unavailable: int = 0
    events: int = 0
    pods: dict[str, dict[str, Any]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _armed: bool = False

    def _watch(self) -> None:
        kube = client(self.kubeconfig)
        while not self._stop.is_set():
            try:
                for kind, pod in kube.watch(Pod, namespace=self.namespace, labels=APP):
                    if self._stop.is_set():
                        return
                    data = pod.to_dict()
                    name = data["metadata"]["name"]
                    if kind == "DELETED":
                        self.pods.pop(name, None)
                    else:
                        self.pods[name] = data
                    self.events += 1
                    ready = sum(1 for p in self.pods.values() if _ready(p))
                    if self._armed:
                        self.max_unavailable = max(self.max_unavailable, self.replicas - ready)
            except (ApiError, httpx2.HTTPError):
                if self._stop.wait(0.1):
                    return

    @contextmanager
    def watching(self) -> Iterator[Availability]:
        thread = threading.Thread(target=self._watch, name="availability", daemon=True)
        thread.start()
        wait_until(lambda: sum(1 for p in self.pods.values() if _ready(p)) == self.replicas, "the watch to see all")
        self._armed = True  # measured from here: before, the watch was still listing the pods one event at a time
        try:
            yield self
        finally:
            self._stop.set()

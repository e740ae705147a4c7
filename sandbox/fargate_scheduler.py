"""A Fargate scheduler double: runs the pods that a sandbox EKS cluster's ACTIVE Fargate profiles select.

EKS gives each Fargate pod a node of its own (`fargate-ip-...`), labels the pod with the profile that scheduled it
(`eks.amazonaws.com/fargate-profile`), and terminates a profile's pods at once when the profile is deleted. No
kubelet runs in the sandbox, so this plays the scheduler and the kubelet: a Pending pod that an ACTIVE profile's
selectors match (its namespace, and labels that are a subset of the pod's) is labelled with the profile, bound to a
new Ready node `fargate-<pod uid>` carrying the profile and the cluster's kubelet version, and marked Running and
Ready `start_seconds` later; a terminating pod (deleted or evicted) is removed with its node; a pod whose profile is
DELETING or gone is deleted at once and recorded in `terminated_by_profile_deletion`. Pods bound by another double
(another sandbox cluster sharing the control plane) are left alone, except terminating ones. When several ACTIVE
profiles match a pod, a pod already labelled with one of them goes there, others to the newest profile (EKS
documents no order; newest first lets pods move to a replacement).
"""

from __future__ import annotations

import contextlib
import datetime
import threading
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import boto3
import lightkube
import msgspec
from lightkube.core.exceptions import ApiError
from lightkube.models.core_v1 import ObjectReference
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Node, Pod, PodBinding

from . import background, kube_clients

kube_clients.ready(Node, Pod, PodBinding)

PROFILE_LABEL = "eks.amazonaws.com/fargate-profile"
COMPUTE_TYPE_LABEL = "eks.amazonaws.com/compute-type"
NODE_PREFIX = "fargate-"
FIELD_MANAGER = "fargate-scheduler"


def kubelet_version(cluster_version: str) -> str:
    """The kubelet version a Fargate node of a cluster on `cluster_version` (such as 1.31) reports."""
    return f"v{cluster_version}.0-eks-fargate"


def selects(selector: dict[str, Any], namespace: str, labels: dict[str, str]) -> bool:
    """Whether a profile selector {namespace, labels} matches a pod."""
    wanted = selector.get("labels") or {}
    return bool(selector.get("namespace") == namespace and all(labels.get(k) == v for k, v in wanted.items()))


def _now_text() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def running_and_ready() -> dict[str, Any]:
    now = _now_text()
    conditions = [
        {"type": kind, "status": "True", "lastTransitionTime": now}
        for kind in ("PodScheduled", "Initialized", "ContainersReady", "Ready")
    ]
    return {"status": {"phase": "Running", "conditions": conditions, "startTime": now}}


@dataclass
class FargateScheduler(background.BackgroundLoop):
    """Links the sandbox EKS cluster `cluster` (through the AWS endpoint in `eks_client`'s reach) to the control
    plane `kubeconfig` names, and plays EKS's Fargate scheduler and kubelets there until `stop()`."""

    thread_name: ClassVar[str] = "fargate-scheduler"

    kubeconfig: str
    cluster: str
    region: str = "us-west-2"
    endpoint_url: str | None = None
    start_seconds: float = 0.5
    """How long a bound pod takes to turn Running and Ready (real Fargate pods: about a minute)."""
    interval: float = 0.1
    terminated_by_profile_deletion: list[str] = field(default_factory=list)
    """`namespace/name` of every pod this double deleted because its profile was being deleted."""
    scheduled: dict[str, str] = field(default_factory=dict)
    """`namespace/name` of every pod bound so far, to the profile that took it."""
    last_error: Exception | None = None
    _bound_at: dict[str, float] = field(default_factory=dict)
    _nodes: set[str] = field(default_factory=set)
    _created: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _run(self) -> None:
        client = kube_clients.client(self.kubeconfig, field_manager=FIELD_MANAGER, timeout=5)
        eks = boto3.client("eks", region_name=self.region, endpoint_url=self.endpoint_url)
        while not self._stop.is_set():
            try:
                self.poll(client, eks)
                self.last_error = None
            except Exception as err:  # the sandbox may be resetting: the next poll tries again
                self.last_error = err
            self._stop.wait(self.interval)

    # --- one look -------------------------------------------------------------------------------------

    def _profiles(self, eks: Any) -> tuple[list[dict[str, Any]], str | None]:
        """The cluster's ACTIVE profiles, newest first, and its Kubernetes version (None: no such cluster)."""
        try:
            version = str(eks.describe_cluster(name=self.cluster)["cluster"]["version"])
        except eks.exceptions.ResourceNotFoundException:
            return [], None
        active = []
        for name in eks.list_fargate_profiles(clusterName=self.cluster)["fargateProfileNames"]:
            try:
                profile = eks.describe_fargate_profile(clusterName=self.cluster, fargateProfileName=name)
            except eks.exceptions.ResourceNotFoundException:
                continue
            if profile["fargateProfile"]["status"] == "ACTIVE":
                active.append(profile["fargateProfile"])
            with self._lock:
                self._created.setdefault(name, time.monotonic())
        active.sort(key=lambda p: self._created.get(p["fargateProfileName"], 0.0), reverse=True)
        return active, version

    def poll(self, client: lightkube.Client, eks: Any) -> None:
        active, version = self._profiles(eks)
        if version is None:
            return
        names = {p["fargateProfileName"] for p in active}
        live_nodes = set()
        for pod in client.list(Pod, namespace="*"):
            meta, spec = pod.metadata, pod.spec
            if meta is None or spec is None or meta.name is None or meta.namespace is None:
                continue
            key = f"{meta.namespace}/{meta.name}"
            labels = dict(meta.labels or {})
            node = spec.nodeName or ""
            if node.startswith(NODE_PREFIX):
                live_nodes.add(node)
            try:
                if meta.deletionTimestamp is not None:
                    if node.startswith(NODE_PREFIX) or not node:
                        self._kubelet_stops(client, meta.name, meta.namespace)
                elif node.startswith(NODE_PREFIX) and key in self.scheduled:  # others: another double's cluster
                    if labels.get(PROFILE_LABEL) not in names:
                        self.terminated_by_profile_deletion.append(key)
                        self._kubelet_stops(client, meta.name, meta.namespace)
                    elif self._not_ready(pod) and time.monotonic() - self._bound_at.get(key, 0.0) >= self.start_seconds:
                        client.patch(Pod.Status, meta.name, running_and_ready(), namespace=meta.namespace)
                elif not node:
                    chosen = self._choose(active, meta.namespace, labels)
                    if chosen is not None:
                        live_nodes.add(self._bind(client, pod, chosen, version))
                        self.scheduled[key] = chosen
            except ApiError as err:
                if err.status.code not in (404, 409):  # gone or changed meanwhile: the next look sees it
                    raise
        for node_object in client.list(Node, labels={COMPUTE_TYPE_LABEL: "fargate"}):
            name = node_object.metadata.name if node_object.metadata else None
            if name and name in self._nodes and name not in live_nodes:  # others': another double's
                self._nodes.discard(name)
                try:
                    client.delete(Node, name)
                except ApiError as err:
                    if err.status.code != 404:
                        raise

    @staticmethod
    def _not_ready(pod: Pod) -> bool:
        conditions = {c.type: c.status for c in (pod.status.conditions if pod.status else None) or []}
        return conditions.get("Ready") != "True"

    @staticmethod
    def _choose(active: list[dict[str, Any]], namespace: str, labels: dict[str, str]) -> str | None:
        matching = [
            p["fargateProfileName"] for p in active if any(selects(s, namespace, labels) for s in p["selectors"])
        ]
        if labels.get(PROFILE_LABEL) in matching:
            return labels[PROFILE_LABEL]
        return matching[0] if matching else None

    def _bind(self, client: lightkube.Client, pod: Pod, profile: str, version: str) -> str:
        assert pod.metadata is not None and pod.metadata.name and pod.metadata.namespace
        name, namespace = pod.metadata.name, pod.metadata.namespace
        node = f"{NODE_PREFIX}{(pod.metadata.uid or name)[:13]}"
        client.patch(Pod, name, {"metadata": {"labels": {PROFILE_LABEL: profile}}}, namespace=namespace)
        labels = {COMPUTE_TYPE_LABEL: "fargate", PROFILE_LABEL: profile, "kubernetes.io/hostname": node}
        self._nodes.add(node)
        try:
            client.create(Node(metadata=ObjectMeta(name=node, labels=labels)))
        except ApiError as err:
            if err.status.code != 409:
                raise
        now = _now_text()
        client.patch(
            Node.Status,
            node,
            {
                "status": {
                    "conditions": [
                        {
                            "type": "Ready",
                            "status": "True",
                            "reason": "KubeletReady",
                            "lastHeartbeatTime": now,
                            "lastTransitionTime": now,
                            "message": "kubelet is posting ready status",
                        }
                    ],
                    "nodeInfo": {
                        "kubeletVersion": kubelet_version(version),
                        "kubeProxyVersion": kubelet_version(version),
                        "architecture": "amd64",
                        "bootID": "",
                        "containerRuntimeVersion": "containerd://1.7",
                        "kernelVersion": "",
                        "machineID": "",
                        "operatingSystem": "linux",
                        "osImage": "Amazon Linux 2",
                        "systemUUID": "",
                    },
                }
            },
        )
        binding = PodBinding(
            metadata=ObjectMeta(name=name, namespace=namespace), target=ObjectReference(kind="Node", name=node)
        )
        self._bound_at[f"{namespace}/{name}"] = time.monotonic()
        # The API server answers a binding with a Status, which lightkube fails to read as a Binding: bound anyway.
        with contextlib.suppress(msgspec.ValidationError):
            client.create(binding, name, namespace=namespace)
        return node

    @staticmethod
    def _kubelet_stops(client: lightkube.Client, name: str, namespace: str) -> None:
        """What the kubelet does once a pod's containers stopped: delete it for good."""
        client.delete(Pod, name, namespace=namespace, grace_period=0)


def pods_on(client: lightkube.Client, profile: str) -> list[Pod]:
    """The pods a profile runs (for tests)."""
    return list(client.list(Pod, namespace="*", labels={PROFILE_LABEL: profile}))

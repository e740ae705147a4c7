"""Simulated vCluster Platform agents: find the agent the Helm chart installed in a cluster, run it, dial the double.

No kubelet runs in the sandbox, so this plays both parts: the kubelet (the agent's pods turn Ready, which is
what `helm --wait` waits for) and the agent (it reads its platform URL and access key from the Secret its
Deployment takes them from, and connects to the Loft double with them).
"""

from __future__ import annotations

import base64
import binascii
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx2
import lightkube
import yaml
from lightkube.core.exceptions import ApiError
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Pod, Secret

from .. import background, kube_clients
from . import exceptions
from .models import LoftBackend

kube_clients.ready(Deployment, Pod, Secret)  # the agents poll from threads: see kube_clients.ready

AGENT_APP = "loft"  # the label app=loft the chart puts on the agent
CONTAINER = "agent"
URL_ENV = "LOFT_URL"
TOKEN_ENV = "LOFT_TOKEN"
FIELD_MANAGER = "loft-sandbox-agent"


@dataclass(frozen=True)
class AgentWiring:
    """What the agent container would start with: the platform URL and the access key, from their Secret."""

    url: str
    token: str


def _secret_ref(container: dict[str, Any], env_name: str) -> tuple[str, str] | None:
    for env in container.get("env") or []:
        if env.get("name") == env_name:
            ref = ((env.get("valueFrom") or {}).get("secretKeyRef")) or {}
            if ref.get("name") and ref.get("key"):
                return str(ref["name"]), str(ref["key"])
    return None


def wiring_of(deployment: dict[str, Any], secrets: dict[str, dict[str, Any]]) -> AgentWiring | None:
    """The URL and key the Deployment's agent container reads from Secrets (`secrets` by name), or None when
    it is not wired as the agent expects (no agent container, values not from a Secret, data not base64)."""
    pod_spec = (((deployment.get("spec") or {}).get("template") or {}).get("spec")) or {}
    container = next((c for c in pod_spec.get("containers") or [] if c.get("name") == CONTAINER), None)
    if container is None:
        return None
    values = []
    for env_name in (URL_ENV, TOKEN_ENV):
        ref = _secret_ref(container, env_name)
        encoded = ((secrets.get(ref[0]) or {}).get("data") or {}).get(ref[1]) if ref else None
        if not isinstance(encoded, str):
            return None
        try:
            values.append(base64.b64decode(encoded, validate=True).decode())
        except (binascii.Error, UnicodeDecodeError):
            return None
    return AgentWiring(url=values[0], token=values[1])


def ready_status() -> dict[str, Any]:
    """A pod status as the kubelet reports a running, ready pod."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    conditions = [
        {"type": kind, "status": "True", "lastTransitionTime": now}
        for kind in ("PodScheduled", "Initialized", "ContainersReady", "Ready")
    ]
    return {"status": {"phase": "Running", "conditions": conditions, "startTime": now}}


@dataclass
class SimulatedPlatformAgents(background.BackgroundLoop):
    """Polls a cluster for agent Deployments (label app=loft), runs their pods and connects them to `backend`."""

    thread_name: ClassVar[str] = "loft-agents"

    kubeconfig: str
    backend: LoftBackend
    interval: float = 0.5
    last_error: Exception | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _run(self) -> None:
        config = lightkube.KubeConfig.from_dict(yaml.safe_load(self.kubeconfig))
        client = lightkube.Client(config, field_manager=FIELD_MANAGER, timeout=httpx2.Timeout(5.0))
        while not self._stop.is_set():
            try:
                self.poll(client)
                self.last_error = None
            except Exception as err:  # the cluster may be restarting: the next poll tries again
                self.last_error = err
            self._stop.wait(self.interval)

    def poll(self, client: lightkube.Client) -> dict[str, str | None]:
        """One look at the cluster: each agent found (namespace/name) and the Cluster it connected (or None)."""
        outcomes: dict[str, str | None] = {}
        for deployment in client.list(Deployment, namespace="*", labels={"app": AGENT_APP}):
            if deployment.metadata is None or deployment.metadata.deletionTimestamp is not None:
                continue
            namespace, name = str(deployment.metadata.namespace), str(deployment.metadata.name)
            where = f"{namespace}/{name}"
            wiring = wiring_of(deployment.to_dict(), self._secrets(client, namespace))
            if wiring is None:
                continue
            if not self._run_pods(client, deployment):
                continue  # not started yet: nothing dials
            try:
                outcomes[where] = self.backend.connect_agent(wiring.url, wiring.token, where)
            except exceptions.UnauthorizedError:
                outcomes[where] = None
        return outcomes

    @staticmethod
    def _secrets(client: lightkube.Client, namespace: str) -> dict[str, dict[str, Any]]:
        return {str(s.metadata.name): s.to_dict() for s in client.list(Secret, namespace=namespace) if s.metadata}

    def _run_pods(self, client: lightkube.Client, deployment: Deployment) -> bool:
        """Be the kubelet for the agent's pods (the replicaset controller made them): report each Ready once it
        is `agent_start` seconds old. True when one of them runs."""
        assert deployment.metadata is not None and deployment.spec is not None
        labels = deployment.spec.selector.matchLabels or {}
        namespace = deployment.metadata.namespace
        start = timedelta(seconds=self.backend.durations.get("agent_start", 0.0))
        running = False
        for pod in client.list(Pod, namespace=namespace, labels=labels):
            if pod.metadata is None or pod.metadata.deletionTimestamp is not None:
                continue
            conditions = {c.type: c.status for c in (pod.status.conditions if pod.status else None) or []}
            if conditions.get("Ready") == "True":
                running = True
                continue
            created = pod.metadata.creationTimestamp or datetime.now(UTC)
            if datetime.now(UTC) - created < start:
                continue
            try:
                client.patch(Pod.Status, str(pod.metadata.name), ready_status(), namespace=namespace)
                running = True
            except ApiError as err:
                if err.status.code != 404:  # replaced meanwhile: the next poll sees its successor
                    raise
        return running

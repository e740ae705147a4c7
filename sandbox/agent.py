"""A simulated EKS Connector agent: activates the sandbox registration that the applied manifest names."""

from __future__ import annotations

import base64
import binascii
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import lightkube
from lightkube.core.exceptions import ApiError
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.apps_v1 import StatefulSet
from lightkube.resources.core_v1 import Secret

from . import background, kube_clients
from .aws import registrations

kube_clients.ready(StatefulSet, Secret)

NAMESPACE = "eks-connector"
STATEFULSET = "eks-connector"
ACTIVATION_SECRET = "eks-connector-activation-config"
ACTIVATION_KEY = "code"
INIT_CONTAINER = "connector-init"
REGION_ARG = re.compile(r"^--agent\.region=(?P<region>[a-z0-9-]+)$")
STATE_SECRETS = ("eks-connector-state-0", "eks-connector-state-1")


@dataclass(frozen=True)
class Activation:
    """What the init container would run with: region and id from its spec, code from the Secret."""

    region: str
    activation_id: str
    activation_code: str


def activation_of(statefulset: dict[str, Any], secret: dict[str, Any]) -> Activation | None:
    """The activation the StatefulSet's init container would use, or None when it is not wired as the
    connector expects (no id, the code not taken from `code` of the activation Secret, data not base64)."""
    pod_spec = (((statefulset.get("spec") or {}).get("template") or {}).get("spec")) or {}
    init = next((c for c in pod_spec.get("initContainers") or [] if c.get("name") == INIT_CONTAINER), None)
    if init is None:
        return None
    env = {e.get("name"): e for e in init.get("env") or []}
    activation_id = (env.get("EKS_ACTIVATION_ID") or {}).get("value")
    code_ref = (((env.get("EKS_ACTIVATION_CODE") or {}).get("valueFrom") or {}).get("secretKeyRef")) or {}
    if not activation_id or code_ref.get("name") != ACTIVATION_SECRET or code_ref.get("key") != ACTIVATION_KEY:
        return None
    region = next((m["region"] for a in init.get("args") or [] if (m := REGION_ARG.match(str(a)))), None)
    encoded = (secret.get("data") or {}).get(ACTIVATION_KEY)
    if region is None or not isinstance(encoded, str):
        return None
    try:
        code = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return Activation(region, activation_id, code)


@dataclass
class SimulatedAgent(background.BackgroundLoop):
    """Polls the cluster for the connector's StatefulSet and activation Secret and activates the
    matching sandbox registration; then writes the state secrets the real agent keeps."""

    thread_name: ClassVar[str] = "eks-connector-agent"

    kubeconfig: str
    interval: float = 0.5
    connect_delay: float = 0.0
    """Seconds between first seeing a correctly wired activation and connecting (a real agent pulls images,
    starts and reaches AWS first: seconds to a minute)."""
    connected: list[Activation] = field(default_factory=list)
    last_error: Exception | None = None
    _first_seen: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _run(self) -> None:
        client = kube_clients.client(self.kubeconfig, field_manager="eks-connector-agent", timeout=5)
        while not self._stop.is_set():
            try:
                self.poll(client)
            except Exception as err:  # the cluster may be restarting: the next poll tries again
                self.last_error = err
            self._stop.wait(self.interval)

    def poll(self, client: lightkube.Client) -> Activation | None:
        """One look at the cluster; the activation it connected, if any."""
        try:
            statefulset = client.get(StatefulSet, STATEFULSET, namespace=NAMESPACE).to_dict()
            secret = client.get(Secret, ACTIVATION_SECRET, namespace=NAMESPACE).to_dict()
        except ApiError as err:
            if err.status.code == 404:
                return None
            raise
        activation = activation_of(statefulset, secret)
        if activation is None:
            return None
        first_seen = self._first_seen.setdefault(activation.activation_id, time.monotonic())
        if time.monotonic() - first_seen < self.connect_delay:
            return None
        if not registrations.connect(activation.region, None, activation.activation_id, activation.activation_code):
            return None
        if activation not in self.connected:
            self.connected.append(activation)
            self._save_state(client, activation)
        return activation

    @staticmethod
    def _save_state(client: lightkube.Client, activation: Activation) -> None:
        for name in STATE_SECRETS:
            state = Secret(
                metadata=ObjectMeta(name=name, namespace=NAMESPACE),
                stringData={"activation-id": activation.activation_id},
            )
            client.apply(state, force=True)

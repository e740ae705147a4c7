"""The Loft management state: Clusters, their lifecycle, access keys and agents, the secrets made in connected
clusters, faults."""

from __future__ import annotations

import copy
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import exceptions, target

API_VERSION = "management.loft.sh/v1"
VERSIONS = {"v3": "v3.4.10", "v4": "v4.3.1"}
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DEFAULT_NAMESPACE = "loft"
# agent_start: how long an agent pod takes to run (an image pull, say) before it is Ready and dials in.
DEFAULT_DURATIONS = {"initialize": 1.0, "delete": 0.5, "agent_start": 0.0}
FAULT_KINDS = ("phase_failed", "connect_failed", "revoked_access_key")
# The agent chart versions the chart repository serves: an older one and the platform's own, as charts.loft.sh
# publishes one chart version per platform release.
CHART_VERSIONS = {"v3": ("3.3.4", VERSIONS["v3"][1:]), "v4": ("4.2.3", VERSIONS["v4"][1:])}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ClusterRecord:
    """One Cluster object plus what the server keeps beside it."""

    obj: dict[str, Any]
    created: float
    ready_from: float | None  # when the phase turns Initialized (None: waits for an agent)
    failure: tuple[str, str] | None = None
    failed_by_agent: bool = False  # the failure is a refused agent's: an agent with the right key clears it
    deleted: float | None = None
    kubeconfig: str | None = None
    secret: tuple[str, str] | None = None  # (namespace, name) in the connected cluster


@dataclass
class LoftBackend:
    """Everything one Loft server holds, in plain dicts, with methods named after the API operations."""

    access_key: str
    version: str = "v3"
    host: str = "127.0.0.1"
    clock: Callable[[], float] = time.monotonic
    clusters: dict[str, ClusterRecord] = field(default_factory=dict)
    agent_keys: dict[str, str] = field(default_factory=dict)
    revoked_keys: dict[str, str] = field(default_factory=dict)  # key -> the Cluster it was issued for
    agents: dict[str, str] = field(default_factory=dict)  # Cluster -> where its agent runs
    rejected_agents: list[str] = field(default_factory=list)  # where agents with unknown keys run
    durations: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_DURATIONS))
    faults: list[dict[str, Any]] = field(default_factory=list)
    ca_cert: str = ""
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    # --- authentication and version -------------------------------------------------------------
    def authenticate(self, authorization: str | None) -> None:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip(), self.access_key):
            raise exceptions.UnauthorizedError(exceptions.UNAUTHORIZED)

    def get_version(self) -> dict[str, Any]:
        full = VERSIONS[self.version]
        major, minor = full.lstrip("v").split(".")[:2]
        return {"version": full, "major": major, "minor": minor, "kubeVersion": "v1.31.0", "newerVersion": ""}

    # --- ClusterConnect (v3 only) ---------------------------------------------------------------
    def create_cluster_connect(self, obj: dict[str, Any]) -> dict[str, Any]:
        if self.version != "v3":
            raise exceptions.NotFoundError(exceptions.NO_RESOURCE)
        _expect_kind(obj, "ClusterConnect")
        name = str((obj.get("metadata") or {}).get("name") or "")
        spec = obj.get("spec") or {}
        template_spec = dict((spec.get("clusterTemplate") or {}).get("spec") or {})
        causes = _name_causes(name) + _cluster_spec_causes(template_spec, "spec.clusterTemplate.spec")
        config = spec.get("config")
        if not config:
            causes.append({"type": "FieldValueRequired", "field": "spec.config", "message": "Required value"})
        else:
            problem = target.kubeconfig_problem(str(config))
            if problem:
                causes.append(
                    {"type": "FieldValueInvalid", "field": "spec.config", "message": f"kube config {problem}"}
                )
        if causes:
            raise exceptions.invalid("ClusterConnect", name, causes)
        with self.lock:
            self._expect_absent(name)
            fault = self._take("connect_failed", name)
            if fault:
                return _cluster_connect_result(obj, failed=True, reason=fault["reason"], message=fault["message"])
            namespace = template_spec.get("managementNamespace") or DEFAULT_NAMESPACE
            # The server reaches the cluster before it records anything, so a bad kubeconfig leaves nothing.
            secret_name = target.connect(str(config), name, namespace, self.host)
            template_spec["config"] = {
                "secretName": secret_name,
                "secretNamespace": DEFAULT_NAMESPACE,
                "key": "config",
            }
            record = self._record(name, template_spec, (obj.get("spec") or {}).get("clusterTemplate") or {})
            record.kubeconfig = str(config)
            record.secret = (namespace, secret_name)
            record.ready_from = record.created + self.durations["initialize"]
            if spec.get("adminUser"):
                record.obj["metadata"].setdefault("annotations", {})["loft.sh/admin-user"] = spec["adminUser"]
        return _cluster_connect_result(obj, failed=False)

    # --- Clusters -------------------------------------------------------------------------------
    def create_cluster(self, obj: dict[str, Any]) -> dict[str, Any]:
        _expect_kind(obj, "Cluster")
        name = str((obj.get("metadata") or {}).get("name") or "")
        spec = dict(obj.get("spec") or {})
        causes = _name_causes(name) + _cluster_spec_causes(spec, "spec")
        if causes:
            raise exceptions.invalid("Cluster", name, causes)
        with self.lock:
            self._expect_absent(name)
            # Without ClusterConnect the cluster initializes once an agent fetched its key and dialled in.
            record = self._record(name, spec, obj)
            return self._view(record)

    def get_cluster(self, name: str) -> dict[str, Any]:
        with self.lock:
            return self._view(self._live(name))

    def list_clusters(self) -> dict[str, Any]:
        with self.lock:
            self._collect()
            items = [self._view(r) for r in self.clusters.values()]
        return {"apiVersion": API_VERSION, "kind": "ClusterList", "metadata": {}, "items": items}

    def delete_cluster(self, name: str) -> dict[str, Any]:
        with self.lock:
            record = self._live(name)
            if record.deleted is None:
                record.deleted = self.clock()
                record.obj["metadata"]["deletionTimestamp"] = _now()
                if record.kubeconfig and record.secret:
                    problem = target.disconnect(record.kubeconfig, *record.secret)
                    if problem:
                        record.obj["status"]["message"] = f"could not clean up the connected cluster: {problem}"
            return self._view(record)

    def get_cluster_access_key(self, name: str) -> dict[str, Any]:
        with self.lock:
            self._live(name)
            key = self.agent_keys.setdefault(name, secrets.token_hex(20))
            if self._take("revoked_access_key", name):
                # As if the key were rotated between this answer and the agent's install.
                key = secrets.token_hex(20)
                self.revoked_keys[key] = name
            return {
                "apiVersion": API_VERSION,
                "kind": "ClusterAccessKey",
                "metadata": {"name": name},
                "accessKey": key,
                "loftHost": self.host,
                "insecure": not self.ca_cert,
                "caCert": self.ca_cert,
            }

    # --- agents (what the agent's tunnel does on a real platform) ------------------------------------
    def connect_agent(self, url: str, token: str, where: str) -> str | None:
        """An agent running at `where` (namespace/name in its cluster) dials `url` with `token`.

        Returns the Cluster it connected, None when `url` is another platform. A key revoked for a Cluster
        turns that Cluster Failed with the platform's reason; any other unknown key is refused (401), and the
        Cluster it was meant for never initializes.
        """
        if _host_of(url) != _host_of(self.host):
            return None
        with self.lock:
            self._collect()
            name = next(
                (n for n, k in self.agent_keys.items() if secrets.compare_digest(k, token) and n in self.clusters),
                None,
            )
            record = self.clusters.get(name or "")
            if name is not None and record is not None and record.deleted is None:
                self.agents[name] = where
                if record.failed_by_agent:
                    record.failure, record.failed_by_agent, record.ready_from = None, False, None
                if record.ready_from is None:
                    record.ready_from = self.clock() + self.durations["initialize"]
                return name
            revoked_for = self.revoked_keys.get(token)
            record = self.clusters.get(revoked_for or "")
            if revoked_for is not None and record is not None and record.deleted is None and not self._ready(record):
                message = exceptions.AGENT_UNAUTHORIZED.format(name=revoked_for, where=where)
                record.failure = (exceptions.AGENT_UNAUTHORIZED_REASON, message)
                record.failed_by_agent = True
                record.ready_from = self.clock()
            elif where not in self.rejected_agents:
                self.rejected_agents.append(where)
        raise exceptions.UnauthorizedError(exceptions.UNAUTHORIZED)

    # --- control --------------------------------------------------------------------------------
    def inject_fault(self, fault: dict[str, Any]) -> None:
        kind = fault.get("kind")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {list(FAULT_KINDS)}")
        entry = {
            "kind": kind,
            "target": fault.get("target"),
            "reason": str(fault.get("reason") or "Failed"),
            "message": str(fault.get("message") or "injected failure"),
        }
        with self.lock:
            existing = self.clusters.get(entry["target"] or "")
            if kind == "phase_failed" and existing is not None and existing.deleted is None:
                existing.failure = (entry["reason"], entry["message"])
                return
            self.faults.append(entry)

    def set_durations(self, values: dict[str, Any]) -> None:
        unknown = set(values) - set(DEFAULT_DURATIONS)
        if unknown:
            raise ValueError(f"unknown durations {sorted(unknown)}; known: {sorted(DEFAULT_DURATIONS)}")
        with self.lock:
            self.durations.update({k: float(v) for k, v in values.items()})

    def describe(self) -> dict[str, Any]:
        with self.lock:
            self._collect()
            return {
                "version": self.version,
                "durations": dict(self.durations),
                "faults": copy.deepcopy(self.faults),
                "clusters": sorted(self.clusters),
                "secrets": {n: list(r.secret) for n, r in self.clusters.items() if r.secret},
                "access_keys": sorted(self.agent_keys),
                "agents": dict(self.agents),
                "rejected_agents": list(self.rejected_agents),
            }

    def reset(self) -> None:
        """Forget every Cluster and fault (the secrets in connected clusters are removed first)."""
        with self.lock:
            for record in self.clusters.values():
                if record.deleted is None and record.kubeconfig and record.secret:
                    target.disconnect(record.kubeconfig, *record.secret)
            self.clusters.clear()
            self.agent_keys.clear()
            self.revoked_keys.clear()
            self.agents.clear()
            self.rejected_agents.clear()
            self.faults.clear()
            self.durations = dict(DEFAULT_DURATIONS)

    # --- internals ------------------------------------------------------------------------------
    def _record(self, name: str, spec: dict[str, Any], template: dict[str, Any]) -> ClusterRecord:
        metadata = dict(template.get("metadata") or {})
        metadata.pop("creationTimestamp", None)
        metadata.update(name=name, uid=str(uuid.uuid4()), creationTimestamp=_now(), resourceVersion="1", generation=1)
        obj = {"apiVersion": API_VERSION, "kind": "Cluster", "metadata": metadata, "spec": spec, "status": {}}
        record = ClusterRecord(obj=obj, created=self.clock(), ready_from=None)
        fault = self._take("phase_failed", name)
        if fault:
            record.failure = (fault["reason"], fault["message"])
        self.clusters[name] = record
        return record

    def _take(self, kind: str, name: str) -> dict[str, Any] | None:
        for fault in self.faults:
            if fault["kind"] == kind and fault["target"] in (None, name):
                self.faults.remove(fault)
                return fault
        return None

    def _collect(self) -> None:
        """Drop Clusters whose deletion finished (computed lazily, like every lifecycle here)."""
        now = self.clock()
        gone = [
            n for n, r in self.clusters.items() if r.deleted is not None and now - r.deleted >= self.durations["delete"]
        ]
        for name in gone:
            del self.clusters[name]
            # The Cluster's access key goes with it: its agent, if still running, is refused from now on.
            self.agent_keys.pop(name, None)
            self.agents.pop(name, None)
            self.revoked_keys = {k: n for k, n in self.revoked_keys.items() if n != name}

    def _live(self, name: str) -> ClusterRecord:
        self._collect()
        record = self.clusters.get(name)
        if record is None:
            raise exceptions.not_found("clusters", name)
        return record

    def _expect_absent(self, name: str) -> None:
        self._collect()
        if name in self.clusters:
            raise exceptions.already_exists("clusters", name)

    def _ready(self, record: ClusterRecord) -> bool:
        return record.ready_from is not None and self.clock() >= record.ready_from

    def _view(self, record: ClusterRecord) -> dict[str, Any]:
        obj = copy.deepcopy(record.obj)
        status = obj["status"]
        ready = self._ready(record)
        if ready and record.failure:
            status.update(phase="Failed", reason=record.failure[0], message=record.failure[1])
        elif ready:
            status.update(phase="Initialized", online=True)
        else:
            status.setdefault("phase", "")
        return obj


def _host_of(url: str) -> str:
    """host:port of a URL or of a bare host (the accesskey answer's loftHost carries no scheme)."""
    return url.split("://", 1)[-1].split("/", 1)[0].lower()


def _expect_kind(obj: dict[str, Any], kind: str) -> None:
    if obj.get("apiVersion") not in (None, API_VERSION):
        raise exceptions.BadRequestError(
            f"the API version in the data ({obj.get('apiVersion')}) does not match "
            f"the expected API version ({API_VERSION})"
        )
    if obj.get("kind") not in (None, kind):
        raise exceptions.BadRequestError(
            f"the kind in the data ({obj.get('kind')}) does not match the expected kind ({kind})"
        )


def _name_causes(name: str) -> list[dict[str, str]]:
    if not name:
        return [
            {
                "type": "FieldValueRequired",
                "field": "metadata.name",
                "message": "Required value: name is required",
            }
        ]
    if len(name) > 63 or not DNS_LABEL.match(name):
        return [
            {
                "type": "FieldValueInvalid",
                "field": "metadata.name",
                "message": f'Invalid value: "{name}": a lowercase RFC 1123 label must consist of lower case '
                "alphanumeric characters or '-', and must start and end with an alphanumeric character",
            }
        ]
    return []


def _cluster_spec_causes(spec: dict[str, Any], path: str) -> list[dict[str, str]]:
    causes = []
    owner = spec.get("owner") or {}
    if owner.get("user") and owner.get("team"):
        causes.append(
            {
                "type": "FieldValueInvalid",
                "field": f"{path}.owner",
                "message": "Invalid value: either user or team can be the owner, not both",
            }
        )
    namespace = spec.get("managementNamespace")
    if namespace and not DNS_LABEL.match(str(namespace)):
        causes.append(
            {
                "type": "FieldValueInvalid",
                "field": f"{path}.managementNamespace",
                "message": f'Invalid value: "{namespace}": must be a DNS-1123 label',
            }
        )
    return causes


def _cluster_connect_result(obj: dict[str, Any], failed: bool, reason: str = "", message: str = "") -> dict[str, Any]:
    result = copy.deepcopy(obj)
    result.setdefault("apiVersion", API_VERSION)
    result.setdefault("kind", "ClusterConnect")
    # The kubeconfig is never echoed back.
    result.get("spec", {}).pop("config", None)
    result["status"] = {"failed": True, "reason": reason, "message": message} if failed else {}
    return result

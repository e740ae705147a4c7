"""The Loft double's HTTP contract: authentication, ClusterConnect, Clusters, accesskey, agents, the chart
repository, Status errors, control."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import ssl
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from pulumi_cluster_connect.sandbox.loft import LoftControl, LoftSandbox, agent, exceptions, target
from pulumi_cluster_connect.sandbox.loft.models import LoftBackend

API = "/kubernetes/management/apis/management.loft.sh/v1"
UNREACHABLE_KUBECONFIG = """
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: not-a-real-token}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
"""


class Client:
    def __init__(self, sandbox: LoftSandbox) -> None:
        self.sandbox = sandbox
        self.context = ssl.create_default_context(cadata=sandbox.ca_data) if sandbox.ca_data else None

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        key: str | None = "default",
        content_type: str = "application/json",
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": content_type}
        if key is not None:
            headers["Authorization"] = f"Bearer {self.sandbox.access_key if key == 'default' else key}"
        data = None
        if body is not None:
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
        request = urllib.request.Request(self.sandbox.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10, context=self.context) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as err:
            return err.code, json.load(err)


def cluster_connect(name: str, config: str = UNREACHABLE_KUBECONFIG, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "management.loft.sh/v1",
        "kind": "ClusterConnect",
        "metadata": {"name": name},
        "spec": {"config": config, "adminUser": "admin", "clusterTemplate": {"spec": spec}},
    }


def cluster(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "management.loft.sh/v1", "kind": "Cluster", "metadata": {"name": name}, "spec": spec}


@pytest.fixture(scope="module")
def v3() -> Iterator[LoftSandbox]:
    sandbox = LoftSandbox().start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def v4() -> Iterator[LoftSandbox]:
    sandbox = LoftSandbox(version="v4").start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def loft(v3: LoftSandbox) -> Iterator[Client]:
    LoftControl(v3.url).reset()
    LoftControl(v3.url).set_durations(initialize=0.2, delete=0.2)
    yield Client(v3)
    LoftControl(v3.url).reset()


@pytest.fixture
def loft_v4(v4: LoftSandbox) -> Iterator[Client]:
    LoftControl(v4.url).reset()
    LoftControl(v4.url).set_durations(initialize=0.2, delete=0.2)
    yield Client(v4)
    LoftControl(v4.url).reset()


@pytest.fixture
def reachable_target(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """The connected cluster, recorded instead of reached (the integration tests use a real one)."""
    calls: list[tuple[str, ...]] = []

    def connect(kubeconfig: str, name: str, namespace: str, host: str) -> str:
        calls.append(("connect", name, namespace))
        return target.SECRET_NAME.format(name=name)

    def disconnect(kubeconfig: str, namespace: str, secret_name: str) -> None:
        calls.append(("disconnect", namespace, secret_name))

    monkeypatch.setattr(target, "connect", connect)
    monkeypatch.setattr(target, "disconnect", disconnect)
    return calls


def test_a_request_without_the_access_key_is_answered_401_with_a_status(loft: Client) -> None:
    for key in (None, "wrong-key"):
        status, body = loft.call("GET", f"{API}/clusters/any", key=key)
        assert status == 401
        assert body["kind"] == "Status"
        assert body["reason"] == "Unauthorized"
        assert body["code"] == 401


def test_version_needs_no_key_and_tells_v3_from_v4(loft: Client, loft_v4: Client) -> None:
    assert loft.call("GET", "/version", key=None)[1]["major"] == "3"
    assert loft_v4.call("GET", "/version", key=None)[1]["major"] == "4"


def test_an_unknown_path_is_a_404_status(loft: Client) -> None:
    status, body = loft.call("GET", f"{API}/nothing-here")
    assert (status, body["reason"]) == (404, "NotFound")


def test_cluster_connect_with_an_unreachable_kubeconfig_fails_with_the_connection_error(loft: Client) -> None:
    status, body = loft.call("POST", f"{API}/clusterconnect", cluster_connect("far"))

    assert status == 400
    assert body["reason"] == "BadRequest"
    assert body["message"].startswith("error connecting to cluster")
    assert "refused" in body["message"].lower()
    assert "not-a-real-token" not in json.dumps(body)
    assert loft.call("GET", f"{API}/clusters/far")[0] == 404


def test_cluster_connect_validates_name_and_config_with_422_causes(loft: Client) -> None:
    status, body = loft.call("POST", f"{API}/clusterconnect", cluster_connect("Bad_Name", config=""))

    assert status == 422
    assert body["reason"] == "Invalid"
    fields = [c["field"] for c in body["details"]["causes"]]
    assert fields == ["metadata.name", "spec.config"]


def test_cluster_connect_rejects_a_kubeconfig_without_a_current_context(loft: Client) -> None:
    status, body = loft.call("POST", f"{API}/clusterconnect", cluster_connect("c", config="apiVersion: v1\n"))
    assert status == 422
    assert body["details"]["causes"][0]["field"] == "spec.config"


def test_cluster_connect_creates_the_cluster_which_initializes_after_the_delay(
    loft: Client, reachable_target: list[tuple[str, ...]]
) -> None:
    status, body = loft.call(
        "POST", f"{API}/clusterconnect", cluster_connect("one", displayName="One", managementNamespace="loft-x")
    )
    assert status == 201
    assert body["kind"] == "ClusterConnect"
    assert body["status"] == {}
    assert "config" not in body["spec"]
    assert reachable_target == [("connect", "one", "loft-x")]

    created = loft.call("GET", f"{API}/clusters/one")[1]
    assert created["status"]["phase"] == ""
    assert created["spec"]["displayName"] == "One"
    assert created["spec"]["config"]["secretName"] == "loft-cluster-config-one"
    time.sleep(0.3)
    assert loft.call("GET", f"{API}/clusters/one")[1]["status"]["phase"] == "Initialized"


def test_a_yaml_body_is_accepted_like_kubectl_sends_it(loft: Client, reachable_target: list[tuple[str, ...]]) -> None:
    body = "apiVersion: management.loft.sh/v1\nkind: ClusterConnect\nmetadata: {name: yml}\n"
    body += "spec:\n  config: |\n" + "".join(f"    {line}\n" for line in UNREACHABLE_KUBECONFIG.strip().splitlines())
    status, _ = loft.call("POST", f"{API}/clusterconnect", body, content_type="application/yaml")
    assert status == 201


def test_connecting_a_name_twice_is_409_already_exists(loft: Client, reachable_target: list[tuple[str, ...]]) -> None:
    assert loft.call("POST", f"{API}/clusterconnect", cluster_connect("twice"))[0] == 201

    status, body = loft.call("POST", f"{API}/clusterconnect", cluster_connect("twice"))

    assert status == 409
    assert body["reason"] == "AlreadyExists"
    assert body["message"] == exceptions.ALREADY_EXISTS.format(resource="clusters", name="twice")
    assert reachable_target == [("connect", "twice", "loft")]


def test_an_injected_phase_failed_fault_turns_the_phase_failed_with_its_reason(
    loft: Client, reachable_target: list[tuple[str, ...]]
) -> None:
    LoftControl(loft.sandbox.url).inject("phase_failed", "sick", reason="AgentError", message="agent crashed")
    loft.call("POST", f"{API}/clusterconnect", cluster_connect("sick"))
    time.sleep(0.3)

    status = loft.call("GET", f"{API}/clusters/sick")[1]["status"]

    assert (status["phase"], status["reason"], status["message"]) == ("Failed", "AgentError", "agent crashed")


def test_a_connect_failed_fault_answers_a_failed_status_and_creates_nothing(
    loft: Client, reachable_target: list[tuple[str, ...]]
) -> None:
    LoftControl(loft.sandbox.url).inject("connect_failed", "nope", reason="Forbidden", message="no quota")

    status, body = loft.call("POST", f"{API}/clusterconnect", cluster_connect("nope"))

    assert status == 201
    assert body["status"] == {"failed": True, "reason": "Forbidden", "message": "no quota"}
    assert loft.call("GET", f"{API}/clusters/nope")[0] == 404
    assert reachable_target == []


def test_delete_marks_the_cluster_deleted_removes_its_secret_then_it_is_gone(
    loft: Client, reachable_target: list[tuple[str, ...]]
) -> None:
    loft.call("POST", f"{API}/clusterconnect", cluster_connect("bye"))

    status, body = loft.call("DELETE", f"{API}/clusters/bye")

    assert status == 200
    assert "deletionTimestamp" in body["metadata"]
    assert reachable_target[-1] == ("disconnect", "loft", "loft-cluster-config-bye")
    time.sleep(0.3)
    assert loft.call("GET", f"{API}/clusters/bye")[0] == 404
    assert loft.call("DELETE", f"{API}/clusters/bye")[1]["reason"] == "NotFound"


def test_v4_has_no_cluster_connect(loft_v4: Client) -> None:
    status, body = loft_v4.call("POST", f"{API}/clusterconnect", cluster_connect("old-style"))
    assert (status, body["reason"]) == (404, "NotFound")


def access_key(loft: Client, name: str) -> dict[str, Any]:
    status, key = loft.call("GET", f"{API}/clusters/{name}/accesskey")
    assert status == 200
    return key


def phase(loft: Client, name: str) -> dict[str, Any]:
    status: dict[str, Any] = loft.call("GET", f"{API}/clusters/{name}")[1]["status"]
    return status


def backend_of(loft: Client) -> LoftBackend:
    assert loft.sandbox.backend is not None
    return loft.sandbox.backend


def test_v4_cluster_does_not_initialize_on_fetching_its_access_key_alone(loft_v4: Client) -> None:
    status, _ = loft_v4.call("POST", f"{API}/clusters", cluster("keyonly", displayName="Key only"))
    assert status == 201

    key = access_key(loft_v4, "keyonly")
    time.sleep(0.3)

    assert key["accessKey"]
    assert key["loftHost"] == loft_v4.sandbox.url.split("://")[1]
    assert phase(loft_v4, "keyonly")["phase"] == ""
    assert LoftControl(loft_v4.sandbox.url).state()["access_keys"] == ["keyonly"]


def test_v4_cluster_initializes_once_an_agent_connects_with_its_access_key(loft_v4: Client) -> None:
    loft_v4.call("POST", f"{API}/clusters", cluster("agent"))
    key = access_key(loft_v4, "agent")

    connected = backend_of(loft_v4).connect_agent(key["loftHost"], key["accessKey"], "loft/loft")

    assert connected == "agent"
    assert phase(loft_v4, "agent")["phase"] == ""
    time.sleep(0.3)
    assert phase(loft_v4, "agent")["phase"] == "Initialized"
    assert LoftControl(loft_v4.sandbox.url).state()["agents"] == {"agent": "loft/loft"}


def test_an_agent_with_an_unknown_key_is_refused_and_the_cluster_never_initializes(loft_v4: Client) -> None:
    loft_v4.call("POST", f"{API}/clusters", cluster("stranger"))
    key = access_key(loft_v4, "stranger")

    with pytest.raises(exceptions.UnauthorizedError):
        backend_of(loft_v4).connect_agent(key["loftHost"], "f" * 40, "loft/loft")
    time.sleep(0.3)

    assert phase(loft_v4, "stranger")["phase"] == ""
    state = LoftControl(loft_v4.sandbox.url).state()
    assert state["rejected_agents"] == ["loft/loft"]
    assert state["agents"] == {}


def test_an_agent_dialling_another_platform_is_not_this_platforms_business(loft_v4: Client) -> None:
    loft_v4.call("POST", f"{API}/clusters", cluster("elsewhere"))
    key = access_key(loft_v4, "elsewhere")

    assert backend_of(loft_v4).connect_agent("https://loft.example.com", key["accessKey"], "loft/loft") is None
    assert LoftControl(loft_v4.sandbox.url).state()["agents"] == {}


def test_an_agent_with_a_revoked_key_turns_its_cluster_failed_with_the_platforms_reason(loft_v4: Client) -> None:
    LoftControl(loft_v4.sandbox.url).inject("revoked_access_key", "rotated")
    loft_v4.call("POST", f"{API}/clusters", cluster("rotated"))
    stale = access_key(loft_v4, "rotated")

    with pytest.raises(exceptions.UnauthorizedError):
        backend_of(loft_v4).connect_agent(stale["loftHost"], stale["accessKey"], "loft/loft")

    status = phase(loft_v4, "rotated")
    assert (status["phase"], status["reason"]) == ("Failed", exceptions.AGENT_UNAUTHORIZED_REASON)
    assert status["message"] == exceptions.AGENT_UNAUTHORIZED.format(name="rotated", where="loft/loft")
    assert stale["accessKey"] not in status["message"]
    current = access_key(loft_v4, "rotated")
    assert current["accessKey"] != stale["accessKey"]

    backend_of(loft_v4).connect_agent(current["loftHost"], current["accessKey"], "loft/loft")
    time.sleep(0.3)
    assert phase(loft_v4, "rotated")["phase"] == "Initialized"


def test_deleting_a_cluster_deletes_its_access_key_and_its_agent_is_refused_after(loft_v4: Client) -> None:
    loft_v4.call("POST", f"{API}/clusters", cluster("gone"))
    key = access_key(loft_v4, "gone")
    backend_of(loft_v4).connect_agent(key["loftHost"], key["accessKey"], "loft/loft")

    loft_v4.call("DELETE", f"{API}/clusters/gone")
    time.sleep(0.3)

    state = LoftControl(loft_v4.sandbox.url).state()
    assert (state["clusters"], state["access_keys"], state["agents"]) == ([], [], {})
    with pytest.raises(exceptions.UnauthorizedError):
        backend_of(loft_v4).connect_agent(key["loftHost"], key["accessKey"], "loft/loft")


def test_the_chart_repository_serves_the_agent_chart_at_each_version_without_a_key(loft_v4: Client) -> None:
    base = loft_v4.sandbox.chart_repository_url
    index = yaml.safe_load(fetch(loft_v4, f"{base}/index.yaml"))

    entries = index["entries"]["loft"]
    assert [e["version"] for e in entries] == list(loft_v4.sandbox.chart_versions)
    assert entries[-1]["version"] == loft_v4.call("GET", "/version", key=None)[1]["version"].lstrip("v")
    for entry in entries:
        archive = fetch(loft_v4, f"{base}/{entry['urls'][0]}")
        assert hashlib.sha256(archive).hexdigest() == entry["digest"]
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as chart:
            names = chart.getnames()
            chart_yaml = yaml.safe_load(chart.extractfile("loft/Chart.yaml").read())  # type: ignore[union-attr]
        assert "loft/templates/agent.yaml" in names
        assert "loft/values.yaml" in names
        assert (chart_yaml["name"], chart_yaml["version"]) == ("loft", entry["version"])


def test_the_chart_repository_answers_404_for_a_chart_it_does_not_have(loft_v4: Client) -> None:
    with pytest.raises(urllib.error.HTTPError) as raised:
        fetch(loft_v4, f"{loft_v4.sandbox.chart_repository_url}/loft-0.0.1.tgz")
    assert raised.value.code == 404


def test_the_agent_is_found_by_the_secret_its_deployment_reads_url_and_token_from() -> None:
    secrets = {"conn": {"data": {"u": b64("127.0.0.1:9"), "t": b64("key")}}}

    assert agent.wiring_of(agent_deployment(), secrets) == agent.AgentWiring("127.0.0.1:9", "key")
    assert agent.wiring_of(agent_deployment(), {}) is None
    assert agent.wiring_of(agent_deployment(), {"conn": {"data": {"u": "%%%", "t": b64("key")}}}) is None
    assert agent.wiring_of(agent_deployment(container="sidecar"), secrets) is None
    plain = agent_deployment()
    plain["spec"]["template"]["spec"]["containers"][0]["env"][1] = {"name": agent.TOKEN_ENV, "value": "key"}
    assert agent.wiring_of(plain, secrets) is None


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def agent_deployment(container: str = agent.CONTAINER) -> dict[str, Any]:
    env = [
        {"name": agent.URL_ENV, "valueFrom": {"secretKeyRef": {"name": "conn", "key": "u"}}},
        {"name": agent.TOKEN_ENV, "valueFrom": {"secretKeyRef": {"name": "conn", "key": "t"}}},
    ]
    return {"spec": {"template": {"spec": {"containers": [{"name": container, "env": env}]}}}}


def fetch(loft: Client, url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10, context=loft.context) as response:
        body: bytes = response.read()
        return body


def test_a_cluster_with_both_owner_user_and_team_is_invalid(loft_v4: Client) -> None:
    status, body = loft_v4.call("POST", f"{API}/clusters", cluster("both", owner={"user": "a", "team": "b"}))
    assert status == 422
    assert body["details"]["causes"][0]["field"] == "spec.owner"


def test_reset_forgets_clusters_and_faults(loft_v4: Client) -> None:
    control = LoftControl(loft_v4.sandbox.url)
    loft_v4.call("POST", f"{API}/clusters", cluster("kept"))
    control.inject("phase_failed", "later")
    assert control.state()["clusters"] == ["kept"]

    control.reset()

    assert control.state()["clusters"] == []
    assert control.state()["faults"] == []


def test_the_control_endpoint_rejects_unknown_durations_and_fault_kinds(loft: Client) -> None:
    control = LoftControl(loft.sandbox.url)
    with pytest.raises(urllib.error.HTTPError) as raised:
        control.set_durations(forever=1)
    assert raised.value.code == 400
    with pytest.raises(urllib.error.HTTPError):
        control.inject("meteor")


def test_tls_mode_serves_a_certificate_its_ca_data_verifies() -> None:
    sandbox = LoftSandbox(tls=True, version="v4").start()
    try:
        assert sandbox.url.startswith("https://")
        status, _ = Client(sandbox).call("GET", f"{API}/clusters/none")
        assert status == 404
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            urllib.request.urlopen(sandbox.url + "/version", timeout=5)
    finally:
        sandbox.stop()

"""LoftConnectedCluster: the mode it picks, the agent's values, and its v4 wiring under pulumi's mocks."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any, cast

import pulumi
import pytest

from pulumi_cluster_connect.components import loft_connected_cluster as lcc
from pulumi_cluster_connect.sandbox.loft import LoftSandbox

KUBECONFIG = (
    "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
    "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:6443'}}]\nusers: [{name: u, user: {token: t}}]\n"
)
SECRET_SIGNATURE, SECRET_MARK = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"
CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def args(**overrides: Any) -> lcc.LoftConnectedClusterArgs:
    base: dict[str, Any] = {
        "loft_url": "https://loft.example.com",
        "access_key": "loft-access-key",
        "cluster_name": "edge",
        "kubeconfig": KUBECONFIG,
    }
    return cast(lcc.LoftConnectedClusterArgs, {**base, **overrides})


@pytest.fixture(scope="module", params=["v3", "v4"])
def loft(request: pytest.FixtureRequest) -> Iterator[LoftSandbox]:
    sandbox = LoftSandbox(version=request.param, tls=True).start()
    yield sandbox
    sandbox.stop()


def test_auto_mode_asks_the_platforms_version_without_a_key(loft: LoftSandbox) -> None:
    found = lcc.detect_mode("edge", args(loft_url=loft.url, access_key="not-even-checked", ca_data=loft.ca_data))
    assert found == {"v3": "cluster-connect", "v4": "agent"}[loft.version]


def test_a_chosen_mode_asks_nothing() -> None:
    assert lcc.detect_mode("edge", args(loft_url="https://127.0.0.1:1", mode="agent")) == "agent"


def test_auto_mode_on_an_unreachable_platform_says_to_choose_the_mode() -> None:
    with pytest.raises(pulumi.RunError, match="set mode"):
        lcc.detect_mode("edge", args(loft_url="https://127.0.0.1:1"))


def test_auto_mode_needs_a_url_known_while_the_program_runs() -> None:
    with pytest.raises(pulumi.RunError, match="mode='agent'"):
        lcc.detect_mode("edge", args(loft_url=pulumi.Output.from_input("https://loft.example.com")))


def test_the_agent_values_are_those_of_the_platform_cli() -> None:
    values = lcc.agent_values(
        {"replicaCount": 2},
        loft_host="loft.example.com",
        token="t",
        platform_insecure=False,
        insecure=False,
        ca_data=CA,
    )

    assert values == {
        "replicaCount": 2,
        "agentOnly": True,
        "url": "loft.example.com",
        "token": "t",
        "additionalCA": base64.b64encode(CA.encode()).decode(),
    }
    insecure = lcc.agent_values({}, loft_host="h", token="t", platform_insecure=True, insecure=False, ca_data=None)
    assert insecure["insecureSkipVerify"] is True


def test_extra_agent_values_may_not_set_the_connection() -> None:
    with pytest.raises(pulumi.RunError, match="token"):
        lcc._validate("edge", args(agent_values={"token": "mine"}))
    with pytest.raises(pulumi.RunError, match="mode"):
        lcc._validate("edge", args(mode="helm"))


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.created: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.created.append(args)
        outputs = dict(args.inputs)
        if args.typ.endswith("loft:ClusterConnect"):
            outputs.update(
                agent_access_key="agent-key",
                loft_host="loft.example.com",
                agent_insecure=False,
                platform_version="v4.3.1",
                phase="",
            )
        if args.typ.endswith("helm:Release"):
            outputs.update(revision=1, chart_version=args.inputs.get("version"))
        if args.typ.endswith("loft:ClusterInitialized"):
            outputs.update(phase="Initialized", reason="", message="")
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


@pytest.fixture
def mocks() -> Iterator[Mocks]:
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="proj", stack="dev", preview=False)
    yield mocks


def resolved(output: pulumi.Output[Any]) -> Any:
    future: Any = None

    def keep(value: Any) -> None:
        nonlocal future
        future = value

    output.apply(keep)
    pulumi.runtime.sync_await._sync_await(pulumi.runtime.stack.wait_for_rpcs())
    return future


def test_the_agent_mode_installs_the_chart_at_the_platforms_version_with_the_key_as_token(mocks: Mocks) -> None:
    cluster = lcc.LoftConnectedCluster("edge", args(mode="agent", namespace="loft-edge"))

    assert resolved(cluster.phase) == "Initialized"
    assert resolved(cluster.agent_chart_version) == "4.3.1"
    names = {r.name: r.typ.rsplit(":", 1)[-1] for r in mocks.created if r.typ.startswith("pulumi-python:dynamic")}
    assert names == {
        "edge-connect": "ClusterConnect",
        "edge-agent": "Release",
        "edge-initialized": "ClusterInitialized",
    }
    (release,) = [r for r in mocks.created if r.name == "edge-agent"]
    assert release.inputs["release_name"] == "loft"
    assert release.inputs["namespace"] == "loft-edge"
    assert release.inputs["chart"] == "loft"
    assert release.inputs["repository"] == lcc.DEFAULT_CHART_REPOSITORY
    # The values reach the engine as a secret (Pulumi's secret signature wraps them).
    assert release.inputs["values"] == {
        SECRET_SIGNATURE: SECRET_MARK,
        "value": {"agentOnly": True, "url": "loft.example.com", "token": "agent-key"},
    }
    (connect,) = [r for r in mocks.created if r.name == "edge-connect"]
    assert connect.inputs["mode"] == "agent"
    assert "kubeconfig" not in connect.inputs  # the platform never gets a kubeconfig in the agent flow


def test_the_chart_repository_and_version_are_overridable(mocks: Mocks) -> None:
    lcc.LoftConnectedCluster(
        "edge",
        args(mode="agent", agent_chart_repository="https://mirror.example.com/loft", agent_chart_version="4.2.3"),
    )
    pulumi.runtime.sync_await._sync_await(pulumi.runtime.stack.wait_for_rpcs())

    (release,) = [r for r in mocks.created if r.name == "edge-agent"]
    assert (release.inputs["repository"], release.inputs["version"]) == ("https://mirror.example.com/loft", "4.2.3")


@pytest.mark.parametrize("mode", ["agent", "cluster-connect"])
def test_adopt_existing_reaches_everything_the_component_makes(mocks: Mocks, mode: str) -> None:
    lcc.LoftConnectedCluster("edge", args(mode=mode, adopt_existing=True))
    pulumi.runtime.sync_await._sync_await(pulumi.runtime.stack.wait_for_rpcs())

    made = {r.name: r.inputs for r in mocks.created if r.typ.startswith("pulumi-python:dynamic")}
    takers = {n for n, inputs in made.items() if inputs.get("adopt_existing") is True}
    assert takers == ({"edge-connect", "edge-agent"} if mode == "agent" else {"edge-connect", "edge-objects"})
    assert made["edge-connect"]["identity"] == "proj/dev/cluster-connect:index:LoftConnectedCluster::edge/" + (
        "pulumi-python:dynamic/loft:ClusterConnect::edge-connect"
    )

"""vCluster Platform v4 through the real engine: the Loft double as v4, the agent installed by the real Helm CLI
into a real kube-apiserver, where the double's simulated agent runs it and dials the platform with its token."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import lightkube
import pulumi
import pytest
from lightkube.resources.core_v1 import Namespace
from pulumi import automation as auto

from pulumi_cluster_connect.components.loft_connected_cluster import LoftConnectedCluster, LoftConnectedClusterArgs
from pulumi_cluster_connect.dynamic_providers.loft_cluster_connect import LoftClusterConnect
from pulumi_cluster_connect.dynamic_providers.loft_cluster_initialized import LoftClusterInitialized
from pulumi_cluster_connect.sandbox.kubernetes import ControlPlane
from pulumi_cluster_connect.sandbox.loft import LoftControl, LoftSandbox, exceptions
from pulumi_cluster_connect.sandbox.stacks import StackFactory, TestStack

RELEASE_TYPE = "dynamic/helm:Release"


def releases(helm_cli: Path, kube: ControlPlane, namespace: str) -> list[dict[str, Any]]:
    """The Helm releases in `namespace`, as `helm list` shows them."""
    out = subprocess.run(
        [str(helm_cli), "list", "-n", namespace, "--all", "-o", "json", "--kubeconfig", str(kube.kubeconfig_path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found: list[dict[str, Any]] = json.loads(out or "[]")
    return found


def namespace_exists(kube: ControlPlane, name: str) -> bool:
    try:
        lightkube.Client(lightkube.KubeConfig.from_dict(kube.kubeconfig())).get(Namespace, name)
    except lightkube.ApiError as err:
        if err.status.code == 404:
            return False
        raise
    return True


def cluster_args(platform: LoftSandbox, kube: ControlPlane, name: str, **overrides: Any) -> LoftConnectedClusterArgs:
    args: dict[str, Any] = {
        "loft_url": platform.url,
        "access_key": platform.access_key,
        "ca_data": platform.ca_data,
        "cluster_name": name,
        "kubeconfig": kube.kubeconfig_text(),
        "display_name": name.title(),
        "namespace": f"loft-{name}",
        # The sandbox has no internet: the double serves the agent chart, as a mirror would.
        "agent_chart_repository": platform.chart_repository_url,
        "agent_chart_repository_ca_data": platform.ca_data,
        "timeout_seconds": 60,
        **overrides,
    }
    return cast(LoftConnectedClusterArgs, args)


def component_program(platform: LoftSandbox, kube: ControlPlane, name: str, **overrides: Any) -> Any:
    def program() -> None:
        cluster = LoftConnectedCluster(name, cluster_args(platform, kube, name, **overrides))
        pulumi.export("phase", cluster.phase)
        pulumi.export("mode", cluster.mode)
        pulumi.export("agent_chart_version", cluster.agent_chart_version)

    return program


@dataclass(frozen=True)
class LoggingHelm:
    real: Path
    wrapper: Path
    log: Path


@pytest.fixture
def logging_helm(helm_cli: Path, tmp_path: Path) -> LoggingHelm:
    """A `helm` that logs its command line, then runs the real one: to see what reaches argv."""
    log = tmp_path / "helm-argv.log"
    wrapper = tmp_path / "helm"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{helm_cli}" "$@"\n')
    wrapper.chmod(0o755)
    return LoggingHelm(helm_cli, wrapper, log)


def assert_no_secret(stack: TestStack, *secrets: str) -> None:
    state = stack.state_text()
    for secret in secrets:
        assert secret not in state
        assert secret not in stack.output


def test_v4_connect_installs_the_agent_with_helm_and_reaches_initialized_through_it(
    stacks: StackFactory,
    kube: ControlPlane,
    platform_sandbox: LoftSandbox,
    platform: LoftControl,
    logging_helm: LoggingHelm,
) -> None:
    helm_cli = logging_helm.real
    stack = stacks.inline(component_program(platform_sandbox, kube, "edge", helm_path=str(logging_helm.wrapper)))

    stack.up()

    assert stack.outputs() == {"phase": "Initialized", "mode": "agent", "agent_chart_version": "4.3.1"}
    state = platform.state()
    assert (state["clusters"], state["access_keys"]) == (["edge"], ["edge"])
    assert state["agents"] == {"edge": "loft-edge/loft"}
    assert state["rejected_agents"] == []
    [release] = releases(helm_cli, kube, "loft-edge")
    assert (release["name"], release["status"], release["chart"]) == ("loft", "deployed", "loft-4.3.1")

    assert platform_sandbox.backend is not None
    agent_key = platform_sandbox.backend.agent_keys["edge"]
    assert_no_secret(stack, agent_key, platform_sandbox.access_key, kube.token)
    commands = logging_helm.log.read_text()
    assert "upgrade loft loft --install" in commands
    assert "--values -" in commands
    for secret in (agent_key, platform_sandbox.access_key, kube.token):
        assert secret not in commands

    assert stack.preview().change_summary == {"same": 5}
    assert stack.refresh().summary.resource_changes == {"same": 5}

    stack.destroy()

    state = platform.state()
    assert (state["clusters"], state["access_keys"], state["agents"]) == ([], [], {})
    assert releases(helm_cli, kube, "loft-edge") == []
    assert not namespace_exists(kube, "loft-edge")


def test_a_cluster_whose_agent_never_runs_never_initializes(
    stacks: StackFactory, platform_sandbox: LoftSandbox, platform: LoftControl
) -> None:
    def program() -> None:
        connection = LoftClusterConnect(
            "lonely",
            cluster_name="lonely",
            loft_url=platform_sandbox.url,
            access_key=platform_sandbox.access_key,
            ca_data=platform_sandbox.ca_data,
            mode="agent",
        )
        LoftClusterInitialized(
            "lonely-initialized",
            cluster_name="lonely",
            loft_url=platform_sandbox.url,
            access_key=platform_sandbox.access_key,
            ca_data=platform_sandbox.ca_data,
            timeout_seconds=3,
            opts=pulumi.ResourceOptions(depends_on=[connection]),
        )

    stack = stacks.inline(program)

    with pytest.raises(auto.CommandError):
        stack.up()

    assert "timed out after 3s waiting for Loft cluster lonely" in stack.output
    assert "the agent has not connected to the platform" in stack.output
    assert platform.state()["clusters"] == ["lonely"]
    assert platform.state()["agents"] == {}
    stack.destroy()
    assert platform.state()["clusters"] == []


def test_an_agent_with_a_wrong_key_never_initializes_and_fails_with_the_platforms_reason(
    stacks: StackFactory,
    kube: ControlPlane,
    platform_sandbox: LoftSandbox,
    platform: LoftControl,
    helm_cli: Path,
) -> None:
    platform.inject("revoked_access_key", "rotated")
    stack = stacks.inline(component_program(platform_sandbox, kube, "rotated"))

    with pytest.raises(auto.CommandError):
        stack.up()

    reason = exceptions.AGENT_UNAUTHORIZED.format(name="rotated", where="loft-rotated/loft")
    assert f"Loft cluster rotated reached Failed: {exceptions.AGENT_UNAUTHORIZED_REASON}: {reason}" in stack.output
    assert platform.state()["agents"] == {}
    assert platform_sandbox.backend is not None
    [stale_key] = platform_sandbox.backend.revoked_keys
    assert_no_secret(stack, stale_key, platform_sandbox.access_key, kube.token)

    # What the docs say to do: refresh reads the key the platform holds now, up gives it to the agent.
    stack.up(refresh=True)
    assert stack.outputs()["phase"] == "Initialized"
    assert platform.state()["agents"] == {"rotated": "loft-rotated/loft"}

    stack.destroy()

    state = platform.state()
    assert (state["clusters"], state["access_keys"]) == ([], [])
    assert releases(helm_cli, kube, "loft-rotated") == []


def test_the_agent_chart_version_is_overridable_and_an_upgrade_waits_for_the_new_agent(
    stacks: StackFactory,
    kube: ControlPlane,
    platform_sandbox: LoftSandbox,
    platform: LoftControl,
    helm_cli: Path,
) -> None:
    settings: dict[str, Any] = {"agent_chart_version": "4.2.3"}

    def program() -> None:
        component_program(platform_sandbox, kube, "pinned", **settings)()

    stack = stacks.inline(program)
    stack.up()
    assert stack.outputs()["agent_chart_version"] == "4.2.3"
    assert releases(helm_cli, kube, "loft-pinned")[0]["chart"] == "loft-4.2.3"

    settings["agent_chart_version"] = "4.3.1"
    upgraded = stack.up()

    assert upgraded.summary.resource_changes == {"update": 2, "same": 3}
    assert stack.outputs()["phase"] == "Initialized"
    [release] = releases(helm_cli, kube, "loft-pinned")
    assert (release["chart"], release["revision"]) == ("loft-4.3.1", "2")

    settings["agent_chart_version"] = "9.9.9"
    with pytest.raises(auto.CommandError):
        stack.up()
    assert 'chart "loft" version "9.9.9" not found' in stack.output
    assert platform_sandbox.backend is not None
    assert platform_sandbox.backend.agent_keys["pinned"] not in stack.output

    stack.destroy()
    assert releases(helm_cli, kube, "loft-pinned") == []
    assert platform.state()["clusters"] == []


def test_a_new_agent_goes_where_the_cli_puts_it_and_one_installed_under_the_old_default_stays(
    stacks: StackFactory, kube: ControlPlane, platform_sandbox: LoftSandbox, platform: LoftControl, helm_cli: Path
) -> None:
    new = stacks.inline(component_program(platform_sandbox, kube, "fresh", namespace=None))
    new.up()
    assert platform.state()["agents"]["fresh"] == "vcluster-platform/loft"
    assert [r["name"] for r in releases(helm_cli, kube, "vcluster-platform")] == ["loft"]
    new.destroy()

    # A stack from a version whose default was "loft": its agent was installed there.
    old = stacks.inline(component_program(platform_sandbox, kube, "older", namespace="loft"))
    old.up()
    upgraded = stacks.inline(component_program(platform_sandbox, kube, "older", namespace=None), stack=old.stack.name)
    assert upgraded.preview().change_summary == {"same": 5}
    upgraded.up()
    assert platform.state()["agents"]["older"] == "loft/loft"
    assert [r["name"] for r in releases(helm_cli, kube, "loft")] == ["loft"]
    upgraded.destroy()
    assert releases(helm_cli, kube, "loft") == []

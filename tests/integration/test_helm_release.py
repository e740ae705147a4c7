"""HelmRelease through the real engine and the real Helm CLI: adoption of its own releases, refusal of others',
drift seen by refresh, and a failed install left marked for the next up (the Loft double serves the chart)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, cast

import pulumi
import pytest
from pulumi import automation as auto

from pulumi_cluster_connect.dynamic_providers.helm_release import HelmRelease
from pulumi_cluster_connect.sandbox.kubernetes import ControlPlane
from pulumi_cluster_connect.sandbox.loft import LoftControl, LoftSandbox
from pulumi_cluster_connect.sandbox.stacks import StackFactory, TestStack

TOKEN = "release-token-never-shown"
LEGACY_MARK = ("managed-by", "pulumi-cluster-connect")
OWNER_LABEL = "pulumi-cluster-connect/owner"


def helm(helm_cli: Path, kube: ControlPlane, *args: str, stdin: str | None = None) -> str:
    command = [str(helm_cli), *args, "--kubeconfig", str(kube.kubeconfig_path)]
    return subprocess.run(command, check=True, capture_output=True, text=True, input=stdin).stdout


def release(helm_cli: Path, kube: ControlPlane, namespace: str) -> dict[str, Any] | None:
    found = json.loads(helm(helm_cli, kube, "list", "-n", namespace, "--all", "-o", "json") or "[]")
    return found[0] if found else None


def release_program(platform: LoftSandbox, kube: ControlPlane, namespace: str, settings: dict[str, Any]) -> Any:
    def program() -> None:
        agent = HelmRelease(
            "agent",
            kubeconfig=kube.kubeconfig_text(),
            release_name="loft",
            namespace=namespace,
            chart="loft",
            repository=platform.chart_repository_url,
            repository_ca_data=platform.ca_data,
            version=settings.get("version", "4.3.1"),
            values={"agentOnly": True, "url": "127.0.0.1:9", "token": TOKEN, "replicaCount": 1},
            adopt_existing=settings.get("adopt_existing", False),
            timeout_seconds=settings.get("timeout_seconds", 60),
        )
        pulumi.export("revision", agent.revision)
        pulumi.export("chart_version", agent.chart_version)

    return program


def forget_release(stack: TestStack) -> None:
    """Drop the release from the state, as if the process had died before the engine recorded it."""
    deployment = stack.stack.export_stack()
    state = cast(dict[str, Any], deployment.deployment)
    state["resources"] = [r for r in state["resources"] if not r["type"].endswith("helm:Release")]
    stack.stack.import_stack(deployment)


def test_a_release_of_its_own_is_adopted_and_anybody_elses_is_refused_unless_asked(
    stacks: StackFactory, kube: ControlPlane, platform_sandbox: LoftSandbox, platform: LoftControl, helm_cli: Path
) -> None:
    settings: dict[str, Any] = {}
    stack = stacks.inline(release_program(platform_sandbox, kube, "adopt", settings))
    stack.up()
    forget_release(stack)

    stack.up()

    assert "adopting the existing release loft in namespace adopt (deployed)" in stack.output
    assert stack.outputs()["revision"] == 2
    stack.destroy()
    assert release(helm_cli, kube, "adopt") is None

    helm(
        helm_cli,
        kube,
        *("install", "loft", "loft", "-n", "adopt", "--create-namespace", "--values", "-"),
        *("--repo", platform_sandbox.chart_repository_url, "--insecure-skip-tls-verify"),
        stdin=json.dumps({"agentOnly": True, "url": "127.0.0.1:9", "token": "by-hand"}),
    )
    with pytest.raises(auto.CommandError):
        stack.up()
    assert "was not installed by pulumi-cluster-connect (no release label managed-by=pulumi-cluster-connect)" in (
        stack.output
    )

    settings["adopt_existing"] = True
    stack.up()
    assert stack.outputs()["revision"] == 2
    stack.destroy()
    assert release(helm_cli, kube, "adopt") is None
    assert TOKEN not in stack.output
    assert TOKEN not in stack.state_text()


def test_refresh_sees_someone_elses_upgrade_and_the_next_up_installs_the_programs_version(
    stacks: StackFactory, kube: ControlPlane, platform_sandbox: LoftSandbox, platform: LoftControl, helm_cli: Path
) -> None:
    stack = stacks.inline(release_program(platform_sandbox, kube, "drift", {}))
    stack.up()
    helm(
        helm_cli,
        kube,
        *("upgrade", "loft", "loft", "-n", "drift", "--version", "4.2.3", "--reuse-values"),
        *("--repo", platform_sandbox.chart_repository_url, "--insecure-skip-tls-verify"),
    )

    stack.refresh()
    assert stack.preview().change_summary == {"update": 1, "same": 1}
    stack.up()

    found = release(helm_cli, kube, "drift")
    assert found is not None
    assert (found["chart"], found["revision"]) == ("loft-4.3.1", "3")
    assert stack.preview().change_summary == {"same": 2}
    stack.destroy()


def test_a_failed_install_is_left_marked_and_the_next_up_repairs_it(
    stacks: StackFactory, kube: ControlPlane, platform_sandbox: LoftSandbox, platform: LoftControl, helm_cli: Path
) -> None:
    settings: dict[str, Any] = {"version": "4.3.1", "timeout_seconds": 3}
    stack = stacks.inline(release_program(platform_sandbox, kube, "broken", settings))
    # The agent's pod takes longer to start than helm --wait waits.
    platform.set_durations(agent_start=600)
    with pytest.raises(auto.CommandError):
        stack.up()
    platform.set_durations(agent_start=0)
    assert "the release is left failed and marked as ours: the next `pulumi up` upgrades it" in stack.output
    found = release(helm_cli, kube, "broken")
    assert found is not None
    assert found["status"] == "failed"

    settings["timeout_seconds"] = 60
    stack.up()

    found = release(helm_cli, kube, "broken")
    assert found is not None
    assert found["status"] == "deployed"
    stack.destroy()
    assert release(helm_cli, kube, "broken") is None


def test_another_stacks_release_of_the_same_name_is_refused_and_a_release_marked_the_old_way_is_remarked(
    stacks: StackFactory, kube: ControlPlane, platform_sandbox: LoftSandbox, platform: LoftControl, helm_cli: Path
) -> None:
    first = stacks.inline(release_program(platform_sandbox, kube, "shared", {}))
    first.up()
    installed = release(helm_cli, kube, "shared")
    assert installed is not None

    second = stacks.inline(release_program(platform_sandbox, kube, "shared", {}))
    with pytest.raises(auto.CommandError):
        second.up()
    assert "was installed by another stack or resource" in second.output
    after = release(helm_cli, kube, "shared")
    assert after is not None and after["revision"] == installed["revision"], "the other stack's release was changed"
    assert second.resources("helm:Release") == []

    first.destroy()
    assert release(helm_cli, kube, "shared") is None

    # A release an earlier version of this library installed carries only the generic label: taken as ours once,
    # and marked with this resource's owner.
    helm(
        helm_cli,
        kube,
        *("install", "loft", "loft", "-n", "shared", "--create-namespace", "--values", "-"),
        *("--repo", platform_sandbox.chart_repository_url, "--insecure-skip-tls-verify"),
        *("--labels", "=".join(LEGACY_MARK)),
        stdin=json.dumps({"agentOnly": True, "url": "127.0.0.1:9", "token": "by-hand"}),
    )
    first.up()
    assert "adopting the existing release loft in namespace shared" in first.output
    marked = helm(helm_cli, kube, "list", "-n", "shared", "--all", f"--selector={OWNER_LABEL}", "-o", "json")
    assert [r["name"] for r in json.loads(marked)] == ["loft"]
    first.destroy()
    assert release(helm_cli, kube, "shared") is None

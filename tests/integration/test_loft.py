"""Loft through the real engine: the Loft double (HTTPS) and a real kube-apiserver as the connected cluster."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import lightkube
import pulumi
import pytest
import yaml
from lightkube.resources.core_v1 import Namespace, Secret, ServiceAccount
from pulumi import automation as auto

from pulumi_cluster_connect.components.loft_connected_cluster import LoftConnectedCluster
from pulumi_cluster_connect.dynamic_providers.loft_cluster_connect import LoftClusterConnect
from pulumi_cluster_connect.sandbox import ports
from pulumi_cluster_connect.sandbox.kubernetes import ControlPlane
from pulumi_cluster_connect.sandbox.loft import LoftControl, LoftSandbox
from pulumi_cluster_connect.sandbox.stacks import StackFactory

CONNECT_TYPE = "dynamic/loft:ClusterConnect"
REPO = Path(__file__).resolve().parents[2]


def kube_client(kube: ControlPlane) -> lightkube.Client:
    return lightkube.Client(lightkube.KubeConfig.from_dict(kube.kubeconfig()))


def exists(client: lightkube.Client, resource: Any, name: str, namespace: str | None = None) -> bool:
    try:
        client.get(resource, name, namespace=namespace)
    except lightkube.ApiError as err:
        if err.status.code == 404:
            return False
        raise
    return True


def connect_program(loft: LoftSandbox, name: str, **overrides: Any) -> Any:
    """A program with one LoftClusterConnect; `overrides` replace its arguments."""

    def program() -> None:
        args: dict[str, Any] = {
            "loft_url": loft.url,
            "access_key": loft.access_key,
            "ca_data": loft.ca_data,
            "cluster_name": name,
            "display_name": name.title(),
            "management_namespace": f"loft-{name}",
            "timeout_seconds": 20,
            **overrides,
        }
        connection = LoftClusterConnect(name, **args)
        pulumi.export("phase", connection.phase)

    return program


def test_the_component_connects_a_cluster_and_destroy_removes_the_cluster_and_objects(
    stacks: StackFactory, kube: ControlPlane, loft_sandbox: LoftSandbox, loft: LoftControl
) -> None:
    settings = {"display_name": "Edge"}

    def program() -> None:
        edge = LoftConnectedCluster(
            "edge",
            {
                "loft_url": loft_sandbox.url,
                "access_key": loft_sandbox.access_key,
                "ca_data": loft_sandbox.ca_data,
                "cluster_name": "edge",
                "kubeconfig": kube.kubeconfig_text(),
                "display_name": settings["display_name"],
                "owner": {"team": "platform"},
                "namespace": "loft-edge",
            },
        )
        pulumi.export("phase", edge.phase)
        pulumi.export("cluster_name", edge.cluster_name)

    stack = stacks.inline(program)
    stack.up()

    assert stack.outputs() == {"phase": "Initialized", "cluster_name": "edge"}
    assert loft.state()["clusters"] == ["edge"]
    client = kube_client(kube)
    assert exists(client, ServiceAccount, "loft-admin", "loft-edge")
    assert exists(client, Secret, "loft-cluster-config-edge", "loft-edge")

    assert stack.preview().change_summary == {"same": 5}

    token_secret = client.get(Secret, "loft-admin-token", namespace="loft-edge")
    service_account_token = base64.b64decode((token_secret.data or {})["token"]).decode()
    state = stack.state_text()
    for secret in (service_account_token, kube.token, loft_sandbox.access_key):
        assert secret not in state
        assert secret not in stack.output

    assert stack.refresh().summary.resource_changes == {"same": 5}

    settings["display_name"] = "Edge EU"
    replaced = stack.up()
    assert replaced.summary.resource_changes == {"replace": 1, "same": 4}
    assert loft.state()["clusters"] == ["edge"]

    stack.destroy()

    assert loft.state()["clusters"] == []
    assert not exists(client, ServiceAccount, "loft-admin", "loft-edge")
    assert not exists(client, Secret, "loft-cluster-config-edge", "loft-edge")
    assert not exists(client, Namespace, "loft-edge")


def test_a_bad_access_key_fails_with_the_401_reason(
    stacks: StackFactory, kube: ControlPlane, loft_sandbox: LoftSandbox, loft: LoftControl
) -> None:
    stack = stacks.inline(
        connect_program(loft_sandbox, "keyless", kubeconfig=kube.kubeconfig_text(), access_key="0" * 40)
    )

    with pytest.raises(auto.CommandError):
        stack.up()

    assert "Loft ClusterConnect failed: Unauthorized: Unauthorized" in stack.output
    assert "0" * 40 not in stack.output
    assert stack.resources(CONNECT_TYPE) == []


def test_an_unreachable_kubeconfig_fails_with_the_servers_reason_and_leaves_nothing_behind(
    stacks: StackFactory, kube: ControlPlane, loft_sandbox: LoftSandbox, loft: LoftControl
) -> None:
    unreachable = kube.kubeconfig()
    unreachable["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{ports.free_port()}"
    stack = stacks.inline(connect_program(loft_sandbox, "far", kubeconfig=yaml.safe_dump(unreachable)))

    with pytest.raises(auto.CommandError):
        stack.up()

    assert "Loft ClusterConnect failed: BadRequest: error connecting to cluster" in stack.output
    assert "Connection refused" in stack.output
    assert kube.token not in stack.output
    assert stack.resources(CONNECT_TYPE) == []
    assert loft.state()["clusters"] == []


def test_an_injected_failed_phase_stops_with_its_message_and_disconnects_again(
    stacks: StackFactory, kube: ControlPlane, loft_sandbox: LoftSandbox, loft: LoftControl
) -> None:
    loft.inject("phase_failed", "sick", reason="AgentError", message="agent pod crash-looping")
    stack = stacks.inline(connect_program(loft_sandbox, "sick", kubeconfig=kube.kubeconfig_text()))

    with pytest.raises(auto.CommandError):
        stack.up()

    assert "reached Failed: AgentError: agent pod crash-looping" in stack.output
    assert stack.resources(CONNECT_TYPE) == []
    assert loft.state()["clusters"] == []
    assert not exists(kube_client(kube), Secret, "loft-cluster-config-sick", "loft-sick")


def test_a_cluster_deleted_in_loft_is_seen_as_gone_by_refresh(
    stacks: StackFactory, kube: ControlPlane, loft_sandbox: LoftSandbox, loft: LoftControl
) -> None:
    stack = stacks.inline(connect_program(loft_sandbox, "drift", kubeconfig=kube.kubeconfig_text()))
    stack.up()
    assert stack.outputs()["phase"] == "Initialized"

    loft.reset()

    assert stack.refresh().summary.resource_changes == {"delete": 1, "same": 1}
    assert stack.up().summary.resource_changes == {"create": 1, "same": 1}
    stack.destroy()
    assert loft.state()["clusters"] == []

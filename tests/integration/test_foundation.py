"""The whole chain works: real engine, real kube-apiserver, pickled providers from the installed package."""

from __future__ import annotations

import base64

import lightkube
import pulumi
import pytest
from lightkube.resources.core_v1 import ConfigMap, Namespace, Secret

from pulumi_cluster_connect.dynamic_providers import KubernetesManifest
from pulumi_cluster_connect.sandbox.kubernetes import ControlPlane
from pulumi_cluster_connect.sandbox.stacks import StackFactory

SECRET_VALUE = "s3cr3t-value-that-must-not-leak"


def manifest_objects(namespace: str, configmap_value: str) -> list[dict[str, object]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": namespace},
            "data": {"mode": configmap_value},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "credentials", "namespace": namespace},
            "data": {"token": base64.b64encode(SECRET_VALUE.encode()).decode()},
        },
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
    ]


def test_a_manifest_goes_through_up_preview_refresh_and_destroy(stacks: StackFactory, kube: ControlPlane) -> None:
    kubeconfig = kube.kubeconfig_text()
    value = {"mode": "first"}

    def program() -> None:
        manifest = KubernetesManifest("app", kubeconfig=kubeconfig, objects=manifest_objects("chain", value["mode"]))
        pulumi.export("applied", manifest.applied)

    stack = stacks.inline(program)
    up = stack.up()
    assert up.summary.resource_changes == {"create": 2}
    assert stack.outputs()["applied"] == [
        "v1/Namespace//chain",
        "v1/ConfigMap/chain/settings",
        "v1/Secret/chain/credentials",
    ]

    client = lightkube.Client(lightkube.KubeConfig.from_dict(kube.kubeconfig()))
    assert client.get(ConfigMap, "settings", namespace="chain").data == {"mode": "first"}
    metadata = client.get(ConfigMap, "settings", namespace="chain").metadata
    assert metadata is not None
    managers = {m.manager for m in metadata.managedFields or []}
    assert "pulumi-cluster-connect" in managers

    assert stack.preview().change_summary == {"same": 2}

    state = stack.state_text()
    assert SECRET_VALUE not in state
    encoded = base64.b64encode(SECRET_VALUE.encode()).decode()
    assert encoded not in state, state[max(0, state.find(encoded) - 600) : state.find(encoded) + 50]
    assert kube.token not in state
    assert kube.token not in stack.output

    value["mode"] = "second"
    assert stack.up().summary.resource_changes == {"update": 1, "same": 1}
    assert client.get(ConfigMap, "settings", namespace="chain").data == {"mode": "second"}

    assert stack.refresh().summary.resource_changes == {"same": 2}

    stack.destroy()
    with pytest.raises(lightkube.ApiError) as gone:
        client.get(Namespace, "chain")
    assert gone.value.status.code == 404
    with pytest.raises(lightkube.ApiError):
        client.get(Secret, "credentials", namespace="chain")

"""Every public output attribute (docs/COMPATIBILITY.md) exists on a resource and resolves to what the engine stored.

Most classes declare their outputs for type checkers only (`if TYPE_CHECKING:`) and send only the keys they need, so
the attribute exists only because its key is in the properties the class sends: this pins that it still is.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from pulumi_cluster_connect import dynamic_providers

ROLE = "arn:aws:iam::123456789012:role/r"
KUBECONFIG = "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts: [{name: c, context: {cluster: c}}]\n"
CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m", "namespace": "default"}}

# resource class -> (its public outputs, a declaration with only the required inputs)
OUTPUTS: dict[str, tuple[set[str], Callable[[], pulumi.CustomResource]]] = {
    "ClusterVersion": (
        {"cluster_name", "version", "platform_version", "region", "updates", "addon_updates", "readiness"},
        lambda: dynamic_providers.ClusterVersion("v", cluster_name="c", version="1.32"),
    ),
    "ConnectionWait": ({"status"}, lambda: dynamic_providers.ConnectionWait("w", cluster_name="c", activation_id="a")),
    "FargateProfile": (
        {
            "cluster_name",
            "fargate_profile_name",
            "pod_execution_role_arn",
            "selectors",
            "subnet_ids",
            "tags",
            "region",
            "arn",
            "status",
        },
        lambda: dynamic_providers.FargateProfile(
            "p", cluster_name="c", pod_execution_role_arn=ROLE, selectors=[{"namespace": "n"}]
        ),
    ),
    "HelmRelease": (
        {"status", "revision", "chart_name", "chart_version", "app_version", "created_namespace"},
        lambda: dynamic_providers.HelmRelease("h", kubeconfig=KUBECONFIG, release_name="r", namespace="n", chart="c"),
    ),
    "KubernetesManifest": (
        {"applied"},
        lambda: dynamic_providers.KubernetesManifest("m", kubeconfig=KUBECONFIG, objects=[CONFIGMAP]),
    ),
    "LoftClusterConnect": (
        {
            "phase",
            "reason",
            "message",
            "uid",
            "created",
            "connected_via",
            "agent_access_key",
            "loft_host",
            "agent_insecure",
            "agent_ca_cert",
            "platform_version",
        },
        lambda: dynamic_providers.LoftClusterConnect("l", cluster_name="c"),
    ),
    "LoftClusterInitialized": (
        {"phase", "reason", "message"},
        lambda: dynamic_providers.LoftClusterInitialized("i", cluster_name="c"),
    ),
    "RegisteredCluster": (
        {
            "cluster_name",
            "region",
            "arn",
            "status",
            "activation_id",
            "activation_code",
            "activation_expiry",
            "created_at",
        },
        lambda: dynamic_providers.RegisteredCluster("r", connector_provider="OTHER", role_arn=ROLE),
    ),
    "ServiceAccountKubeconfig": (
        {"kubeconfig", "server"},
        lambda: dynamic_providers.ServiceAccountKubeconfig(
            "s", admin_kubeconfig=KUBECONFIG, namespace="n", secret_name="s"
        ),
    ),
}


def declared_outputs(cls: type) -> set[str]:
    """The `pulumi.Output` attributes annotated in the class body, at its top level or under `if TYPE_CHECKING:`."""
    body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0]
    assert isinstance(body, ast.ClassDef)
    statements = list(body.body)
    for statement in body.body:
        if isinstance(statement, ast.If) and ast.unparse(statement.test) == "TYPE_CHECKING":
            statements += statement.body
    return {
        s.target.id
        for s in statements
        if isinstance(s, ast.AnnAssign)
        and isinstance(s.target, ast.Name)
        and ast.unparse(s.annotation).startswith("pulumi.Output[")
    }


class Mocks(pulumi.runtime.Mocks):
    """The engine's answer: every public output of the resource holds a value named after it."""

    def __init__(self, outputs: set[str]) -> None:
        self.outputs = outputs

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        return f"{args.name}-id", {**args.inputs, **{name: f"{name}-value" for name in self.outputs}}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def test_every_resource_class_is_covered() -> None:
    assert set(OUTPUTS) == set(dynamic_providers.__all__)


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_the_pinned_outputs_are_the_ones_the_class_declares(name: str) -> None:
    assert declared_outputs(getattr(dynamic_providers, name)) == OUTPUTS[name][0]


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_every_public_output_is_an_attribute_that_resolves_to_the_stored_value(name: str) -> None:
    outputs, declare = OUTPUTS[name]
    pulumi.runtime.set_mocks(Mocks(outputs), project="outputs", stack="dev", preview=False)
    resource = declare()

    async def values() -> dict[str, Any]:
        return {output: await getattr(resource, output).future() for output in sorted(outputs)}

    assert pulumi.runtime.sync_await._sync_await(values()) == {output: f"{output}-value" for output in outputs}

"""The public contract stored in users' programs and state: exported names, module paths, type tokens, inputs.

Changing any of these breaks existing stacks (docs/COMPATIBILITY.md says how a change would be carried). A new
input may be added (then add it here); an input may never be renamed or removed without an alias.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest

from pulumi_cluster_connect import components, dynamic_providers

DYNAMIC_PROVIDERS_ALL = [
    "ClusterVersion",
    "ConnectionWait",
    "FargateProfile",
    "HelmRelease",
    "KubernetesManifest",
    "LoftClusterConnect",
    "LoftClusterInitialized",
    "RegisteredCluster",
    "ServiceAccountKubeconfig",
]
COMPONENTS_ALL = ["EksConnectedCluster", "EksConnectedClusterArgs", "LoftConnectedCluster", "LoftConnectedClusterArgs"]

# resource class -> (module path of the class and its provider, provider class, type token, inputs)
RESOURCES: dict[str, tuple[str, str, str, set[str]]] = {
    "ClusterVersion": (
        "pulumi_cluster_connect.dynamic_providers.cluster_version",
        "ClusterVersionProvider",
        "pulumi-python:dynamic/eks:ClusterVersion",
        {
            "cluster_name",
            "version",
            "force",
            "region",
            "timeout_seconds",
            "rollback_timeout_minutes",
            "profile",
            "assume_roles",
            "kubeconfig",
            "recycle_fargate_pods",
        },
    ),
    "ConnectionWait": (
        "pulumi_cluster_connect.dynamic_providers.connection_wait",
        "ConnectionWaitProvider",
        "pulumi-python:dynamic/eks:ConnectionWait",
        {"cluster_name", "activation_id", "region", "timeout_seconds", "profile", "assume_roles"},
    ),
    "FargateProfile": (
        "pulumi_cluster_connect.dynamic_providers.fargate_profile",
        "FargateProfileProvider",
        "pulumi-python:dynamic/eks:FargateProfile",
        {
            "cluster_name",
            "pod_execution_role_arn",
            "selectors",
            "fargate_profile_name",
            "subnet_ids",
            "tags",
            "region",
            "timeout_seconds",
            "adopt_existing",
            "profile",
            "assume_roles",
            "kubeconfig",
            "drain_on_delete",
        },
    ),
    "HelmRelease": (
        "pulumi_cluster_connect.dynamic_providers.helm_release",
        "HelmReleaseProvider",
        "pulumi-python:dynamic/helm:Release",
        {
            "kubeconfig",
            "release_name",
            "namespace",
            "chart",
            "repository",
            "version",
            "values",
            "repository_ca_data",
            "wait",
            "create_namespace",
            "adopt_existing",
            "helm_path",
            "timeout_seconds",
        },
    ),
    "KubernetesManifest": (
        "pulumi_cluster_connect.dynamic_providers.kubernetes_manifest",
        "KubernetesManifestProvider",
        "pulumi-python:dynamic/kubernetes:Manifest",
        {"kubeconfig", "objects", "yaml", "field_manager", "timeout_seconds", "adopt_existing"},
    ),
    "LoftClusterConnect": (
        "pulumi_cluster_connect.dynamic_providers.loft_cluster_connect",
        "LoftClusterConnectProvider",
        "pulumi-python:dynamic/loft:ClusterConnect",
        {
            "cluster_name",
            "loft_url",
            "access_key",
            "kubeconfig",
            "admin_user",
            "display_name",
            "description",
            "owner",
            "access",
            "management_namespace",
            "ca_data",
            "insecure",
            "mode",
            "wait_for_initialized",
            "timeout_seconds",
            "adopt_existing",
        },
    ),
    "LoftClusterInitialized": (
        "pulumi_cluster_connect.dynamic_providers.loft_cluster_initialized",
        "LoftClusterInitializedProvider",
        "pulumi-python:dynamic/loft:ClusterInitialized",
        {"cluster_name", "loft_url", "access_key", "ca_data", "insecure", "agent_revision", "timeout_seconds"},
    ),
    "RegisteredCluster": (
        "pulumi_cluster_connect.dynamic_providers.registered_cluster",
        "RegisteredClusterProvider",
        "pulumi-python:dynamic/eks:RegisteredCluster",
        {
            "cluster_name",
            "connector_provider",
            "role_arn",
            "tags",
            "region",
            "adopt_existing",
            "profile",
            "assume_roles",
        },
    ),
    "ServiceAccountKubeconfig": (
        "pulumi_cluster_connect.dynamic_providers.service_account_kubeconfig",
        "ServiceAccountKubeconfigProvider",
        "pulumi-python:dynamic/kubernetes:ServiceAccountKubeconfig",
        {"admin_kubeconfig", "namespace", "secret_name"},
    ),
}

COMPONENTS: dict[str, tuple[str, str, set[str]]] = {
    "EksConnectedCluster": (
        "cluster-connect:index:EksConnectedCluster",
        "EksConnectedClusterArgs",
        {
            "cluster_name",
            "kubeconfig",
            "connector_provider",
            "console_access_arns",
            "role_arn",
            "region",
            "tags",
            "connector_image",
            "agent_image",
            "wait_for_active",
            "timeout_seconds",
            "profile",
            "assume_roles",
        },
    ),
    "LoftConnectedCluster": (
        "cluster-connect:index:LoftConnectedCluster",
        "LoftConnectedClusterArgs",
        {
            "cluster_name",
            "loft_url",
            "access_key",
            "kubeconfig",
            "timeout_seconds",
            "mode",
            "agent_chart_repository",
            "agent_chart_version",
            "agent_chart_repository_ca_data",
            "agent_values",
            "helm_path",
            "adopt_existing",
        },
    ),
}


def test_each_package_exports_exactly_its_public_names() -> None:
    assert dynamic_providers.__all__ == DYNAMIC_PROVIDERS_ALL
    assert components.__all__ == COMPONENTS_ALL
    assert set(DYNAMIC_PROVIDERS_ALL) == set(RESOURCES)


@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_a_resource_keeps_its_module_path_provider_and_type_token(name: str) -> None:
    module_path, provider_name, type_token, _ = RESOURCES[name]
    module = importlib.import_module(module_path)
    resource_class: Any = getattr(dynamic_providers, name)

    assert resource_class is getattr(module, name)
    assert resource_class.__module__ == module_path
    assert getattr(module, provider_name).__module__ == module_path
    assert f"pulumi-python:{resource_class._resource_type_name}" == type_token


@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_a_resource_still_takes_every_input_it_ever_took(name: str) -> None:
    *_, pinned_inputs = RESOURCES[name]
    parameters = inspect.signature(getattr(dynamic_providers, name).__init__).parameters
    taken = {p for p, parameter in parameters.items() if parameter.kind is inspect.Parameter.KEYWORD_ONLY}

    assert pinned_inputs <= taken - {"opts"}, f"renamed or removed: {sorted(pinned_inputs - taken)}"


@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_a_component_keeps_its_type_token_and_arguments(name: str) -> None:
    type_token, args_name, pinned_arguments = COMPONENTS[name]
    module = importlib.import_module(getattr(components, name).__module__)
    args_type = getattr(components, args_name)
    arguments = set(args_type.__required_keys__ | args_type.__optional_keys__)

    assert type_token == module.TYPE_TOKEN
    assert pinned_arguments <= arguments, f"renamed or removed: {sorted(pinned_arguments - arguments)}"

"""Pulumi dynamic resources for what the EKS and Loft APIs offer but the usual providers don't."""

if __name__ != "pulumi_cluster_connect.dynamic_providers":
    # Provider classes are pickled into state by module path: one import name only.
    raise ImportError(f"import this package as pulumi_cluster_connect.dynamic_providers, not as {__name__}")

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cluster_version import ClusterVersion
    from .connection_wait import ConnectionWait
    from .fargate_profile import FargateProfile
    from .helm_release import HelmRelease
    from .kubernetes_manifest import KubernetesManifest
    from .loft_cluster_connect import LoftClusterConnect
    from .loft_cluster_initialized import LoftClusterInitialized
    from .registered_cluster import RegisteredCluster
    from .service_account_kubeconfig import ServiceAccountKubeconfig

# Each resource's module is imported when its name is first used. The provider process of a deployment unpickles
# only the providers its resources use, so it imports only their modules (and their libraries: lightkube for the
# Kubernetes ones): a preview of many resources pays the import once, and less of it.
_MODULES = {
    "ClusterVersion": "cluster_version",
    "ConnectionWait": "connection_wait",
    "FargateProfile": "fargate_profile",
    "HelmRelease": "helm_release",
    "KubernetesManifest": "kubernetes_manifest",
    "LoftClusterConnect": "loft_cluster_connect",
    "LoftClusterInitialized": "loft_cluster_initialized",
    "RegisteredCluster": "registered_cluster",
    "ServiceAccountKubeconfig": "service_account_kubeconfig",
}

__all__ = [
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


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

"""Pulumi dynamic resources for what the EKS and Loft APIs offer but the usual providers don't."""

if __name__ != "pulumi_cluster_connect.dynamic_providers":
    # Provider classes are pickled into state by module path: one import name only.
    raise ImportError(f"import this package as pulumi_cluster_connect.dynamic_providers, not as {__name__}")

from .cluster_version import ClusterVersion
from .connection_wait import ConnectionWait
from .fargate_profile import FargateProfile
from .helm_release import HelmRelease
from .kubernetes_manifest import KubernetesManifest
from .loft_cluster_connect import LoftClusterConnect
from .loft_cluster_initialized import LoftClusterInitialized
from .registered_cluster import RegisteredCluster
from .service_account_kubeconfig import ServiceAccountKubeconfig

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

"""Pulumi dynamic resources for what the EKS and Loft APIs offer but the usual providers don't."""

from .cluster_version import ClusterVersion
from .fargate_profile import FargateProfile
from .kubernetes_manifest import KubernetesManifest
from .loft_cluster_connect import LoftClusterConnect
from .registered_cluster import ConnectionWait, RegisteredCluster

__all__ = [
    "ClusterVersion",
    "ConnectionWait",
    "FargateProfile",
    "KubernetesManifest",
    "LoftClusterConnect",
    "RegisteredCluster",
]

"""ComponentResources that platform teams reuse: connect a cluster to EKS or to Loft in one resource."""

from .loft_connected_cluster import LoftConnectedCluster, LoftConnectedClusterArgs

__all__ = ["LoftConnectedCluster", "LoftConnectedClusterArgs"]

"""ComponentResources that platform teams reuse: connect a cluster to EKS or to Loft in one resource."""

from .eks_connected_cluster import EksConnectedCluster, EksConnectedClusterArgs
from .loft_connected_cluster import LoftConnectedCluster, LoftConnectedClusterArgs

__all__ = ["EksConnectedCluster", "EksConnectedClusterArgs", "LoftConnectedCluster", "LoftConnectedClusterArgs"]

"""ComponentResources that platform teams reuse: connect a cluster to EKS or to Loft in one resource."""

if __name__ != "pulumi_cluster_connect.components":
    # Providers pickled into state record the module path they were imported under: one name only.
    raise ImportError(f"import this package as pulumi_cluster_connect.components, not as {__name__}")

from .eks_connected_cluster import EksConnectedCluster, EksConnectedClusterArgs
from .loft_connected_cluster import LoftConnectedCluster, LoftConnectedClusterArgs

__all__ = ["EksConnectedCluster", "EksConnectedClusterArgs", "LoftConnectedCluster", "LoftConnectedClusterArgs"]

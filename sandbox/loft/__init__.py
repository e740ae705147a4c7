"""The sandbox's Loft management API double (ClusterConnect for v3, Cluster + accesskey for v4)."""

from .control import LoftControl
from .server import LoftSandbox

__all__ = ["LoftControl", "LoftSandbox"]

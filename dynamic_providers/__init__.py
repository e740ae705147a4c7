"""Pulumi dynamic resources for what the EKS and Loft APIs offer but the usual providers don't."""

from .kubernetes_manifest import KubernetesManifest

__all__ = ["KubernetesManifest"]

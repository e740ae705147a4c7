"""The Kubernetes versions the sandbox's EKS offers: the minors EKS has served in standard or extended support."""

from __future__ import annotations

# 1.23 to 1.35: what EKS offered up to this botocore release. A version outside (1.40, 1.22) is one EKS does
# not offer, and it refuses it as "unsupported Kubernetes version".
KUBERNETES_VERSIONS = tuple(f"1.{minor}" for minor in range(23, 36))


def offered(version: str) -> bool:
    return version in KUBERNETES_VERSIONS

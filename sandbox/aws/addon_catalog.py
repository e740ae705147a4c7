"""The EKS add-ons the sandbox offers: their versions and the Kubernetes minors each version is compatible with.

Shaped on what DescribeAddonVersions answers (the version strings, the build suffixes, one default per Kubernetes
minor, kube-proxy builds compatible with their own minor and the three after it, old builds compatible with
nothing newer), not a copy of AWS's catalogue on any given day.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import versions


@dataclass(frozen=True)
class AddonVersion:
    version: str
    compatible: tuple[str, ...]
    """Kubernetes minors this version runs on."""
    default_for: tuple[str, ...] = ()
    """Minors for which EKS installs this version when none is named."""


@dataclass(frozen=True)
class Addon:
    name: str
    type: str
    versions: tuple[AddonVersion, ...]
    """Newest first, as DescribeAddonVersions lists them."""
    requires_iam_permissions: bool = False

    def version(self, version: str) -> AddonVersion | None:
        return next((v for v in self.versions if v.version == version), None)

    def default_for(self, kubernetes_version: str) -> AddonVersion | None:
        return next((v for v in self.versions if kubernetes_version in v.default_for), None)


def _minors(first: str, last: str) -> tuple[str, ...]:
    """The offered minors from `first` to `last`, both included."""
    low, high = (int(v.split(".")[1]) for v in (first, last))
    return tuple(v for v in versions.KUBERNETES_VERSIONS if low <= int(v.split(".")[1]) <= high)


def _ranged(rows: list[tuple[str, str, str, tuple[str, ...]]]) -> tuple[AddonVersion, ...]:
    return tuple(AddonVersion(version, _minors(first, last), default_for) for version, first, last, default_for in rows)


VPC_CNI = Addon(
    "vpc-cni",
    "networking",
    _ranged(
        [
            ("v1.20.1-eksbuild.1", "1.28", "1.35", ("1.34", "1.35")),
            ("v1.19.5-eksbuild.3", "1.27", "1.34", ("1.33",)),
            ("v1.19.2-eksbuild.1", "1.26", "1.33", ("1.32",)),
            ("v1.18.3-eksbuild.2", "1.25", "1.32", ("1.31",)),
            ("v1.18.1-eksbuild.3", "1.25", "1.31", ("1.30",)),
            ("v1.16.0-eksbuild.1", "1.25", "1.30", ("1.29",)),
            ("v1.15.1-eksbuild.1", "1.24", "1.28", ("1.27", "1.28")),
            ("v1.12.6-eksbuild.2", "1.23", "1.27", ("1.23", "1.24", "1.25", "1.26")),
        ]
    ),
    requires_iam_permissions=True,
)

COREDNS = Addon(
    "coredns",
    "networking",
    _ranged(
        [
            ("v1.12.4-eksbuild.1", "1.32", "1.35", ("1.34", "1.35")),
            ("v1.12.1-eksbuild.2", "1.31", "1.34", ("1.33",)),
            ("v1.11.4-eksbuild.14", "1.29", "1.33", ("1.32",)),
            ("v1.11.3-eksbuild.2", "1.29", "1.32", ("1.31",)),
            ("v1.11.1-eksbuild.13", "1.29", "1.31", ("1.29", "1.30")),
            ("v1.10.1-eksbuild.38", "1.26", "1.30", ("1.27", "1.28")),
            ("v1.9.3-eksbuild.22", "1.25", "1.29", ("1.25", "1.26")),
            ("v1.8.7-eksbuild.10", "1.23", "1.25", ("1.23", "1.24")),
        ]
    ),
)

# Each minor's newest patch build, compatible with its own minor and the three after it (kube-proxy may lag
# the control plane by three minors, never lead it); its first build, EKS's default, with its own minor only.
KUBE_PROXY_LATEST_PATCH = {
    "1.23": "17",
    "1.24": "17",
    "1.25": "16",
    "1.26": "15",
    "1.27": "16",
    "1.28": "15",
    "1.29": "15",
    "1.30": "14",
    "1.31": "10",
    "1.32": "6",
    "1.33": "3",
    "1.34": "1",
    "1.35": "0",
}


def _kube_proxy_versions() -> tuple[AddonVersion, ...]:
    found: list[AddonVersion] = []
    for minor in reversed(versions.KUBERNETES_VERSIONS):
        number = int(minor.split(".")[1])
        following = tuple(v for v in versions.KUBERNETES_VERSIONS if number <= int(v.split(".")[1]) <= number + 3)
        patch = KUBE_PROXY_LATEST_PATCH.get(minor, "1")
        if patch != "0":
            found.append(AddonVersion(f"v{minor}.{patch}-eksbuild.2", following))
        found.append(
            AddonVersion(f"v{minor}.0-eksbuild.1", following if patch == "0" else (minor,), default_for=(minor,))
        )
    return tuple(found)


KUBE_PROXY = Addon("kube-proxy", "networking", _kube_proxy_versions())

CATALOG: dict[str, Addon] = {addon.name: addon for addon in (COREDNS, KUBE_PROXY, VPC_CNI)}

"""Helm releases through the Helm CLI: find one, tell whose it is by its labels, install or upgrade, uninstall.

Every release installed here carries two labels: the generic mark (helm_cli.MARK) and the owner mark of the
resource that installed it. This module knows nothing of the create protocol: what to do about a release that is
not ours is the resource's to decide.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from . import helm_cli, ownership

GENERIC_LABEL = "=".join(helm_cli.MARK)


class Whose(enum.Enum):
    OURS = "ours"
    # Installed by a version that marked releases with the generic label alone: ours once, marked anew on install.
    OURS_MARKED_THE_OLD_WAY = "ours, marked the old way"
    ANOTHER_RESOURCES = "another resource's"
    UNMARKED = "unmarked"


def find(helm: helm_cli.Helm, name: str, namespace: str, timeout: float) -> dict[str, Any] | None:
    """The release as `helm status` shows it, or None when there is none."""
    return helm.release(name, namespace, timeout)


def status_of(release: Mapping[str, Any]) -> str:
    return str((release.get("info") or {}).get("status") or "")


def whose(helm: helm_cli.Helm, name: str, namespace: str, owner_mark: str, timeout: float) -> Whose:
    """Whose the existing release is, from its labels."""
    if helm.is_labelled(name, namespace, f"{ownership.OWNER_KEY}={owner_mark}", timeout):
        return Whose.OURS
    if helm.is_labelled(name, namespace, f"{GENERIC_LABEL},!{ownership.OWNER_KEY}", timeout):
        return Whose.OURS_MARKED_THE_OLD_WAY
    if helm.is_labelled(name, namespace, GENERIC_LABEL, timeout):
        return Whose.ANOTHER_RESOURCES
    return Whose.UNMARKED


def install(
    helm: helm_cli.Helm,
    chart: helm_cli.ChartSource,
    name: str,
    namespace: str,
    values: Mapping[str, Any],
    *,
    owner_mark: str,
    wait: bool,
    timeout: float,
) -> dict[str, Any]:
    """Install the release, or upgrade the one of that name, marked with `owner_mark`; the release as Helm answers."""
    labels = {ownership.OWNER_KEY: owner_mark}
    return helm.upgrade_install(chart, name, namespace, values, labels=labels, wait=wait, timeout=timeout)


def uninstall(helm: helm_cli.Helm, name: str, namespace: str, timeout: float) -> bool:
    """Uninstall and wait until its objects are gone; False when there was no such release."""
    return helm.uninstall(name, namespace, timeout)


def any_in(helm: helm_cli.Helm, namespace: str, timeout: float) -> bool:
    """Whether any release (of any state) is left in the namespace."""
    return bool(helm.releases_in(namespace, timeout))

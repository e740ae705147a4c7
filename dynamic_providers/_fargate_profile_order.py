"""FargateProfile, program side: a cluster's profiles are declared in a chain, so the engine runs one profile
operation per cluster at a time (EKS allows no more)."""

from __future__ import annotations

import weakref
from typing import Any

import pulumi

# The profile declared last for each (region, cluster) in this program run (one per engine monitor, so an
# Automation API process running several programs keeps them apart). Each new profile of that cluster depends on it,
# so the engine runs one profile operation per cluster at a time (destroy runs them in reverse) and no provider
# thread waits for another's turn; different clusters proceed side by side. The link is made when the
# cluster name is known (it may come from another resource); with an unknown name in a preview there is nothing
# to order.
_last_declared: weakref.WeakKeyDictionary[object, dict[tuple[str | None, str], pulumi.Resource]] = (
    weakref.WeakKeyDictionary()
)


class _NoMonitor:
    """The key for profiles declared outside a program run (no engine monitor yet)."""


_NO_MONITOR = _NoMonitor()


def after_the_previous_profile(
    profile: pulumi.Resource, cluster_name: pulumi.Input[str], region: pulumi.Input[str] | None
) -> pulumi.Input[list[pulumi.Resource]] | None:
    """What `profile` must wait for: the profile declared before it for the same cluster, if any."""
    last = _last_declared.setdefault(pulumi.runtime.settings.get_monitor() or _NO_MONITOR, {})

    def link(cluster: Any, chosen_region: Any) -> list[pulumi.Resource]:
        key = (chosen_region if isinstance(chosen_region, str) else None, str(cluster))
        previous = last.get(key)
        last[key] = profile
        return [previous] if previous is not None else []

    if isinstance(cluster_name, str) and (region is None or isinstance(region, str)):
        return link(cluster_name, region) or None  # known now: no outputs to wait for
    return pulumi.Output.all(cluster_name, region).apply(lambda values: link(*values))

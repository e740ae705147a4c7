"""EKS request handlers (moto's responses.py): for each operation the sandbox answers, the model functions that
answer it, in the order they are asked.

Several models may answer one operation: each is asked in turn and the first answer wins; when none answers
(every one returns None), moto answers. The order is the rule:
- the refusals for registered (connected) clusters come first: they refuse before another model acts;
- CreateCluster records the options moto drops (upgradePolicy, computeConfig), then moto creates the cluster;
- the add-ons model answers DescribeUpdate and ListUpdates for an add-on before the version updates model;
- the insights model refuses an UpdateClusterVersion that readiness blocks before the updates model starts it;
- DescribeCluster settles the version updates on moto's cluster first, then the registrations model answers for
  registered clusters (moto for the clusters it created).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from . import addons, connected, fargate, insights, registrations, rollbacks, updates, versions
from .call import Call, Handler

HANDLERS: dict[str, tuple[Handler, ...]] = {
    # clusters
    "CreateCluster": (connected.create_cluster, rollbacks.create_cluster),
    "DeleteCluster": (connected.refuse_for_connected, fargate.delete_cluster),
    "DescribeCluster": (updates.describe_cluster, registrations.describe_cluster),
    "ListClusters": (registrations.list_clusters,),
    "RegisterCluster": (registrations.register_cluster,),
    "DeregisterCluster": (registrations.deregister_cluster,),
    "DescribeClusterVersions": (versions.describe_cluster_versions,),
    # version updates and rollbacks
    "UpdateClusterVersion": (
        connected.refuse_for_connected,
        insights.refuse_when_not_ready,
        updates.update_cluster_version,
    ),
    "DescribeUpdate": (addons.describe_update, updates.describe_update),
    "ListUpdates": (addons.list_updates, updates.list_updates),
    "CancelUpdate": (updates.cancel_update,),
    # Fargate profiles and their tags
    "CreateFargateProfile": (connected.refuse_for_connected, fargate.create_fargate_profile),
    "DescribeFargateProfile": (fargate.describe_fargate_profile,),
    "DeleteFargateProfile": (fargate.delete_fargate_profile,),
    "ListFargateProfiles": (fargate.list_fargate_profiles,),
    "TagResource": (fargate.tag_resource,),
    "UntagResource": (fargate.untag_resource,),
    "ListTagsForResource": (fargate.list_tags_for_resource,),
    # add-ons
    "CreateAddon": (addons.create_addon,),
    "DescribeAddon": (addons.describe_addon,),
    "UpdateAddon": (addons.update_addon,),
    "DeleteAddon": (addons.delete_addon,),
    "ListAddons": (addons.list_addons,),
    "DescribeAddonVersions": (addons.describe_addon_versions,),
    # insights
    "ListInsights": (insights.list_insights,),
    "DescribeInsight": (insights.describe_insight,),
    "StartInsightsRefresh": (insights.start_insights_refresh,),
    "DescribeInsightsRefresh": (insights.describe_insights_refresh,),
}


def answer(call: Call) -> dict[str, Any] | None:
    """The JSON body of the first model's answer to the call, None when moto answers (raises the EKS error a
    model refuses it with)."""
    for handler in HANDLERS[call.operation]:
        result = handler(call)
        if result is not None:
            return result
    return None


def answered_by(model: ModuleType) -> set[str]:
    """The operations that one of a model's functions answers (for tests that exercise each of them)."""
    return {
        operation
        for operation, chain in HANDLERS.items()
        if any(handler.__module__ == model.__name__ for handler in chain)
    }

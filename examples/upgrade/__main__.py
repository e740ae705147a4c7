"""Example: take an existing EKS cluster to the configured Kubernetes version in one `pulumi up`."""

import pulumi

from pulumi_cluster_connect.dynamic_providers import ClusterVersion

config = pulumi.Config()

upgrade = ClusterVersion(
    "cluster-version",
    cluster_name=config.require("clusterName"),
    version=config.require("version"),
    force=config.get_bool("force") or None,
    update_addons=config.get_bool("updateAddons") or None,
)

pulumi.export("version", upgrade.version)
pulumi.export("platform_version", upgrade.platform_version)
pulumi.export("updates", upgrade.updates)
pulumi.export("addon_updates", upgrade.addon_updates)
pulumi.export("readiness", upgrade.readiness)

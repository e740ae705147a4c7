"""The platform stack: an external cluster connected to EKS and Loft, Fargate profiles and an upgrade on EKS."""

from __future__ import annotations

import os
from pathlib import Path

import pulumi

from pulumi_cluster_connect.components import EksConnectedCluster, EksConnectedClusterArgs, LoftConnectedCluster
from pulumi_cluster_connect.dynamic_providers import ClusterVersion, FargateProfile

config = pulumi.Config()


def external_kubeconfig() -> pulumi.Output[str]:
    """The external cluster's kubeconfig: the `externalKubeconfig` secret, else the file named by $KUBECONFIG."""
    configured = config.get_secret("externalKubeconfig")
    if configured is not None:
        return configured
    path = os.environ.get("KUBECONFIG")
    if not path:
        raise pulumi.RunError("set the `externalKubeconfig` secret or KUBECONFIG to the cluster to connect")
    return pulumi.Output.secret(Path(path).read_text())


kubeconfig = external_kubeconfig()
external_name = config.get("externalClusterName") or "edge-cluster"

# An external cluster registered with EKS, its connector applied and ACTIVE.
connector_args: EksConnectedClusterArgs = {
    "cluster_name": external_name,
    "kubeconfig": kubeconfig,
    "connector_provider": config.get("connectorProvider") or "OTHER",
    "console_access_arns": config.get_object("consoleAccessArns") or [],
}
if config.get("connectorRoleArn"):
    connector_args["role_arn"] = config.require("connectorRoleArn")
connected = EksConnectedCluster("edge", connector_args)

# An existing EKS cluster raised to the target version one minor step at a time ...
eks_cluster = config.get("eksClusterName") or "platform"
version = ClusterVersion("platform-version", cluster_name=eks_cluster, version=config.get("targetVersion") or "1.32")

# ... then given Fargate profiles (EKS refuses profile changes while a version update runs).
profiles = [
    FargateProfile(
        f"fargate-{namespace}",
        cluster_name=eks_cluster,
        pod_execution_role_arn=config.require("podExecutionRoleArn"),
        selectors=[{"namespace": namespace}],
        subnet_ids=config.get_object("fargateSubnets"),  # None: EKS picks the cluster's private subnets
        tags={"team": "platform"},
        opts=pulumi.ResourceOptions(depends_on=[version]),
    )
    for namespace in config.get_object("fargateNamespaces") or ["apps", "batch"]
]

pulumi.export("eksConnector", {"clusterName": external_name, "status": connected.status, "arn": connected.arn})
pulumi.export(
    "fargateProfiles",
    [{"name": p.fargate_profile_name, "status": p.status} for p in profiles],
)
pulumi.export(
    "clusterVersion",
    {
        "clusterName": eks_cluster,
        "version": version.version,
        "steps": version.updates.apply(lambda updates: [f"{u['from']}->{u['to']}" for u in updates or []]),
    },
)

# The same external cluster connected to Loft, when a Loft URL is configured (or $LOFT_URL is set).
loft_url = config.get("loftUrl") or os.environ.get("LOFT_URL")
if loft_url:
    loft_key = config.get_secret("loftAccessKey") or pulumi.Output.secret(os.environ.get("LOFT_ACCESS_KEY", ""))
    loft = LoftConnectedCluster(
        "edge-loft",
        {"loft_url": loft_url, "access_key": loft_key, "cluster_name": external_name, "kubeconfig": kubeconfig},
    )
    pulumi.export("loft", {"clusterName": loft.cluster_name, "phase": loft.phase})

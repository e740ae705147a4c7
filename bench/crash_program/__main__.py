"""What bench/crash_recovery.py interrupts: an EksConnectedCluster, a ClusterVersion step, three FargateProfiles."""

from __future__ import annotations

import pulumi

from pulumi_cluster_connect.components import EksConnectedCluster
from pulumi_cluster_connect.dynamic_providers import ClusterVersion, FargateProfile

config = pulumi.Config()
eks_cluster = config.require("eksCluster")
pod_role = config.require("podExecutionRoleArn")

connected = EksConnectedCluster(
    "edge",
    {
        "cluster_name": config.require("connectedName"),
        "kubeconfig": config.require_secret("kubeconfig"),
        "connector_provider": "OTHER",
        "role_arn": config.require("connectorRoleArn"),
        "timeout_seconds": 120,
    },
)
version = ClusterVersion("platform-version", cluster_name=eks_cluster, version=config.require("version"))
after_the_step = pulumi.ResourceOptions(depends_on=[version])
profiles = [
    FargateProfile(
        "apps",
        cluster_name=eks_cluster,
        pod_execution_role_arn=pod_role,
        selectors=[{"namespace": "apps"}],
        opts=after_the_step,
    ),
    FargateProfile(
        "jobs",
        cluster_name=eks_cluster,
        fargate_profile_name="jobs",
        pod_execution_role_arn=pod_role,
        selectors=[{"namespace": "jobs"}],
        opts=after_the_step,
    ),
    FargateProfile(
        "batch",
        cluster_name=eks_cluster,
        pod_execution_role_arn=pod_role,
        selectors=[{"namespace": "batch"}],
        opts=after_the_step,
    ),
]

pulumi.export("status", connected.status)
pulumi.export("version", version.version)
pulumi.export("profiles", [p.fargate_profile_name for p in profiles])

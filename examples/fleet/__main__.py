"""A fleet from one config list: connect external clusters with EKS Connector, step EKS clusters to a version and
give them Fargate profiles. Different clusters proceed side by side; on one cluster the version step comes first,
then its profiles one at a time (FargateProfile orders a cluster's profiles itself)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi

from pulumi_cluster_connect.components import EksConnectedCluster, EksConnectedClusterArgs
from pulumi_cluster_connect.dynamic_providers import ClusterVersion, FargateProfile

config = pulumi.Config()
clusters: list[dict[str, Any]] = config.require_object("clusters")
connector_role = config.get("connectorRoleArn") or None
pod_role = config.get("podExecutionRoleArn") or None


def connect(name: str, settings: dict[str, Any]) -> pulumi.Output[str]:
    kubeconfig = Path(settings["kubeconfigPath"]).expanduser().read_text()
    args = EksConnectedClusterArgs(
        cluster_name=name,
        kubeconfig=pulumi.Output.secret(kubeconfig),
        connector_provider=settings.get("provider", "OTHER"),
        tags={"fleet": pulumi.get_stack()},
    )
    if connector_role:
        args["role_arn"] = connector_role
    return EksConnectedCluster(name, args).status


def manage(name: str, settings: dict[str, Any]) -> dict[str, Any]:
    after: list[pulumi.Resource] = []
    result: dict[str, Any] = {}
    if settings.get("version"):
        version = ClusterVersion(f"{name}-version", cluster_name=name, version=settings["version"])
        after.append(version)  # EKS refuses profile operations while the cluster updates
        result["version"] = version.version
    namespaces: list[str] = settings.get("fargateNamespaces") or []
    if namespaces and not pod_role:
        raise ValueError(f"cluster {name}: fargateNamespaces needs the podExecutionRoleArn config")
    profiles = [
        FargateProfile(
            f"{name}-{namespace}",
            cluster_name=name,
            fargate_profile_name=f"{name}-{namespace}",
            pod_execution_role_arn=str(pod_role),
            selectors=[{"namespace": namespace}],
            tags={"fleet": pulumi.get_stack()},
            opts=pulumi.ResourceOptions(depends_on=after),
        )
        for namespace in namespaces
    ]
    result["profiles"] = [p.fargate_profile_name for p in profiles]
    return result


summary: dict[str, Any] = {}
for cluster in clusters:
    name = cluster["name"]
    summary[name] = {"status": connect(name, cluster["connect"])} if "connect" in cluster else manage(name, cluster)

pulumi.export("fleet", summary)

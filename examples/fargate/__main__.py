"""Fargate profiles for a list of namespaces on one EKS cluster, serialised by the provider as EKS requires."""

from __future__ import annotations

import pulumi

from pulumi_cluster_connect.dynamic_providers import FargateProfile

config = pulumi.Config()
# With pulumi-aws the cluster and role come from resources instead, e.g. `cluster.name` and `role.arn`.
cluster_name = config.require("clusterName")
role_arn = config.require("podExecutionRoleArn")
namespaces: list[str] = config.get_object("namespaces") or ["apps", "jobs"]
auto_name = config.get_bool("autoName") or False
stack = pulumi.get_stack()

profiles = [
    FargateProfile(
        f"{stack}-{namespace}",
        cluster_name=cluster_name,
        fargate_profile_name=None if auto_name else f"{stack}-{namespace}",
        pod_execution_role_arn=role_arn,
        selectors=[{"namespace": namespace, "labels": {"compute": "fargate"}}],
        tags={"stack": stack},
    )
    for namespace in namespaces
]

pulumi.export("profiles", {ns: p.fargate_profile_name for ns, p in zip(namespaces, profiles, strict=True)})
pulumi.export("arns", [p.arn for p in profiles])

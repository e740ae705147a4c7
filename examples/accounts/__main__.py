"""Hub and spoke: one identity runs the stack; each resource names whose credentials it uses, through an AWS profile
or a chain of roles to assume, so one stack manages EKS resources in several accounts."""

from __future__ import annotations

from typing import Any

import pulumi

from pulumi_cluster_connect.dynamic_providers import FargateProfile, RegisteredCluster

config = pulumi.Config()
spokes: list[dict[str, Any]] = config.require_object("fargate")
registration: dict[str, Any] = config.require_object("registration")

# pulumi-aws resources of the same accounts take `aws.Provider(profile=...)` or `aws.Provider(assume_roles=[...])`
# through `opts`; ours take the same values as inputs (a dynamic resource cannot read an aws.Provider).
profiles = {
    spoke["profile"]: FargateProfile(
        f"{spoke['profile']}-{spoke['namespace']}",
        profile=spoke["profile"],
        cluster_name=spoke["clusterName"],
        fargate_profile_name=f"{spoke['profile']}-{spoke['namespace']}",
        pod_execution_role_arn=spoke["podExecutionRoleArn"],
        selectors=[{"namespace": spoke["namespace"]}],
    )
    for spoke in spokes
}

registered = RegisteredCluster(
    registration["clusterName"],
    cluster_name=registration["clusterName"],
    connector_provider="OTHER",
    role_arn=registration["connectorRoleArn"],
    assume_roles=registration["assumeRoles"],
)

pulumi.export("profiles", {name: profile.arn for name, profile in profiles.items()})
pulumi.export("registration", registered.arn)

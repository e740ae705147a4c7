"""The network of a cluster as moto's EC2 knows it: which subnets exist, their VPC, which are private."""

from __future__ import annotations

from typing import Any

from .call import Call


def subnet(call: Call, subnet_id: str) -> Any | None:
    """moto's subnet of that id in the caller's account and region, None when there is none."""
    try:
        return call.ec2.get_subnet(subnet_id)
    except Exception:  # moto's InvalidSubnetIdError
        return None


def cluster_subnet_ids(cluster: Any) -> list[str]:
    config = getattr(cluster, "resources_vpc_config", None) or {}
    return [str(s) for s in config.get("subnetIds") or []]


def cluster_vpc(call: Call, cluster: Any) -> str | None:
    """The VPC of a cluster: the VPC of the first of its subnets that exists (EKS keeps them in one VPC)."""
    for subnet_id in cluster_subnet_ids(cluster):
        found = subnet(call, subnet_id)
        if found is not None:
            return str(found.vpc_id)
    return None


def _route_table(call: Call, subnet_id: str, vpc_id: str) -> Any | None:
    """The route table a subnet uses: the one associated with it, else its VPC's main route table."""
    main = None
    for table in list(call.ec2.route_tables.values()):
        if table.vpc_id != vpc_id:
            continue
        associations = table.associations
        if any(a.get("SubnetId") == subnet_id for a in associations):
            return table
        if any(a.get("Main") for a in associations):
            main = table
    return main


def is_private(call: Call, subnet_id: str) -> bool:
    """A private subnet, as EKS means it: its route table has no route to an internet gateway."""
    found = subnet(call, subnet_id)
    if found is None:
        return False
    table = _route_table(call, subnet_id, str(found.vpc_id))
    if table is None:
        return True
    return not any(str(getattr(route.gateway, "id", "")).startswith("igw-") for route in table.routes)


def private_subnets_of(call: Call, cluster: Any) -> list[str]:
    """The cluster's subnets that exist and are private, in the cluster's order."""
    return [s for s in cluster_subnet_ids(cluster) if subnet(call, s) is not None and is_private(call, s)]

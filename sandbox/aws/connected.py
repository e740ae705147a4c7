"""What EKS refuses to do to a registered (connected) cluster: the operations of the clusters it runs."""

from __future__ import annotations

from . import exceptions, registrations
from .call import Call, Handler

NAME_IN_USE_MSG = "Cluster already exists with name: {name}"
# EKS refuses these for a connected cluster; its exact text is not documented. InvalidRequestException is the
# modelled error each of them declares for "invalid given the state of the cluster", and the message names
# the way out, as eksctl does for a registered cluster.
NOT_FOR_CONNECTED_MSG = (
    "Cluster {name} is a registered (connected) cluster: {operation} is not supported for it. "
    "Use DeregisterCluster to remove a registered cluster"
)


def create_cluster(call: Call) -> None:
    name = call.body.get("name")
    if isinstance(name, str) and registrations.is_registered(call, name):
        raise exceptions.ResourceInUseException(NAME_IN_USE_MSG.format(name=name))


def refuse_for_connected(call: Call) -> None:
    name = call.path_params.get("name", "")
    if registrations.is_registered(call, name):
        raise exceptions.InvalidRequestException(NOT_FOR_CONNECTED_MSG.format(name=name, operation=call.operation))


HANDLERS: dict[str, Handler] = {
    "CreateCluster": create_cluster,
    "DeleteCluster": refuse_for_connected,
    "UpdateClusterVersion": refuse_for_connected,
    "CreateFargateProfile": refuse_for_connected,
}


def reset() -> None:
    """Nothing of its own to forget: it reads the registrations."""

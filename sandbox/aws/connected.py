"""What EKS refuses to do to a registered (connected) cluster: the operations of the clusters it runs."""

from __future__ import annotations

from . import exceptions, messages, registrations
from .call import Call


def create_cluster(call: Call) -> None:
    name = call.body.get("name")
    if isinstance(name, str) and registrations.is_registered(call, name):
        raise exceptions.ResourceInUseException(messages.CLUSTER_NAME_IN_USE.format(name=name))


def refuse_for_connected(call: Call) -> None:
    name = call.path_params.get("name", "")
    if registrations.is_registered(call, name):
        raise exceptions.InvalidRequestException(messages.NOT_FOR_CONNECTED.format(name=name, operation=call.operation))

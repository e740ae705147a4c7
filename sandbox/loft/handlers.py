"""Loft request handlers: read the path and body, call the backend, return the status code and JSON body."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from . import exceptions
from .models import LoftBackend


@dataclass
class Call:
    """One request as a handler sees it."""

    backend: LoftBackend
    path_params: dict[str, str] = field(default_factory=dict)
    raw_body: bytes = b""
    content_type: str = ""

    def body(self) -> dict[str, Any]:
        """The request object, sent as JSON or YAML like kubectl and curl both do."""
        text = self.raw_body.decode("utf-8", errors="replace")
        try:
            data = json.loads(text) if "json" in self.content_type else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as err:
            raise exceptions.BadRequestError(f"the body of the request could not be decoded: {err}") from err
        if not isinstance(data, dict):
            raise exceptions.BadRequestError("the body of the request must be an object")
        return data


Handler = Callable[[Call], tuple[int, dict[str, Any]]]


def get_version(call: Call) -> tuple[int, dict[str, Any]]:
    return 200, call.backend.get_version()


def create_cluster_connect(call: Call) -> tuple[int, dict[str, Any]]:
    return 201, call.backend.create_cluster_connect(call.body())


def create_cluster(call: Call) -> tuple[int, dict[str, Any]]:
    return 201, call.backend.create_cluster(call.body())


def list_clusters(call: Call) -> tuple[int, dict[str, Any]]:
    return 200, call.backend.list_clusters()


def get_cluster(call: Call) -> tuple[int, dict[str, Any]]:
    return 200, call.backend.get_cluster(call.path_params["name"])


def delete_cluster(call: Call) -> tuple[int, dict[str, Any]]:
    return 200, call.backend.delete_cluster(call.path_params["name"])


def get_cluster_access_key(call: Call) -> tuple[int, dict[str, Any]]:
    return 200, call.backend.get_cluster_access_key(call.path_params["name"])


HANDLERS: dict[str, Handler] = {
    "get_version": get_version,
    "create_cluster_connect": create_cluster_connect,
    "create_cluster": create_cluster,
    "list_clusters": list_clusters,
    "get_cluster": get_cluster,
    "delete_cluster": delete_cluster,
    "get_cluster_access_key": get_cluster_access_key,
}

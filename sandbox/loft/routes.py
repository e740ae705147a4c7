"""Loft request routing: the method and path of each operation, mapped to its handler's name."""

from __future__ import annotations

import re
from dataclasses import dataclass

API = "/kubernetes/management/apis/management.loft.sh/v1"
NAME = r"(?P<name>[^/]+)"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: str
    authenticated: bool = True


def _route(method: str, path: str, handler: str, authenticated: bool = True) -> Route:
    return Route(method, re.compile(f"^{path}/?$"), handler, authenticated)


ROUTES = (
    _route("GET", "/version", "get_version", authenticated=False),
    _route("POST", f"{API}/clusterconnect", "create_cluster_connect"),
    _route("POST", f"{API}/clusters", "create_cluster"),
    _route("GET", f"{API}/clusters", "list_clusters"),
    _route("GET", f"{API}/clusters/{NAME}", "get_cluster"),
    _route("DELETE", f"{API}/clusters/{NAME}", "delete_cluster"),
    _route("GET", f"{API}/clusters/{NAME}/accesskey", "get_cluster_access_key"),
)


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for a request and its path parameters; None when no operation has that path and method."""
    for route in ROUTES:
        if route.method == method:
            found = route.pattern.match(path)
            if found:
                return route, found.groupdict()
    return None

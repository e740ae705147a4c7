"""EKS request routing by the service model: method and URI template of each operation, from botocore."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import botocore.session


@dataclass(frozen=True)
class Route:
    operation: str
    method: str
    pattern: re.Pattern[str]


def _compile(uri: str) -> re.Pattern[str]:
    path = uri.split("?", 1)[0]
    # ARNs hold slashes and arrive URL-decoded: a trailing {resourceArn} takes the rest of the path.
    regex = re.sub(r"\{resourceArn\}$", r"(?P<resourceArn>.+)", path)
    regex = re.sub(r"\{(\w+)\+?\}", r"(?P<\1>[^/]+)", regex)
    return re.compile(f"^{regex}/?$")


@cache
def eks_routes() -> tuple[Route, ...]:
    model = botocore.session.get_session().get_service_model("eks")
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        routes.append(Route(name, http["method"], _compile(http["requestUri"])))
    # Literal paths win over templated ones (e.g. /clusters/x/updates vs /clusters/x/{...}).
    routes.sort(key=lambda r: r.pattern.pattern.count("(?P"))
    return tuple(routes)


def match(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    for route in eks_routes():
        if route.method == method:
            found = route.pattern.match(path)
            if found:
                return route.operation, found.groupdict()
    return None

"""Kubernetes clients for the providers, built per call from a kubeconfig given as text."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx2
import lightkube
import lightkube.config.kubeconfig
import yaml
from lightkube.core.exceptions import ApiError

from . import errors

FIELD_MANAGER = "pulumi-cluster-connect"


def parse_kubeconfig(text: str) -> dict[str, Any]:
    """Parse a kubeconfig (YAML or JSON) and check it names a usable current context."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError("is not a kubeconfig document (expected a YAML or JSON mapping)")
    contexts = {c.get("name"): c for c in data.get("contexts") or [] if isinstance(c, dict)}
    current = data.get("current-context")
    if not current:
        raise ValueError("has no current-context")
    if current not in contexts:
        raise ValueError(f"current-context {current!r} is not among its contexts")
    return data


def client(kubeconfig: str, field_manager: str = FIELD_MANAGER, timeout: float = 30) -> lightkube.Client:
    config = lightkube.KubeConfig.from_dict(parse_kubeconfig(kubeconfig))
    return lightkube.Client(config, field_manager=field_manager, timeout=httpx2.Timeout(timeout))


@contextlib.contextmanager
def translated_errors(action: str) -> Iterator[None]:
    """Turn lightkube's and httpx's exceptions into KubernetesApiError with the API server's Status."""
    try:
        yield
    except ApiError as err:
        reason, message = errors.status_reason_and_message(err.status.to_dict(), f"HTTP {err.status.code}")
        raise errors.KubernetesApiError(action, reason, message, err.status.code) from err
    except httpx2.HTTPError as err:
        raise errors.KubernetesApiError(action, "Unreachable", f"{type(err).__name__}: {err}") from err


def is_not_found(err: BaseException) -> bool:
    return isinstance(err, errors.KubernetesApiError) and err.status == 404


def server_of(kubeconfig: str) -> str:
    """The API server URL of the kubeconfig's current context (for messages; never the credentials)."""
    data = parse_kubeconfig(kubeconfig)
    context = next(c for c in data["contexts"] if c.get("name") == data["current-context"])["context"]
    cluster = next(c for c in data.get("clusters") or [] if c.get("name") == context.get("cluster"))
    return str(cluster["cluster"]["server"])

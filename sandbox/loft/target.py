"""The connected cluster as the Loft server touches it: reached with the posted kubeconfig, given a secret."""

from __future__ import annotations

import secrets
from typing import Any

import httpx2
import lightkube
import yaml
from lightkube.core.exceptions import ApiError, ConfigError
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace, Secret

from .. import kube_clients
from . import exceptions

kube_clients.ready(Namespace, Secret)  # requests are served from threads: see kube_clients.ready

SECRET_NAME = "loft-cluster-config-{name}"
CLUSTER_LABEL = "loft.sh/cluster"
FIELD_MANAGER = "loft-sandbox"
TRANSPORT_ERRORS = (httpx2.HTTPError, ConfigError, OSError, ValueError)


def _client(kubeconfig: str) -> lightkube.Client:
    config = lightkube.KubeConfig.from_dict(yaml.safe_load(kubeconfig))
    return lightkube.Client(config, field_manager=FIELD_MANAGER, timeout=httpx2.Timeout(10.0))


def connect(kubeconfig: str, cluster: str, namespace: str, loft_host: str) -> str:
    """Create the management namespace (when missing) and the cluster's secret; returns the secret's name.

    Fails with the connection or API error the target cluster gave, as the real server does.
    """
    name = SECRET_NAME.format(name=cluster)
    try:
        client = _client(kubeconfig)
        try:
            client.get(Namespace, namespace)
        except ApiError as err:
            if err.status.code != 404:
                raise
            client.create(Namespace(metadata=ObjectMeta(name=namespace)))
        secret = Secret(
            metadata=ObjectMeta(name=name, namespace=namespace, labels={CLUSTER_LABEL: cluster}),
            stringData={"cluster": cluster, "loftHost": loft_host, "token": secrets.token_hex(16)},
        )
        client.create(secret)
    except ApiError as err:
        raise exceptions.BadRequestError(
            exceptions.CONNECT_FAILED.format(error=f"{err.status.reason}: {err.status.message}")
        ) from err
    except TRANSPORT_ERRORS as err:
        error = f"{server_of(kubeconfig)}: {_describe(err)}"
        raise exceptions.BadRequestError(exceptions.CONNECT_FAILED.format(error=error)) from err
    return name


def disconnect(kubeconfig: str, namespace: str, secret_name: str) -> str | None:
    """Remove the secret `connect` made; returns the error as text when the cluster cannot be reached."""
    try:
        _client(kubeconfig).delete(Secret, secret_name, namespace=namespace)
    except ApiError as err:
        if err.status.code != 404:
            return f"{err.status.reason}: {err.status.message}"
    except TRANSPORT_ERRORS as err:
        return _describe(err)
    return None


def _describe(err: BaseException) -> str:
    text = str(err) or type(err).__name__
    cause = err.__cause__ or err.__context__
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text}: {cause}"
    return text


def kubeconfig_problem(text: str) -> str | None:
    """Why the posted kubeconfig cannot be used, or None."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError:
        return "is not valid YAML"
    if not isinstance(data, dict):
        return "is not a kubeconfig"
    current = data.get("current-context")
    contexts = [c.get("name") for c in data.get("contexts") or [] if isinstance(c, dict)]
    if not current or current not in contexts:
        return "has no usable current-context"
    return None


def server_of(kubeconfig: str) -> str:
    """The server of the kubeconfig's current context, for messages."""
    try:
        data = yaml.safe_load(kubeconfig)
        context = next(c for c in data["contexts"] if c["name"] == data["current-context"])["context"]
        return str(next(c for c in data["clusters"] if c["name"] == context["cluster"])["cluster"]["server"])
    except (KeyError, TypeError, StopIteration, yaml.YAMLError):
        return "the cluster"

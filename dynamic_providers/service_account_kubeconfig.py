"""ServiceAccountKubeconfig: waits until a service-account-token Secret is filled and makes a kubeconfig of it."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import pulumi
import yaml
from lightkube.resources.core_v1 import Secret
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from pulumi_cluster_connect._plumbing import errors, inputs, kube, polling

TOKEN_TIMEOUT = 120.0


def service_account_kubeconfig(admin_kubeconfig: str, secret: Mapping[str, Any]) -> str | None:
    """A kubeconfig for the token of a service-account-token Secret, on the admin kubeconfig's cluster."""
    data = secret.get("data") or {}
    if not data.get("token"):
        return None
    token = base64.b64decode(data["token"]).decode()
    account = ((secret.get("metadata") or {}).get("annotations") or {}).get("kubernetes.io/service-account.name")
    namespace = (secret.get("metadata") or {}).get("namespace") or "default"
    admin = kube.parse_kubeconfig(admin_kubeconfig)
    context = next(c for c in admin["contexts"] if c.get("name") == admin["current-context"])["context"]
    cluster = next(c for c in admin.get("clusters") or [] if c.get("name") == context.get("cluster"))
    # The admin's own cluster entry: the same server, trusted the same way (CA data or insecure flag).
    user = f"{namespace}-{account or 'service-account'}"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster["name"], "cluster": dict(cluster["cluster"])}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": user, "context": {"cluster": cluster["name"], "user": user, "namespace": namespace}}],
        "current-context": user,
    }
    return yaml.safe_dump(config, sort_keys=False)


def _read_token_secret(admin_kubeconfig: str, namespace: str, name: str) -> dict[str, Any] | None:
    try:
        with kube.translated_errors(f"get Secret {namespace}/{name} from {kube.server_of(admin_kubeconfig)}"):
            secret = kube.client(admin_kubeconfig).get(Secret, name, namespace=namespace)
    except errors.KubernetesApiError as err:
        if kube.is_not_found(err):
            return None
        raise
    return dict(secret.to_dict())


class ServiceAccountKubeconfigProvider(ResourceProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        for key in ("admin_kubeconfig", "namespace", "secret_name"):
            if key not in news:
                failures.append(CheckFailure(key, "is required"))
        if inputs.known(news, "admin_kubeconfig"):
            try:
                kube.parse_kubeconfig(str(news["admin_kubeconfig"]))
            except (ValueError, yaml.YAMLError) as err:
                failures.append(
                    CheckFailure("admin_kubeconfig", str(err) if isinstance(err, ValueError) else "is not valid YAML")
                )
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in ("admin_kubeconfig", "namespace", "secret_name") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=[])

    def _build(self, props: Mapping[str, Any], wait: bool) -> dict[str, Any] | None:
        admin, namespace, name = (
            str(props["admin_kubeconfig"]),
            str(props["namespace"]),
            str(props["secret_name"]),
        )

        def describe() -> dict[str, Any]:
            return _read_token_secret(admin, namespace, name) or {}

        if wait:
            secret = polling.wait_for(
                f"token of Secret {namespace}/{name}",
                describe,
                state_of=lambda s: "filled" if (s.get("data") or {}).get("token") else "waiting for the token",
                done=lambda s: bool((s.get("data") or {}).get("token")),
                timeout=TOKEN_TIMEOUT,
            )
        else:
            secret = describe()
        config = service_account_kubeconfig(admin, secret)
        if config is None:
            return None
        return {**props, "kubeconfig": config, "server": kube.server_of(admin)}

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = self._build(props, wait=True)
        assert outs is not None
        return CreateResult(f"{props['namespace']}/{props['secret_name']}", outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        outs = self._build(props, wait=False)
        return ReadResult(id_, outs) if outs else ReadResult("", {})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._build(news, wait=True))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """The Secret belongs to whoever applied it; there is nothing of ours to remove."""


class ServiceAccountKubeconfig(pulumi.dynamic.Resource, module="kubernetes", name="ServiceAccountKubeconfig"):
    """Waits until a service-account-token Secret is filled; outputs a kubeconfig for its token (secret)."""

    kubeconfig: pulumi.Output[str]
    server: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        admin_kubeconfig: pulumi.Input[str],
        namespace: pulumi.Input[str],
        secret_name: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "admin_kubeconfig": pulumi.Output.secret(admin_kubeconfig),
            "namespace": namespace,
            "secret_name": secret_name,
            "kubeconfig": None,
            "server": None,
        }
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["kubeconfig"]))
        super().__init__(ServiceAccountKubeconfigProvider(), resource_name, props, opts)

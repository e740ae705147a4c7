"""ServiceAccountKubeconfig: waits until a service-account-token Secret is filled and makes a kubeconfig of it."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi
import yaml
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)

from pulumi_cluster_connect._plumbing import errors, inputs, kube, polling, reporting

TOKEN_TIMEOUT = 120.0
DNS_LABEL_RULE = "a DNS-1123 label (at most 63 lower case letters, digits and '-')"
DNS_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def service_account_kubeconfig(admin_kubeconfig: kube.Kubeconfig, secret: Mapping[str, Any]) -> str | None:
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


def _read_token_secret(admin_kubeconfig: kube.Kubeconfig, namespace: str, name: str) -> dict[str, Any] | None:
    kube.load_lightkube()  # here, not at import: a preview (check and diff) never needs lightkube
    from lightkube.resources.core_v1 import Secret

    secret = kube.Api(admin_kubeconfig).get(Secret, name, namespace, f"Secret {namespace}/{name}")
    return None if secret is None else dict(secret.to_dict())


class ServiceAccountKubeconfigProvider(reporting.ReportingProvider):
    secret_keys = ("admin_kubeconfig", "kubeconfig")

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        kube.check_kubeconfig(news, "admin_kubeconfig", failures)
        inputs.check_string(news, "namespace", failures, required="", pattern=inputs.DNS_LABEL, rule=DNS_LABEL_RULE)
        inputs.check_string(
            news, "secret_name", failures, required="", pattern=DNS_SUBDOMAIN, rule="a Kubernetes object name"
        )
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [
            k
            for k in ("admin_kubeconfig", "namespace", "secret_name")
            if inputs.contains_unknown(news.get(k)) or olds.get(k) != news.get(k)
        ]
        return DiffResult(changes=bool(changed), replaces=[])

    def _build(self, props: Mapping[str, Any], wait: bool) -> dict[str, Any] | None:
        admin, namespace, name = (
            props["admin_kubeconfig"],
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
        if outs is None:  # the wait ends only on a Secret with a token: it is gone again
            raise errors.ClusterConnectError(
                f"Secret {props['namespace']}/{props['secret_name']} was deleted right after its token was filled"
            )
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

    # For type checkers only: the SDK evaluates a Resource class's annotations again for every resource it
    # registers, and these outputs need no conversion (see FargateProfile).
    if TYPE_CHECKING:
        kubeconfig: pulumi.Output[str]
        server: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        admin_kubeconfig: pulumi.Input[str | Mapping[str, Any]],
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

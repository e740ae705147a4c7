"""LoftConnectedCluster: what `loftctl connect cluster` does by hand, as code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, Required, TypedDict

import pulumi

from pulumi_cluster_connect._plumbing import inputs
from pulumi_cluster_connect.dynamic_providers import (
    kubernetes_manifest,
    loft_cluster_connect,
    service_account_kubeconfig,
)

TYPE_TOKEN = "cluster-connect:index:LoftConnectedCluster"
DEFAULT_NAMESPACE = "loft"
DEFAULT_SERVICE_ACCOUNT = "loft-admin"
DNS_LABEL = inputs.DNS_LABEL


class LoftConnectedClusterArgs(TypedDict, total=False):
    """Arguments of LoftConnectedCluster.

    loft_url: the Loft URL (https://loft.example.com).
    access_key: a Loft access key allowed to manage clusters (kept secret).
    cluster_name: the Cluster's name in Loft (a DNS-1123 label).
    kubeconfig: an admin kubeconfig of the cluster to connect (kept secret); used to create the objects
        below, never sent to Loft.
    admin_user, display_name, description, owner ({"user": ...} or {"team": ...}), access (rules of
        name/verbs/subresources/users/teams), management_namespace: as the Cluster's spec takes them.
    namespace, service_account: where the ServiceAccount Loft connects with lives
        (default "loft" / "loft-admin"); it is bound to cluster-admin.
    ca_data / insecure: how to trust the Loft server's certificate.
    wait_for_initialized, timeout_seconds: wait for the phase Initialized (default on, 300 s).
    """

    loft_url: Required[pulumi.Input[str]]
    access_key: Required[pulumi.Input[str]]
    cluster_name: Required[pulumi.Input[str]]
    kubeconfig: Required[pulumi.Input[str]]
    admin_user: NotRequired[pulumi.Input[str]]
    display_name: NotRequired[pulumi.Input[str]]
    description: NotRequired[pulumi.Input[str]]
    owner: NotRequired[pulumi.Input[Mapping[str, pulumi.Input[str]]]]
    access: NotRequired[pulumi.Input[Sequence[pulumi.Input[Mapping[str, Any]]]]]
    management_namespace: NotRequired[pulumi.Input[str]]
    namespace: NotRequired[str]
    service_account: NotRequired[str]
    ca_data: NotRequired[pulumi.Input[str]]
    insecure: NotRequired[pulumi.Input[bool]]
    wait_for_initialized: NotRequired[pulumi.Input[bool]]
    timeout_seconds: NotRequired[pulumi.Input[float]]


def service_account_objects(namespace: str, account: str) -> list[dict[str, Any]]:
    """The namespace, a ServiceAccount bound to cluster-admin and its token Secret (filled by Kubernetes)."""
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account, "namespace": namespace}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"{account}-{namespace}"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "cluster-admin",
            },
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/service-account-token",
            "metadata": {
                "name": token_secret_name(account),
                "namespace": namespace,
                "annotations": {"kubernetes.io/service-account.name": account},
            },
        },
    ]


def token_secret_name(account: str) -> str:
    return f"{account}-token"


def _validate(name: str, args: LoftConnectedClusterArgs) -> None:
    missing = [k for k in ("loft_url", "access_key", "cluster_name", "kubeconfig") if args.get(k) is None]
    if missing:
        raise pulumi.RunError(f"LoftConnectedCluster {name!r}: missing {', '.join(missing)}")
    for key in ("namespace", "service_account"):
        value = args.get(key)
        if value is not None and not (isinstance(value, str) and DNS_LABEL.match(value)):
            raise pulumi.RunError(f"LoftConnectedCluster {name!r}: {key} must be a DNS-1123 label")
    cluster_name = args.get("cluster_name")
    if isinstance(cluster_name, str) and not DNS_LABEL.match(cluster_name):
        raise pulumi.RunError(f"LoftConnectedCluster {name!r}: cluster_name must be a DNS-1123 label")
    owner = args.get("owner")
    if isinstance(owner, Mapping) and len([k for k in ("user", "team") if owner.get(k)]) != 1:
        raise pulumi.RunError(f"LoftConnectedCluster {name!r}: owner takes exactly one of user or team")
    if args.get("insecure") is True and args.get("ca_data"):
        raise pulumi.RunError(f"LoftConnectedCluster {name!r}: give either ca_data or insecure, not both")


class LoftConnectedCluster(pulumi.ComponentResource):
    """A Kubernetes cluster connected to Loft with a cluster-admin ServiceAccount of its own.

    Children: `{name}-objects` (namespace, ServiceAccount, ClusterRoleBinding, token Secret),
    `{name}-kubeconfig` (a kubeconfig for that token, secret) and `{name}-connect` (the ClusterConnect).
    On destroy the cluster is disconnected first, then the objects are removed.
    """

    phase: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    reason: pulumi.Output[str]
    message: pulumi.Output[str]

    def __init__(self, name: str, args: LoftConnectedClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        _validate(name, args)
        namespace = args.get("namespace") or DEFAULT_NAMESPACE
        account = args.get("service_account") or DEFAULT_SERVICE_ACCOUNT
        admin_kubeconfig = pulumi.Output.secret(args["kubeconfig"])

        objects = kubernetes_manifest.KubernetesManifest(
            f"{name}-objects",
            kubeconfig=admin_kubeconfig,
            objects=service_account_objects(namespace, account),
            opts=pulumi.ResourceOptions(parent=self),
        )
        service_account = service_account_kubeconfig.ServiceAccountKubeconfig(
            f"{name}-kubeconfig",
            admin_kubeconfig=admin_kubeconfig,
            namespace=namespace,
            secret_name=token_secret_name(account),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[objects]),
        )
        connection = loft_cluster_connect.LoftClusterConnect(
            f"{name}-connect",
            loft_url=args["loft_url"],
            access_key=args["access_key"],
            cluster_name=args["cluster_name"],
            kubeconfig=service_account.kubeconfig,
            admin_user=args.get("admin_user"),
            display_name=args.get("display_name"),
            description=args.get("description"),
            owner=args.get("owner"),
            access=args.get("access"),
            management_namespace=args.get("management_namespace", namespace),
            ca_data=args.get("ca_data"),
            insecure=args.get("insecure"),
            # The component installs no agent, so only ClusterConnect can connect it.
            mode="cluster-connect",
            wait_for_initialized=args.get("wait_for_initialized"),
            timeout_seconds=args.get("timeout_seconds"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[objects]),
        )
        self.phase = connection.phase
        self.cluster_name = pulumi.Output.from_input(args["cluster_name"])
        self.reason = connection.reason
        self.message = connection.message
        self.register_outputs(
            {
                "phase": self.phase,
                "cluster_name": self.cluster_name,
                "reason": self.reason,
                "message": self.message,
            }
        )

"""LoftConnectedCluster: what `loftctl connect cluster` (Loft v3) and `vcluster platform add cluster` (vCluster
Platform v4) do by hand, as code."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, Required, TypedDict

import pulumi
from pulumi.output import UNKNOWN

from pulumi_cluster_connect._plumbing import arguments, errors, inputs, kube, loft_api
from pulumi_cluster_connect.dynamic_providers import (
    helm_release,
    kubernetes_manifest,
    loft_cluster_connect,
    loft_cluster_initialized,
    service_account_kubeconfig,
)

TYPE_TOKEN = "cluster-connect:index:LoftConnectedCluster"
DEFAULT_NAMESPACE = "loft"
# Where `vcluster platform add cluster` puts the agent since vcluster v0.21 (clihelper.DefaultPlatformNamespace).
DEFAULT_AGENT_NAMESPACE = "vcluster-platform"
DEFAULT_SERVICE_ACCOUNT = "loft-admin"
DNS_LABEL = inputs.DNS_LABEL
MODES = loft_cluster_connect.MODES
# Where `vcluster platform add cluster` takes the agent from: the chart `loft`, released as `loft`.
DEFAULT_CHART_REPOSITORY = "https://charts.loft.sh"
AGENT_CHART = "loft"
AGENT_RELEASE = "loft"
# The values the component sets itself: the agent's connection, from the platform's accesskey answer.
AGENT_VALUE_KEYS = ("agentOnly", "url", "token", "insecureSkipVerify", "additionalCA")


class LoftConnectedClusterArgs(TypedDict, total=False):
    """Arguments of LoftConnectedCluster.

    loft_url: the Loft URL (https://loft.example.com).
    access_key: a Loft access key allowed to manage clusters (kept secret).
    cluster_name: the Cluster's name in Loft (a DNS-1123 label).
    kubeconfig: an admin kubeconfig of the cluster to connect, as YAML text or a map (kept secret); used to
        create the objects below, never sent to Loft.
    admin_user, display_name, description, owner ({"user": ...} or {"team": ...}), access (rules of
        name/verbs/subresources/users/teams), management_namespace: as the Cluster's spec takes them.
    mode: "cluster-connect" (Loft v3: ClusterConnect with a ServiceAccount's kubeconfig), "agent" (vCluster
        Platform v4: a Cluster, its access key, the agent installed with Helm) or "auto" (the default: the
        platform's GET /version decides while the program runs, which needs loft_url, ca_data and insecure
        as plain values; pin the mode once connected, so that a platform upgrade does not change the graph).
    namespace: where the ServiceAccount (cluster-connect, default "loft") or the agent (agent, default
        "vcluster-platform", as `vcluster platform add cluster` since vcluster v0.21) lives. An agent that an earlier
        version installed in "loft" stays there: the default never moves (replaces) an existing agent.
    service_account: cluster-connect only: the ServiceAccount Loft connects with (default "loft-admin"),
        bound to cluster-admin.
    agent_chart_repository, agent_chart_version: agent only: where the agent chart `loft` comes from
        (default https://charts.loft.sh, at the platform's own version); set both for a mirror.
    agent_chart_repository_ca_data: agent only: the CA of a mirror's certificate.
    agent_values: agent only: more values for the agent chart (not agentOnly/url/token/insecureSkipVerify/
        additionalCA, which the component sets).
    helm_path: agent only: the helm binary (default: `helm` on PATH).
    ca_data / insecure: how to trust the Loft server's certificate (the agent is told too).
    wait_for_initialized, timeout_seconds: wait for the phase Initialized (default on, 300 s).
    adopt_existing: take over what exists already instead of failing: the Loft Cluster of that name (a
        Cluster this component connected in an interrupted run is adopted anyway), and the objects or the
        agent's Helm release someone else made in the cluster.
    """

    loft_url: Required[pulumi.Input[str]]
    access_key: Required[pulumi.Input[str]]
    cluster_name: Required[pulumi.Input[str]]
    kubeconfig: Required[pulumi.Input[str | Mapping[str, Any]]]
    admin_user: NotRequired[pulumi.Input[str]]
    display_name: NotRequired[pulumi.Input[str]]
    description: NotRequired[pulumi.Input[str]]
    owner: NotRequired[pulumi.Input[Mapping[str, pulumi.Input[str]]]]
    access: NotRequired[pulumi.Input[Sequence[pulumi.Input[Mapping[str, Any]]]]]
    management_namespace: NotRequired[pulumi.Input[str]]
    mode: NotRequired[str]
    namespace: NotRequired[str]
    service_account: NotRequired[str]
    agent_chart_repository: NotRequired[pulumi.Input[str]]
    agent_chart_version: NotRequired[pulumi.Input[str]]
    agent_chart_repository_ca_data: NotRequired[pulumi.Input[str]]
    agent_values: NotRequired[Mapping[str, Any]]
    helm_path: NotRequired[pulumi.Input[str]]
    ca_data: NotRequired[pulumi.Input[str]]
    insecure: NotRequired[pulumi.Input[bool]]
    wait_for_initialized: NotRequired[pulumi.Input[bool]]
    timeout_seconds: NotRequired[pulumi.Input[float]]
    adopt_existing: NotRequired[pulumi.Input[bool]]


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
    """Reject bad arguments before any resource is made: every problem at once, as pulumi.InputPropertiesError.
    Values still unknown (Outputs) are checked by the providers, before any API call."""
    given: Mapping[str, Any] = args
    checked = arguments.Arguments("LoftConnectedCluster", name, given, list(LoftConnectedClusterArgs.__annotations__))
    for key in ("loft_url", "access_key", "cluster_name"):
        if key not in checked.values:
            checked.fail(key, "is required")
    # The ClusterConnect gets the ServiceAccount's kubeconfig; the one given here makes the objects.
    connect = {**checked.values, "mode": "cluster-connect", "kubeconfig": UNKNOWN}
    checked.failures += loft_cluster_connect.check({}, connect, {}).failures
    kube.check_kubeconfig(checked.values, "kubeconfig", checked.failures)
    for key in ("namespace", "service_account"):
        inputs.check_string(checked.values, key, checked.failures, pattern=DNS_LABEL, rule="a DNS-1123 label")
    mode = checked.values.get("mode")
    if mode is not None and not (isinstance(mode, str) and mode in MODES):
        checked.fail("mode", f"must be one of {list(MODES)}{inputs.got(mode)}")
    for key in ("agent_chart_repository", "agent_chart_version", "agent_chart_repository_ca_data", "helm_path"):
        inputs.check_string(checked.values, key, checked.failures)
    values = checked.values.get("agent_values")
    if values is not None and not isinstance(values, Mapping):
        checked.fail("agent_values", f"must be a map of chart values, got {inputs.type_name(values)}")
    taken = sorted(set(values) & set(AGENT_VALUE_KEYS)) if isinstance(values, Mapping) else []
    if taken:
        checked.fail("agent_values", f"must not set {taken}: the component sets them from the platform's answer")
    checked.raise_if_any()


def detect_mode(name: str, args: LoftConnectedClusterArgs) -> str:
    """The mode to connect with: the one given, else what the platform's unauthenticated /version says."""
    mode = args.get("mode") or "auto"
    if mode != "auto":
        return mode
    url, ca_data, insecure = args.get("loft_url"), args.get("ca_data"), args.get("insecure")
    if not (
        isinstance(url, str) and isinstance(ca_data, (str, type(None))) and isinstance(insecure, (bool, type(None)))
    ):
        raise pulumi.RunError(
            f"LoftConnectedCluster {name!r}: mode 'auto' asks the platform's /version while the program runs, so "
            "loft_url, ca_data and insecure must be plain values here: set mode='agent' (vCluster Platform v4) "
            "or mode='cluster-connect' (Loft v3)"
        )
    api = loft_api.LoftApi(url.rstrip("/"), access_key="", ca_data=ca_data or None, insecure=bool(insecure))
    try:
        return loft_cluster_connect.mode_of_version(api.version())
    except (errors.LoftApiError, ValueError) as err:
        raise pulumi.RunError(
            f"LoftConnectedCluster {name!r}: cannot tell Loft v3 from vCluster Platform v4 ({err}): set mode"
        ) from None


def agent_values(
    extra: Mapping[str, Any],
    *,
    loft_host: str,
    token: str,
    platform_insecure: bool,
    insecure: bool,
    ca_data: str | None,
) -> dict[str, Any]:
    """The agent chart's values, as `vcluster platform add cluster` sets them."""
    values: dict[str, Any] = {**extra, "agentOnly": True, "url": loft_host, "token": token}
    if insecure or platform_insecure:
        values["insecureSkipVerify"] = True
    if ca_data:
        # The chart takes the CA base64-encoded, as the CLI's --ca-data passes it.
        values["additionalCA"] = base64.b64encode(loft_api.pem_of(ca_data).encode()).decode()
    return values


class LoftConnectedCluster(pulumi.ComponentResource):
    """A Kubernetes cluster connected to Loft or vCluster Platform.

    Loft v3 (mode cluster-connect): `{name}-objects` (namespace, ServiceAccount bound to cluster-admin,
    token Secret), `{name}-kubeconfig` (a kubeconfig for that token, secret) and `{name}-connect` (the
    ClusterConnect). vCluster Platform v4 (mode agent): `{name}-connect` (the Cluster and its access key),
    `{name}-agent` (the agent chart as a Helm release, the key as its token) and `{name}-initialized` (the
    wait until the agent connected). On destroy the agent goes first, then the Cluster and its key.
    """

    phase: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    reason: pulumi.Output[str]
    message: pulumi.Output[str]
    mode: pulumi.Output[str]
    agent_chart_version: pulumi.Output[str | None]

    def __init__(self, name: str, args: LoftConnectedClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(name, args)
        super().__init__(TYPE_TOKEN, name, None, opts)
        mode = detect_mode(name, args)
        if mode == "agent":
            phase, reason, message, chart_version = self._connect_agent(name, args)
        else:
            phase, reason, message = self._connect_cluster_connect(name, args)
            chart_version = pulumi.Output.from_input(None)
        self.phase = phase
        self.cluster_name = pulumi.Output.from_input(args["cluster_name"])
        self.reason = reason
        self.message = message
        self.mode = pulumi.Output.from_input(mode)
        self.agent_chart_version = chart_version
        self.register_outputs(
            {
                "phase": self.phase,
                "cluster_name": self.cluster_name,
                "reason": self.reason,
                "message": self.message,
                "mode": self.mode,
                "agent_chart_version": self.agent_chart_version,
            }
        )

    def _connect_cluster_connect(
        self, name: str, args: LoftConnectedClusterArgs
    ) -> tuple[pulumi.Output[str], pulumi.Output[str], pulumi.Output[str]]:
        namespace = args.get("namespace") or DEFAULT_NAMESPACE
        account = args.get("service_account") or DEFAULT_SERVICE_ACCOUNT
        admin_kubeconfig: pulumi.Output[str | Mapping[str, Any]] = pulumi.Output.secret(args["kubeconfig"])

        objects = kubernetes_manifest.KubernetesManifest(
            f"{name}-objects",
            kubeconfig=admin_kubeconfig,
            objects=service_account_objects(namespace, account),
            adopt_existing=args.get("adopt_existing"),
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
            mode="cluster-connect",
            wait_for_initialized=args.get("wait_for_initialized"),
            timeout_seconds=args.get("timeout_seconds"),
            adopt_existing=args.get("adopt_existing"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[objects]),
        )
        return connection.phase, connection.reason, connection.message

    def _connect_agent(
        self, name: str, args: LoftConnectedClusterArgs
    ) -> tuple[pulumi.Output[str], pulumi.Output[str], pulumi.Output[str], pulumi.Output[str | None]]:
        connection = loft_cluster_connect.LoftClusterConnect(
            f"{name}-connect",
            loft_url=args["loft_url"],
            access_key=args["access_key"],
            cluster_name=args["cluster_name"],
            admin_user=args.get("admin_user"),
            display_name=args.get("display_name"),
            description=args.get("description"),
            owner=args.get("owner"),
            access=args.get("access"),
            management_namespace=args.get("management_namespace"),
            ca_data=args.get("ca_data"),
            insecure=args.get("insecure"),
            mode="agent",
            timeout_seconds=args.get("timeout_seconds"),
            adopt_existing=args.get("adopt_existing"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        extra = dict(args.get("agent_values") or {})
        values = pulumi.Output.all(
            connection.loft_host,
            connection.agent_access_key,
            connection.agent_insecure,
            args.get("insecure"),
            args.get("ca_data"),
        ).apply(
            lambda v: agent_values(
                extra,
                loft_host=str(v[0]),
                token=str(v[1]),
                platform_insecure=bool(v[2]),
                insecure=bool(v[3]),
                ca_data=v[4],
            )
        )
        version: pulumi.Input[str] | None = args.get("agent_chart_version")
        if version is None:
            # charts.loft.sh publishes the agent under the platform's version, without its "v".
            version = connection.platform_version.apply(lambda v: (v or "").removeprefix("v"))
        namespace = args.get("namespace")
        # A defaulted namespace is ignored on update, so an agent installed under an older default stays put.
        keep_installed_namespace = None if namespace else ["namespace"]
        agent = helm_release.HelmRelease(
            f"{name}-agent",
            kubeconfig=pulumi.Output.secret(args["kubeconfig"]),
            release_name=AGENT_RELEASE,
            namespace=namespace or DEFAULT_AGENT_NAMESPACE,
            chart=AGENT_CHART,
            repository=args.get("agent_chart_repository") or DEFAULT_CHART_REPOSITORY,
            version=version,
            values=pulumi.Output.secret(values),
            repository_ca_data=args.get("agent_chart_repository_ca_data"),
            helm_path=args.get("helm_path"),
            timeout_seconds=args.get("timeout_seconds"),
            adopt_existing=args.get("adopt_existing"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[connection], ignore_changes=keep_installed_namespace),
        )
        if args.get("wait_for_initialized") is False:
            return connection.phase, connection.reason, connection.message, agent.chart_version
        initialized = loft_cluster_initialized.LoftClusterInitialized(
            f"{name}-initialized",
            cluster_name=args["cluster_name"],
            loft_url=args["loft_url"],
            access_key=args["access_key"],
            ca_data=args.get("ca_data"),
            insecure=args.get("insecure"),
            agent_revision=agent.revision,
            timeout_seconds=args.get("timeout_seconds"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[agent]),
        )
        return initialized.phase, initialized.reason, initialized.message, agent.chart_version

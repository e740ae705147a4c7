"""LoftClusterConnect: a cluster connected to Loft (ClusterConnect) or vCluster Platform v4 (agent key)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)

from pulumi_cluster_connect._plumbing import (
    configured,
    errors,
    inputs,
    kube,
    loft_api,
    loft_clusters,
    ownership,
    progress,
    protocol,
)

from ._loft_cluster_connect_adapter import ClusterAdapter, failed_after_accepted

# --- inputs -----------------------------------------------------------------------------------------

MODES = ("auto", "cluster-connect", "agent")
DEFAULT_MODE = "auto"
DEFAULT_TIMEOUT = 300.0
DNS_LABEL = inputs.DNS_LABEL
# What is posted to Loft (any change replaces) and what only changes how this provider talks to it.
POSTED = (
    "loft_url",
    "cluster_name",
    "kubeconfig",
    "admin_user",
    "display_name",
    "description",
    "owner",
    "access",
    "management_namespace",
)
IN_PLACE = ("access_key", "ca_data", "insecure", "wait_for_initialized", inputs.TIMEOUT)
# Bookkeeping: the resource's stable key (for the owner annotation) and whether a create may adopt someone
# else's Cluster; neither is ever a difference.
IDENTITY, ADOPT = ownership.IDENTITY, ownership.ADOPT
SPEC_FIELDS = {
    "display_name": "displayName",
    "description": "description",
    "owner": "owner",
    "access": "access",
    "management_namespace": "managementNamespace",
}
AGENT_OUTPUTS = (
    "connected_via",
    "agent_access_key",
    "loft_host",
    "agent_insecure",
    "agent_ca_cert",
    "platform_version",
)


# LoftConnectedCluster asks this module which flow a server speaks.
mode_of_version = loft_clusters.mode_of_version


def _failure(failures: list[CheckFailure], key: str, reason: str) -> None:
    failures.append(CheckFailure(key, reason))


def check(olds: Mapping[str, Any], news: Mapping[str, Any], stack_config: Mapping[str, Any]) -> CheckResult:
    """Every rule the API states, without a network call; unknown values (preview) pass."""
    failures: list[CheckFailure] = []
    props = dict(news)
    props.setdefault("mode", DEFAULT_MODE)
    props.setdefault("wait_for_initialized", True)
    props.setdefault(inputs.TIMEOUT, DEFAULT_TIMEOUT)

    _check_connection(props, stack_config, failures)
    _check_cluster(props, failures)
    _check_tls_and_wait(props, failures)
    return CheckResult(props, failures)


def _check_connection(props: Mapping[str, Any], stack_config: Mapping[str, Any], failures: list[CheckFailure]) -> None:
    for key, config_key in loft_api.CONFIG_KEYS.items():
        if key not in props and not stack_config.get(config_key):
            _failure(failures, key, f"is required (or set the {config_key} stack config)")
    if inputs.known(props, "loft_url"):
        problem = loft_clusters.check_url(props["loft_url"])
        if problem:
            _failure(failures, "loft_url", problem)
    if inputs.known(props, "access_key") and not (isinstance(props["access_key"], str) and props["access_key"]):
        _failure(failures, "access_key", "must be a non-empty string")


def _check_cluster(props: Mapping[str, Any], failures: list[CheckFailure]) -> None:
    name = props.get("cluster_name")
    if name is None:
        _failure(failures, "cluster_name", "is required")
    elif not inputs.is_unknown(name) and (not isinstance(name, str) or len(name) > 63 or not DNS_LABEL.match(name)):
        _failure(
            failures,
            "cluster_name",
            f"must be a DNS-1123 label (lower case letters, digits and '-', at most 63){inputs.got(name)}",
        )

    mode = props["mode"]
    if not inputs.is_unknown(mode) and not (isinstance(mode, str) and mode in MODES):
        _failure(failures, "mode", f"must be one of {list(MODES)}{inputs.got(mode)}")
    if "kubeconfig" not in props and mode != "agent":
        _failure(
            failures,
            "kubeconfig",
            "is required to connect with ClusterConnect (only mode='agent' goes without)",
        )
    kube.check_kubeconfig(props, "kubeconfig", failures, required=False)

    for key in ("admin_user", "display_name", "description"):
        if inputs.known(props, key) and not isinstance(props[key], str):
            _failure(failures, key, "must be a string")
    if inputs.known(props, "management_namespace"):
        namespace = props["management_namespace"]
        if not isinstance(namespace, str) or not DNS_LABEL.match(namespace):
            _failure(failures, "management_namespace", f"must be a DNS-1123 label{inputs.got(namespace)}")
    if "owner" in props:
        loft_clusters.check_owner(props["owner"], failures)
    if "access" in props:
        loft_clusters.check_access(props["access"], failures)


def _check_tls_and_wait(props: Mapping[str, Any], failures: list[CheckFailure]) -> None:
    if inputs.known(props, "insecure") and not isinstance(props["insecure"], bool):
        _failure(failures, "insecure", "must be true or false")
    loft_api.check_ca_data(props, "ca_data", failures)
    if props.get("insecure") is True and props.get("ca_data"):
        _failure(failures, "insecure", "give either ca_data or insecure=True, not both")
    if inputs.known(props, "wait_for_initialized") and not isinstance(props["wait_for_initialized"], bool):
        _failure(failures, "wait_for_initialized", "must be true or false")
    inputs.check_timeout(props, failures)
    inputs.check_bool(props, ADOPT, failures)


def effective_mode(olds: Mapping[str, Any], news: Mapping[str, Any]) -> str | None:
    """The mode news would connect with: explicit, else the one the resource was connected with."""
    mode = news.get("mode", DEFAULT_MODE)
    if inputs.is_unknown(mode):
        return None
    return str(olds.get("connected_via")) if mode == "auto" else str(mode)


def diff(olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffResult:
    """ClusterConnect is create-only: a change of anything posted replaces; the rest updates in place."""
    mode = effective_mode(olds, news)
    replaces = []
    for key in POSTED:
        # The agent flow posts no kubeconfig: there it is only kept, like the access key.
        if key == "kubeconfig" and olds.get("connected_via") == "agent" and mode == "agent":
            continue
        if inputs.is_unknown(news.get(key)) or olds.get(key) != news.get(key):
            replaces.append(key)
    if mode is None or mode != olds.get("connected_via"):
        replaces.append("mode")
    changes = list(replaces)
    for key in (*IN_PLACE, "kubeconfig"):
        if key not in changes and (inputs.is_unknown(news.get(key)) or olds.get(key) != news.get(key)):
            changes.append(key)
    if olds.get("mode", DEFAULT_MODE) != news.get("mode", DEFAULT_MODE) and "mode" not in changes:
        changes.append("mode")
    same_name = olds.get("cluster_name") == news.get("cluster_name") and olds.get("loft_url") == news.get("loft_url")
    return DiffResult(
        changes=bool(changes),
        replaces=replaces,
        # The cluster name is the key: a replacement with the same name must disconnect first, also when it is
        # forced (`pulumi up --replace`, a replaced dependency) rather than asked for by this diff.
        delete_before_replace=same_name,
    )


def cluster_spec(props: Mapping[str, Any]) -> dict[str, Any]:
    return {api: props[key] for key, api in SPEC_FIELDS.items() if props.get(key) not in (None, "", [], {})}


def _body(props: Mapping[str, Any], mode: str) -> dict[str, Any]:
    """What is posted: the Cluster (agent flow) or the ClusterConnect, marked with this resource's identity."""
    name, identity, spec = str(props["cluster_name"]), str(props.get(IDENTITY) or ""), cluster_spec(props)
    if mode == "agent":
        return loft_clusters.cluster_body(name, identity, spec)
    kubeconfig = kube.as_text(props["kubeconfig"])
    return loft_clusters.cluster_connect_body(name, identity, spec, kubeconfig, str(props.get("admin_user") or ""))


# --- provider -----------------------------------------------------------------------------------------


class LoftClusterConnectProvider(configured.ConfiguredProvider):
    config_keys = tuple(loft_api.CONFIG_KEYS.values())
    secret_keys = ("access_key", "kubeconfig", "agent_access_key")

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return check(olds, news, self._stack_config)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff(olds, news)

    def _api(self, props: Mapping[str, Any]) -> loft_api.LoftApi:
        return loft_api.LoftApi.from_props(props, self._stack_config)

    def create(self, props: dict[str, Any]) -> CreateResult:
        api = self._api(props)
        name = str(props["cluster_name"])
        mode = props.get("mode") or DEFAULT_MODE
        version: dict[str, Any] = {}
        if mode in ("auto", "agent"):
            version = api.version()
        if mode == "auto":
            mode = mode_of_version(version)
            progress.report(
                f"{api.url} is {'vCluster Platform v4+' if mode == 'agent' else 'Loft with ClusterConnect'}"
            )
        adapter = ClusterAdapter(
            api,
            name,
            _body(props, mode),
            identity=str(props.get(IDENTITY) or ""),
            adopt_existing=ownership.adopting(props),
            timeout=inputs.timeout_of(props, DEFAULT_TIMEOUT),
        )
        outcome = protocol.create(adapter)
        if outcome.made and mode != "agent":
            _raise_if_connect_failed(api, outcome.answer)
            progress.report(f"Loft cluster {name} connected")
        try:
            if mode == "agent":
                outs = _agent_outs(api, name, outcome.answer, str(version.get("version") or ""))
            else:
                outs = _connect_outs(api, props, name)
        except errors.ClusterConnectError as err:
            raise failed_after_accepted(adapter, err, outcome.made) from err
        return CreateResult(name, {**props, **outs})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        name = str(props.get("cluster_name") or id_)
        cluster = loft_clusters.find(self._api(props), name)
        if cluster is None:
            return ReadResult("", {})
        outs = {**props, "cluster_name": name, **loft_clusters.status_outputs(cluster)}
        spec = cluster.get("spec") or {}
        # Fields that were set are read back (drift shows); fields left to Loft's defaults stay unset.
        for key, api_key in SPEC_FIELDS.items():
            if key in props:
                outs[key] = spec.get(api_key)
        outs.setdefault("connected_via", "cluster-connect" if (spec.get("config") or {}).get("secretName") else "agent")
        if outs["connected_via"] == "agent" and "agent_access_key" in props:
            # The platform may have rotated the key: refresh brings the current one, the next up gives it to
            # the agent (its release's values change).
            outs.update(loft_clusters.agent_outputs(self._api(props), name))
        return ReadResult(id_ or name, inputs.without_none(outs))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Only how the provider talks to Loft changed: check the new settings with a read, keep the rest."""
        name = str(olds["cluster_name"])
        cluster = self._api(news).get_cluster(name)
        kept: dict[str, Any] = {k: olds[k] for k in AGENT_OUTPUTS if k in olds}
        return UpdateResult({**news, **kept, **loft_clusters.status_outputs(cluster)})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        name = str(props["cluster_name"])
        loft_clusters.delete(self._api(props), name, inputs.timeout_of(props, DEFAULT_TIMEOUT))
        progress.report(f"Loft cluster {name} disconnected")


def _raise_if_connect_failed(api: loft_api.LoftApi, answer: Mapping[str, Any]) -> None:
    """A posted ClusterConnect answers whether connecting failed."""
    status = answer.get("status") or {}
    if status.get("failed"):
        raise errors.LoftApiError(
            loft_api.CONNECT_ACTION,
            str(status.get("reason") or "Failed"),
            api.clean(str(status.get("message") or "")),
        )


def _connect_outs(api: loft_api.LoftApi, props: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The ClusterConnect flow waits for the Cluster's phase, unless told not to."""
    if props.get("wait_for_initialized", True):
        cluster = loft_clusters.wait_until_initialized(api, name, inputs.timeout_of(props, DEFAULT_TIMEOUT))
    else:
        cluster = api.get_cluster(name)
    return {**loft_clusters.status_outputs(cluster), "connected_via": "cluster-connect"}


def _agent_outs(api: loft_api.LoftApi, name: str, cluster: Mapping[str, Any], platform_version: str) -> dict[str, Any]:
    """The agent flow: the agent is installed from these outputs by another resource, so no phase to wait for."""
    return {
        **loft_clusters.status_outputs(cluster),
        "connected_via": "agent",
        **loft_clusters.agent_outputs(api, name),
        # The agent chart is published under the platform's version: the agent to install.
        "platform_version": platform_version,
    }


# --- resource -----------------------------------------------------------------------------------------


class LoftClusterConnect(pulumi.dynamic.Resource, module="loft", name="ClusterConnect"):
    """A cluster connected to Loft: ClusterConnect (Loft v3) or Cluster + agent key (vCluster Platform v4)."""

    # For type checkers only: the SDK evaluates a Resource class's annotations again for every resource it
    # registers, and these outputs need no conversion (see FargateProfile).
    if TYPE_CHECKING:
        phase: pulumi.Output[str]
        """The Cluster's phase: "" while initializing, Initialized or Failed."""
        reason: pulumi.Output[str]
        message: pulumi.Output[str]
        uid: pulumi.Output[str]
        created: pulumi.Output[str]
        connected_via: pulumi.Output[str]
        """"cluster-connect" or "agent" (the mode `auto` chose)."""
        agent_access_key: pulumi.Output[str | None]
        """Agent flow only: the token for the agent's Helm release (secret)."""
        loft_host: pulumi.Output[str | None]
        """Agent flow only: the host the agent dials."""
        agent_insecure: pulumi.Output[bool | None]
        """Agent flow only: whether the agent should skip verifying the platform's certificate."""
        agent_ca_cert: pulumi.Output[str | None]
        """Agent flow only: the CA the platform says its agents should trust (may be empty)."""
        platform_version: pulumi.Output[str | None]
        """Agent flow only: the platform's version, which is also the version of its agent chart."""

    def __init__(
        self,
        resource_name: str,
        *,
        cluster_name: pulumi.Input[str],
        loft_url: pulumi.Input[str] | None = None,
        access_key: pulumi.Input[str] | None = None,
        kubeconfig: pulumi.Input[str | Mapping[str, Any]] | None = None,
        admin_user: pulumi.Input[str] | None = None,
        display_name: pulumi.Input[str] | None = None,
        description: pulumi.Input[str] | None = None,
        owner: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
        access: pulumi.Input[Sequence[pulumi.Input[Mapping[str, Any]]]] | None = None,
        management_namespace: pulumi.Input[str] | None = None,
        ca_data: pulumi.Input[str] | None = None,
        insecure: pulumi.Input[bool] | None = None,
        mode: pulumi.Input[str] | None = None,
        wait_for_initialized: pulumi.Input[bool] | None = None,
        timeout_seconds: pulumi.Input[float] | None = None,
        adopt_existing: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """The Cluster this makes carries the annotation `pulumi-cluster-connect/owner`: a create re-run after an
        interrupted one adopts it. `adopt_existing=True` lets the create take over a Cluster of that name that
        someone else connected, instead of failing."""
        props: dict[str, Any] = {
            "cluster_name": cluster_name,
            IDENTITY: ownership.identity_of(f"pulumi-python:{self._resource_type_name}", resource_name, opts),
            # The public outputs even when None: the SDK makes an attribute only for a key sent.
            **dict.fromkeys((*loft_clusters.STATUS_OUTPUTS, *AGENT_OUTPUTS)),
        }
        # Optional inputs only when given: a None never reaches the engine, but costs the SDK an Output per key.
        props.update(
            inputs.without_none(
                {
                    "loft_url": loft_url,
                    "access_key": None if access_key is None else pulumi.Output.secret(access_key),
                    "kubeconfig": None if kubeconfig is None else pulumi.Output.secret(kubeconfig),
                    "admin_user": admin_user,
                    "display_name": display_name,
                    "description": description,
                    "owner": owner,
                    "access": access,
                    "management_namespace": management_namespace,
                    "ca_data": ca_data,
                    "insecure": insecure,
                    "mode": mode,
                    "wait_for_initialized": wait_for_initialized,
                    inputs.TIMEOUT: timeout_seconds,
                    ADOPT: adopt_existing,
                }
            )
        )
        opts = pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(additional_secret_outputs=["agent_access_key", "access_key", "kubeconfig"]),
        )
        super().__init__(LoftClusterConnectProvider(), resource_name, props, opts)

"""LoftClusterConnect: a cluster connected to Loft (ClusterConnect) or vCluster Platform v4 (agent key)."""

# Longer than 400 lines because one resource's whole story reads top to bottom here (input rules, diff,
# lifecycle, waits, the Resource), as STYLE.md lays out; the shared parts already live in _plumbing.

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)

from pulumi_cluster_connect._plumbing import configured, errors, inputs, kube, loft_api, ownership, polling, progress

from . import loft_takeover

# --- inputs -----------------------------------------------------------------------------------------

MODES = ("auto", "cluster-connect", "agent")
DEFAULT_MODE = "auto"
DEFAULT_TIMEOUT = 300.0
DNS_LABEL = inputs.DNS_LABEL
ACCESS_RULE_KEYS = {"name", "verbs", "subresources", "users", "teams"}
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
# A create that meets a Cluster being deleted waits it out and posts again, this many times at most.
POST_ATTEMPTS = 5
SPEC_FIELDS = {
    "display_name": "displayName",
    "description": "description",
    "owner": "owner",
    "access": "access",
    "management_namespace": "managementNamespace",
}
STATUS_OUTPUTS = ("phase", "reason", "message", "uid", "created")
NOT_CONNECT_API = (
    "this server has no ClusterConnect API (vCluster Platform v4 removed it): use LoftConnectedCluster, "
    "which installs the agent, or mode='agent' and install the agent with the outputs agent_access_key and loft_host"
)
AGENT_OUTPUTS = (
    "connected_via",
    "agent_access_key",
    "loft_host",
    "agent_insecure",
    "agent_ca_cert",
    "platform_version",
)


def _failure(failures: list[CheckFailure], key: str, reason: str) -> None:
    failures.append(CheckFailure(key, reason))


def check_url(value: Any) -> str | None:
    """Why `value` is not a Loft URL (scheme and host, optional port and path), or None."""
    if not isinstance(value, str):
        return f"must be a string{inputs.got(value)}"
    try:
        parsed = urllib.parse.urlsplit(value)
        hostname = parsed.hostname
    except ValueError:
        hostname = None
    # Never quote it: a URL may carry a password.
    if hostname is None or parsed.scheme not in ("https", "http"):
        return "must be an http(s) URL such as https://loft.example.com"
    if parsed.query or parsed.fragment or parsed.username or parsed.password:
        return "must not carry credentials, a query or a fragment"
    return None


def _check_strings(value: Any, key: str, failures: list[CheckFailure]) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) or inputs.is_unknown(v) for v in value):
        _failure(failures, key, f"must be a list of strings{inputs.got(value)}")


def _check_owner(owner: Any, failures: list[CheckFailure]) -> None:
    if inputs.is_unknown(owner):
        return
    if (
        not isinstance(owner, Mapping)
        or set(owner) - {"user", "team"}
        or not all(isinstance(v, str) or inputs.is_unknown(v) for v in owner.values())
    ):
        _failure(failures, "owner", "must be {'user': <name>} or {'team': <name>}")
        return
    if any(inputs.is_unknown(v) for v in owner.values()):
        return
    given = [k for k in ("user", "team") if owner.get(k)]
    if len(given) != 1:
        _failure(failures, "owner", f"must name exactly one of user or team, got {sorted(given) or 'neither'}")


def _check_access(rules: Any, failures: list[CheckFailure]) -> None:
    if inputs.is_unknown(rules):
        return
    if not isinstance(rules, list):
        _failure(failures, "access", f"must be a list of access rules{inputs.got(rules)}")
        return
    for index, rule in enumerate(rules):
        key = f"access[{index}]"
        if inputs.is_unknown(rule):
            continue
        if not isinstance(rule, Mapping):
            _failure(failures, key, f"must be a map with verbs and users and/or teams{inputs.got(rule)}")
            continue
        unknown_keys = set(rule) - ACCESS_RULE_KEYS
        if unknown_keys:
            named = sorted(str(k)[:64] for k in unknown_keys)
            _failure(failures, key, f"unknown keys {named}; allowed: {sorted(ACCESS_RULE_KEYS)}")
        for field in ("verbs", "subresources", "users", "teams"):
            if field in rule and not inputs.is_unknown(rule[field]):
                _check_strings(rule[field], f"{key}.{field}", failures)
        if not rule.get("verbs"):
            _failure(failures, f"{key}.verbs", "must list at least one verb (e.g. '*')")
        if not rule.get("users") and not rule.get("teams"):
            _failure(failures, key, "must name at least one user or team")


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
        problem = check_url(props["loft_url"])
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
        _check_owner(props["owner"], failures)
    if "access" in props:
        _check_access(props["access"], failures)


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


def cluster_connect_body(props: Mapping[str, Any]) -> dict[str, Any]:
    """The ClusterConnect object as the seed's API takes it."""
    spec: dict[str, Any] = {
        "config": kube.as_text(props["kubeconfig"]),
        # The platform makes the Cluster from this template, its annotations included (the owner mark).
        "clusterTemplate": {"metadata": _template_metadata(props), "spec": cluster_spec(props)},
    }
    if props.get("admin_user"):
        spec["adminUser"] = props["admin_user"]
    return {
        "apiVersion": loft_api.API_VERSION,
        "kind": "ClusterConnect",
        "metadata": {"name": props["cluster_name"]},
        "spec": spec,
    }


def _template_metadata(props: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in loft_takeover.owned_metadata(props).items() if k != "name"}


def cluster_body(props: Mapping[str, Any]) -> dict[str, Any]:
    """The Cluster as `vcluster platform add cluster` creates it: its agent dials in over the network peer."""
    return {
        "apiVersion": loft_api.API_VERSION,
        "kind": "Cluster",
        "metadata": loft_takeover.owned_metadata(props),
        "spec": {**cluster_spec(props), "networkPeer": True},
    }


def status_outputs(cluster: Mapping[str, Any]) -> dict[str, Any]:
    """What the Cluster reports of itself: phase (""= initializing), reason, message, uid, creation time."""
    status = cluster.get("status") or {}
    metadata = cluster.get("metadata") or {}
    return {
        "phase": str(status.get("phase") or ""),
        "reason": str(status.get("reason") or ""),
        "message": str(status.get("message") or ""),
        "uid": str(metadata.get("uid") or ""),
        "created": str(metadata.get("creationTimestamp") or ""),
    }


def detect_mode(api: loft_api.LoftApi) -> Literal["cluster-connect", "agent"]:
    """vCluster Platform v4 and later have no ClusterConnect; earlier Loft has."""
    return mode_of_version(api.version())


def mode_of_version(version: Mapping[str, Any]) -> Literal["cluster-connect", "agent"]:
    """The connection flow of a server, from its /version answer."""
    major = str(version.get("major") or str(version.get("version") or "").lstrip("v").split(".")[0])
    try:
        return "agent" if int(re.sub(r"\D.*$", "", major) or "0") >= 4 else "cluster-connect"
    except ValueError:
        return "cluster-connect"


# How long a cluster takes to initialize depends on its agent, so nothing is learned from other waits: look at
# once, then every 0.5 s, then every 5% of the time waited.
LOFT_PACE = polling.Lifecycle(floor=0.5, look_at_start=True)


def wait_until_initialized(api: loft_api.LoftApi, name: str, timeout: float) -> dict[str, Any]:
    """Poll the Cluster as loftctl's --wait does: NotFound is tolerated; Failed stops with its reason."""

    def describe() -> dict[str, Any]:
        try:
            return api.get_cluster(name)
        except errors.LoftApiError as err:
            if loft_api.is_not_found(err):
                return {}
            raise

    return polling.wait_for(
        f"Loft cluster {name}",
        describe,
        state_of=lambda c: str((c.get("status") or {}).get("phase") or ""),
        done=lambda c: (c.get("status") or {}).get("phase") == "Initialized",
        failure=_failed_reason,
        timeout=timeout,
        backoff=LOFT_PACE,
    )


def _failed_reason(cluster: Mapping[str, Any]) -> str | None:
    status = cluster.get("status") or {}
    if status.get("phase") != "Failed":
        return None
    return f"{status.get('reason') or 'Failed'}: {status.get('message') or 'no message'}"


def wait_until_gone(api: loft_api.LoftApi, name: str, timeout: float) -> None:
    def describe() -> str:
        try:
            cluster = api.get_cluster(name)
        except errors.LoftApiError as err:
            if loft_api.is_not_found(err):
                return "gone"
            raise
        return "deleting" if (cluster.get("metadata") or {}).get("deletionTimestamp") else "present"

    polling.wait_for(
        f"Loft cluster {name} deletion",
        describe,
        state_of=str,
        done=lambda s: s == "gone",
        timeout=timeout,
        backoff=LOFT_PACE,
    )


def disconnect(api: loft_api.LoftApi, name: str, timeout: float) -> None:
    """DELETE the Cluster and wait until it is gone; absent already is success."""
    try:
        api.delete_cluster(name)
    except errors.LoftApiError as err:
        if loft_api.is_not_found(err):
            return
        raise
    wait_until_gone(api, name, timeout)


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
        timeout = inputs.timeout_of(props, DEFAULT_TIMEOUT)
        mode = props.get("mode") or DEFAULT_MODE
        version: dict[str, Any] = {}
        if mode in ("auto", "agent"):
            version = api.version()
        if mode == "auto":
            mode = mode_of_version(version)
            progress.report(
                f"{api.url} is {'vCluster Platform v4+' if mode == 'agent' else 'Loft with ClusterConnect'}"
            )
        if mode == "agent":
            return self._create_agent(api, props, name, str(version.get("version") or ""))
        answer, adopted = self._post_or_adopt(api, props, name, mode)
        status = answer.get("status") or {}
        if not adopted:
            if status.get("failed"):
                raise errors.LoftApiError(
                    "Loft ClusterConnect",
                    str(status.get("reason") or "Failed"),
                    api._clean(str(status.get("message") or "")),
                )
            progress.report(f"Loft cluster {name} connected")
        cluster: dict[str, Any] = {}
        try:
            if props.get("wait_for_initialized", True):
                cluster = wait_until_initialized(api, name, timeout)
            else:
                cluster = api.get_cluster(name)
        except errors.ClusterConnectError as err:
            raise self._failed_after_post(api, props, name, err, adopted) from err
        return CreateResult(name, {**props, **status_outputs(cluster), "connected_via": "cluster-connect"})

    def _create_agent(
        self, api: loft_api.LoftApi, props: dict[str, Any], name: str, platform_version: str
    ) -> CreateResult:
        cluster, adopted = self._post_or_adopt(api, props, name, "agent")
        try:
            key = api.get_cluster_access_key(name)
        except errors.ClusterConnectError as err:
            raise self._failed_after_post(api, props, name, err, adopted) from err
        # The agent is installed from these outputs by another resource: no phase to wait for here.
        return CreateResult(
            name,
            {
                **props,
                **status_outputs(cluster),
                "connected_via": "agent",
                **agent_key_outputs(api, key),
                # The agent chart is published under the platform's version: the agent to install.
                "platform_version": platform_version,
            },
        )

    @staticmethod
    def _post_or_adopt(
        api: loft_api.LoftApi, props: Mapping[str, Any], name: str, mode: str
    ) -> tuple[dict[str, Any], bool]:
        """Post the Cluster (agent) or the ClusterConnect: the answer, and False. A Cluster of that name that
        exists is adopted when it is ours (an interrupted run) or adopt_existing is set: it, and True. Someone
        else's fails the create before anything is changed."""
        for _ in range(POST_ATTEMPTS):
            try:
                if mode == "agent":
                    return api.create_cluster(cluster_body(props)), False
                return api.create_cluster_connect(cluster_connect_body(props)), False
            except errors.LoftApiError as err:
                if not loft_takeover.already_exists(err):
                    raise _explained(err) from None
                conflict = err
            existing = _cluster_or_none(api, name)
            if existing is None:
                continue  # disconnected since
            if (existing.get("metadata") or {}).get("deletionTimestamp"):
                progress.report(f"Loft cluster {name} is being disconnected; waiting until it is gone")
                wait_until_gone(api, name, inputs.timeout_of(props, DEFAULT_TIMEOUT))
                continue
            loft_takeover.take_over(conflict, existing, props)
            return existing, True
        raise errors.ClusterConnectError(f"could not connect Loft cluster {name}: it kept changing meanwhile")

    @staticmethod
    def _failed_after_post(
        api: loft_api.LoftApi, props: Mapping[str, Any], name: str, err: errors.ClusterConnectError, adopted: bool
    ) -> errors.ClusterConnectError:
        """A create that fails leaves no state behind, so nothing would ever disconnect a Cluster it made: it
        disconnects it now. An adopted one existed before: it stays as it was."""
        if adopted:
            return loft_takeover.left_as_it_was(err, name)
        progress.report(f"disconnecting Loft cluster {name} again, as the connection failed")
        cleanup: errors.ClusterConnectError | None = None
        try:
            disconnect(api, name, inputs.timeout_of(props, DEFAULT_TIMEOUT))
        except errors.ClusterConnectError as failed:
            cleanup = failed
        return loft_takeover.after_accepted(err, name, cleanup, marked=loft_takeover.mark_of(props) is not None)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        name = str(props.get("cluster_name") or id_)
        try:
            cluster = self._api(props).get_cluster(name)
        except errors.LoftApiError as err:
            if loft_api.is_not_found(err):
                return ReadResult("", {})
            raise
        outs = {**props, "cluster_name": name, **status_outputs(cluster)}
        spec = cluster.get("spec") or {}
        # Fields that were set are read back (drift shows); fields left to Loft's defaults stay unset.
        for key, api_key in SPEC_FIELDS.items():
            if key in props:
                outs[key] = spec.get(api_key)
        outs.setdefault("connected_via", "cluster-connect" if (spec.get("config") or {}).get("secretName") else "agent")
        if outs["connected_via"] == "agent" and "agent_access_key" in props:
            # The platform may have rotated the key: refresh brings the current one, the next up gives it to
            # the agent (its release's values change).
            outs.update(agent_outputs(self._api(props), name))
        return ReadResult(id_ or name, inputs.without_none(outs))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Only how the provider talks to Loft changed: check the new settings with a read, keep the rest."""
        name = str(olds["cluster_name"])
        cluster = self._api(news).get_cluster(name)
        kept: dict[str, Any] = {k: olds[k] for k in AGENT_OUTPUTS if k in olds}
        return UpdateResult({**news, **kept, **status_outputs(cluster)})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        name = str(props["cluster_name"])
        disconnect(self._api(props), name, inputs.timeout_of(props, DEFAULT_TIMEOUT))
        progress.report(f"Loft cluster {name} disconnected")


def agent_key_outputs(api: loft_api.LoftApi, key: Mapping[str, Any]) -> dict[str, Any]:
    """What the agent is installed with, from the accesskey answer."""
    return {
        "agent_access_key": str(key.get("accessKey") or ""),
        "loft_host": str(key.get("loftHost") or urllib.parse.urlsplit(api.url).netloc),
        "agent_insecure": bool(key.get("insecure")),
        "agent_ca_cert": str(key.get("caCert") or ""),
    }


def agent_outputs(api: loft_api.LoftApi, name: str) -> dict[str, Any]:
    return agent_key_outputs(api, api.get_cluster_access_key(name))


def _cluster_or_none(api: loft_api.LoftApi, name: str) -> dict[str, Any] | None:
    try:
        return api.get_cluster(name)
    except errors.LoftApiError as err:
        if loft_api.is_not_found(err):
            return None
        raise


def _explained(err: errors.LoftApiError) -> errors.LoftApiError:
    """The API's error, with what to do about the common ones."""
    hint = ""
    if err.status in (401, 403):
        hint = " (check access_key: it must be a valid Loft access key allowed to manage clusters)"
    elif err.status == 404 and err.action == "Loft ClusterConnect":
        hint = f" ({NOT_CONNECT_API})"
    return errors.LoftApiError(err.action, err.reason, err.message + hint, err.status)


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
            **dict.fromkeys((*STATUS_OUTPUTS, *AGENT_OUTPUTS)),
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

"""The Loft Cluster: find it, create it (a Cluster of the agent flow, or a ClusterConnect), delete it, wait until
it is initialized or gone; what it reports of itself; which flow a server speaks."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from typing import Any, Literal

from pulumi.dynamic import CheckFailure

from pulumi_cluster_connect._plumbing import errors, inputs, loft_api, ownership, polling

STATUS_OUTPUTS = ("phase", "reason", "message", "uid", "created")
ACCESS_RULE_KEYS = {"name", "verbs", "subresources", "users", "teams"}
# How long a cluster takes to initialize depends on its agent, so nothing is learned from other waits: look at
# once, then every 0.5 s, then every 5% of the time waited.
LOFT_PACE = polling.Lifecycle(floor=0.5, look_at_start=True)


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


def _fail(failures: list[CheckFailure], key: str, reason: str) -> None:
    failures.append(CheckFailure(key, reason))


def _check_strings(value: Any, key: str, failures: list[CheckFailure]) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) or inputs.is_unknown(v) for v in value):
        _fail(failures, key, f"must be a list of strings{inputs.got(value)}")


def check_owner(owner: Any, failures: list[CheckFailure]) -> None:
    """The `owner` input: {'user': <name>} or {'team': <name>}; unknown values (preview) pass."""
    if inputs.is_unknown(owner):
        return
    if (
        not isinstance(owner, Mapping)
        or set(owner) - {"user", "team"}
        or not all(isinstance(v, str) or inputs.is_unknown(v) for v in owner.values())
    ):
        _fail(failures, "owner", "must be {'user': <name>} or {'team': <name>}")
        return
    if any(inputs.is_unknown(v) for v in owner.values()):
        return
    given = [k for k in ("user", "team") if owner.get(k)]
    if len(given) != 1:
        _fail(failures, "owner", f"must name exactly one of user or team, got {sorted(given) or 'neither'}")


def check_access(rules: Any, failures: list[CheckFailure]) -> None:
    """The `access` input: rules with verbs and users and/or teams; unknown values (preview) pass."""
    if inputs.is_unknown(rules):
        return
    if not isinstance(rules, list):
        _fail(failures, "access", f"must be a list of access rules{inputs.got(rules)}")
        return
    for index, rule in enumerate(rules):
        key = f"access[{index}]"
        if inputs.is_unknown(rule):
            continue
        if not isinstance(rule, Mapping):
            _fail(failures, key, f"must be a map with verbs and users and/or teams{inputs.got(rule)}")
            continue
        unknown_keys = set(rule) - ACCESS_RULE_KEYS
        if unknown_keys:
            named = sorted(str(k)[:64] for k in unknown_keys)
            _fail(failures, key, f"unknown keys {named}; allowed: {sorted(ACCESS_RULE_KEYS)}")
        for field in ("verbs", "subresources", "users", "teams"):
            if field in rule and not inputs.is_unknown(rule[field]):
                _check_strings(rule[field], f"{key}.{field}", failures)
        if not rule.get("verbs"):
            _fail(failures, f"{key}.verbs", "must list at least one verb (e.g. '*')")
        if not rule.get("users") and not rule.get("teams"):
            _fail(failures, key, "must name at least one user or team")


def mode_of_version(version: Mapping[str, Any]) -> Literal["cluster-connect", "agent"]:
    """The connection flow of a server, from its /version answer: vCluster Platform v4 and later have no
    ClusterConnect; earlier Loft has."""
    major = str(version.get("major") or str(version.get("version") or "").lstrip("v").split(".")[0])
    try:
        return "agent" if int(re.sub(r"\D.*$", "", major) or "0") >= 4 else "cluster-connect"
    except ValueError:
        return "cluster-connect"


def owned_metadata(name: str, identity: str) -> dict[str, Any]:
    """A Cluster's metadata: its name, and the owner annotation of the resource `identity` (none without one)."""
    metadata: dict[str, Any] = {"name": name}
    if identity:
        metadata["annotations"] = {ownership.OWNER_KEY: ownership.owner_mark(identity)}
    return metadata


def cluster_body(name: str, identity: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The Cluster as `vcluster platform add cluster` creates it: its agent dials in over the network peer."""
    return {
        "apiVersion": loft_api.API_VERSION,
        "kind": "Cluster",
        "metadata": owned_metadata(name, identity),
        "spec": {**spec, "networkPeer": True},
    }


def cluster_connect_body(
    name: str, identity: str, spec: Mapping[str, Any], kubeconfig: str, admin_user: str
) -> dict[str, Any]:
    """The ClusterConnect object as the seed's API takes it."""
    template_metadata = {k: v for k, v in owned_metadata(name, identity).items() if k != "name"}
    connect: dict[str, Any] = {
        "config": kubeconfig,
        # The platform makes the Cluster from this template, its annotations included (the owner mark).
        "clusterTemplate": {"metadata": template_metadata, "spec": dict(spec)},
    }
    if admin_user:
        connect["adminUser"] = admin_user
    return {
        "apiVersion": loft_api.API_VERSION,
        "kind": "ClusterConnect",
        "metadata": {"name": name},
        "spec": connect,
    }


def annotations_of(cluster: Mapping[str, Any]) -> dict[str, Any]:
    return dict((cluster.get("metadata") or {}).get("annotations") or {})


def is_going(cluster: Mapping[str, Any]) -> bool:
    return bool((cluster.get("metadata") or {}).get("deletionTimestamp"))


def phase_of(cluster: Mapping[str, Any]) -> str:
    return str((cluster.get("status") or {}).get("phase") or "")


def status_outputs(cluster: Mapping[str, Any]) -> dict[str, Any]:
    """What the Cluster reports of itself: phase (""= initializing), reason, message, uid, creation time."""
    status = cluster.get("status") or {}
    metadata = cluster.get("metadata") or {}
    return {
        "phase": phase_of(cluster),
        "reason": str(status.get("reason") or ""),
        "message": str(status.get("message") or ""),
        "uid": str(metadata.get("uid") or ""),
        "created": str(metadata.get("creationTimestamp") or ""),
    }


def find(api: loft_api.LoftApi, name: str) -> dict[str, Any] | None:
    """The Cluster `name`, None when there is none."""
    try:
        return api.get_cluster(name)
    except errors.LoftApiError as err:
        if loft_api.is_not_found(err):
            return None
        raise


def create(api: loft_api.LoftApi, body: Mapping[str, Any]) -> dict[str, Any]:
    """POST the Cluster (agent flow) or the ClusterConnect (`body`'s kind says which): the platform's answer.
    One of that name raises the platform's AlreadyExists (`loft_api.already_exists`)."""
    if body.get("kind") == "ClusterConnect":
        return api.create_cluster_connect(body)
    return api.create_cluster(body)


def wait_until_initialized(api: loft_api.LoftApi, name: str, timeout: float) -> dict[str, Any]:
    """Poll the Cluster as loftctl's --wait does: NotFound is tolerated; Failed stops with its reason."""
    return polling.wait_for(
        f"Loft cluster {name}",
        lambda: find(api, name) or {},
        state_of=phase_of,
        done=lambda cluster: phase_of(cluster) == "Initialized",
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
        cluster = find(api, name)
        if cluster is None:
            return "gone"
        return "deleting" if is_going(cluster) else "present"

    polling.wait_for(
        f"Loft cluster {name} deletion",
        describe,
        state_of=str,
        done=lambda state: state == "gone",
        timeout=timeout,
        backoff=LOFT_PACE,
    )


def delete(api: loft_api.LoftApi, name: str, timeout: float) -> None:
    """DELETE the Cluster (disconnect it) and wait until it is gone; absent already is success."""
    try:
        api.delete_cluster(name)
    except errors.LoftApiError as err:
        if loft_api.is_not_found(err):
            return
        raise
    wait_until_gone(api, name, timeout)


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

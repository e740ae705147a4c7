"""LoftClusterInitialized: waits until a Loft Cluster of the agent flow is Initialized, i.e. its agent connected."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from pulumi_cluster_connect._plumbing import configured, errors, inputs, loft_api, loft_clusters

DEFAULT_TIMEOUT = 300.0
# A change of these is another Cluster (or another platform) to wait for; the wait itself leaves nothing to delete.
REPLACE_KEYS = ("loft_url", "cluster_name")
# A new agent (another release revision, another key) must connect again: wait again.
REWAIT_KEYS = ("agent_revision", "access_key", "ca_data", "insecure")
PHASE_OUTPUTS = ("phase", "reason", "message")
NOT_CONNECTED = (
    "the agent has not connected to the platform: check that its pods (label app=loft) run in the connected "
    "cluster, that they reach the platform URL, and their logs"
)


def check(news: Mapping[str, Any], stack_config: Mapping[str, Any]) -> CheckResult:
    failures: list[CheckFailure] = []
    props = dict(news)
    props.setdefault(inputs.TIMEOUT, DEFAULT_TIMEOUT)
    for key, config_key in loft_api.CONFIG_KEYS.items():
        if key not in props and not stack_config.get(config_key):
            failures.append(CheckFailure(key, f"is required (or set the {config_key} stack config)"))
    if inputs.known(props, "loft_url"):
        problem = loft_clusters.check_url(props["loft_url"])
        if problem:
            failures.append(CheckFailure("loft_url", problem))
    name = props.get("cluster_name")
    if name is None:
        failures.append(CheckFailure("cluster_name", "is required"))
    elif not inputs.is_unknown(name) and not (isinstance(name, str) and inputs.DNS_LABEL.match(name)):
        failures.append(CheckFailure("cluster_name", f"must be a DNS-1123 label{inputs.got(name)}"))
    inputs.check_string(props, "access_key", failures)
    loft_api.check_ca_data(props, "ca_data", failures)
    inputs.check_bool(props, "insecure", failures)
    inputs.check_timeout(props, failures)
    return CheckResult(props, failures)


def diff(olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffResult:
    def changed(key: str) -> bool:
        return inputs.is_unknown(news.get(key)) or olds.get(key) != news.get(key)

    replaces = [key for key in REPLACE_KEYS if changed(key)]
    changes = replaces + [key for key in REWAIT_KEYS if changed(key)]
    # Seen not Initialized by a refresh (Failed, or an agent gone): wait again on the next up.
    if olds.get("phase") != "Initialized":
        changes.append("phase")
    return DiffResult(changes=bool(changes), replaces=replaces, delete_before_replace=False)


class LoftClusterInitializedProvider(configured.ConfiguredProvider):
    config_keys = tuple(loft_api.CONFIG_KEYS.values())
    secret_keys = ("access_key",)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return check(news, self._stack_config)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff(olds, news)

    def _wait(self, props: Mapping[str, Any]) -> dict[str, Any]:
        api = loft_api.LoftApi.from_props(props, self._stack_config)
        name = str(props["cluster_name"])
        try:
            cluster = loft_clusters.wait_until_initialized(api, name, inputs.timeout_of(props, DEFAULT_TIMEOUT))
        except errors.WaitTimeout as err:
            raise errors.WaitTimeout(err.what, err.seconds, f"{err.last_state or 'pending'}; {NOT_CONNECTED}") from None
        return {**props, **_phase_outputs(cluster)}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(str(props["cluster_name"]), self._wait(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._wait(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        api = loft_api.LoftApi.from_props(props, self._stack_config)
        cluster = loft_clusters.find(api, str(props.get("cluster_name") or id_))
        if cluster is None:
            return ReadResult("", {})
        return ReadResult(id_, {**props, **_phase_outputs(cluster)})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Waiting made nothing: the Cluster belongs to LoftClusterConnect, the agent to its Helm release."""


def _phase_outputs(cluster: Mapping[str, Any]) -> dict[str, str]:
    outputs = loft_clusters.status_outputs(cluster)
    return {key: outputs[key] for key in PHASE_OUTPUTS}


class LoftClusterInitialized(pulumi.dynamic.Resource, module="loft", name="ClusterInitialized"):
    """Waits until the Loft Cluster `cluster_name` is Initialized (its agent connected); Failed stops the wait
    with the platform's reason. `agent_revision` (e.g. the agent release's revision) makes a new agent wait again."""

    # For type checkers only: the SDK evaluates a Resource class's annotations again for every resource it
    # registers, and these outputs need no conversion (see FargateProfile).
    if TYPE_CHECKING:
        phase: pulumi.Output[str]
        reason: pulumi.Output[str]
        message: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        cluster_name: pulumi.Input[str],
        loft_url: pulumi.Input[str] | None = None,
        access_key: pulumi.Input[str] | None = None,
        ca_data: pulumi.Input[str] | None = None,
        insecure: pulumi.Input[bool] | None = None,
        agent_revision: pulumi.Input[Any] | None = None,
        timeout_seconds: pulumi.Input[float] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "cluster_name": cluster_name,
            # The public outputs even when None: the SDK makes an attribute only for a key sent.
            **dict.fromkeys(PHASE_OUTPUTS),
        }
        # Optional inputs only when given: a None never reaches the engine, but costs the SDK an Output per key.
        props.update(
            inputs.without_none(
                {
                    "loft_url": loft_url,
                    "access_key": None if access_key is None else pulumi.Output.secret(access_key),
                    "ca_data": ca_data,
                    "insecure": insecure,
                    "agent_revision": agent_revision,
                    inputs.TIMEOUT: timeout_seconds,
                }
            )
        )
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["access_key"]))
        super().__init__(LoftClusterInitializedProvider(), resource_name, props, opts)

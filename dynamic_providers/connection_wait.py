"""ConnectionWait: waits, during create, until EKS reports a registered cluster ACTIVE."""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from pulumi_cluster_connect._plumbing import aws, configured, credentials, errors, inputs, polling, registrations

CLUSTER_NAME, REGION = registrations.CLUSTER_NAME, registrations.REGION
DEFAULT_WAIT_TIMEOUT = 600.0
ACTIVATION_ID, TIMEOUT = "activation_id", inputs.TIMEOUT
# When the agent connects depends on the cluster it runs in, so nothing is learned from other waits: look at once,
# then every 0.5 s, then every 5% of the time waited but at least every second (the up ends within about a
# second of the connection).
CONNECTION_PACE = polling.Lifecycle(floor=0.5, cap=1.0, look_at_start=True)
WAIT_REPLACING = (CLUSTER_NAME, REGION, ACTIVATION_ID)


def connection_failure(cluster: Mapping[str, Any] | None, now: float) -> str | None:
    """Why waiting for ACTIVE is pointless: gone, FAILED, or past the activation expiry."""
    if cluster is None:
        return "the registration is gone (deregistered)"
    status = cluster.get("status")
    expiry = (cluster.get("connectorConfig") or {}).get("activationExpiry")
    expiry_at = expiry.timestamp() if isinstance(expiry, datetime.datetime) else expiry
    if status == "FAILED" or (status != "ACTIVE" and isinstance(expiry_at, (int, float)) and expiry_at <= now):
        return (
            f"the activation expired at {registrations.utc(expiry_at)} before the connector agent connected; "
            "run `pulumi up` again to re-register the cluster and roll the connector"
        )
    return None


def diff_wait(olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffResult:
    replaces = [key for key in WAIT_REPLACING if inputs.is_unknown(news.get(key)) or news.get(key) != olds.get(key)]
    account_replaces, route_changes = credentials.identity_changes(olds, news)
    replaces += account_replaces
    if not replaces and olds.get("status") != "ACTIVE":
        replaces.append("status")  # a refresh saw it disconnected: wait again
    changed = bool(replaces) or bool(route_changes) or news.get(TIMEOUT) != olds.get(TIMEOUT)
    return DiffResult(changes=changed, replaces=replaces, stables=[], delete_before_replace=False)


class ConnectionWaitProvider(configured.ConfiguredProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        inputs.check_string(news, CLUSTER_NAME, failures, required="the registered cluster's name")
        inputs.check_string(news, ACTIVATION_ID, failures, required="the registration's activation id")
        inputs.check_timeout(news, failures)
        inputs.check_region(news, REGION, failures)
        credentials.check(news, failures)
        return CheckResult(inputs.without_none(news), failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff_wait(olds, news)

    def _describe(self, props: Mapping[str, Any]) -> dict[str, Any] | None:
        eks = aws.eks(props.get(REGION), self._stack_config, credentials.route_of(props))
        # Through throttling: the wait makes nothing, but a storm should not fail an up that is otherwise fine.
        return aws.patiently(
            lambda: aws.describe_cluster_or_none(eks, props[CLUSTER_NAME]),
            f"describe {props[CLUSTER_NAME]}",
            60.0,
            accepted=True,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        name = props[CLUSTER_NAME]
        timeout = inputs.timeout_of(props, DEFAULT_WAIT_TIMEOUT)
        try:
            cluster = polling.wait_for(
                f"connection of {name}",
                lambda: self._describe(props),
                state_of=lambda c: str(c.get("status")) if c else "GONE",
                done=lambda c: c is not None and c.get("status") == "ACTIVE",
                failure=lambda c: connection_failure(c, time.time()),
                timeout=timeout,
                backoff=CONNECTION_PACE,
            )
        except errors.WaitTimeout as err:
            raise errors.WaitTimeout(
                f"connection of {name} (is the eks-connector StatefulSet running? see "
                "`kubectl -n eks-connector logs eks-connector-0 -c connector-init`)",
                err.seconds,
                err.last_state,
            ) from err
        found = cluster or {}
        outs = credentials.with_route({**props, "status": found.get("status")}, props, found.get("arn"))
        return CreateResult(f"{name}/{props[ACTIVATION_ID]}", outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        cluster = self._describe(props)
        if cluster is None or (cluster.get("connectorConfig") or {}).get("activationId") != props.get(ACTIVATION_ID):
            return ReadResult("", {})
        if cluster.get("status") == "DELETING":
            return ReadResult("", {})  # being deregistered, as RegisteredCluster.read reports it: gone
        return ReadResult(
            id_, credentials.with_route({**props, "status": cluster.get("status")}, props, cluster.get("arn"))
        )

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        region = aws.region_of(news.get(REGION), self._stack_config, credentials.route_of(news))
        aws.verify_route(f"the connection wait of {id_}", olds, news, region, self._stack_config)
        account = inputs.without_none({credentials.ACCOUNT: olds.get(credentials.ACCOUNT)})
        return UpdateResult({**news, **account, "status": olds.get("status")})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        pass


class ConnectionWait(pulumi.dynamic.Resource, module="eks", name="ConnectionWait"):
    """Waits, during create, until EKS reports the registered cluster ACTIVE; fails early when its
    activation expired. A new activation id (re-registration) replaces it, so it waits again. It makes
    nothing: its id is `<cluster>/<activation id>`, and a wait cut short by a crash is simply run again."""

    # For type checkers only: the SDK evaluates a Resource class's annotations again for every resource it
    # registers, and these outputs need no conversion (see FargateProfile).
    if TYPE_CHECKING:
        status: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        cluster_name: pulumi.Input[str],
        activation_id: pulumi.Input[str],
        region: pulumi.Input[str] | None = None,
        timeout_seconds: pulumi.Input[float] | None = None,
        profile: pulumi.Input[str] | None = None,
        assume_roles: credentials.AssumeRoles | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            CLUSTER_NAME: cluster_name,
            ACTIVATION_ID: activation_id,
            "status": None,  # the public output: the SDK makes an attribute only for a key given
        }
        # A None never reaches the engine: these go in only with a value (each key costs the SDK an Output).
        props.update(inputs.without_none({REGION: region, TIMEOUT: timeout_seconds}))
        props.update(credentials.inputs_of("ConnectionWait", resource_name, opts, profile, assume_roles))
        super().__init__(ConnectionWaitProvider(), resource_name, props, opts)

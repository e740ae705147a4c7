"""RegisteredCluster: an EKS Connector registration; ConnectionWait: the wait until EKS reports it ACTIVE."""

from __future__ import annotations

import datetime
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)

from . import aws, configured, errors, inputs, polling, progress

CLUSTER_NAME, CONNECTOR_PROVIDER, ROLE_ARN, TAGS, REGION = (
    "cluster_name",
    "connector_provider",
    "role_arn",
    "tags",
    "region",
)
IDENTITY = "identity"
PROVIDERS = ("EKS_ANYWHERE", "ANTHOS", "GKE", "AKS", "OPENSHIFT", "TANZU", "RANCHER", "EC2", "OTHER")
NAME_PATTERN = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]*$")
NAME_MAX = 100
# Tags are create-time: the EKS documentation contradicts itself on tagging connected clusters.
REPLACING = (CLUSTER_NAME, CONNECTOR_PROVIDER, ROLE_ARN, TAGS)
# eksctl retries IAM propagation for three minutes; so do we.
PROPAGATION_TIMEOUT = 180.0
PROPAGATION_BACKOFF = polling.Backoff(first=1.0, factor=1.5, cap=10.0)
PROPAGATION_MESSAGES = ("not existing role", "nonexistent role")
TOKEN_NAMESPACE = uuid.UUID("6f0d3d2e-9a55-4c1e-9d1c-0a8f1b7f5c21")
DEFAULT_WAIT_TIMEOUT = 600.0


def _utc(value: datetime.datetime | float | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, datetime.datetime):
        value = datetime.datetime.fromtimestamp(value, datetime.UTC)
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def _parse_utc(value: str) -> float:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def check_inputs(news: Mapping[str, Any]) -> list[CheckFailure]:
    """Every rule of RegisterCluster that can be checked without a call; unknown values pass."""
    failures: list[CheckFailure] = []
    if CLUSTER_NAME not in news:
        failures.append(CheckFailure(CLUSTER_NAME, "is required"))
    elif inputs.known(news, CLUSTER_NAME):
        name = news[CLUSTER_NAME]
        if not isinstance(name, str) or not 1 <= len(name) <= NAME_MAX or not NAME_PATTERN.match(name):
            failures.append(
                CheckFailure(
                    CLUSTER_NAME,
                    f"must be 1-{NAME_MAX} characters, start with a letter or digit and hold only letters, "
                    f"digits, '-' and '_' (it defaults to the resource name), got {name!r}",
                )
            )
    if CONNECTOR_PROVIDER not in news:
        failures.append(CheckFailure(CONNECTOR_PROVIDER, f"is required: one of {', '.join(PROVIDERS)}"))
    elif inputs.known(news, CONNECTOR_PROVIDER) and news[CONNECTOR_PROVIDER] not in PROVIDERS:
        failures.append(
            CheckFailure(CONNECTOR_PROVIDER, f"must be one of {', '.join(PROVIDERS)}, got {news[CONNECTOR_PROVIDER]!r}")
        )
    if ROLE_ARN not in news:
        failures.append(CheckFailure(ROLE_ARN, "is required: the IAM role the connector agent assumes"))
    inputs.check_role_arn(news, ROLE_ARN, failures)
    inputs.check_tags(news, TAGS, failures)
    inputs.check_region(news, REGION, failures)
    return failures


def expired_unconnected(state: Mapping[str, Any], now: float) -> bool:
    """What the stored state says: FAILED, or past its activation expiry while not ACTIVE."""
    status = state.get("status")
    if status == "FAILED":
        return True
    expiry = state.get("activation_expiry")
    return status != "ACTIVE" and isinstance(expiry, str) and _parse_utc(expiry) <= now


def diff_registration(
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
    *,
    now: float,
    still_unconnected: Callable[[], bool] = lambda: True,
) -> DiffResult:
    """Everything replaces; so does an activation that expired unconnected (`still_unconnected` confirms
    a state that is only past its expiry, since the agent may have connected after it was stored)."""
    replaces = [key for key in REPLACING if news.get(key) != olds.get(key)]
    # An absent region keeps the one resolved at create (config or environment).
    if inputs.is_unknown(news.get(REGION)) or (inputs.known(news, REGION) and news[REGION] != olds.get(REGION)):
        replaces.append(REGION)
    if not replaces and expired_unconnected(olds, now) and (olds.get("status") == "FAILED" or still_unconnected()):
        replaces.append("status")
    same_name = news.get(CLUSTER_NAME) == olds.get(CLUSTER_NAME) or inputs.is_unknown(news.get(CLUSTER_NAME))
    return DiffResult(
        changes=bool(replaces),
        replaces=replaces,
        stables=[],
        delete_before_replace=bool(replaces) and same_name,
    )


def client_request_token(props: Mapping[str, Any]) -> str:
    """Stable for one resource and one set of inputs, so a create retried after a crash replays the
    registration instead of colliding with it."""
    seed = [props.get(IDENTITY), *(props.get(key) for key in (*REPLACING, REGION))]
    return str(uuid.uuid5(TOKEN_NAMESPACE, json.dumps(seed, sort_keys=True, default=str)))


def outputs_of(cluster: Mapping[str, Any], region: str, previous: Mapping[str, Any]) -> dict[str, Any]:
    """The resource's state from a Cluster shape; the activation code only comes from RegisterCluster."""
    connector = cluster.get("connectorConfig") or {}
    code = connector.get("activationCode")
    if code is None and previous.get("activation_id") == connector.get("activationId"):
        code = previous.get("activation_code")
    return inputs.without_none(
        {
            CLUSTER_NAME: cluster["name"],
            CONNECTOR_PROVIDER: connector.get("provider"),
            ROLE_ARN: connector.get("roleArn"),
            TAGS: cluster.get("tags") or previous.get(TAGS),
            REGION: region,
            IDENTITY: previous.get(IDENTITY),
            "arn": cluster.get("arn"),
            "status": cluster.get("status"),
            "activation_id": connector.get("activationId"),
            "activation_code": code,
            "activation_expiry": _utc(connector.get("activationExpiry")),
            "created_at": _utc(cluster.get("createdAt")),
        }
    )


def _is_propagation_delay(err: errors.AwsApiError) -> bool:
    if err.code == "ResourcePropagationDelayException":
        return True
    return err.code == "InvalidRequestException" and err.message.lower().startswith(PROPAGATION_MESSAGES)


def register(
    attempt: Callable[[], dict[str, Any]],
    *,
    timeout: float | None = None,
    backoff: polling.Backoff | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Call RegisterCluster, retrying while IAM or the service-linked role are still propagating."""
    timeout = PROPAGATION_TIMEOUT if timeout is None else timeout
    started = clock()
    next_interval = (backoff or PROPAGATION_BACKOFF).intervals()
    while True:
        try:
            with errors.translated_aws_errors("EKS RegisterCluster"):
                return attempt()
        except errors.AwsApiError as err:
            waited = clock() - started
            if not _is_propagation_delay(err) or waited >= timeout:
                raise
            progress.report(f"IAM is still propagating ({err.message}); retrying RegisterCluster ({waited:.0f}s)")
            sleep(min(next_interval(), timeout - waited))


class RegisteredClusterProvider(configured.ConfiguredProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(inputs.without_none(news), check_inputs(news))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        result = diff_registration(
            olds, news, now=time.time(), still_unconnected=lambda: self._status(olds) != "ACTIVE"
        )
        if "status" in (result.replaces or []):
            progress.report(
                f"registration {olds.get(CLUSTER_NAME)}: the activation expired at {olds.get('activation_expiry')} "
                "without a connection; re-registering"
            )
        return result

    def _status(self, state: Mapping[str, Any]) -> str | None:
        eks = aws.eks(state.get(REGION), self._stack_config)
        try:
            with errors.translated_aws_errors("EKS DescribeCluster"):
                return str(eks.describe_cluster(name=state[CLUSTER_NAME])["cluster"].get("status"))
        except errors.AwsApiError as err:
            if err.code == "ResourceNotFoundException":
                return None
            raise

    def create(self, props: dict[str, Any]) -> CreateResult:
        region = aws.region_of(props.get(REGION), self._stack_config)
        eks = aws.eks(region, self._stack_config)
        name = props[CLUSTER_NAME]
        request: dict[str, Any] = {
            "name": name,
            "connectorConfig": {"provider": props[CONNECTOR_PROVIDER], "roleArn": props[ROLE_ARN]},
            "clientRequestToken": client_request_token({**props, REGION: region}),
        }
        if props.get(TAGS):
            request["tags"] = dict(props[TAGS])
        progress.report(f"registering {name} with EKS in {region}")
        cluster = register(lambda: dict(eks.register_cluster(**request)["cluster"]))
        outs = outputs_of(cluster, region, props)
        progress.report(f"registered {name}: {outs.get('status')}, activation expires {outs.get('activation_expiry')}")
        return CreateResult(name, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        region = aws.region_of(props.get(REGION), self._stack_config)
        cluster = aws.describe_cluster_or_none(aws.eks(region, self._stack_config), id_)
        if cluster is None:
            return ReadResult("", {})
        if not cluster.get("connectorConfig"):
            raise errors.ClusterConnectError(
                f"{id_} in {region} is an EKS cluster, not a registered (connected) one: refusing to adopt it"
            )
        return ReadResult(id_, outputs_of(dict(cluster), region, props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # Every input replaces, so only bookkeeping such as `identity` reaches here.
        return UpdateResult({**olds, **inputs.without_none(news)})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        eks = aws.eks(props.get(REGION), self._stack_config)
        try:
            with errors.translated_aws_errors("EKS DeregisterCluster"):
                eks.deregister_cluster(name=id_)
        except errors.AwsApiError as err:
            if err.code != "ResourceNotFoundException":
                raise
        progress.report(f"deregistered {id_}")


class RegisteredCluster(pulumi.dynamic.Resource, module="eks", name="RegisteredCluster"):
    """A Kubernetes cluster registered with EKS (EKS Connector), pending until its agent connects."""

    cluster_name: pulumi.Output[str]
    region: pulumi.Output[str]
    arn: pulumi.Output[str]
    status: pulumi.Output[str]
    """PENDING until the agent connects, ACTIVE after, FAILED once the activation expired unconnected."""
    activation_id: pulumi.Output[str]
    activation_code: pulumi.Output[str]
    """Secret; only RegisterCluster returns it."""
    activation_expiry: pulumi.Output[str]
    created_at: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        connector_provider: pulumi.Input[str],
        role_arn: pulumi.Input[str],
        cluster_name: pulumi.Input[str] | None = None,
        tags: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
        region: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            CLUSTER_NAME: cluster_name if cluster_name is not None else resource_name,
            CONNECTOR_PROVIDER: connector_provider,
            ROLE_ARN: role_arn,
            TAGS: tags,
            REGION: region,
            IDENTITY: f"{pulumi.get_project()}/{pulumi.get_stack()}/{resource_name}",
            "arn": None,
            "status": None,
            "activation_id": None,
            "activation_code": None,
            "activation_expiry": None,
            "created_at": None,
        }
        secret = pulumi.ResourceOptions(additional_secret_outputs=["activation_code"])
        super().__init__(RegisteredClusterProvider(), resource_name, props, pulumi.ResourceOptions.merge(opts, secret))


# ConnectionWait ---------------------------------------------------------------------------------------

ACTIVATION_ID, TIMEOUT = "activation_id", "timeout_seconds"
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
            f"the activation expired at {_utc(expiry_at)} before the connector agent connected; "
            "run `pulumi up` again to re-register the cluster and roll the connector"
        )
    return None


def diff_wait(olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffResult:
    replaces = [key for key in WAIT_REPLACING if news.get(key) != olds.get(key)]
    if not replaces and olds.get("status") != "ACTIVE":
        replaces.append("status")  # a refresh saw it disconnected: wait again
    changed = bool(replaces) or news.get(TIMEOUT) != olds.get(TIMEOUT)
    return DiffResult(changes=changed, replaces=replaces, stables=[], delete_before_replace=False)


class ConnectionWaitProvider(configured.ConfiguredProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = [CheckFailure(key, "is required") for key in (CLUSTER_NAME, ACTIVATION_ID) if key not in news]
        if inputs.known(news, TIMEOUT) and (
            not isinstance(news[TIMEOUT], (int, float)) or isinstance(news[TIMEOUT], bool) or news[TIMEOUT] <= 0
        ):
            failures.append(CheckFailure(TIMEOUT, f"must be a positive number of seconds, got {news[TIMEOUT]!r}"))
        inputs.check_region(news, REGION, failures)
        return CheckResult(inputs.without_none(news), failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff_wait(olds, news)

    def _describe(self, props: Mapping[str, Any]) -> dict[str, Any] | None:
        eks = aws.eks(props.get(REGION), self._stack_config)
        try:
            with errors.translated_aws_errors("EKS DescribeCluster"):
                return dict(eks.describe_cluster(name=props[CLUSTER_NAME])["cluster"])
        except errors.AwsApiError as err:
            if err.code == "ResourceNotFoundException":
                return None
            raise

    def create(self, props: dict[str, Any]) -> CreateResult:
        name = props[CLUSTER_NAME]
        timeout = float(props.get(TIMEOUT) or DEFAULT_WAIT_TIMEOUT)
        try:
            cluster = polling.wait_for(
                f"connection of {name}",
                lambda: self._describe(props),
                state_of=lambda c: str(c.get("status")) if c else "GONE",
                done=lambda c: c is not None and c.get("status") == "ACTIVE",
                failure=lambda c: connection_failure(c, time.time()),
                timeout=timeout,
            )
        except errors.WaitTimeout as err:
            raise errors.WaitTimeout(
                f"connection of {name} (is the eks-connector StatefulSet running? see "
                "`kubectl -n eks-connector logs eks-connector-0 -c connector-init`)",
                err.seconds,
                err.last_state,
            ) from err
        assert cluster is not None
        return CreateResult(f"{name}/{props[ACTIVATION_ID]}", {**props, "status": cluster.get("status")})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        cluster = self._describe(props)
        if cluster is None or (cluster.get("connectorConfig") or {}).get("activationId") != props.get(ACTIVATION_ID):
            return ReadResult("", {})
        return ReadResult(id_, {**props, "status": cluster.get("status")})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**news, "status": olds.get("status")})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        pass


class ConnectionWait(pulumi.dynamic.Resource, module="eks", name="ConnectionWait"):
    """Waits, during create, until EKS reports the registered cluster ACTIVE; fails early when its
    activation expired. A new activation id (re-registration) replaces it, so it waits again."""

    status: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        cluster_name: pulumi.Input[str],
        activation_id: pulumi.Input[str],
        region: pulumi.Input[str] | None = None,
        timeout_seconds: pulumi.Input[float] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            CLUSTER_NAME: cluster_name,
            ACTIVATION_ID: activation_id,
            REGION: region,
            TIMEOUT: timeout_seconds,
            "status": None,
        }
        super().__init__(ConnectionWaitProvider(), resource_name, props, opts)

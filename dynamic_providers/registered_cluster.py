"""RegisteredCluster: an EKS Connector registration (RegisterCluster / DeregisterCluster)."""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping
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
    aws,
    configured,
    credentials,
    errors,
    inputs,
    ownership,
    progress,
    protocol,
    registrations,
)

from . import _registered_cluster_adapter

CLUSTER_NAME, REGION = registrations.CLUSTER_NAME, registrations.REGION
CONNECTOR_PROVIDER, ROLE_ARN, TAGS = "connector_provider", "role_arn", "tags"
IDENTITY, ADOPT = ownership.IDENTITY, ownership.ADOPT
PROVIDERS = ("EKS_ANYWHERE", "ANTHOS", "GKE", "AKS", "OPENSHIFT", "TANZU", "RANCHER", "EC2", "OTHER")
NAME_PATTERN = inputs.EKS_NAME
NAME_MAX = 100
# Tags are create-time: the EKS documentation contradicts itself on tagging connected clusters.
REPLACING = (CLUSTER_NAME, CONNECTOR_PROVIDER, ROLE_ARN, TAGS)


def _parseutc(value: str) -> float | None:
    """The time of an ISO 8601 timestamp as stored in the state, None when it is not one."""
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.timestamp() if parsed.tzinfo is not None else None


def check_inputs(news: Mapping[str, Any]) -> list[CheckFailure]:
    """Every rule of RegisterCluster that can be checked without a call; unknown values pass."""
    failures: list[CheckFailure] = []
    inputs.check_string(
        news,
        CLUSTER_NAME,
        failures,
        required="the name to register the cluster under",
        pattern=NAME_PATTERN,
        rule=f"{inputs.EKS_NAME_RULE} (it defaults to the resource name)",
    )
    if CONNECTOR_PROVIDER not in news:
        failures.append(CheckFailure(CONNECTOR_PROVIDER, f"is required: one of {', '.join(PROVIDERS)}"))
    elif inputs.known(news, CONNECTOR_PROVIDER) and not (
        isinstance(news[CONNECTOR_PROVIDER], str) and news[CONNECTOR_PROVIDER] in PROVIDERS
    ):
        failures.append(
            CheckFailure(
                CONNECTOR_PROVIDER,
                f"must be one of {', '.join(PROVIDERS)}{inputs.got(news[CONNECTOR_PROVIDER])}",
            )
        )
    if ROLE_ARN not in news:
        failures.append(CheckFailure(ROLE_ARN, "is required: the IAM role the connector agent assumes"))
    inputs.check_role_arn(news, ROLE_ARN, failures)
    inputs.check_tags(news, TAGS, failures)
    ownership.check_tags(news, TAGS, failures, marks=1)
    inputs.check_region(news, REGION, failures)
    credentials.check(news, failures)
    return failures


def expired_unconnected(state: Mapping[str, Any], now: float) -> bool:
    """What the stored state says: FAILED, or past its activation expiry while not ACTIVE."""
    status = state.get("status")
    if status == "FAILED":
        return True
    expiry = state.get("activation_expiry")
    expiry_at = _parseutc(expiry) if isinstance(expiry, str) else None
    return status != "ACTIVE" and expiry_at is not None and expiry_at <= now


def diff_registration(
    olds: Mapping[str, Any], news: Mapping[str, Any], *, now: float, region_now: str | None = None
) -> DiffResult:
    """Every input replaces; so does a FAILED status (an activation that expired unconnected).

    Decided from the state alone, so a preview needs no network and no AWS credentials. What that gives up:
    the state keeps the status seen at create (PENDING) until a refresh, so past the expiry it cannot tell
    a registration whose agent connected later from one that never did. Such a registration shows as an
    update (`status`) instead of a replacement: `update` records what EKS says (ACTIVE, or FAILED, which the
    next `pulumi up` replaces), so an expiry the state could not confirm costs one more `up`, never the
    re-registration of a connected cluster.

    `region_now`: where configuration (no `region` input) would register it today, when that is not where the
    state says it was made: a replacement.
    """
    replaces = [key for key in REPLACING if inputs.contains_unknown(news.get(key)) or news.get(key) != olds.get(key)]
    account_replaces, route_changes = credentials.identity_changes(olds, news)
    replaces += account_replaces
    explicit_move = inputs.known(news, REGION) and news[REGION] != olds.get(REGION)
    if inputs.is_unknown(news.get(REGION)) or explicit_move or region_now is not None:
        replaces.append(REGION)
    changes = list(dict.fromkeys([*replaces, *route_changes]))
    if not replaces and olds.get("status") == "FAILED":
        replaces.append("status")
        changes.append("status")
    elif not replaces and expired_unconnected(olds, now):
        changes.append("status")
    same_name = news.get(CLUSTER_NAME) == olds.get(CLUSTER_NAME) or inputs.is_unknown(news.get(CLUSTER_NAME))
    return DiffResult(
        changes=bool(changes),
        replaces=replaces,
        stables=[],
        delete_before_replace=bool(replaces) and same_name,
    )


def registration_request(props: Mapping[str, Any]) -> dict[str, Any]:
    """RegisterCluster's parameters but the token; the owner tag among the tags."""
    return {
        "name": props[CLUSTER_NAME],
        "connectorConfig": {"provider": props[CONNECTOR_PROVIDER], "roleArn": props[ROLE_ARN]},
        "tags": ownership.with_mark(props.get(TAGS), str(props.get(IDENTITY) or "")),
    }


def client_request_token(props: Mapping[str, Any], generation: int = 0) -> str:
    """Stable for one resource, one set of inputs and one generation, so a create retried after a crash replays
    the registration instead of colliding with it; a registration after a deregistration is the next generation."""
    request = {**registration_request(props), REGION: props.get(REGION)}
    return ownership.request_token(str(props.get(IDENTITY) or ""), request, generation)


def outputs_of(cluster: Mapping[str, Any], region: str, previous: Mapping[str, Any]) -> dict[str, Any]:
    """The resource's state from a Cluster shape; the activation code only comes from RegisterCluster."""
    connector = cluster.get("connectorConfig") or {}
    code = connector.get("activationCode")
    if code is None and previous.get("activation_id") == connector.get("activationId"):
        code = previous.get("activation_code")
    state = inputs.without_none(
        {
            CLUSTER_NAME: cluster["name"],
            CONNECTOR_PROVIDER: connector.get("provider"),
            ROLE_ARN: connector.get("roleArn"),
            TAGS: ownership.without_mark(cluster.get("tags")) or previous.get(TAGS) or None,
            REGION: region,
            IDENTITY: previous.get(IDENTITY),
            ADOPT: previous.get(ADOPT),
            "arn": cluster.get("arn"),
            "status": cluster.get("status"),
            "activation_id": connector.get("activationId"),
            "activation_code": code,
            "activation_expiry": registrations.utc(connector.get("activationExpiry")),
            "created_at": registrations.utc(cluster.get("createdAt")),
        }
    )
    return credentials.with_route(state, previous, cluster.get("arn"))


class RegisteredClusterProvider(configured.ConfiguredProvider):
    secret_keys = ("activation_code",)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(inputs.without_none(news), check_inputs(news))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        region_now = aws.moved_region(olds, news, REGION, self._stack_config)
        result = diff_registration(olds, news, now=time.time(), region_now=region_now)
        if region_now is not None:
            progress.report(aws.moved_message(f"registration {olds.get(CLUSTER_NAME)}", olds.get(REGION), region_now))
        route_line = credentials.route_message(f"registration {olds.get(CLUSTER_NAME)}", olds, news)
        if route_line:
            progress.report(route_line)
        if "status" in (result.replaces or []):
            progress.report(
                f"registration {olds.get(CLUSTER_NAME)}: EKS reported it FAILED (its activation expired at "
                f"{olds.get('activation_expiry')} without a connection); re-registering"
            )
        elif result.changes and not result.replaces and expired_unconnected(olds, time.time()):
            progress.report(
                f"registration {olds.get(CLUSTER_NAME)}: its activation expired at {olds.get('activation_expiry')} "
                "and the state has not seen it connect; `up` asks EKS, and re-registers it on the next `up` unless "
                "EKS reports it ACTIVE"
            )
        return result

    def create(self, props: dict[str, Any]) -> CreateResult:
        route = credentials.route_of(props)
        region = aws.region_of(props.get(REGION), self._stack_config, route)
        eks = aws.eks(region, self._stack_config, route)
        name = props[CLUSTER_NAME]
        progress.report(f"registering {name} with EKS in {region}")
        props = {**props, REGION: region}
        registering = _registered_cluster_adapter.Registering(
            eks,
            registration_request(props),
            lambda generation: client_request_token(props, generation),
            identity=str(props.get(IDENTITY) or ""),
            adopt_existing=ownership.adopting(props),
        )
        outs = outputs_of(protocol.create(registering).answer, region, props)
        progress.report(f"registered {name}: {outs.get('status')}, activation expires {outs.get('activation_expiry')}")
        return CreateResult(name, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        route = credentials.route_of(props)
        region = aws.region_of(props.get(REGION), self._stack_config, route)
        cluster = aws.describe_cluster_or_none(aws.eks(region, self._stack_config, route), id_)
        # A deregistration cannot be undone: for the state the registration is gone, and the next `pulumi up`
        # registers it again once EKS is done.
        if cluster is None or cluster.get("status") == "DELETING":
            return ReadResult("", {})
        if not cluster.get("connectorConfig"):
            raise errors.ClusterConnectError(
                f"{id_} in {region} is an EKS cluster, not a registered (connected) one: refusing to adopt it"
            )
        return ReadResult(id_, outputs_of(dict(cluster), region, props))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # Every input replaces, so only bookkeeping such as `identity`, another route into the same account, or an
        # expiry `diff` could not confirm from the state, reaches here.
        region = str(olds.get(REGION) or aws.region_of(news.get(REGION), self._stack_config))
        aws.verify_route(f"registration {id_}", olds, news, region, self._stack_config)
        if expired_unconnected(olds, time.time()):
            return UpdateResult(credentials.with_route(self._status_from_eks(id_, olds, news), news))
        return UpdateResult(credentials.with_route({**olds, **inputs.without_none(news)}, news))

    def _status_from_eks(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        """Record what EKS says of a registration the state shows expired: ACTIVE when its agent connected
        after the state was stored; else FAILED, which the next `pulumi up` replaces (re-registers)."""
        region = str(olds.get(REGION) or aws.region_of(news.get(REGION), self._stack_config))
        cluster = aws.describe_cluster_or_none(aws.eks(region, self._stack_config, credentials.route_of(news)), id_)
        if cluster is None:
            raise errors.ClusterConnectError(
                f"registration {id_} no longer exists in EKS ({region}): `pulumi refresh` drops it from the state "
                "and the next `pulumi up` registers it again"
            )
        outputs = {**olds, **inputs.without_none(news), **outputs_of(cluster, region, olds)}
        if outputs.get("status") != "ACTIVE":
            progress.report(
                f"registration {id_}: EKS reports it {outputs.get('status')}: its activation expired without a "
                "connection; the next `pulumi up` re-registers it"
            )
        return outputs

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        eks = aws.eks(props.get(REGION), self._stack_config, credentials.route_of(props))
        if not registrations.still_ours_to_delete(eks, id_, props.get("activation_id")):
            return
        if not registrations.deregister(eks, id_):
            return
        registrations.wait_gone(eks, id_)
        progress.report(f"deregistered {id_}")


class RegisteredCluster(pulumi.dynamic.Resource, module="eks", name="RegisteredCluster"):
    """A Kubernetes cluster registered with EKS (EKS Connector), pending until its agent connects."""

    # For type checkers only: the SDK evaluates a Resource class's annotations again for every resource it
    # registers, and these outputs need no conversion (see FargateProfile).
    if TYPE_CHECKING:
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
        adopt_existing: pulumi.Input[bool] | None = None,
        profile: pulumi.Input[str] | None = None,
        assume_roles: credentials.AssumeRoles | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`adopt_existing=True` lets the create take over an existing, connected (ACTIVE) registration of that name
        that this resource did not make, instead of failing; its activation code stays unknown. `profile` and
        `assume_roles`: whose credentials it uses (docs/guides/accounts-and-roles.md)."""
        props: dict[str, Any] = {
            CLUSTER_NAME: cluster_name if cluster_name is not None else resource_name,
            CONNECTOR_PROVIDER: connector_provider,
            ROLE_ARN: role_arn,
            REGION: region,
            IDENTITY: ownership.identity_of(f"pulumi-python:{self._resource_type_name}", resource_name, opts),
            "arn": None,
            "status": None,
            "activation_id": None,
            "activation_code": None,
            "activation_expiry": None,
            "created_at": None,
        }
        # The public outputs are keys above even when None (the SDK makes an attribute only for a key given); a None
        # never reaches the engine, so the other keys go in only with a value (each costs the SDK an Output).
        props.update(
            inputs.without_none(
                {
                    TAGS: tags,
                    ADOPT: adopt_existing,
                    **credentials.inputs_of("RegisteredCluster", resource_name, opts, profile, assume_roles),
                }
            )
        )
        secret = pulumi.ResourceOptions(additional_secret_outputs=["activation_code"])
        super().__init__(RegisteredClusterProvider(), resource_name, props, pulumi.ResourceOptions.merge(opts, secret))

"""FargateProfile: an EKS Fargate profile, immutable, one operation per cluster, honest about failures."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
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
    fargate_pods,
    inputs,
    ownership,
    polling,
    progress,
    protocol,
)
from pulumi_cluster_connect._plumbing import fargate_profiles as profiles

from . import _fargate_profile_adapter as adapter
from . import _fargate_profile_inputs as rules
from . import _fargate_profile_order as order
from ._fargate_profile_inputs import (
    ADOPT,
    AUTO_NAME_PREFIX,
    AUTO_NAMED,
    CLUSTER_NAME,
    IDENTITY,
    PROFILE_NAME,
    REGION,
    ROLE_ARN,
    SELECTORS,
    SUBNETS,
    TAGS,
    TIMEOUT,
)

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

# Outputs only; `claim`: see protocol.CLAIM_KEY. `creation_seconds`: [after, by], when the profile this
# resource created became ACTIVE, in seconds after EKS accepted the create; its deletion is expected to take about as
# long, which paces the first looks of the wait for it (a profile taken over has none).
ARN, STATUS, CLAIM, CREATION, ACCOUNT = "arn", "status", "claim", "creation_seconds", credentials.ACCOUNT
CLAIM_KEY = protocol.CLAIM_KEY

REPLACING = (CLUSTER_NAME, PROFILE_NAME, ROLE_ARN, SELECTORS, SUBNETS, REGION)
# Kept from the inputs into the outputs and the inputs `read` reports. The kubeconfig and drain_on_delete are how the
# profile's pods are reached (fargate_pods), not what the profile is: they change in place, never replace.
BOOKKEEPING = (AUTO_NAMED, AUTO_NAME_PREFIX, TIMEOUT, IDENTITY, ADOPT, *credentials.ROUTE_KEYS, *fargate_pods.KEYS)

# Real creations take minutes and deletions sometimes over 20 (aws/containers-roadmap#1211).
DEFAULT_TIMEOUT = 30 * 60.0


def _split_id(id_: str) -> tuple[str, str]:
    cluster, sep, name = id_.partition("/")
    if not sep or not cluster or not name or "/" in name:
        raise errors.ClusterConnectError(f"a FargateProfile id is 'cluster/profile', got {id_!r}")
    return cluster, name


def _interval(value: Any) -> tuple[float, float] | None:
    """A `creation_seconds` from state as (after, by), None when absent or not of that form (an edited state)."""
    numbers = isinstance(value, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    if not numbers or len(value) != 2:
        return None
    return (float(value[0]), float(value[1])) if 0 <= value[0] < value[1] else None


# --- provider -----------------------------------------------------------------------------------


class FargateProfileProvider(configured.ConfiguredProvider):
    """Creates, replaces, tags and deletes one Fargate profile, waiting out the cluster's other operations."""

    secret_keys = (fargate_pods.KUBECONFIG,)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        checked = dict(news)
        inputs.check_string(
            checked,
            CLUSTER_NAME,
            failures,
            required="the EKS cluster's name",
            pattern=rules.CLUSTER,
            rule=inputs.EKS_NAME_RULE,
        )
        if ROLE_ARN not in checked or checked[ROLE_ARN] is None:
            failures.append(CheckFailure(ROLE_ARN, "is required: the IAM role the profile's pods run with"))
        inputs.check_role_arn(checked, ROLE_ARN, failures)
        rules.check_selectors(checked, failures)
        rules.check_subnets(checked, failures)
        inputs.check_tags(checked, TAGS, failures)
        inputs.check_region(checked, REGION, failures)
        inputs.check_timeout(checked, failures)
        credentials.check(checked, failures)
        ownership.check_tags(checked, TAGS, failures, marks=2)
        fargate_pods.check(checked, failures)
        if PROFILE_NAME not in checked or checked[PROFILE_NAME] is None:
            if olds.get(AUTO_NAMED) and inputs.known(olds, PROFILE_NAME) and rules.same_basis(olds, checked):
                checked[PROFILE_NAME] = olds[PROFILE_NAME]  # kept through an alias or a stack rename
            else:
                checked[PROFILE_NAME] = rules.auto_name(checked)
            checked[AUTO_NAMED] = True
        else:
            checked.pop(AUTO_NAMED, None)
        rules.check_name(checked, failures)
        if SELECTORS in checked:
            checked[SELECTORS] = rules.normalised_selectors(checked[SELECTORS])
        return CheckResult(inputs.without_none(checked), failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = []
        what = f"Fargate profile {olds.get(PROFILE_NAME)} on cluster {olds.get(CLUSTER_NAME)}"
        region_now = aws.moved_region(olds, news, REGION, self._stack_config)
        if region_now is not None:
            changed.append(REGION)
            progress.report(aws.moved_message(what, olds.get(REGION), region_now))
        for key in (*REPLACING, TAGS, TIMEOUT, *fargate_pods.KEYS):
            if key in (REGION, SUBNETS) and news.get(key) is None:
                # Left to the defaults when created (the region from config; EKS picks the cluster's private
                # subnets): only an explicit value that differs replaces.
                continue
            if inputs.is_unknown(news.get(key)) or not rules.same(key, olds.get(key), news.get(key)):
                changed.append(key)
        moved, route_changes = credentials.identity_changes(olds, news)
        if route_line := credentials.route_message(what, olds, news):
            progress.report(route_line)
        replaces = [key for key in changed if key in REPLACING] + moved
        # A fixed name would collide with itself: delete first. An auto-name is regenerated on replacement, so
        # the new profile is created first and pods keep a profile meanwhile.
        same_name = inputs.is_unknown(news.get(PROFILE_NAME)) or news.get(PROFILE_NAME) == olds.get(PROFILE_NAME)
        delete_first = bool(replaces) and not news.get(AUTO_NAMED) and same_name
        return DiffResult(
            changes=bool(changed + route_changes),
            replaces=replaces,
            stables=[k for k in (CLUSTER_NAME, REGION) if k not in changed],
            delete_before_replace=delete_first,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        region, eks = aws.located(props.get(REGION), self._stack_config, props)
        cluster, name = str(props[CLUSTER_NAME]), str(props[PROFILE_NAME])
        what = f"Fargate profile {name} on cluster {cluster}"
        timeout = inputs.timeout_of(props, DEFAULT_TIMEOUT)
        deadline = time.monotonic() + timeout
        creation: list[float] = []
        creating = adapter.ProfileCreation(eks, props, what, deadline)
        with profiles.one_operation_per_cluster(region, cluster):
            generation = 0
            while True:
                outcome = protocol.create(creating, generation)
                made = outcome.made  # else taken over: its wait began midway, and teaches the pacing nothing
                try:
                    profile = self._wait_active(
                        eks,
                        (cluster, name),
                        what,
                        profiles.left(deadline),
                        pace=profiles.CREATE_PACE if made else profiles.JOINED_PACE,
                        first_look=adapter.confirm_made(outcome.answer) if made else None,
                        took=(lambda after, by: creation.extend((round(after, 2), round(by, 2)))) if made else None,
                    )
                except protocol.Replayed:
                    if outcome.generation >= protocol.MAX_GENERATIONS:
                        raise protocol.kept_changing(what) from None
                    generation = outcome.generation + 1
                    continue
                except errors.LifecycleFailed as failed:
                    raise self._failed_creation(eks, (cluster, name), what, failed, timeout) from failed
                except errors.ClusterConnectError as err:
                    raise protocol.left_in_place(err, what, "EKS") from err
                return CreateResult(f"{cluster}/{name}", self._outputs(profile, region, props, creation or None))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        cluster, name = _split_id(id_)
        region, eks = aws.located(props.get(REGION), self._stack_config, props)
        profile = profiles.find(eks, cluster, name)
        if profile is None:
            return ReadResult("", {})
        outputs = self._outputs(profile, region, props, props.get(CREATION))
        # What was left to defaults (region, the subnets EKS picked) stays out of the inputs, as the user wrote it.
        read_inputs = {
            k: v
            for k, v in outputs.items()
            if k not in (ARN, STATUS, CLAIM, CREATION, ACCOUNT) and (k not in (REGION, SUBNETS) or k in props)
        }
        read_inputs.update({k: props[k] for k in BOOKKEEPING if k in props})
        return ReadResult(id_, outputs, read_inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        cluster, name = _split_id(id_)
        region = str(olds.get(REGION) or aws.region_of(news.get(REGION), self._stack_config))
        aws.verify_route(f"Fargate profile {name} on cluster {cluster}", olds, news, region, self._stack_config)
        eks = aws.eks(region, self._stack_config, credentials.route_of(news))
        arn = str(olds[ARN])
        profiles.retag(eks, arn, dict(olds.get(TAGS) or {}), dict(news.get(TAGS) or {}))
        profile = profiles.find(eks, cluster, name)
        if profile is None:
            raise errors.ClusterConnectError(f"Fargate profile {name} on cluster {cluster} no longer exists")
        return UpdateResult(self._outputs(profile, region, news, olds.get(CREATION)))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        cluster, name = _split_id(id_)
        region, eks = aws.located(props.get(REGION), self._stack_config, props)
        what = f"Fargate profile {name} on cluster {cluster}"
        timeout = inputs.timeout_of(props, DEFAULT_TIMEOUT)
        with profiles.one_operation_per_cluster(region, cluster):
            profile = profiles.find_patiently(eks, cluster, name, what, timeout)
            if profile is None:
                return
            claim = (profile.get("tags") or {}).get(CLAIM_KEY)
            if claim != props.get(CLAIM):
                # A create of the same name (`pulumi up --replace`, a taint) adopted it: it is the replacement's now.
                progress.report(f"{what} now belongs to the resource that replaced this one: not deleting it")
                return
        # Its pods first, outside the lock: a drain is no EKS operation, the cluster's other profiles go on meanwhile.
        fargate_pods.drain_before_delete(eks, profile, props, timeout)
        with profiles.one_operation_per_cluster(region, cluster):
            self._delete_and_wait(eks, (cluster, name), what, timeout, expected=_interval(props.get(CREATION)))

    def _failed_creation(
        self, eks: EKSClient, profile: tuple[str, str], what: str, failed: errors.LifecycleFailed, timeout: float
    ) -> errors.LifecycleFailed:
        """The error for a profile that reached CREATE_FAILED, after deleting it; truthful when that fails too."""
        try:
            self._delete_and_wait(eks, profile, f"failed {what}", timeout)
        except errors.ClusterConnectError as err:
            return errors.LifecycleFailed(
                what,
                failed.state,
                f"{failed.reason}. Deleting the failed profile failed too ({err}): it is left in place, marked "
                "as this resource's, and the next `pulumi up` deletes it and tries again",
            )
        return errors.LifecycleFailed(
            what, failed.state, f"{failed.reason}. The failed profile was deleted, so the next `pulumi up` tries again"
        )

    # --- the waits, seams for bench/fargate.py's baseline (botocore's waiters) ----------------------

    def _wait_active(
        self,
        eks: EKSClient,
        profile: tuple[str, str],
        what: str,
        timeout: float,
        *,
        pace: polling.Lifecycle,
        first_look: Callable[[Mapping[str, Any] | None], None] | None,
        took: Callable[[float, float], None] | None,
    ) -> dict[str, Any]:
        cluster, name = profile
        return profiles.wait_active(eks, cluster, name, what, timeout, pace=pace, first_look=first_look, took=took)

    def _delete_and_wait(
        self,
        eks: EKSClient,
        profile: tuple[str, str],
        what: str,
        timeout: float,
        *,
        expected: tuple[float, float] | None = None,
    ) -> None:
        cluster, name = profile
        profiles.delete_and_wait(eks, cluster, name, what, timeout, expected=expected)

    @staticmethod
    def _outputs(
        profile: Mapping[str, Any], region: str, props: Mapping[str, Any], creation: Any = None
    ) -> dict[str, Any]:
        tags = dict(profile.get("tags") or {})
        outputs: dict[str, Any] = {
            CLUSTER_NAME: profile["clusterName"],
            PROFILE_NAME: profile["fargateProfileName"],
            ROLE_ARN: profile["podExecutionRoleArn"],
            SELECTORS: rules.normalised_selectors(
                [
                    {"namespace": s.get("namespace"), "labels": s.get("labels") or {}}
                    for s in profile.get("selectors") or []
                ]
            ),
            SUBNETS: list(profile.get("subnets") or []),
            TAGS: adapter.user_tags(tags),
            REGION: region,
            ARN: profile["fargateProfileArn"],
            STATUS: profile["status"],
        }
        if tags.get(CLAIM_KEY) is not None:
            outputs[CLAIM] = tags[CLAIM_KEY]
        if _interval(creation) is not None:
            outputs[CREATION] = list(creation)
        for key in BOOKKEEPING:
            if props.get(key) is not None:
                outputs[key] = props[key]
        return credentials.with_route(outputs, props, outputs[ARN])


# --- resource -----------------------------------------------------------------------------------


class FargateProfile(pulumi.dynamic.Resource, module="eks", name="FargateProfile"):
    """An EKS Fargate profile. Any change but tags replaces it; EKS runs one profile operation per cluster."""

    # For type checkers only: the SDK evaluates a Resource class's annotations again for every resource it
    # registers (0.5 ms each here; a fleet declares many profiles), and these plain outputs need no conversion.
    if TYPE_CHECKING:
        cluster_name: pulumi.Output[str]
        fargate_profile_name: pulumi.Output[str]
        pod_execution_role_arn: pulumi.Output[str]
        selectors: pulumi.Output[list[dict[str, Any]]]
        subnet_ids: pulumi.Output[list[str]]
        tags: pulumi.Output[dict[str, str]]
        region: pulumi.Output[str]
        arn: pulumi.Output[str]
        status: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        cluster_name: pulumi.Input[str],
        pod_execution_role_arn: pulumi.Input[str],
        selectors: pulumi.Input[list[pulumi.Input[Mapping[str, Any]]]],
        fargate_profile_name: pulumi.Input[str] | None = None,
        subnet_ids: pulumi.Input[list[pulumi.Input[str]]] | None = None,
        tags: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
        region: pulumi.Input[str] | None = None,
        timeout_seconds: pulumi.Input[float] | None = None,
        adopt_existing: pulumi.Input[bool] | None = None,
        profile: pulumi.Input[str] | None = None,
        assume_roles: credentials.AssumeRoles | None = None,
        kubeconfig: pulumi.Input[str | Mapping[str, Any]] | None = None,
        drain_on_delete: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`fargate_profile_name` defaults to the resource name plus a suffix derived from the resource and the
        inputs a replacement changes (so a replacement creates the new profile before deleting the old one).
        `selectors`: [{"namespace", "labels"}]. `adopt_existing=True` lets the create take over an existing profile of
        that name that matches the inputs, instead of failing. `profile`, `assume_roles`: whose credentials it uses.
        `kubeconfig` (a secret) of the EKS cluster: the old profile's pods are evicted, PodDisruptionBudgets
        honoured, before a replacement deletes it, and before any deletion with `drain_on_delete=True`
        (docs/guides/fargate-pods.md)."""
        props: dict[str, Any] = {
            CLUSTER_NAME: cluster_name,
            PROFILE_NAME: fargate_profile_name,
            ROLE_ARN: pod_execution_role_arn,
            SELECTORS: selectors,
            SUBNETS: subnet_ids,
            TAGS: tags,
            REGION: region,
            IDENTITY: ownership.identity_of(f"pulumi-python:{self._resource_type_name}", resource_name, opts),
            ARN: None,
            STATUS: None,
        }
        # The public outputs are keys above even when None: the SDK makes an attribute only for a key given. A None
        # never reaches the engine, so the other keys go in only with a value: each key costs the SDK an Output, its
        # resolvers and tasks per resource, which a fleet's preview pays for.
        props.update(
            inputs.without_none(
                {
                    TIMEOUT: timeout_seconds,
                    AUTO_NAME_PREFIX: resource_name if fargate_profile_name is None else None,
                    ADOPT: adopt_existing,
                    **credentials.inputs_of("FargateProfile", resource_name, opts, profile, assume_roles),
                    fargate_pods.KUBECONFIG: None if kubeconfig is None else pulumi.Output.secret(kubeconfig),
                    fargate_pods.DRAIN_ON_DELETE: drain_on_delete,
                }
            )
        )
        if kubeconfig is not None:
            secret = pulumi.ResourceOptions(additional_secret_outputs=[fargate_pods.KUBECONFIG])
            opts = pulumi.ResourceOptions.merge(opts, secret)
        after = order.after_the_previous_profile(self, cluster_name, region)
        if after is not None:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=after))
        super().__init__(FargateProfileProvider(), resource_name, props, opts)

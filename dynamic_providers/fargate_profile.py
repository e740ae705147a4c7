"""FargateProfile: an EKS Fargate profile, immutable, one operation per cluster, honest about failures."""

# Longer than 400 lines because one resource's whole story reads top to bottom here (input rules, diff,
# lifecycle, waits, the Resource), as STYLE.md lays out; the shared parts already live in _plumbing.

from __future__ import annotations

import re
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)
from pulumi.output import Unknown

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
)

from . import fargate_takeover

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

T = TypeVar("T")

# Inputs
CLUSTER_NAME, PROFILE_NAME, ROLE_ARN = "cluster_name", "fargate_profile_name", "pod_execution_role_arn"
SELECTORS, SUBNETS, TAGS, REGION = "selectors", "subnet_ids", "tags", "region"
TIMEOUT = inputs.TIMEOUT
# Set by the Resource and by check for auto-naming, kept in state so a re-check keeps the same name.
AUTO_NAME_PREFIX, AUTO_NAMED = "auto_name_prefix", "auto_named"
IDENTITY, ADOPT = ownership.IDENTITY, ownership.ADOPT
# Outputs only; `claim`: see fargate_takeover.CLAIM_KEY. `creation_seconds`: [after, by], when the profile this
# resource created became ACTIVE, in seconds after EKS accepted the create; its deletion is expected to take about as
# long, which paces the first looks of the wait for it (a profile taken over has none).
ARN, STATUS, CLAIM, CREATION, ACCOUNT = "arn", "status", "claim", "creation_seconds", credentials.ACCOUNT
CLAIM_KEY = fargate_takeover.CLAIM_KEY

REPLACING = (CLUSTER_NAME, PROFILE_NAME, ROLE_ARN, SELECTORS, SUBNETS, REGION)
# What an auto-name is derived from (besides the resource's stable key): what a replacement changes.
NAME_BASIS = (CLUSTER_NAME, ROLE_ARN, SELECTORS, SUBNETS, REGION)
# Kept from the inputs into the outputs and the inputs `read` reports. The kubeconfig and drain_on_delete are how the
# profile's pods are reached (fargate_pods), not what the profile is: they change in place, never replace.
BOOKKEEPING = (AUTO_NAMED, AUTO_NAME_PREFIX, TIMEOUT, IDENTITY, ADOPT, *credentials.ROUTE_KEYS, *fargate_pods.KEYS)
MAX_SELECTORS, MAX_LABELS = 5, 5
RESERVED_PREFIX = "eks-"
NAME = CLUSTER = inputs.EKS_NAME
SUBNET = re.compile(r"^subnet-[0-9A-Za-z]+$")
NAME_MAX = 100

# Real creations take minutes and deletions sometimes over 20 (aws/containers-roadmap#1211).
DEFAULT_TIMEOUT = 30 * 60.0
# How long a ResourceInUse from outside this process (another stack, a cluster update) is waited out.
DEFAULT_BUSY_TIMEOUT = 15 * 60.0
# Profile operations of one kind take about the same time (minutes on EKS, seconds in the sandbox): later waits
# look where the first ones ended (pacing), so most cost one or two DescribeFargateProfile calls; the first looks
# every 0.7 s (then every 5% of the time waited), about ten looks for a 7 s sandbox operation. A deletion looks
# first where the profile's creation ended (CREATION).
CREATE_PACE = polling.Lifecycle(kind="EKS Fargate profile creation", floor=0.7)
DELETE_PACE = polling.Lifecycle(kind="EKS Fargate profile deletion", floor=0.7)
# A profile this run did not start (taken over after a crash, or being deleted) teaches nothing of how long one takes.
JOINED_PACE = polling.Lifecycle(floor=0.65, look_at_start=True)
BUSY_RETRY = polling.Backoff(first=1.0, factor=1.5, cap=10.0)

_cluster_locks: dict[tuple[str, str], threading.Lock] = {}
_cluster_locks_guard = threading.Lock()


# --- inputs -------------------------------------------------------------------------------------


def _check_name(props: Mapping[str, Any], failures: list[CheckFailure]) -> None:
    if not inputs.known(props, PROFILE_NAME):
        return
    name = props[PROFILE_NAME]
    if not isinstance(name, str):
        failures.append(CheckFailure(PROFILE_NAME, f"must be a string{inputs.got(name)}"))
    elif name.lower().startswith(RESERVED_PREFIX):
        failures.append(CheckFailure(PROFILE_NAME, f"must not start with {RESERVED_PREFIX!r}, which EKS reserves"))
    elif not NAME.match(name):
        failures.append(CheckFailure(PROFILE_NAME, f"must be {inputs.EKS_NAME_RULE}"))


def _check_labels(labels: Any, where: str, failures: list[CheckFailure]) -> None:
    """Labels are a map of strings, as Kubernetes and EKS take them; values may still be unknown."""
    if labels is None or inputs.is_unknown(labels):
        return
    if not isinstance(labels, Mapping):
        failures.append(CheckFailure(SELECTORS, f"{where}.labels must be a map of strings{inputs.got(labels)}"))
    elif len(labels) > MAX_LABELS:
        failures.append(
            CheckFailure(SELECTORS, f"{where}.labels: at most {MAX_LABELS} labels are allowed, got {len(labels)}")
        )
    elif not all(isinstance(v, str) or inputs.is_unknown(v) for v in labels.values()):
        failures.append(CheckFailure(SELECTORS, f"{where}.labels must map each label to a string"))


def _check_selectors(props: Mapping[str, Any], failures: list[CheckFailure]) -> None:
    if SELECTORS not in props or props[SELECTORS] is None:
        failures.append(CheckFailure(SELECTORS, "at least one selector (namespace, optional labels) is required"))
        return
    selectors = props[SELECTORS]
    if inputs.is_unknown(selectors):
        return
    if not isinstance(selectors, list) or not selectors:
        failures.append(
            CheckFailure(
                SELECTORS,
                f"must be a non-empty list of {{namespace, labels}} selectors{inputs.got(selectors)}",
            )
        )
        return
    if len(selectors) > MAX_SELECTORS:
        failures.append(CheckFailure(SELECTORS, f"at most {MAX_SELECTORS} selectors are allowed, got {len(selectors)}"))
    for index, selector in enumerate(selectors):
        where = f"selectors[{index}]"
        if inputs.is_unknown(selector):
            continue
        if not isinstance(selector, Mapping):
            failures.append(
                CheckFailure(SELECTORS, f"{where} must be a map with namespace and labels{inputs.got(selector)}")
            )
            continue
        unexpected = sorted(str(key)[:64] for key in set(selector) - {"namespace", "labels"})
        if unexpected:
            failures.append(CheckFailure(SELECTORS, f"{where} has unknown keys {unexpected} (use namespace, labels)"))
        namespace = selector.get("namespace")
        if not inputs.is_unknown(namespace) and (not isinstance(namespace, str) or not namespace):
            failures.append(CheckFailure(SELECTORS, f"{where}.namespace is required: a non-empty string"))
        _check_labels(selector.get("labels"), where, failures)


def _check_subnets(props: Mapping[str, Any], failures: list[CheckFailure]) -> None:
    if not inputs.known(props, SUBNETS):
        return
    subnets = props[SUBNETS]
    if not isinstance(subnets, list):
        failures.append(CheckFailure(SUBNETS, f"must be a list of subnet IDs{inputs.got(subnets)}"))
        return
    for index, subnet in enumerate(subnets):
        if not inputs.is_unknown(subnet) and (not isinstance(subnet, str) or not SUBNET.match(subnet)):
            failures.append(
                CheckFailure(SUBNETS, f"subnet_ids[{index}] is not a subnet ID (subnet-...){inputs.got(subnet)}")
            )


def _auto_name(props: Mapping[str, Any]) -> Any:
    """The name a create will really ask for, derived from the resource's stable key and what a replacement
    changes; unknown in a preview that does not know all of that yet."""
    if any(inputs.contains_unknown(props.get(key)) for key in (*NAME_BASIS, IDENTITY)):
        return Unknown()  # type: ignore[no-untyped-call]
    prefix = props.get(AUTO_NAME_PREFIX)
    prefix = prefix if isinstance(prefix, str) else "fargate"
    if prefix.lstrip("-_").lower().startswith(RESERVED_PREFIX):
        prefix = f"profile-{prefix}"
    basis = [_normalised_selectors(props.get(k)) if k == SELECTORS else props.get(k) for k in NAME_BASIS]
    basis[NAME_BASIS.index(SUBNETS)] = _as_set(props.get(SUBNETS))
    return ownership.derived_name(prefix, str(props.get(IDENTITY) or ""), basis, NAME_MAX)


def _same_basis(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    return all(_same(key, olds.get(key), news.get(key)) for key in NAME_BASIS)


def _normalised_selectors(selectors: Any) -> Any:
    """Selectors as EKS reports them (labels always a map), so inputs and outputs compare equal."""
    if not isinstance(selectors, list):
        return selectors
    result = []
    for selector in selectors:
        labels = selector.get("labels") if isinstance(selector, Mapping) else None
        if isinstance(selector, Mapping) and (labels is None or isinstance(labels, Mapping)):
            result.append({**selector, "labels": dict(labels or {})})
        else:
            result.append(selector)
    return result


def _as_set(subnets: Any) -> Any:
    """Subnet order does not matter to EKS; anything but a list of strings compares as it is."""
    if isinstance(subnets, list) and all(isinstance(s, str) for s in subnets):
        return sorted(subnets)
    return subnets if subnets is not None else []


def _same(key: str, old: Any, new: Any) -> bool:
    """Whether `new` is known to equal `old`; a value unknown anywhere inside (preview) may differ."""
    if inputs.contains_unknown(new):
        return False
    if key == SUBNETS:
        return bool(_as_set(old) == _as_set(new))
    if key == TAGS:
        return bool((old or {}) == (new or {}))
    if key == SELECTORS:
        return bool(_normalised_selectors(old) == _normalised_selectors(new))
    return bool(old == new)


def _health_message(profile: Mapping[str, Any]) -> str | None:
    issues = (profile.get("health") or {}).get("issues") or []
    lines = []
    for issue in issues:
        resources = issue.get("resourceIds") or []
        on = f" (resources: {', '.join(resources)})" if resources else ""
        lines.append(f"{issue.get('code', 'Unknown')}: {issue.get('message', '')}{on}")
    return "; ".join(lines) or None


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


@contextmanager
def _one_operation_per_cluster(region: str, cluster: str) -> Iterator[None]:
    """EKS allows one Fargate profile operation per cluster. The engine runs them one at a time (see
    `_after_the_previous_profile`), so this lock covers what it does not order: deletes from an older state."""
    with _cluster_locks_guard:
        lock = _cluster_locks.setdefault((region, cluster), threading.Lock())
    with lock:
        yield


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
            pattern=CLUSTER,
            rule=inputs.EKS_NAME_RULE,
        )
        if ROLE_ARN not in checked or checked[ROLE_ARN] is None:
            failures.append(CheckFailure(ROLE_ARN, "is required: the IAM role the profile's pods run with"))
        inputs.check_role_arn(checked, ROLE_ARN, failures)
        _check_selectors(checked, failures)
        _check_subnets(checked, failures)
        inputs.check_tags(checked, TAGS, failures)
        inputs.check_region(checked, REGION, failures)
        inputs.check_timeout(checked, failures)
        credentials.check(checked, failures)
        ownership.check_tags(checked, TAGS, failures, marks=2)
        fargate_pods.check(checked, failures)
        if PROFILE_NAME not in checked or checked[PROFILE_NAME] is None:
            if olds.get(AUTO_NAMED) and inputs.known(olds, PROFILE_NAME) and _same_basis(olds, checked):
                checked[PROFILE_NAME] = olds[PROFILE_NAME]  # kept through an alias or a stack rename
            else:
                checked[PROFILE_NAME] = _auto_name(checked)
            checked[AUTO_NAMED] = True
        else:
            checked.pop(AUTO_NAMED, None)
        _check_name(checked, failures)
        if SELECTORS in checked:
            checked[SELECTORS] = _normalised_selectors(checked[SELECTORS])
        return CheckResult(inputs.without_none(checked), failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = []
        region_now = aws.moved_region(olds, news, REGION, self._stack_config)
        if region_now is not None:
            changed.append(REGION)
            what = f"Fargate profile {olds.get(PROFILE_NAME)} on cluster {olds.get(CLUSTER_NAME)}"
            progress.report(aws.moved_message(what, olds.get(REGION), region_now))
        for key in (*REPLACING, TAGS, TIMEOUT, *fargate_pods.KEYS):
            if key in (REGION, SUBNETS) and news.get(key) is None:
                # Left to the defaults when created (the region from config; EKS picks the cluster's private
                # subnets): only an explicit value that differs replaces.
                continue
            if inputs.is_unknown(news.get(key)) or not _same(key, olds.get(key), news.get(key)):
                changed.append(key)
        moved, route_changes = credentials.identity_changes(olds, news)
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
        with _one_operation_per_cluster(region, cluster):
            generation = 0
            while True:
                made = fargate_takeover.Creation(self, eks, props, what, deadline).run(generation)
                try:
                    profile = self._wait_active(
                        eks,
                        cluster,
                        name,
                        what,
                        fargate_takeover.left(deadline),
                        pace=CREATE_PACE if made.arn else JOINED_PACE,
                        made_arn=made.arn,
                        took=(lambda after, by: creation.extend((round(after, 2), round(by, 2)))) if made.arn else None,
                    )
                except fargate_takeover.ReplayedAnswer:
                    if made.generation >= fargate_takeover.MAX_GENERATIONS:
                        raise fargate_takeover.kept_changing(what) from None
                    generation = made.generation + 1
                    continue
                except errors.LifecycleFailed as failed:
                    raise self._failed_creation(eks, (cluster, name), what, failed, timeout) from failed
                except errors.ClusterConnectError as err:
                    raise fargate_takeover.left_in_place(err, what) from err
                return CreateResult(f"{cluster}/{name}", self._outputs(profile, region, props, creation or None))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        cluster, name = _split_id(id_)
        region, eks = aws.located(props.get(REGION), self._stack_config, props)
        profile = self._describe(eks, cluster, name)
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
        old_tags, new_tags = dict(olds.get(TAGS) or {}), dict(news.get(TAGS) or {})
        removed = sorted(set(old_tags) - set(new_tags))
        changed = {k: v for k, v in new_tags.items() if old_tags.get(k) != v}
        if removed:
            eks.untag_resource(resourceArn=arn, tagKeys=removed)
        if changed:
            eks.tag_resource(resourceArn=arn, tags=changed)
        profile = self._describe(eks, cluster, name)
        if profile is None:
            raise errors.ClusterConnectError(f"Fargate profile {name} on cluster {cluster} no longer exists")
        return UpdateResult(self._outputs(profile, region, news, olds.get(CREATION)))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        cluster, name = _split_id(id_)
        region, eks = aws.located(props.get(REGION), self._stack_config, props)
        what = f"Fargate profile {name} on cluster {cluster}"
        timeout = inputs.timeout_of(props, DEFAULT_TIMEOUT)
        with _one_operation_per_cluster(region, cluster):
            profile = aws.patiently(lambda: self._describe(eks, cluster, name), f"describe {what}", timeout)
            if profile is None:
                return
            claim = (profile.get("tags") or {}).get(CLAIM_KEY)
            if claim != props.get(CLAIM):
                # A create of the same name (`pulumi up --replace`, a taint) adopted it: it is the replacement's now.
                progress.report(f"{what} now belongs to the resource that replaced this one: not deleting it")
                return
        # Its pods first, outside the lock: a drain is no EKS operation, the cluster's other profiles go on meanwhile.
        fargate_pods.drain_before_delete(eks, profile, props, timeout)
        with _one_operation_per_cluster(region, cluster):
            self._delete_and_wait(eks, cluster, name, what, timeout, expected=_interval(props.get(CREATION)))

    def _failed_creation(
        self, eks: EKSClient, profile: tuple[str, str], what: str, failed: errors.LifecycleFailed, timeout: float
    ) -> errors.LifecycleFailed:
        """The error for a profile that reached CREATE_FAILED, after deleting it; truthful when that fails too."""
        cluster, name = profile
        try:
            self._delete_and_wait(eks, cluster, name, f"failed {what}", timeout)
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

    # --- lifecycle helpers -----------------------------------------------------------------------

    def _describe(self, eks: EKSClient, cluster: str, name: str) -> dict[str, Any] | None:
        """The profile as EKS reports it, None when it (or its cluster) does not exist."""
        return aws.find(
            lambda: dict(eks.describe_fargate_profile(clusterName=cluster, fargateProfileName=name)["fargateProfile"])
        )

    def describe_patiently(
        self, eks: EKSClient, cluster: str, name: str, what: str, deadline: float, *, accepted: bool = False
    ) -> dict[str, Any] | None:
        """`_describe` through throttling and server faults: what it says decides the fate of a profile made.
        `accepted`: EKS took the operation this look follows, so an unreachable endpoint is waited out too."""
        return aws.patiently(
            lambda: self._describe(eks, cluster, name),
            f"describe {what}",
            fargate_takeover.left(deadline),
            accepted=accepted,
        )

    def _when_cluster_free(self, action: str, call: Callable[[], T], timeout: float, operation: str) -> T:
        """Run `call`, waiting out ResourceInUse caused outside this process, for a bounded time."""
        deadline = time.monotonic() + min(timeout, DEFAULT_BUSY_TIMEOUT)
        next_interval = BUSY_RETRY.intervals()
        while True:
            try:
                return call()
            except errors.AwsApiError as err:
                if err.code != "ResourceInUseException" or "already exists" in err.message:
                    raise
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise errors.AwsApiError(
                        operation,
                        err.code,
                        f"{err.message} (still busy after waiting to {action})",
                        err.status,
                    ) from err
                progress.report(f"{action}: cluster busy, retrying: {err.message}")
                time.sleep(min(next_interval(), remaining))

    def _wait_active(
        self,
        eks: EKSClient,
        cluster: str,
        name: str,
        what: str,
        timeout: float,
        *,
        pace: polling.Lifecycle = CREATE_PACE,
        made_arn: str | None = None,
        took: Callable[[float, float], None] | None = None,
    ) -> dict[str, Any]:
        """Wait until the profile is ACTIVE. With `made_arn` (this run's create answered with it), the first look
        also confirms the answer was for a profile that exists (see fargate_takeover.ReplayedAnswer): one look
        instead of a describe right after the create."""
        deadline = time.monotonic() + timeout
        unconfirmed = made_arn

        def describe() -> dict[str, Any]:
            nonlocal unconfirmed
            profile = self.describe_patiently(eks, cluster, name, what, deadline, accepted=True)
            if unconfirmed is not None:
                if profile is None or profile.get("fargateProfileArn") != unconfirmed:
                    raise fargate_takeover.ReplayedAnswer(what)
                unconfirmed = None
            if profile is None:
                raise errors.ClusterConnectError(f"{what} disappeared while it was being created")
            return profile

        return polling.wait_for(
            what,
            describe,
            state_of=lambda p: str(p.get("status", "")),
            done=lambda p: p.get("status") == "ACTIVE",
            failure=lambda p: (
                (_health_message(p) or "no health issues reported") if p.get("status") == "CREATE_FAILED" else None
            ),
            timeout=timeout,
            backoff=pace,
            took=took,
        )

    def wait_gone(
        self,
        eks: EKSClient,
        cluster: str,
        name: str,
        what: str,
        timeout: float,
        *,
        joined: bool = False,
        expected: tuple[float, float] | None = None,
    ) -> None:
        """Wait until the profile is gone; `joined`: this run did not start the deletion (nothing to learn);
        `expected`: when the deletion should end, in seconds (see CREATION)."""
        deadline = time.monotonic() + timeout
        polling.wait_for(
            f"{what} deletion",
            lambda: self.describe_patiently(eks, cluster, name, what, deadline, accepted=True),
            state_of=lambda p: "GONE" if p is None else str(p.get("status", "")),
            done=lambda p: p is None,
            failure=lambda p: (
                (_health_message(p) or "no health issues reported")
                if p is not None and p.get("status") == "DELETE_FAILED"
                else None
            ),
            timeout=timeout,
            backoff=JOINED_PACE if joined else DELETE_PACE,
            expected=expected,
        )

    def _delete_and_wait(
        self,
        eks: EKSClient,
        cluster: str,
        name: str,
        what: str,
        timeout: float,
        *,
        expected: tuple[float, float] | None = None,
    ) -> None:
        def start_delete() -> bool:
            try:
                eks.delete_fargate_profile(clusterName=cluster, fargateProfileName=name)
            except errors.AwsApiError as err:
                if err.code == "ResourceNotFoundException":
                    return False
                raise
            return True

        if not self._when_cluster_free(f"delete {what}", start_delete, timeout, "EKS DeleteFargateProfile"):
            return
        self.wait_gone(eks, cluster, name, what, timeout, expected=expected)

    @staticmethod
    def _outputs(
        profile: Mapping[str, Any], region: str, props: Mapping[str, Any], creation: Any = None
    ) -> dict[str, Any]:
        tags = dict(profile.get("tags") or {})
        outputs: dict[str, Any] = {
            CLUSTER_NAME: profile["clusterName"],
            PROFILE_NAME: profile["fargateProfileName"],
            ROLE_ARN: profile["podExecutionRoleArn"],
            SELECTORS: _normalised_selectors(
                [
                    {"namespace": s.get("namespace"), "labels": s.get("labels") or {}}
                    for s in profile.get("selectors") or []
                ]
            ),
            SUBNETS: list(profile.get("subnets") or []),
            TAGS: fargate_takeover.user_tags(tags),
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
        after = _after_the_previous_profile(self, cluster_name, region)
        if after is not None:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=after))
        super().__init__(FargateProfileProvider(), resource_name, props, opts)


# Program side: the profile declared last for each (region, cluster) in this program run (one per engine monitor,
# so an Automation API process running several programs keeps them apart). Each new profile of that cluster depends
# on it, so the engine runs one profile operation per cluster at a time (destroy runs them in reverse) and no
# provider thread waits for another's turn; different clusters proceed side by side. The link is made when the
# cluster name is known (it may come from another resource); with an unknown name in a preview there is nothing
# to order.
_last_declared: weakref.WeakKeyDictionary[object, dict[tuple[str | None, str], FargateProfile]] = (
    weakref.WeakKeyDictionary()
)


class _NoMonitor:
    """The key for profiles declared outside a program run (no engine monitor yet)."""


_NO_MONITOR = _NoMonitor()


def _after_the_previous_profile(
    profile: FargateProfile, cluster_name: pulumi.Input[str], region: pulumi.Input[str] | None
) -> pulumi.Input[list[pulumi.Resource]] | None:
    """What `profile` must wait for: the profile declared before it for the same cluster, if any."""
    last = _last_declared.setdefault(pulumi.runtime.settings.get_monitor() or _NO_MONITOR, {})

    def link(cluster: Any, chosen_region: Any) -> list[pulumi.Resource]:
        key = (chosen_region if isinstance(chosen_region, str) else None, str(cluster))
        previous = last.get(key)
        last[key] = profile
        return [previous] if previous is not None else []

    if isinstance(cluster_name, str) and (region is None or isinstance(region, str)):
        return link(cluster_name, region) or None  # known now: no outputs to wait for
    return pulumi.Output.all(cluster_name, region).apply(lambda values: link(*values))

"""ClusterVersion: the Kubernetes version of an existing EKS cluster, upgraded one minor version at a time, or rolled
back one minor when EKS allows it."""

# The stepping run lives in _version_run.py (with its readiness gate, _version_gate.py), the rollback rules in
# _rollback_rules.py, the EKS calls in _plumbing/cluster_updates.py and _plumbing/upgrade_readiness.py.

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi.dynamic
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
    progress,
)
from pulumi_cluster_connect._plumbing import upgrade_readiness as readiness
from pulumi_cluster_connect._plumbing.cluster_updates import (
    VERSION,
    VERSION_TYPES,
    ClusterUpdates,
    minors_below,
    next_minor,
    param,
    parse_version,
)

from ._rollback_rules import two_minors_back
from ._version_run import Run

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

CLUSTER_NAME = inputs.EKS_NAME
DEFAULT_TIMEOUT = 3 * 3600.0
ROLLBACK_TIMEOUT = "rollback_timeout_minutes"
# State only: the version an update that a refresh found running leads to (an interrupted up's), for diff.
IN_PROGRESS = "version_in_progress"
# rollbackConfig.timeoutMinutes: how long an Auto Mode rollback may take to roll the nodes back (EKS's bounds).
ROLLBACK_TIMEOUT_RANGE = (120, 10080)


def _check_version(props: Mapping[str, Any], failures: list[CheckFailure]) -> None:
    if "version" not in props or props["version"] is None:
        failures.append(CheckFailure("version", 'is required: the Kubernetes minor version to reach, e.g. "1.32"'))
    elif inputs.known(props, "version"):
        value = props["version"]
        if not isinstance(value, str) or not VERSION.match(value):
            failures.append(
                CheckFailure(
                    "version",
                    f'must be a Kubernetes minor version as a string such as "1.32"{inputs.got(value)}',
                )
            )


def _check_cluster_name(props: Mapping[str, Any], failures: list[CheckFailure]) -> None:
    if "cluster_name" not in props or props["cluster_name"] is None:
        failures.append(CheckFailure("cluster_name", "is required: the name of the EKS cluster to upgrade"))
    elif inputs.known(props, "cluster_name"):
        value = props["cluster_name"]
        if not isinstance(value, str) or not CLUSTER_NAME.match(value):
            failures.append(
                CheckFailure(
                    "cluster_name",
                    f"must be an EKS cluster name: {inputs.EKS_NAME_RULE}{inputs.got(value)}",
                )
            )


def _check_options(props: Mapping[str, Any], failures: list[CheckFailure]) -> None:
    for key in ("force", "update_addons"):
        inputs.check_bool(props, key, failures)
    inputs.check_timeout(props, failures)
    inputs.check_region(props, "region", failures)
    credentials.check(props, failures)
    if inputs.known(props, ROLLBACK_TIMEOUT):
        value = props[ROLLBACK_TIMEOUT]
        low, high = ROLLBACK_TIMEOUT_RANGE
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            failures.append(
                CheckFailure(
                    ROLLBACK_TIMEOUT, f"must be a whole number of minutes from {low} to {high}{inputs.got(value)}"
                )
            )
        elif value != int(value):
            failures.append(CheckFailure(ROLLBACK_TIMEOUT, f"must be a whole number of minutes, got {value}"))


def _check_rollback_span(olds: Mapping[str, Any], news: Mapping[str, Any], failures: list[CheckFailure]) -> None:
    """Two or more minors below the version of the last up: refused before the engine asks for a diff."""
    before, target = olds.get("version"), news.get("version")
    if not (isinstance(before, str) and isinstance(target, str) and VERSION.match(before) and VERSION.match(target)):
        return
    if minors_below(before, target) >= 2:
        failures.append(CheckFailure("version", two_minors_back(before, target) + " (as of the last up)"))


def preview_lines(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """What an up would do, from the state alone (preview calls no AWS API): the steps from the version the
    cluster ran at the last up or refresh, and what the `readiness` output recorded then for the first one."""
    current, target, name = olds.get("version"), news.get("version"), olds.get("cluster_name", "?")
    if not (isinstance(current, str) and isinstance(target, str) and VERSION.match(current) and VERSION.match(target)):
        return []
    prefix = f"EKS cluster {name}: "
    if minors_below(current, target) >= 2:
        return [f"{prefix}runs Kubernetes {current} (as of the last up or refresh); {two_minors_back(current, target)}"]
    if minors_below(current, target) == 1:
        forced = "; force is set: EKS's rollback insights would not stop it" if news.get("force") is True else ""
        return [
            f"{prefix}rollback {current} -> {target} (as of the last up or refresh); EKS allows it once, within 7 "
            "days after the in-place upgrade to "
            f"{current} finished; the rules, rollback insights, add-ons, node groups and Fargate profiles are "
            f"checked before it runs{forced}"
        ]
    steps: list[str] = []
    while parse_version(current) < parse_version(target) and len(steps) < 50:
        steps.append(f"{current} -> {next_minor(current)}")
        current = next_minor(current)
    lines = [
        f"{prefix}{olds['version']} -> {target} takes {len(steps)} step{'s' if len(steps) != 1 else ''} "
        f"({', '.join(steps)}); node groups, upgrade insights and add-ons are checked before each one runs"
    ]
    found = olds.get("readiness")
    first = steps[0] if steps else None
    if not isinstance(found, Mapping) or first is None or found.get("version") != next_minor(str(olds["version"])):
        return [*lines, f"{prefix}what {first} would meet is not known: run `pulumi preview --refresh` to read it"]
    when = found.get("checked_at", "the last up or refresh")
    blocking, warnings = (
        [str(x) for x in v] if isinstance(v, list) else [] for v in (found.get("blocking"), found.get("warnings"))
    )
    if blocking:
        overcome = (
            "force is set: the up would go past it" if news.get("force") is True else "set force=True to go past it"
        )
        lines.append(f"{prefix}as of {when}, {first} would be blocked by: {'; '.join(blocking)}; {overcome}")
    else:
        lines.append(f"{prefix}as of {when}, nothing blocks {first}")
    lines += [f"{prefix}as of {when}, {first}: warning: {line}" for line in warnings]
    if len(steps) > 1:
        lines.append(f"{prefix}the later steps are checked during the up, once the cluster has reached them")
    return lines


class ClusterVersionProvider(configured.ConfiguredProvider):
    """Steps an EKS cluster's Kubernetes version up to the target, one UpdateClusterVersion per minor."""

    secret_keys = (fargate_pods.KUBECONFIG,)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        _check_cluster_name(news, failures)
        _check_version(news, failures)
        _check_options(news, failures)
        _check_rollback_span(olds, news, failures)
        fargate_pods.check(news, failures, fargate_pods.RECYCLE)
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """`olds` are the outputs: `version` and `region` there are what the cluster really has."""
        replaces = []
        if inputs.is_unknown(news.get("cluster_name")) or news.get("cluster_name") != olds.get("cluster_name"):
            replaces.append("cluster_name")
        new_region = news.get("region")
        if inputs.is_unknown(new_region) or (new_region is not None and new_region != olds.get("region")):
            replaces.append("region")
        elif (region_now := aws.moved_region(olds, news, "region", self._stack_config)) is not None:
            replaces.append("region")
            progress.report(aws.moved_message(f"version of {olds.get('cluster_name')}", olds.get("region"), region_now))
        moved, route_changes = credentials.identity_changes(olds, news)  # another account: another cluster
        if route_line := credentials.route_message(f"version of {olds.get('cluster_name')}", olds, news):
            progress.report(route_line)
        replaces += moved
        version_changed = inputs.is_unknown(news.get("version")) or news.get("version") != olds.get("version")
        if version_changed and not replaces:
            readiness.report_lines("", preview_lines(olds, news))
        leaving = olds.get(IN_PROGRESS)
        if isinstance(leaving, str) and not version_changed and news.get("version") != leaving:
            version_changed = True  # an update that a refresh saw running leads away from the target
            progress.report(
                f"EKS cluster {olds.get('cluster_name')}: an update to {leaving} was in progress at the last refresh; "
                f"the up keeps {news.get('version')} (an Auto Mode rollback still rolling nodes back is cancelled; "
                "another is waited for, then undone)"
            )
        # How Fargate pods are reached and whether they are recycled: an update (which recycles), never a replace.
        pods_changed = any(
            inputs.contains_unknown(news.get(k)) or news.get(k) != olds.get(k) for k in fargate_pods.VERSION_KEYS
        )
        return DiffResult(
            changes=bool(replaces) or version_changed or pods_changed or bool(route_changes),
            replaces=replaces,
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        region = aws.region_of(props.get("region"), self._stack_config, credentials.route_of(props))
        outs = self._converge(props, region)
        return CreateResult(f"{region}/{props['cluster_name']}", outs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        region = aws.region_of(news.get("region"), self._stack_config, credentials.route_of(news))
        aws.verify_route(f"ClusterVersion of {news.get('cluster_name')}", _olds, news, region, self._stack_config)
        return UpdateResult(self._converge(news, region))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        region, _, name = id_.rpartition("/")
        region = region or aws.region_of(props.get("region"), self._stack_config, credentials.route_of(props))
        eks = aws.eks(region, self._stack_config, credentials.route_of(props))
        cluster = aws.describe_cluster_or_none(eks, name)
        if cluster is None:
            return ReadResult("", {})
        running = ClusterUpdates(eks, name, time.monotonic() + readiness.REFRESH_TIMEOUT).newest()
        outs = {
            "updates": [],
            **props,
            IN_PROGRESS: _version_in_progress(running),
            "cluster_name": name,
            "region": region,
            "version": cluster["version"],
            "platform_version": cluster["platformVersion"],
            "readiness": _next_step_readiness(eks, name, cluster["version"]),
            credentials.ACCOUNT: credentials.account_in_arn(cluster.get("arn")),
        }
        return ReadResult(id_, inputs.without_none(outs))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        progress.report(
            f"EKS cluster {props.get('cluster_name', id_)}: left at Kubernetes {props.get('version', '?')}; "
            "deleting this resource changes no version, so there is nothing to delete"
        )

    def _converge(self, props: Mapping[str, Any], region: str) -> dict[str, Any]:
        """Step from wherever the cluster is (even halfway, after a crash) to the target version."""
        name, target = str(props["cluster_name"]), str(props["version"])
        timeout = inputs.timeout_of(props, DEFAULT_TIMEOUT)
        eks = aws.eks(region, self._stack_config, credentials.route_of(props))
        run = Run(
            cluster=ClusterUpdates(eks, name, deadline=time.monotonic() + timeout),
            region=region,
            target=target,
            force=bool(props.get("force", False)),
            update_addons=bool(props.get("update_addons", False)),
            timeout=timeout,
            rollback_timeout_minutes=_rollback_timeout(props),
        )
        if props.get(fargate_pods.RECYCLE) and props.get(fargate_pods.KUBECONFIG) is not None:
            # After each step and rollback, and once more at the target (a crash between a step and its recycling).
            run.after_step = lambda version: fargate_pods.recycle(
                props[fargate_pods.KUBECONFIG],
                name,
                run.cluster.fargate_profiles(),
                version,
                run.remaining(f"recycling the Fargate pods of {name}"),
            )
        cluster = run.reach_target()
        if run.after_step is not None:
            run.after_step(str(cluster["version"]))
        return inputs.without_none(
            {
                "cluster_name": name,
                "version": cluster["version"],
                "platform_version": cluster["platformVersion"],
                "region": region,
                "force": props.get("force"),
                "update_addons": props.get("update_addons"),
                inputs.TIMEOUT: props.get(inputs.TIMEOUT),
                ROLLBACK_TIMEOUT: props.get(ROLLBACK_TIMEOUT),
                **{key: props.get(key) for key in fargate_pods.VERSION_KEYS},
                "updates": run.updates,
                "addon_updates": run.addon_updates,
                "readiness": _next_step_readiness(run.eks, name, cluster["version"]),
                **{key: props.get(key) for key in credentials.ROUTE_KEYS},
                credentials.ACCOUNT: credentials.account_in_arn(cluster.get("arn")),
            }
        )


def _version_in_progress(update: Mapping[str, Any] | None) -> str | None:
    """The version an update still running leads to: a refresh records it for the next diff."""
    if update is None or update.get("type") not in VERSION_TYPES or update.get("status") != "InProgress":
        return None
    return param(update, "Version")


def _rollback_timeout(props: Mapping[str, Any]) -> int | None:
    value = props.get(ROLLBACK_TIMEOUT)
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _next_step_readiness(eks: EKSClient, name: str, current: str) -> dict[str, Any]:
    """What the next minor step would meet, as EKS sees it now: kept in the state for a later preview. Never
    fails the up or refresh that asks: when EKS cannot say, the output says so."""
    target = next_minor(current)
    checker = readiness.Checker(eks, name, time.monotonic() + readiness.REFRESH_TIMEOUT)
    try:
        return checker.read(target, refresh_errors=False).as_output()
    except errors.AwsApiError as err:
        found = readiness.Readiness(target, notes=[f"could not read what the next step would meet ({err})"])
        return found.as_output()


class ClusterVersion(pulumi.dynamic.Resource, module="eks", name="ClusterVersion"):
    """The Kubernetes version of an existing EKS cluster; raising `version` upgrades it one minor at a time, lowering
    it by one minor rolls it back when EKS allows it (docs/guides/upgrades-and-rollbacks.md).

    Deleting this resource leaves the cluster at its version.
    """

    # For type checkers only: the SDK evaluates a Resource class's annotations again for every resource it
    # registers, and these outputs need no conversion (see FargateProfile).
    if TYPE_CHECKING:
        cluster_name: pulumi.Output[str]
        version: pulumi.Output[str]
        platform_version: pulumi.Output[str]
        region: pulumi.Output[str]
        updates: pulumi.Output[list[dict[str, str]]]
        """The version updates and rollbacks the last create or update ran or waited for: {id, type (VersionUpdate or
        VersionRollback), from, to, status}."""
        addon_updates: pulumi.Output[list[dict[str, str]]]
        """The add-on updates it ran (update_addons): {id, addon, from, to, status}."""
        readiness: pulumi.Output[dict[str, Any]]
        """What the next minor step would meet, as of the last up or refresh: {version, checked_at, blocking,
        warnings}."""

    def __init__(
        self,
        resource_name: str,
        *,
        cluster_name: pulumi.Input[str],
        version: pulumi.Input[str],
        force: pulumi.Input[bool] | None = None,
        update_addons: pulumi.Input[bool] | None = None,
        region: pulumi.Input[str] | None = None,
        timeout_seconds: pulumi.Input[float] | None = None,
        rollback_timeout_minutes: pulumi.Input[int] | None = None,
        profile: pulumi.Input[str] | None = None,
        assume_roles: credentials.AssumeRoles | None = None,
        kubeconfig: pulumi.Input[str | Mapping[str, Any]] | None = None,
        recycle_fargate_pods: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "cluster_name": cluster_name,
            "version": version,
            "region": region,
            "platform_version": None,
            "updates": None,
            "addon_updates": None,
            "readiness": None,
        }
        # The public outputs are keys above even when None (the SDK makes an attribute only for a key given); a None
        # never reaches the engine, so the other keys go in only with a value (each costs the SDK an Output).
        props.update(
            inputs.without_none(
                {
                    "force": force,
                    "update_addons": update_addons,
                    inputs.TIMEOUT: timeout_seconds,
                    ROLLBACK_TIMEOUT: rollback_timeout_minutes,
                    fargate_pods.KUBECONFIG: None if kubeconfig is None else pulumi.Output.secret(kubeconfig),
                    fargate_pods.RECYCLE: recycle_fargate_pods,
                }
            )
        )
        props.update(credentials.inputs_of("ClusterVersion", resource_name, opts, profile, assume_roles))
        if kubeconfig is not None:
            secret = pulumi.ResourceOptions(additional_secret_outputs=[fargate_pods.KUBECONFIG])
            opts = pulumi.ResourceOptions.merge(opts, secret)
        super().__init__(ClusterVersionProvider(), resource_name, props, opts)

"""FargateProfile's inputs: their names, and the rules check and diff apply (valid values, the derived name, what
compares equal)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import CheckFailure
from pulumi.output import Unknown

from pulumi_cluster_connect._plumbing import inputs, ownership

CLUSTER_NAME, PROFILE_NAME, ROLE_ARN = "cluster_name", "fargate_profile_name", "pod_execution_role_arn"
SELECTORS, SUBNETS, TAGS, REGION = "selectors", "subnet_ids", "tags", "region"
TIMEOUT = inputs.TIMEOUT
# Set by the Resource and by check for auto-naming, kept in state so a re-check keeps the same name.
AUTO_NAME_PREFIX, AUTO_NAMED = "auto_name_prefix", "auto_named"
IDENTITY, ADOPT = ownership.IDENTITY, ownership.ADOPT
# What an auto-name is derived from (besides the resource's stable key): what a replacement changes.
NAME_BASIS = (CLUSTER_NAME, ROLE_ARN, SELECTORS, SUBNETS, REGION)
MAX_SELECTORS, MAX_LABELS = 5, 5
RESERVED_PREFIX = "eks-"
NAME = CLUSTER = inputs.EKS_NAME
SUBNET = re.compile(r"^subnet-[0-9A-Za-z]+$")
NAME_MAX = 100


def check_name(props: Mapping[str, Any], failures: list[CheckFailure]) -> None:
    if not inputs.known(props, PROFILE_NAME):
        return
    name = props[PROFILE_NAME]
    if not isinstance(name, str):
        failures.append(CheckFailure(PROFILE_NAME, f"must be a string{inputs.got(name)}"))
    elif name.lower().startswith(RESERVED_PREFIX):
        failures.append(CheckFailure(PROFILE_NAME, f"must not start with {RESERVED_PREFIX!r}, which EKS reserves"))
    elif not NAME.match(name):
        failures.append(CheckFailure(PROFILE_NAME, f"must be {inputs.EKS_NAME_RULE}"))


def check_labels(labels: Any, where: str, failures: list[CheckFailure]) -> None:
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


def check_selectors(props: Mapping[str, Any], failures: list[CheckFailure]) -> None:
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
        check_labels(selector.get("labels"), where, failures)


def check_subnets(props: Mapping[str, Any], failures: list[CheckFailure]) -> None:
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


def auto_name(props: Mapping[str, Any]) -> Any:
    """The name a create will really ask for, derived from the resource's stable key and what a replacement
    changes; unknown in a preview that does not know all of that yet."""
    if any(inputs.contains_unknown(props.get(key)) for key in (*NAME_BASIS, IDENTITY)):
        return Unknown()  # type: ignore[no-untyped-call]
    prefix = props.get(AUTO_NAME_PREFIX)
    prefix = prefix if isinstance(prefix, str) else "fargate"
    if prefix.lstrip("-_").lower().startswith(RESERVED_PREFIX):
        prefix = f"profile-{prefix}"
    basis = [normalised_selectors(props.get(k)) if k == SELECTORS else props.get(k) for k in NAME_BASIS]
    basis[NAME_BASIS.index(SUBNETS)] = as_set(props.get(SUBNETS))
    return ownership.derived_name(prefix, str(props.get(IDENTITY) or ""), basis, NAME_MAX)


def same_basis(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    return all(same(key, olds.get(key), news.get(key)) for key in NAME_BASIS)


def normalised_selectors(selectors: Any) -> Any:
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


def as_set(subnets: Any) -> Any:
    """Subnet order does not matter to EKS; anything but a list of strings compares as it is."""
    if isinstance(subnets, list) and all(isinstance(s, str) for s in subnets):
        return sorted(subnets)
    return subnets if subnets is not None else []


def same(key: str, old: Any, new: Any) -> bool:
    """Whether `new` is known to equal `old`; a value unknown anywhere inside (preview) may differ."""
    if inputs.contains_unknown(new):
        return False
    if key == SUBNETS:
        return bool(as_set(old) == as_set(new))
    if key == TAGS:
        return bool((old or {}) == (new or {}))
    if key == SELECTORS:
        return bool(normalised_selectors(old) == normalised_selectors(new))
    return bool(old == new)

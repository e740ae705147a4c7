"""Input checking shared by the providers: unknown values in preview, numbers as floats, common AWS rules."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import CheckFailure
from pulumi.output import Unknown

IAM_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
TAG_KEY_MAX, TAG_VALUE_MAX, TAGS_MAX = 128, 256, 50
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
EKS_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
"""Names of EKS clusters, registrations and Fargate profiles: 1-100 letters, digits, '-', '_', first alphanumeric."""
EKS_NAME_RULE = "1-100 characters: letters, digits, '-' and '_', starting with a letter or digit"
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
"""Kubernetes (DNS-1123) labels: Loft cluster names, namespaces."""


def is_unknown(value: object) -> bool:
    """True for a value that preview cannot know yet (it depends on a resource not created)."""
    return isinstance(value, Unknown)


def contains_unknown(value: object) -> bool:
    """True when `value` or anything inside it (lists, maps, at any depth) is still unknown."""
    if is_unknown(value):
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_unknown(item) for item in value)
    return False


def known(props: Mapping[str, Any], key: str) -> bool:
    return key in props and props[key] is not None and not is_unknown(props[key])


def type_name(value: object) -> str:
    """What a value is, for messages that must not show the value itself (it may be a secret)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "an empty string" if not value else "a string"
    if isinstance(value, Mapping):
        return "a map"
    if isinstance(value, (list, tuple)):
        return "a list"
    if is_unknown(value):
        return "an unknown value"
    return type(value).__name__


def got(value: object) -> str:
    """ ", got <type>" for a failure message; nothing for a non-empty string (its rule says what is wrong)."""
    return "" if isinstance(value, str) and value else f", got {type_name(value)}"


def check_string(
    props: Mapping[str, Any],
    key: str,
    failures: list[CheckFailure],
    *,
    required: str | None = None,
    pattern: re.Pattern[str] | None = None,
    rule: str = "",
) -> None:
    """A failure unless `props[key]` is a non-empty string matching `pattern`; `required` says why when absent."""
    if key not in props or props[key] is None:
        if required is not None:
            failures.append(CheckFailure(key, f"is required{': ' if required else ''}{required}"))
        return
    value = props[key]
    if is_unknown(value):
        return
    if not isinstance(value, str) or not value:
        failures.append(CheckFailure(key, f"must be a non-empty string, got {type_name(value)}"))
    elif pattern is not None and not pattern.match(value):
        failures.append(CheckFailure(key, f"must be {rule}"))


def check_bool(props: Mapping[str, Any], key: str, failures: list[CheckFailure]) -> None:
    if known(props, key) and not isinstance(props[key], bool):
        failures.append(CheckFailure(key, f"must be true or false, got {type_name(props[key])}"))


def as_int(value: object) -> int:
    """Numbers reach a dynamic provider as floats."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise TypeError(f"expected a whole number, got {value!r}")
    return int(value)


def check_role_arn(props: Mapping[str, Any], key: str, failures: list[CheckFailure]) -> None:
    if not known(props, key):
        return
    value = props[key]
    if not isinstance(value, str) or not IAM_ROLE_ARN.match(value):
        failures.append(
            CheckFailure(key, f"must be an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>){got(value)}")
        )


def check_region(props: Mapping[str, Any], key: str, failures: list[CheckFailure]) -> None:
    if not known(props, key):
        return
    value = props[key]
    if not isinstance(value, str) or not REGION.match(value):
        failures.append(CheckFailure(key, f"must be an AWS region such as us-west-2{got(value)}"))


def check_tags(props: Mapping[str, Any], key: str, failures: list[CheckFailure]) -> None:
    """EKS tag rules: at most 50 tags, keys 1-128 characters, values at most 256, no `aws:` prefix."""
    if not known(props, key):
        return
    tags = props[key]
    if not isinstance(tags, Mapping):
        failures.append(CheckFailure(key, f"must be a map of strings to strings, got {type_name(tags)}"))
        return
    if len(tags) > TAGS_MAX:
        failures.append(CheckFailure(key, f"at most {TAGS_MAX} tags are allowed, got {len(tags)}"))
    for tag_key, tag_value in tags.items():
        if not isinstance(tag_key, str) or not 1 <= len(tag_key) <= TAG_KEY_MAX:
            failures.append(CheckFailure(key, f"tag keys must be 1-{TAG_KEY_MAX} characters"))
            continue
        if tag_key.lower().startswith("aws:"):
            failures.append(CheckFailure(key, f"tag key {tag_key!r} uses the reserved prefix 'aws:'"))
        if is_unknown(tag_value):
            continue
        if not isinstance(tag_value, str) or len(tag_value) > TAG_VALUE_MAX:
            failures.append(
                CheckFailure(key, f"tag {tag_key!r} must have a string value of at most {TAG_VALUE_MAX} characters")
            )


TIMEOUT = "timeout_seconds"
"""Every resource and component names its time limit so, in seconds."""


def check_timeout(props: Mapping[str, Any], failures: list[CheckFailure], key: str = TIMEOUT) -> None:
    if not known(props, key):
        return
    value = props[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        failures.append(CheckFailure(key, f"must be a positive number of seconds, got {type_name(value)}"))


def timeout_of(props: Mapping[str, Any], default: float) -> float:
    """The resource's `timeout_seconds`, or its default when unset."""
    value = props.get(TIMEOUT)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < math.inf:
        return float(value)
    return default


def without_none(props: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs as the engine stores them: keys whose value is None are dropped anyway."""
    return {k: v for k, v in props.items() if v is not None}

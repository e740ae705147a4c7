"""What a resource makes, named from who it is: its stable key, derived names and request tokens, the owner mark.

A create re-run after a crash must ask for the same thing (the same name, the same clientRequestToken), and a
create that meets an existing object must tell ours (from an interrupted run) from someone else's. Both come
from the resource's stable key: project, stack, parent and its own type and name, as in its URN.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure

MARK_PREFIX = "pulumi-cluster-connect/"
OWNER_KEY = f"{MARK_PREFIX}owner"
"""The EKS tag key, and the Kubernetes annotation key, whose value is the owner mark of what we made."""
IDENTITY = "identity"
"""The input carrying the resource's stable key, set by each Resource's constructor."""
ADOPT = "adopt_existing"
"""The input that lets a create take over an existing object that is not marked as ours."""
TOKEN_NAMESPACE = uuid.UUID("6f0d3d2e-9a55-4c1e-9d1c-0a8f1b7f5c21")
MARK_CHARS = 32
TAGS_MAX = 50
NAME_SUFFIX_CHARS = 8


def identity_of(resource_type: str, resource_name: str, opts: pulumi.ResourceOptions | None) -> str:
    """The stable key of a resource being built: what its URN is made of (the parent's type and name stand for
    the parent chain, which the SDK does not hand a constructor)."""
    parts = [pulumi.get_project(), pulumi.get_stack()]
    parent = opts.parent if opts is not None else None
    if parent is not None:
        parts.append(f"{parent.pulumi_resource_type}::{parent.pulumi_resource_name}")
    parts.append(f"{resource_type}::{resource_name}")
    return "/".join(parts)


def digest(*parts: Any) -> str:
    """A hex digest of JSON-able parts; mappings hash the same whatever their key order."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def owner_mark(identity: str) -> str:
    """The value of the owner tag or annotation: a digest of the stable key (which may name the project)."""
    return digest("owner", identity)[:MARK_CHARS]


def is_ours(marks: Mapping[str, Any] | None, identity: str) -> bool:
    return bool(marks) and (marks or {}).get(OWNER_KEY) == owner_mark(identity)


def owner_of(marks: Mapping[str, Any] | None) -> str | None:
    """The owner mark an object carries, None when it carries none."""
    value = (marks or {}).get(OWNER_KEY)
    return None if value is None else str(value)


def without_mark(tags: Mapping[str, Any] | None) -> dict[str, Any]:
    """Tags as the user gave them: the owner tag is ours, not theirs, and never shown as a difference."""
    return {k: v for k, v in (tags or {}).items() if k != OWNER_KEY}


def with_mark(tags: Mapping[str, Any] | None, identity: str) -> dict[str, Any]:
    return {**without_mark(tags), OWNER_KEY: owner_mark(identity)}


def request_token(identity: str, request: Mapping[str, Any], generation: int = 0) -> str:
    """A clientRequestToken that is the same for the same resource, request and generation (so a retried create
    replays the first answer) and new for the next generation (a re-registration after a deregistration)."""
    return str(uuid.uuid5(TOKEN_NAMESPACE, digest(identity, dict(request), generation)))


def derived_name(prefix: str, identity: str, basis: Any, max_length: int) -> str:
    """`<prefix>-<8 hex>`, the suffix derived from the stable key and `basis` (what a replacement changes), so a
    re-run of the same create asks for the same name and a create-before-delete replacement gets another one."""
    suffix = digest("name", identity, basis)[:NAME_SUFFIX_CHARS]
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "-", prefix).lstrip("-_") or "resource"
    return f"{cleaned[: max_length - len(suffix) - 1]}-{suffix}"


def adopting(props: Mapping[str, Any]) -> bool:
    return props.get(ADOPT) is True


def check_tags(props: Mapping[str, Any], key: str, failures: list[CheckFailure], marks: int) -> None:
    """Our marks are tags too: users may not set their keys, and they count toward EKS's 50 tags."""
    tags = props.get(key)
    if not isinstance(tags, Mapping):
        return
    reserved = sorted(k for k in tags if isinstance(k, str) and k.startswith(MARK_PREFIX))
    if reserved:
        failures.append(CheckFailure(key, f"tag keys {reserved} are reserved for pulumi-cluster-connect's own marks"))
    if TAGS_MAX - marks < len(tags) <= TAGS_MAX:  # beyond 50, inputs.check_tags says so
        failures.append(
            CheckFailure(key, f"at most {TAGS_MAX - marks} tags are allowed ({marks} of EKS's {TAGS_MAX} are ours)")
        )

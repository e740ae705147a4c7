"""EKS's rules for rolling a cluster back one minor, checked before any change: each refusal names its rule, the dates
and what to do."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pulumi_cluster_connect._plumbing import errors
from pulumi_cluster_connect._plumbing.cluster_updates import (
    VERSION_TYPES,
    minors_below,
    param,
    parse_version,
    previous_minor,
)

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

WINDOW = timedelta(days=7)
# Codes that say "you may not look": the rule is left to EKS, which enforces it when the rollback is asked for.
NOT_ALLOWED_CODES = frozenset({"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"})

RULE_CREATED_AT = "not for a cluster created at its current version"
RULE_ONCE = "one minor back, once"
RULE_WINDOW = "within 7 days after an in-place upgrade finished"
RULE_EXTENDED = "not to an extended-support version unless upgradePolicy.supportType is EXTENDED"


class RollbackRefused(errors.ClusterConnectError):
    """A rollback refused before anything changed, by one of EKS's rules (named in the message)."""


@dataclass(frozen=True)
class VersionChange:
    """A finished (Successful) version update or rollback of the cluster."""

    id: str
    type: str
    version: str
    created_at: datetime


def _day(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def version_changes(updates: list[Mapping[str, Any]]) -> list[VersionChange]:
    """The successful version updates and rollbacks among `updates`, oldest first."""
    changes = []
    for update in updates:
        version = param(update, "Version")
        created = update.get("createdAt")
        if update.get("type") in VERSION_TYPES and update["status"] == "Successful" and version and created:
            changes.append(VersionChange(str(update["id"]), str(update["type"]), str(version), created))
    return sorted(changes, key=lambda c: c.created_at)


def extended_support_since(eks: EKSClient, version: str) -> datetime | None:
    """When `version`'s standard support ended, if EKS says it is in extended support now; None otherwise, and when
    EKS does not let us look (it enforces the rule itself)."""
    try:
        found = eks.describe_cluster_versions(clusterVersions=[version])["clusterVersions"]
    except errors.AwsApiError as err:
        if err.code not in NOT_ALLOWED_CODES:
            raise
        return None
    for info in found:
        if info.get("clusterVersion") == version and info.get("versionStatus") == "EXTENDED_SUPPORT":
            ended = info.get("endOfStandardSupportDate")
            return ended if isinstance(ended, datetime) else datetime.min.replace(tzinfo=UTC)
    return None


def check(
    eks: EKSClient,
    cluster: Mapping[str, Any],
    target: str,
    updates: list[Mapping[str, Any]],
    now: datetime | None = None,
) -> None:
    """Raise RollbackRefused when EKS's rules forbid rolling `cluster` (ACTIVE, no update running) back to `target`,
    one minor below its version; `updates`: the cluster's, described."""
    name, current = cluster["name"], cluster["version"]
    step = f"EKS cluster {name}: rollback {current} -> {target} is refused, nothing was changed"
    now = now or datetime.now(UTC)
    changes = version_changes(updates)
    last = changes[-1] if changes else None
    if last is None or last.version != current:
        raise RollbackRefused(
            f"{step} (rule: {RULE_CREATED_AT}): EKS records no in-place upgrade to Kubernetes {current}, the version "
            f"the cluster was created at, so there is nothing to roll back; set version to {current}"
        )
    if last.type == "VersionRollback":
        raise RollbackRefused(
            f"{step} (rule: {RULE_ONCE}): the cluster was already rolled back to {current} on "
            f"{_day(last.created_at)} (update {last.id}); set version to {current}"
        )
    closes = last.created_at + WINDOW
    if now >= closes:
        raise RollbackRefused(
            f"{step} (rule: {RULE_WINDOW}): the upgrade to {current} started on {_day(last.created_at)} "
            f"(update {last.id}), so the window closed by {_day(closes)} plus the upgrade's own duration, and it is "
            f"{_day(now)}; set version to {current} and fix forward"
        )
    support = (cluster.get("upgradePolicy") or {}).get("supportType")
    if support == "STANDARD":
        since = extended_support_since(eks, target)
        if since is not None:
            raise RollbackRefused(
                f"{step} (rule: {RULE_EXTENDED}): Kubernetes {target} has been in extended support since "
                f"{since:%Y-%m-%d} and the cluster's support type is STANDARD; set the cluster's "
                f"upgradePolicy.supportType to EXTENDED first, or set version to {current}"
            )


def newer_nodegroups(versions: list[tuple[str, str | None]], target: str) -> list[str]:
    """Managed node groups (name, version) that run a Kubernetes minor above `target` ("name (version)"): EKS does
    not roll them back."""
    found = []
    for nodegroup_name, version in versions:
        try:
            newer = bool(version) and parse_version(str(version)) > parse_version(target)
        except ValueError:
            newer = False
        if newer:
            found.append(f"{nodegroup_name} ({version})")
    return found


def two_minors_back(current: str, target: str) -> str:
    return (
        f"{target} is {minors_below(current, target)} minors below {current}: EKS rolls a cluster back one minor "
        f"only (rule: {RULE_ONCE}); set version to {previous_minor(current)} or later"
    )

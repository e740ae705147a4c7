"""What stands in the way of one EKS minor-version step, up or back: readiness insights and the add-ons' versions."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from . import aws, errors, polling, progress

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

UPGRADE_READINESS: Literal["UPGRADE_READINESS"] = "UPGRADE_READINESS"
ROLLBACK_READINESS: Literal["ROLLBACK_READINESS"] = "ROLLBACK_READINESS"
Category = Literal["UPGRADE_READINESS", "ROLLBACK_READINESS"]
# Codes that say "you may not look", not "something is wrong": the check is reported as not done and the step
# goes on, since EKS itself still enforces its insights when the step starts.
NOT_ALLOWED_CODES = frozenset({"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"})
REFRESH_TIMEOUT = 300.0
REFRESH_POLL = polling.ElapsedBackoff(first=0.1, cap=5.0, fraction=0.1)
MAX_RESOURCES_SHOWN = 5
MAX_VERSIONS_SHOWN = 4
_NUMBERS = re.compile(r"\d+")


class UpgradeBlocked(errors.ClusterConnectError):
    """A minor-version step refused before anything changed: by an ERROR insight, an add-on, or EKS itself."""


@dataclass(frozen=True)
class LaggingAddon:
    """An installed add-on whose version does not run on the target minor."""

    name: str
    version: str
    compatible: tuple[str, ...]
    """Versions that run on the target minor, newest first."""
    default: str | None

    def describe(self, target: str) -> str:
        shown = [f"{v} (default)" if v == self.default else v for v in self.compatible[:MAX_VERSIONS_SHOWN]]
        if self.default is not None and self.default not in self.compatible[:MAX_VERSIONS_SHOWN]:
            shown.append(f"{self.default} (default)")
        more = len(self.compatible) - MAX_VERSIONS_SHOWN
        listed = ", ".join(shown) + (f" and {more} more" if more > 0 else "")
        return f"add-on {self.name} {self.version} does not run on Kubernetes {target}; compatible: {listed}"


@dataclass
class Readiness:
    """What was found for one step: insights by status and the add-ons that would not run on the target."""

    target: str
    errors: list[Mapping[str, Any]] = field(default_factory=list)
    warnings: list[Mapping[str, Any]] = field(default_factory=list)
    unknown: list[Mapping[str, Any]] = field(default_factory=list)
    lagging_addons: list[LaggingAddon] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Checks that could not be done, and why."""

    def blocking(self, fixed_addons: Iterable[str] = ()) -> list[str]:
        """One line per finding that blocks the step; add-ons in `fixed_addons` are about to be updated."""
        fixed = set(fixed_addons)
        reported = {a.name for a in self.lagging_addons} | fixed
        lines = [describe_insight(i) for i in self.errors if not _only_about_addons(i, reported)]
        lines += [a.describe(self.target) for a in self.lagging_addons if a.name not in fixed]
        return lines

    def cautions(self) -> list[str]:
        lines = [describe_insight(i) for i in self.warnings]
        lines += [f"{describe_insight(i)} (EKS could not evaluate this check)" for i in self.unknown]
        return lines + self.notes

    def as_output(self) -> dict[str, Any]:
        """The `readiness` output: what the next step would meet, for a later preview to show."""
        return {
            "version": self.target,
            "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "blocking": self.blocking(),
            "warnings": self.cautions(),
        }


def _only_about_addons(insight: Mapping[str, Any], names: set[str]) -> bool:
    """EKS's add-on compatibility insight, when every add-on it names is reported (or fixed) on its own line."""
    summary = insight.get("categorySpecificSummary") or {}
    named = {d.get("name") for d in summary.get("addonCompatibilityDetails") or []}
    return bool(named) and named <= names


def describe_insight(insight: Mapping[str, Any]) -> str:
    """One line: the insight's name and status, EKS's reason, its recommendation, the affected resources and the
    deprecated APIs in use."""
    status = insight.get("insightStatus") or {}
    line = f'insight "{insight.get("name", insight.get("id", "?"))}" ({status.get("status", "UNKNOWN")})'
    if status.get("reason"):
        line += f": {str(status['reason']).rstrip('.')}"
    if insight.get("recommendation"):
        line += f". Recommendation: {str(insight['recommendation']).rstrip('.')}"
    resources = [
        str(r.get("kubernetesResourceUri") or r.get("arn"))
        for r in insight.get("resources") or []
        if r.get("kubernetesResourceUri") or r.get("arn")
    ]
    if resources:
        more = len(resources) - MAX_RESOURCES_SHOWN
        line += f". Affected: {', '.join(resources[:MAX_RESOURCES_SHOWN])}" + (f" and {more} more" if more > 0 else "")
    summary = insight.get("categorySpecificSummary") or {}
    deprecations = [
        f"{d.get('usage')} -> {d.get('replacedWith') or 'no replacement'}"
        + (f" (removed in {d['stopServingVersion']})" if d.get("stopServingVersion") else "")
        for d in summary.get("deprecationDetails") or []
        if d.get("usage")
    ]
    if deprecations:
        line += f". Deprecated APIs in use: {'; '.join(deprecations)}"
    return line


def version_key(version: str) -> tuple[int, ...]:
    """Orders add-on versions such as v1.11.4-eksbuild.14 (newest last)."""
    return tuple(int(n) for n in _NUMBERS.findall(version))


def _when(value: Any) -> float | None:
    return value.timestamp() if isinstance(value, datetime) else None


@dataclass
class Checker:
    """Reads the readiness of steps of one cluster; each method makes only read calls, except `refresh`."""

    eks: EKSClient
    cluster: str
    deadline: float

    def insights(self, target: str, category: Category = UPGRADE_READINESS) -> list[Mapping[str, Any]]:
        """The summaries of the insights of `category` for the target minor."""
        pages = self.eks.get_paginator("list_insights").paginate(
            clusterName=self.cluster, filter={"categories": [category], "kubernetesVersions": [target]}
        )
        return [i for page in pages for i in page.get("insights") or []]

    def refresh(self) -> str | None:
        """Ask EKS to evaluate its insights again and wait for it; a note when that could not be done."""
        try:
            self.eks.start_insights_refresh(clusterName=self.cluster)
            what = f"EKS cluster {self.cluster} insights refresh"
            # A throttling or 5xx storm delays the wait instead of failing it (within the deadline).
            done = polling.wait_for(
                what,
                lambda: aws.patiently(
                    lambda: self.eks.describe_insights_refresh(clusterName=self.cluster),
                    what,
                    max(0.0, self.deadline - time.monotonic()),
                ),
                state_of=lambda r: str(r.get("status")),
                done=lambda r: r.get("status") != "IN_PROGRESS",
                timeout=max(0.0, min(REFRESH_TIMEOUT, self.deadline - time.monotonic())),
                backoff=REFRESH_POLL,
            )
        except errors.WaitTimeout:
            return "EKS did not finish refreshing its insights in time; the last evaluation was used"
        except errors.AwsApiError as err:
            if err.code not in NOT_ALLOWED_CODES:
                raise
            return f"could not refresh EKS's insights ({err.code}); the last evaluation was used"
        if done.get("status") == "FAILED":
            reason = done.get("message") or "no reason given"
            return f"EKS could not refresh its insights ({reason}); the last evaluation was used"
        return None

    def read(
        self,
        target: str,
        *,
        stale_before: float | None = None,
        refresh_errors: bool = True,
        category: Category = UPGRADE_READINESS,
    ) -> Readiness:
        """Insights and add-ons for the step to `target`. Insights last evaluated before `stale_before` (epoch
        seconds: when this run's previous step started) are refreshed first; ERROR insights are refreshed once
        (`refresh_errors`) so that a finding already fixed does not block on an old evaluation. For a rollback
        (ROLLBACK_READINESS) an UNKNOWN insight blocks as an ERROR does: one revision of EKS's guide says so, and a
        check EKS could not evaluate is no evidence that rolling back is safe."""
        readiness = Readiness(target)
        blocking_statuses = ("ERROR", "UNKNOWN") if category == ROLLBACK_READINESS else ("ERROR",)
        try:
            summaries = self.insights(target, category)
            refreshed = False
            times = [_when(i.get("lastRefreshTime")) for i in summaries]
            if stale_before is not None and (not summaries or any(t is None or t <= stale_before for t in times)):
                note = self.refresh()
                refreshed = True
                readiness.notes += [note] if note else []
                summaries = self.insights(target, category)
            if refresh_errors and not refreshed and any(_status(i) in blocking_statuses for i in summaries):
                note = self.refresh()
                readiness.notes += [note] if note else []
                summaries = self.insights(target, category)
            for summary in summaries:
                status = _status(summary)
                if status == "PASSING":
                    continue
                insight = self.eks.describe_insight(clusterName=self.cluster, id=summary["id"])["insight"]
                by_status = {s: readiness.errors for s in blocking_statuses} | {"WARNING": readiness.warnings}
                by_status.get(status, readiness.unknown).append(insight)
        except errors.AwsApiError as err:
            if err.code not in NOT_ALLOWED_CODES:
                raise
            kind = "rollback" if category == ROLLBACK_READINESS else "upgrade"
            readiness.notes.append(
                f"could not read EKS's {kind} insights ({err.code}: {err.message}); EKS still enforces them"
            )
        try:
            readiness.lagging_addons = self.lagging_addons(target)
        except errors.AwsApiError as err:
            if err.code not in NOT_ALLOWED_CODES:
                raise
            readiness.notes.append(f"could not check the installed add-ons ({err.code}: {err.message})")
        return readiness

    def addon_versions(self, name: str, kubernetes_version: str) -> tuple[list[str], str | None]:
        """The versions of an add-on that run on a minor (newest first) and EKS's default for it."""
        pages = self.eks.get_paginator("describe_addon_versions").paginate(
            addonName=name, kubernetesVersion=kubernetes_version
        )
        compatible: list[str] = []
        default = None
        for page in pages:
            for addon in page.get("addons") or []:
                for info in addon.get("addonVersions") or []:
                    compatibilities = info.get("compatibilities") or []
                    fits = [c for c in compatibilities if c.get("clusterVersion") == kubernetes_version]
                    if fits:
                        compatible.append(info["addonVersion"])
                    if any(c.get("defaultVersion") for c in fits):
                        default = info["addonVersion"]
        return sorted(set(compatible), key=version_key, reverse=True), default

    def lagging_addons(self, target: str) -> list[LaggingAddon]:
        pages = self.eks.get_paginator("list_addons").paginate(clusterName=self.cluster)
        lagging = []
        for name in [n for page in pages for n in page.get("addons") or []]:
            addon = self.eks.describe_addon(clusterName=self.cluster, addonName=name)["addon"]
            version = addon.get("addonVersion")
            compatible, default = self.addon_versions(name, target)
            # No version at all for the target: EKS does not offer that minor (yet), nothing to compare.
            if version and compatible and version not in compatible:
                lagging.append(LaggingAddon(name, version, tuple(compatible), default))
        return lagging

    def bridge_version(self, addon: LaggingAddon, current: str) -> str | None:
        """A version that runs on both the current and the target minor: the target's default if it does, else
        the newest that does. None when there is none (the add-on cannot follow without a gap)."""
        on_current, _ = self.addon_versions(addon.name, current)
        both = [v for v in addon.compatible if v in set(on_current)]
        if addon.default in both:
            return addon.default
        return both[0] if both else None


def _status(insight: Mapping[str, Any]) -> str:
    return str((insight.get("insightStatus") or {}).get("status") or "UNKNOWN")


def report_lines(prefix: str, lines: Iterable[str]) -> None:
    for line in lines:
        progress.report(f"{prefix}{line}")

"""Upgrade and rollback insights: ListInsights, DescribeInsight, StartInsightsRefresh, DescribeInsightsRefresh, and
the readiness rule of UpdateClusterVersion (an ERROR insight for the target version refuses it unless forced; for
a rollback, an ERROR or UNKNOWN ROLLBACK_READINESS insight, as the stricter revision of the guide says).

Every cluster has EKS's usual checks for its next minor version, PASSING, except the add-on compatibility
check, which looks at the installed add-ons. Tests set findings per cluster, Kubernetes version and category
through the control endpoint (`set_insights`), at once or as what the next refresh will find; ROLLBACK_READINESS
findings show only during the 7-day rollback window after an in-place upgrade.
"""

from __future__ import annotations

import calendar
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from . import addons, exceptions, messages, rollbacks, updates, versions
from .call import Call

UPGRADE_READINESS = "UPGRADE_READINESS"
ROLLBACK_READINESS = "ROLLBACK_READINESS"
CATEGORIES = (UPGRADE_READINESS, "MISCONFIGURATION", ROLLBACK_READINESS)
STATUSES = ("PASSING", "WARNING", "ERROR", "UNKNOWN")
MAX_RESULTS = 100
ADDON_CHECK = "EKS add-on version compatibility"
UPGRADE_DOCS = {
    "EKS update cluster documentation": "https://docs.aws.amazon.com/eks/latest/userguide/update-cluster.html"
}
_IDS = uuid.UUID("6f1c0a52-2b1e-4a5e-9d1b-4e6b5d0c7a31")


@dataclass
class Finding:
    """One insight as a test sets it: what EKS found for a check on one Kubernetes version."""

    name: str
    status: str
    reason: str = ""
    recommendation: str = ""
    description: str = ""
    resources: list[str] = field(default_factory=list)
    """kubernetesResourceUri of each affected object."""
    deprecations: list[dict[str, Any]] = field(default_factory=list)
    """DeprecationDetail objects: usage, replacedWith, stopServingVersion, startServingReplacementVersion."""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        if not self.name:
            raise ValueError("an insight needs a name")


@dataclass
class SetFindings:
    findings: list[Finding]
    set_at: float
    after_refresh: bool


@dataclass
class Refresh:
    started_at: float
    ends_at: float
    failed: bool = False


_LOCK = threading.RLock()
_SET: dict[tuple[str, str, str], list[SetFindings]] = {}
_REFRESHES: dict[tuple[str, str, str], Refresh] = {}


def reset() -> None:
    with _LOCK:
        _SET.clear()
        _REFRESHES.clear()


def set_findings(payload: dict[str, Any]) -> None:
    """The control endpoint's `insights` action: {cluster, version, insights: [Finding fields], after_refresh,
    category}."""
    cluster, version = str(payload["cluster"]), str(payload["version"])
    category = str(payload.get("category") or UPGRADE_READINESS)
    if category not in CATEGORIES:
        raise ValueError(f"category must be one of {CATEGORIES}, got {category!r}")
    findings = [Finding(**raw) for raw in payload.get("insights") or []]
    with _LOCK:
        _SET.setdefault((cluster, version, category), []).append(
            SetFindings(findings, time.time(), bool(payload.get("after_refresh", False)))
        )


def _cluster(call: Call) -> Any:
    name = call.path_params["name"]
    cluster = call.eks.clusters.get(name)
    if cluster is None:
        raise exceptions.ResourceNotFoundException(messages.CLUSTER_NOT_FOUND.format(cluster=name))
    return cluster


def _last_refresh(call: Call, cluster: Any, now: float) -> tuple[float, Refresh | None]:
    """When EKS last evaluated this cluster's insights (a completed refresh, else the cluster's creation)."""
    refresh = _REFRESHES.get((call.account_id, call.region, cluster.name))
    created = float(calendar.timegm(cluster.created_at.utctimetuple()))
    if refresh is not None and refresh.ends_at <= now and not refresh.failed and refresh.started_at >= created:
        return refresh.ends_at, refresh
    return created, None


def _visible(cluster: Any, key: tuple[str, str, str], refreshed_at: float) -> tuple[list[Finding], float]:
    """The findings set for this cluster, version and category that EKS would show now, and when they were
    evaluated."""
    shown: list[Finding] = []
    evaluated = refreshed_at
    for entry in _SET.get(key, []):
        if entry.after_refresh and refreshed_at < entry.set_at:
            continue
        shown = entry.findings
        evaluated = max(refreshed_at, entry.set_at) if not entry.after_refresh else refreshed_at
    return shown, evaluated


def _next_minor(version: str) -> str | None:
    major, minor = version.split(".")[:2]
    following = f"{major}.{int(minor) + 1}"
    return following if versions.offered(following) else None


def _usual_checks(call: Call, cluster: Any, version: str) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """EKS's checks for the cluster's next minor: (insight fields, resources) each."""
    passing = {"status": "PASSING"}
    checks: list[tuple[dict[str, Any], list[dict[str, Any]]]] = [
        (
            {
                "name": f"Deprecated APIs removed in Kubernetes v{version}",
                "description": f"Checks for usage of deprecated APIs that are scheduled for removal in Kubernetes "
                f"v{version}. Upgrading your cluster before migrating to the updated APIs could cause "
                "application impact.",
                "insightStatus": {**passing, "reason": "No deprecated API usage detected within the last 30 days."},
                "recommendation": "No action required.",
            },
            [],
        ),
        (
            {
                "name": "Kubelet version skew",
                "description": "Checks for kubelet versions of worker nodes in the cluster to see if an upgrade "
                "would cause noncompliance with supported Kubernetes kubelet version skew policy.",
                "insightStatus": {**passing, "reason": "Node kubelet versions match the cluster control plane."},
                "recommendation": "No action required.",
            },
            [],
        ),
        (
            {
                "name": "Cluster health issues",
                "description": "Checks for any cluster health issues that prevent a successful upgrade.",
                "insightStatus": {**passing, "reason": "No cluster health issues detected."},
                "recommendation": "No action required.",
            },
            [],
        ),
    ]
    lagging = addons.incompatible(call, cluster, version)
    arns = {a.name: a.arn for a in addons.installed(call, cluster)}
    addon_check: dict[str, Any] = {
        "name": ADDON_CHECK,
        "description": f"Checks that the installed EKS add-ons are compatible with Kubernetes v{version}.",
        "insightStatus": {**passing, "reason": "All installed add-ons are compatible."},
        "recommendation": "No action required.",
        "categorySpecificSummary": {"deprecationDetails": [], "addonCompatibilityDetails": []},
    }
    resources = []
    if lagging:
        names = ", ".join(f"{name} {current}" for name, current, _ in lagging)
        addon_check["insightStatus"] = {"status": "ERROR", "reason": f"Incompatible add-on versions: {names}."}
        addon_check["recommendation"] = (
            f"Update the add-ons to a version compatible with Kubernetes v{version} before upgrading the cluster."
        )
        addon_check["categorySpecificSummary"]["addonCompatibilityDetails"] = [
            {"name": name, "compatibleVersions": compatible} for name, _, compatible in lagging
        ]
        resources = [
            {"insightStatus": {"status": "ERROR", "reason": f"{name} {current}"}, "arn": arns[name]}
            for name, current, _ in lagging
        ]
    checks.append((addon_check, resources))
    return checks


def _from_finding(finding: Finding) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    fields: dict[str, Any] = {
        "name": finding.name,
        "description": finding.description or finding.name,
        "insightStatus": {"status": finding.status, "reason": finding.reason},
        "recommendation": finding.recommendation,
        "categorySpecificSummary": {"deprecationDetails": list(finding.deprecations), "addonCompatibilityDetails": []},
    }
    resources = [
        {"insightStatus": {"status": finding.status, "reason": finding.reason}, "kubernetesResourceUri": uri}
        for uri in finding.resources
    ]
    return fields, resources


def _insights(call: Call, cluster: Any) -> list[dict[str, Any]]:
    """Every insight of the cluster, whole (as DescribeInsight gives them), ordered by version and name."""
    now = time.time()
    refreshed_at, _ = _last_refresh(call, cluster, now)
    by_version: dict[tuple[str, str], dict[str, tuple[dict[str, Any], list[dict[str, Any]], float]]] = {}
    following = _next_minor(cluster.version)
    if following is not None:
        by_version[(following, UPGRADE_READINESS)] = {
            f["name"]: (f, r, refreshed_at) for f, r in _usual_checks(call, cluster, following)
        }
    rollback_window = rollbacks.window_open(updates.history(call, cluster), now)
    for key in list(_SET):
        cluster_name, version, category = key
        if cluster_name != cluster.name or (category == ROLLBACK_READINESS and not rollback_window):
            continue
        shown, evaluated = _visible(cluster, key, refreshed_at)
        for finding in shown:
            fields, resources = _from_finding(finding)
            by_version.setdefault((version, category), {})[finding.name] = (fields, resources, evaluated)
    found = []
    for version, category in sorted(by_version, key=lambda k: (tuple(int(p) for p in k[0].split(".")), k[1])):
        for name in sorted(by_version[(version, category)]):
            fields, resources, evaluated = by_version[(version, category)][name]
            # Upgrade insights keep the ids they had before categories were told apart.
            path = f"{call.account_id}/{call.region}/{cluster.name}/{version}/{name}"
            found.append(
                {
                    "id": str(uuid.uuid5(_IDS, path if category == UPGRADE_READINESS else f"{path}/{category}")),
                    "category": category,
                    "kubernetesVersion": version,
                    "lastRefreshTime": evaluated,
                    "lastTransitionTime": evaluated,
                    "additionalInfo": dict(UPGRADE_DOCS),
                    "resources": resources,
                    **fields,
                }
            )
    return found


SUMMARY_FIELDS = (
    "id",
    "name",
    "category",
    "kubernetesVersion",
    "lastRefreshTime",
    "lastTransitionTime",
    "description",
    "insightStatus",
)


def list_insights(call: Call) -> dict[str, Any]:
    updates.settle(call)
    wanted = call.body.get("filter") or {}
    categories, kubernetes_versions, statuses = (
        wanted.get(key) or [] for key in ("categories", "kubernetesVersions", "statuses")
    )
    with _LOCK:
        cluster = _cluster(call)
        matching = [
            {key: insight[key] for key in SUMMARY_FIELDS}
            for insight in _insights(call, cluster)
            if (not categories or insight["category"] in categories)
            and (not kubernetes_versions or insight["kubernetesVersion"] in kubernetes_versions)
            and (not statuses or insight["insightStatus"]["status"] in statuses)
        ]
    max_results = int(call.body.get("maxResults") or MAX_RESULTS)
    token = call.body.get("nextToken")
    start = 0
    if token is not None:
        if not str(token).isdigit() or int(token) > len(matching):
            raise exceptions.InvalidParameterException(messages.BAD_NEXT_TOKEN)
        start = int(token)
    page: dict[str, Any] = {"insights": matching[start : start + max_results]}
    if start + max_results < len(matching):
        page["nextToken"] = str(start + max_results)
    return page


def describe_insight(call: Call) -> dict[str, Any]:
    updates.settle(call)
    insight_id = call.path_params["id"]
    with _LOCK:
        found = [i for i in _insights(call, _cluster(call)) if i["id"] == insight_id]
    if not found:
        raise exceptions.ResourceNotFoundException(messages.INSIGHT_NOT_FOUND.format(id=insight_id))
    return {"insight": found[0]}


def start_insights_refresh(call: Call) -> dict[str, Any]:
    now = time.time()
    with _LOCK:
        cluster = _cluster(call)
        key = (call.account_id, call.region, cluster.name)
        running = _REFRESHES.get(key)
        if running is None or running.ends_at <= now:
            failed = call.settings.take("insights_refresh_failed", "StartInsightsRefresh", cluster.name) is not None
            _REFRESHES[key] = Refresh(now, now + call.settings.durations.insights_refresh, failed=failed)
    return {"message": messages.REFRESH_STARTED, "status": "IN_PROGRESS"}


def describe_insights_refresh(call: Call) -> dict[str, Any]:
    now = time.time()
    with _LOCK:
        cluster = _cluster(call)
        refresh = _REFRESHES.get((call.account_id, call.region, cluster.name))
    if refresh is None:
        raise exceptions.ResourceNotFoundException(messages.NO_INSIGHTS_REFRESH.format(cluster=cluster.name))
    if now < refresh.ends_at:
        return {"message": messages.REFRESH_STARTED, "status": "IN_PROGRESS", "startedAt": refresh.started_at}
    return {
        "message": messages.REFRESH_FAILED if refresh.failed else messages.REFRESH_DONE,
        "status": "FAILED" if refresh.failed else "COMPLETED",
        "startedAt": refresh.started_at,
        "endedAt": refresh.ends_at,
    }


def refuse_when_not_ready(call: Call) -> None:
    """UpdateClusterVersion, asked before the updates model: an ERROR insight for the next minor refuses a new
    step unless `force` is set. Every other case falls through (None) to the updates model."""
    if call.body.get("force") is True:
        return None
    step = updates.pending_step(call)
    if step is None:
        return None
    cluster, wanted = step
    rollback = wanted != _next_minor(cluster.version)
    category, statuses = (ROLLBACK_READINESS, ("ERROR", "UNKNOWN")) if rollback else (UPGRADE_READINESS, ("ERROR",))
    with _LOCK:
        blocking = [
            i
            for i in _insights(call, cluster)
            if i["kubernetesVersion"] == wanted
            and i["category"] == category
            and i["insightStatus"]["status"] in statuses
        ]
    if blocking:
        raise exceptions.InvalidStateException(messages.ROLLBACK_BLOCKED if rollback else messages.READINESS_BLOCKED)
    return None

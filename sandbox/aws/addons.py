"""EKS add-ons: ListAddons, DescribeAddon, DescribeAddonVersions, CreateAddon, UpdateAddon, DeleteAddon, and
their updates in DescribeUpdate and ListUpdates, with versions checked against the Kubernetes minor."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from . import addon_catalog, exceptions, messages, updates
from .call import Call

RESOLVE_CONFLICTS = ("OVERWRITE", "NONE", "PRESERVE")
MAX_RESULTS = 100
ARN_TEMPLATE = "arn:aws:eks:{region}:{account_id}:addon/{cluster}/{addon}/{uuid}"


@dataclass
class AddonUpdate:
    """One UpdateAddon; like a version update, its status follows from the clock."""

    id: str
    addon: str
    from_version: str
    to_version: str
    resolve_conflicts: str | None
    created_at: float
    ends_at: float
    errors: list[dict[str, Any]] = field(default_factory=list)

    def status(self, now: float) -> str:
        if now < self.ends_at:
            return "InProgress"
        return "Failed" if self.errors else "Successful"

    def describe(self, now: float) -> dict[str, Any]:
        params = [{"type": "AddonVersion", "value": self.to_version}]
        if self.resolve_conflicts:
            params.append({"type": "ResolveConflicts", "value": self.resolve_conflicts})
        return {
            "id": self.id,
            "status": self.status(now),
            "type": "AddonUpdate",
            "params": params,
            "createdAt": self.created_at,
            "errors": self.errors,
        }


@dataclass
class InstalledAddon:
    account_id: str
    region: str
    cluster: str
    cluster_created_at: Any
    name: str
    initial_version: str
    arn: str
    created_at: float
    ready_at: float
    tags: dict[str, str]
    service_account_role_arn: str | None = None
    configuration_values: str | None = None
    deleting_from: float | None = None
    gone_at: float | None = None
    updates: list[AddonUpdate] = field(default_factory=list)

    def version(self, now: float) -> str:
        done = [u for u in self.updates if u.status(now) == "Successful"]
        return done[-1].to_version if done else self.initial_version

    def status(self, now: float) -> str:
        if self.deleting_from is not None:
            return "DELETING"
        if now < self.ready_at:
            return "CREATING"
        if any(u.status(now) == "InProgress" for u in self.updates):
            return "UPDATING"
        return "ACTIVE"

    def modified_at(self, now: float) -> float:
        ended = [u.ends_at for u in self.updates if u.ends_at <= now]
        return max([self.created_at, *ended])

    def describe(self, now: float) -> dict[str, Any]:
        described: dict[str, Any] = {
            "addonName": self.name,
            "clusterName": self.cluster,
            "status": self.status(now),
            "addonVersion": self.version(now),
            "health": {"issues": []},
            "addonArn": self.arn,
            "createdAt": self.created_at,
            "modifiedAt": self.modified_at(now),
            "tags": dict(self.tags),
            "podIdentityAssociations": [],
        }
        if self.service_account_role_arn:
            described["serviceAccountRoleArn"] = self.service_account_role_arn
        if self.configuration_values:
            described["configurationValues"] = self.configuration_values
        return described


_LOCK = threading.RLock()
_ADDONS: list[InstalledAddon] = []


def reset() -> None:
    with _LOCK:
        _ADDONS.clear()


def _cluster(call: Call, name: str) -> Any:
    cluster = call.eks.clusters.get(name)
    if cluster is None:
        raise exceptions.ResourceNotFoundException(messages.CLUSTER_NOT_FOUND.format(cluster=name))
    return cluster


def _forget_gone(now: float) -> None:
    _ADDONS[:] = [a for a in _ADDONS if a.gone_at is None or now < a.gone_at]


def installed(call: Call, cluster: Any) -> list[InstalledAddon]:
    """The add-ons of this cluster (not of an earlier cluster of the same name), oldest first."""
    with _LOCK:
        _forget_gone(time.time())
        return [
            a
            for a in _ADDONS
            if (a.account_id, a.region, a.cluster) == (call.account_id, call.region, cluster.name)
            and a.cluster_created_at == cluster.created_at
        ]


def incompatible(call: Call, cluster: Any, kubernetes_version: str) -> list[tuple[str, str, list[str]]]:
    """(name, installed version, versions compatible with `kubernetes_version`) for each add-on that would not
    run on it. An add-on with no version at all for that minor is left out: EKS does not offer the minor."""
    now = time.time()
    found = []
    for addon in installed(call, cluster):
        offered = addon_catalog.CATALOG.get(addon.name)
        if offered is None:
            continue
        compatible = [v.version for v in offered.versions if kubernetes_version in v.compatible]
        current = addon.version(now)
        if compatible and current not in compatible:
            found.append((addon.name, current, compatible))
    return found


def _find(call: Call, cluster: Any, name: str) -> InstalledAddon:
    found = [a for a in installed(call, cluster) if a.name == name]
    if not found:
        raise exceptions.ResourceNotFoundException(messages.ADDON_NOT_FOUND.format(addon=name, cluster=cluster.name))
    return found[0]


def _compatible_version(addon: addon_catalog.Addon, version: str | None, kubernetes_version: str) -> str:
    if version is None:
        default = addon.default_for(kubernetes_version)
        if default is None:
            raise exceptions.InvalidParameterException(
                messages.UNSUPPORTED_ADDON.format(addon=addon.name, version=kubernetes_version)
            )
        return default.version
    known = addon.version(version)
    if known is None or kubernetes_version not in known.compatible:
        raise exceptions.InvalidParameterException(messages.UNSUPPORTED_ADDON_VERSION)
    return version


def _refuse_during_cluster_update(call: Call, cluster_name: str) -> None:
    running = updates.update_in_progress(call, cluster_name)
    if running is not None:
        raise exceptions.ResourceInUseException(
            messages.UPDATE_IN_PROGRESS.format(cluster=cluster_name, update_id=running)
        )


def create_addon(call: Call) -> dict[str, Any]:
    name = call.path_params["name"]
    addon_name = str(call.body.get("addonName", ""))
    with _LOCK:
        cluster = _cluster(call, name)
        _refuse_during_cluster_update(call, name)
        offered = addon_catalog.CATALOG.get(addon_name)
        if offered is None:
            raise exceptions.InvalidParameterException(
                messages.UNSUPPORTED_ADDON.format(addon=addon_name, version=cluster.version)
            )
        if any(a.name == addon_name for a in installed(call, cluster)):
            raise exceptions.ResourceInUseException(messages.ADDON_EXISTS)
        version = _compatible_version(offered, call.body.get("addonVersion"), cluster.version)
        now = time.time()
        addon = InstalledAddon(
            account_id=call.account_id,
            region=call.region,
            cluster=name,
            cluster_created_at=cluster.created_at,
            name=addon_name,
            initial_version=version,
            arn=ARN_TEMPLATE.format(
                region=call.region, account_id=call.account_id, cluster=name, addon=addon_name, uuid=uuid.uuid4()
            ),
            created_at=now,
            ready_at=now + call.settings.durations.addon_update,
            tags=dict(call.body.get("tags") or {}),
            service_account_role_arn=call.body.get("serviceAccountRoleArn"),
            configuration_values=call.body.get("configurationValues"),
        )
        _ADDONS.append(addon)
        return {"addon": addon.describe(now)}


def describe_addon(call: Call) -> dict[str, Any]:
    with _LOCK:
        cluster = _cluster(call, call.path_params["name"])
        return {"addon": _find(call, cluster, call.path_params["addonName"]).describe(time.time())}


def update_addon(call: Call) -> dict[str, Any]:
    name, addon_name = call.path_params["name"], call.path_params["addonName"]
    resolve = call.body.get("resolveConflicts")
    with _LOCK:
        cluster = _cluster(call, name)
        addon = _find(call, cluster, addon_name)
        _refuse_during_cluster_update(call, name)
        now = time.time()
        status = addon.status(now)
        if status not in ("ACTIVE", "DEGRADED", "UPDATE_FAILED"):
            raise exceptions.ResourceInUseException(messages.ADDON_BUSY.format(addon=addon_name, status=status))
        offered = addon_catalog.CATALOG[addon_name]
        current = addon.version(now)
        wanted = _compatible_version(offered, call.body.get("addonVersion") or current, cluster.version)
        errors = []
        if call.settings.take("addon_update_failed", operation="UpdateAddon", target=addon_name):
            errors.append(
                {
                    "errorCode": messages.ADDON_CONFLICT_ERROR_CODE,
                    "errorMessage": messages.ADDON_CONFLICT_ERROR.format(addon=addon_name),
                    "resourceIds": [addon.arn],
                }
            )
        update = AddonUpdate(
            id=str(uuid.uuid4()),
            addon=addon_name,
            from_version=current,
            to_version=wanted,
            resolve_conflicts=resolve if resolve in RESOLVE_CONFLICTS else None,
            created_at=now,
            ends_at=now + call.settings.durations.addon_update,
            errors=errors,
        )
        addon.updates.append(update)
        if call.body.get("serviceAccountRoleArn") is not None:
            addon.service_account_role_arn = call.body["serviceAccountRoleArn"] or None
        return {"update": update.describe(now)}


def delete_addon(call: Call) -> dict[str, Any]:
    with _LOCK:
        cluster = _cluster(call, call.path_params["name"])
        addon = _find(call, cluster, call.path_params["addonName"])
        now = time.time()
        if addon.deleting_from is None:
            addon.deleting_from = now
            addon.gone_at = now + call.settings.durations.addon_update
        return {"addon": addon.describe(now)}


def _page(items: list[Any], call: Call, key: str) -> dict[str, Any]:
    max_results = int(call.query_one("maxResults") or MAX_RESULTS)
    if not 1 <= max_results <= MAX_RESULTS:
        raise exceptions.InvalidParameterException(messages.MAX_RESULTS_RANGE.format(limit=MAX_RESULTS))
    token = call.query_one("nextToken")
    start = 0
    if token is not None:
        if not token.isdigit() or int(token) > len(items):
            raise exceptions.InvalidParameterException(messages.BAD_NEXT_TOKEN)
        start = int(token)
    page: dict[str, Any] = {key: items[start : start + max_results]}
    if start + max_results < len(items):
        page["nextToken"] = str(start + max_results)
    return page


def list_addons(call: Call) -> dict[str, Any]:
    with _LOCK:
        cluster = _cluster(call, call.path_params["name"])
        names = [a.name for a in installed(call, cluster)]
    return _page(names, call, "addons")


def _version_info(addon: addon_catalog.Addon, version: addon_catalog.AddonVersion, only: str | None) -> dict[str, Any]:
    minors = [m for m in version.compatible if only is None or m == only]
    return {
        "addonVersion": version.version,
        "architecture": ["amd64", "arm64"],
        "computeTypes": ["ec2", "hybrid"],
        "compatibilities": [
            {"clusterVersion": m, "platformVersions": ["*"], "defaultVersion": m in version.default_for} for m in minors
        ],
        "requiresConfiguration": False,
        "requiresIamPermissions": addon.requires_iam_permissions,
    }


def describe_addon_versions(call: Call) -> dict[str, Any]:
    """Every version of each add-on; with kubernetesVersion, each version's compatibilities narrowed to that
    minor (empty for a version that does not run on it), as EKS answers."""
    kubernetes_version = call.query_one("kubernetesVersion")
    wanted_name = call.query_one("addonName")
    types = call.query.get("types") or []
    publishers = call.query.get("publishers") or []
    owners = call.query.get("owners") or []
    found = []
    for addon in sorted(addon_catalog.CATALOG.values(), key=lambda a: a.name):
        if wanted_name not in (None, addon.name) or (types and addon.type not in types):
            continue
        if (publishers and "eks" not in publishers) or (owners and "aws" not in owners):
            continue
        found.append(
            {
                "addonName": addon.name,
                "type": addon.type,
                "addonVersions": [_version_info(addon, v, kubernetes_version) for v in addon.versions],
                "publisher": "eks",
                "owner": "aws",
                "defaultNamespace": "kube-system",
            }
        )
    return _page(found, call, "addons")


def _addon_updates(call: Call) -> list[AddonUpdate] | None:
    """The updates of the add-on named in the query, or None when the call is not about an add-on."""
    addon_name = call.query_one("addonName")
    if addon_name is None:
        return None
    cluster = _cluster(call, call.path_params["name"])
    return list(_find(call, cluster, addon_name).updates)


def describe_update(call: Call) -> dict[str, Any] | None:
    with _LOCK:
        found = _addon_updates(call)
        if found is None:
            return None
        update_id = call.path_params["updateId"]
        match = [u for u in found if u.id == update_id]
        if not match:
            raise exceptions.ResourceNotFoundException(messages.UPDATE_NOT_FOUND.format(update_id=update_id))
        return {"update": match[0].describe(time.time())}


def list_updates(call: Call) -> dict[str, Any] | None:
    with _LOCK:
        found = _addon_updates(call)
    if found is None:
        return None
    return _page([u.id for u in found], call, "updateIds")

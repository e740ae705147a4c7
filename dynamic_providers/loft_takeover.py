"""How a LoftClusterConnect create meets a Cluster that exists: ours from an interrupted run, or anyone's with
`adopt_existing`, is adopted; someone else's fails the create before anything is changed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_cluster_connect._plumbing import errors, ownership, progress


def mark_of(props: Mapping[str, Any]) -> str | None:
    """The owner annotation's value for what this resource makes; None without an identity (never ours then)."""
    identity = props.get(ownership.IDENTITY)
    return ownership.owner_mark(identity) if isinstance(identity, str) and identity else None


def owned_metadata(props: Mapping[str, Any]) -> dict[str, Any]:
    """The Cluster's metadata: its name, and the owner annotation."""
    mark = mark_of(props)
    metadata: dict[str, Any] = {"name": props["cluster_name"]}
    if mark is not None:
        metadata["annotations"] = {ownership.OWNER_KEY: mark}
    return metadata


def already_exists(err: errors.LoftApiError) -> bool:
    return err.reason == "AlreadyExists" or err.status == 409


def annotations_of(cluster: Mapping[str, Any]) -> dict[str, Any]:
    return dict((cluster.get("metadata") or {}).get("annotations") or {})


def is_ours(cluster: Mapping[str, Any], props: Mapping[str, Any]) -> bool:
    mark = mark_of(props)
    return mark is not None and ownership.owner_of(annotations_of(cluster)) == mark


def take_over(err: errors.LoftApiError, cluster: Mapping[str, Any], props: Mapping[str, Any]) -> None:
    """Adopt the existing Cluster (reported), or raise the create's AlreadyExists error saying whose it is."""
    name = str(props["cluster_name"])
    if is_ours(cluster, props):
        progress.report(f"Loft cluster {name} was connected by an interrupted run of this resource: adopting it")
        return
    if ownership.adopting(props):
        progress.report(f"Loft cluster {name} exists (adopt_existing=True): adopting it")
        return
    owner = ownership.owner_of(annotations_of(cluster))
    whose = (
        f"another resource's (annotation {ownership.OWNER_KEY}={owner})"
        if owner
        else "not connected by pulumi-cluster-connect"
    )
    hint = (
        f" (Loft cluster {name!r} is {whose}. Nothing was changed. To manage it with this resource, set "
        "`adopt_existing=True` on it; or disconnect it, or choose another cluster_name)"
    )
    raise errors.LoftApiError(err.action, err.reason, err.message + hint, err.status)


def left_as_it_was(err: errors.ClusterConnectError, name: str) -> errors.ClusterConnectError:
    """The error for an adopted Cluster that failed: this create did not make it, so it does not disconnect it."""
    return errors.ClusterConnectError(
        f"{err}. Loft cluster {name} existed before this create: it is left connected as it was, and the next "
        "`pulumi up` adopts it again"
    )


def after_accepted(
    err: errors.ClusterConnectError, name: str, cleanup: errors.ClusterConnectError | None, marked: bool
) -> errors.ClusterConnectError:
    """The error for a create that failed after Loft accepted it, saying truthfully whether the Cluster was
    disconnected again (`cleanup` None) or is left connected."""
    if cleanup is None:
        return errors.ClusterConnectError(f"{err}. Loft accepted cluster {name}: it was disconnected again")
    if marked:
        left = "it is left connected, marked as this resource's, and the next `pulumi up` adopts it"
    else:
        left = "it is left connected: disconnect it, or adopt it with `adopt_existing=True`"
    return errors.ClusterConnectError(
        f"{err}. Loft accepted cluster {name}, and disconnecting it again failed ({cleanup}): {left}"
    )

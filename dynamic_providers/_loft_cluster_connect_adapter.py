"""LoftClusterConnect's side of the create protocol: the Loft Cluster service bound to `protocol.Adapter`, and what a
create that failed after the platform accepted it says it left.

Loft takes no request token, so a create posts first: only the platform's AlreadyExists answer makes the protocol
look, and what it finds is adopted (ours, or `adopt_existing`) or refused before anything is changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_cluster_connect._plumbing import errors, loft_api, loft_clusters, progress, protocol


def words_for(name: str) -> protocol.Words:
    return protocol.Words(
        what=f"Loft cluster {name!r}", mark="annotation", otherwise="disconnect it, or choose another cluster_name"
    )


@dataclass
class ClusterAdapter:
    """Posts `body` (a Cluster or a ClusterConnect) for the Cluster `name`; the answer is the platform's."""

    api: loft_api.LoftApi
    name: str
    body: Mapping[str, Any]
    identity: str
    adopt_existing: bool
    timeout: float
    words: protocol.Words = field(init=False)

    def __post_init__(self) -> None:
        self.words = words_for(self.name)

    def look(self, first: bool) -> protocol.Existing | None:
        if first:
            return None  # no request token to replay: post, and look when the platform says it exists
        cluster = loft_clusters.find(self.api, self.name)
        if cluster is None:
            return None
        return protocol.Existing(
            marks=loft_clusters.annotations_of(cluster),
            status=loft_clusters.phase_of(cluster) or None,
            going=loft_clusters.is_going(cluster),
            details=cluster,
        )

    def adopt(self, existing: protocol.Existing) -> dict[str, Any]:
        return dict(existing.details)

    def make_way(self, existing: protocol.Existing) -> None:
        loft_clusters.delete(self.api, self.name, self.timeout)

    def wait_gone(self, existing: protocol.Existing) -> None:
        loft_clusters.wait_until_gone(self.api, self.name, self.timeout)

    def create(self, generation: int) -> dict[str, Any]:
        try:
            return loft_clusters.create(self.api, self.body)
        except errors.LoftApiError as err:
            if loft_api.already_exists(err):
                raise protocol.AlreadyExists from err
            raise


def failed_after_accepted(
    adapter: ClusterAdapter, err: errors.ClusterConnectError, made: bool
) -> errors.ClusterConnectError:
    """A create that fails leaves no state behind, so nothing would ever disconnect a Cluster it made: it
    disconnects it now. An adopted one existed before: it stays as it was."""
    name = adapter.name
    if not made:
        return protocol.left_as_it_was(err, f"Loft cluster {name}", state="left connected as it was")
    progress.report(f"disconnecting Loft cluster {name} again, as the connection failed")
    try:
        loft_clusters.delete(adapter.api, name, adapter.timeout)
    except errors.ClusterConnectError as cleanup:
        what = f"cluster {name}, and disconnecting it again failed ({cleanup})"
        if adapter.identity:
            return protocol.left_in_place(err, what, "Loft", state="left connected")
        return errors.ClusterConnectError(
            f"{err}. Loft accepted {what}: it is left connected: disconnect it, or adopt it with `adopt_existing=True`"
        )
    return protocol.deleted(err, f"cluster {name}", "Loft", undone="disconnected")

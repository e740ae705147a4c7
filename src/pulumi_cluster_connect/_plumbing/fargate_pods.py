"""A Fargate profile's pods move before it is deleted: whether a deletion is a replacement, and the drain it needs.

EKS terminates every pod of a profile at once when the profile is deleted, budgets ignored
(aws/containers-roadmap#996). With a `kubeconfig`, FargateProfile's delete first evicts them through the Eviction API
(_plumbing/eviction) when the deletion is the old half of a replacement, or always with `drain_on_delete=True`.

A delete receives only the old profile's state, so it tells a replacement from a plain delete by looking: another
ACTIVE profile of the cluster carrying this resource's owner tag (its stable key survives a replacement) is the
replacement, made before this deletion (auto-named profiles are replaced create-first). A fixed-named profile is
replaced delete-first: no replacement exists yet, so its delete drains only with `drain_on_delete` (onto other
capacity, if any: the new profile comes after). A drain interrupted by a crash is done again by the next `pulumi up`,
which retries the pending delete of the old profile: the drain always ends before DeleteFargateProfile is asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import CheckFailure

from . import aws, eviction, inputs, kube, ownership, progress

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

KUBECONFIG, DRAIN_ON_DELETE, RECYCLE = "kubeconfig", "drain_on_delete", "recycle_fargate_pods"
KEYS = (KUBECONFIG, DRAIN_ON_DELETE)
VERSION_KEYS = (KUBECONFIG, RECYCLE)
PROFILE_LABEL = "eks.amazonaws.com/fargate-profile"


def check(props: Mapping[str, Any], failures: list[CheckFailure], flag: str = DRAIN_ON_DELETE) -> None:
    """`kubeconfig`: optional, a usable kubeconfig; `flag` (drain_on_delete, recycle_fargate_pods): a bool, which
    needs a kubeconfig."""
    kube.check_kubeconfig(props, KUBECONFIG, failures, required=False)
    drain = props.get(flag)
    if drain is None or inputs.is_unknown(drain):
        return
    if not isinstance(drain, bool):
        failures.append(CheckFailure(flag, f"must be a boolean{inputs.got(drain)}"))
    elif drain and props.get(KUBECONFIG) is None:
        failures.append(CheckFailure(flag, "needs `kubeconfig`: the cluster the Fargate pods are evicted through"))


def replacement_of(eks: EKSClient, cluster: str, name: str, identity: str) -> str | None:
    """The name of another ACTIVE profile of `cluster` marked as this resource's (its replacement), or None."""
    mark = ownership.owner_mark(identity)
    names: list[str] = []
    token = ""
    while True:
        page = (
            eks.list_fargate_profiles(clusterName=cluster, nextToken=token)
            if token
            else (eks.list_fargate_profiles(clusterName=cluster))
        )
        names += page.get("fargateProfileNames", [])
        token = page.get("nextToken", "")
        if not token:
            break
    for other in sorted(set(names) - {name}):
        described = aws.find(lambda other=other: _describe(eks, cluster, other)) or {}  # type: ignore[misc]
        if described.get("status") == "ACTIVE" and (described.get("tags") or {}).get(ownership.OWNER_KEY) == mark:
            return other
    return None


def _describe(eks: EKSClient, cluster: str, name: str) -> dict[str, Any]:
    return dict(eks.describe_fargate_profile(clusterName=cluster, fargateProfileName=name)["fargateProfile"])


def drain_before_delete(eks: EKSClient, profile: Mapping[str, Any], props: Mapping[str, Any], timeout: float) -> None:
    """Evict the pods of an ACTIVE profile about to be deleted, when it is being replaced or `drain_on_delete` says
    so; nothing without a kubeconfig (EKS then terminates them with the profile)."""
    kubeconfig = props.get(KUBECONFIG)
    if kubeconfig is None or profile.get("status") != "ACTIVE":
        return  # DELETING: EKS is already terminating them; *_FAILED profiles run no pods
    cluster, name = str(profile["clusterName"]), str(profile["fargateProfileName"])
    what = f"Fargate profile {name} on cluster {cluster}"
    identity = props.get(ownership.IDENTITY)
    successor = replacement_of(eks, cluster, name, str(identity)) if isinstance(identity, str) else None
    if successor is None and not props.get(DRAIN_ON_DELETE):
        return
    why = f"replaced by {successor}" if successor else "drain_on_delete"
    progress.report(f"{what} ({why}): evicting its pods before deleting it, PodDisruptionBudgets honoured")
    drained = eviction.drain(kubeconfig, {PROFILE_LABEL: name}, what, timeout)
    progress.report(f"{what}: {len(drained.evicted)} pod(s) evicted, none left on it")


def kubelet_minor(kubelet_version: str) -> str | None:
    """`1.31` of a kubelet version such as `v1.31.4-eks-fargate`; None when it is not of that form."""
    parts = kubelet_version.lstrip("v").split(".")
    return f"{parts[0]}.{parts[1]}" if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit() else None


def recycle(
    kubeconfig: kube.Kubeconfig, cluster: str, profiles: Iterable[str], version: str, timeout: float
) -> list[str]:
    """Evict, budgets honoured, every pod scheduled by one of the cluster's Fargate `profiles` whose node runs a
    kubelet of another minor than `version`, until they all run on `version` (their replacements start on nodes of
    the control plane's version); the pods evicted."""
    names = set(profiles)
    if not names:
        return []
    kube.load_lightkube()
    from lightkube.core.exceptions import ApiError
    from lightkube.resources.core_v1 import Node

    kubelets: dict[str, str | None] = {}

    def on_another_version(client: Any, pod: dict[str, Any]) -> bool:
        if ((pod.get("metadata") or {}).get("labels") or {}).get(PROFILE_LABEL) not in names:
            return False  # another cluster's (the kubeconfig reaches more than this one)
        node = (pod.get("spec") or {}).get("nodeName")
        if not node:
            return False  # not started yet: it starts on the current version
        if node not in kubelets:
            try:
                info = (client.get(Node, node).to_dict().get("status") or {}).get("nodeInfo") or {}
                kubelets[node] = kubelet_minor(str(info.get("kubeletVersion", "")))
            except ApiError:
                kubelets[node] = None  # gone with its pod
        return kubelets[node] not in (None, version)

    what = f"Fargate pods of EKS cluster {cluster} not on Kubernetes {version}"
    drained = eviction.drain(kubeconfig, {PROFILE_LABEL: None}, what, timeout, only=on_another_version)
    progress.report(f"{what}: {len(drained.evicted)} pod(s) recycled, all run on {version}")
    return drained.evicted

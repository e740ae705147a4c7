"""A namespace a resource creates when it is missing, marked as made by us, and may remove again."""

from __future__ import annotations

from . import kube, polling

# lightkube is imported after kube.Api has loaded it (one thread at a time: see kube.load_lightkube).

# Kept on a namespace made here: whoever finds it later knows it is ours to remove.
NAMESPACE_MARK = ("app.kubernetes.io/managed-by", "pulumi-cluster-connect")


def ensure(kubeconfig: str, namespace: str) -> bool:
    """Create the namespace (marked as ours) when missing; True when it is ours to remove."""
    api = kube.Api(kubeconfig)
    from lightkube.models.meta_v1 import ObjectMeta
    from lightkube.resources.core_v1 import Namespace

    existing = api.get(Namespace, namespace, None, f"Namespace {namespace}")
    if existing is not None:
        labels = (existing.metadata.labels if existing.metadata else None) or {}
        return labels.get(NAMESPACE_MARK[0]) == NAMESPACE_MARK[1]
    api.create(Namespace(metadata=ObjectMeta(name=namespace, labels=dict([NAMESPACE_MARK]))), f"Namespace {namespace}")
    return True


def remove(kubeconfig: str, namespace: str, timeout: float) -> None:
    """Delete our namespace and wait until it is gone (a replacement may create it again right away)."""
    api = kube.Api(kubeconfig)
    from lightkube.resources.core_v1 import Namespace

    what = f"Namespace {namespace}"
    api.delete(Namespace, namespace, None, what)
    polling.wait_for(
        f"deletion of {what}",
        lambda: api.get(Namespace, namespace, None, what) is not None,
        state_of=lambda there: "terminating" if there else "gone",
        done=lambda there: not there,
        timeout=timeout,
        backoff=polling.Backoff(first=0.2, cap=2.0),
    )

"""A namespace a resource creates when it is missing, marked as made by us, and may remove again."""

from __future__ import annotations

from . import errors, kube, polling

# lightkube is imported after kube.client has loaded it (one thread at a time: see kube.load_lightkube).

# Kept on a namespace made here: whoever finds it later knows it is ours to remove.
NAMESPACE_MARK = ("app.kubernetes.io/managed-by", "pulumi-cluster-connect")


def ensure(kubeconfig: str, namespace: str) -> bool:
    """Create the namespace (marked as ours) when missing; True when it is ours to remove."""
    client = kube.client(kubeconfig)
    from lightkube.models.meta_v1 import ObjectMeta
    from lightkube.resources.core_v1 import Namespace

    try:
        with kube.translated_errors(f"get Namespace {namespace}", kube.server_of(kubeconfig)):
            existing = client.get(Namespace, namespace)
        labels = (existing.metadata.labels if existing.metadata else None) or {}
        return labels.get(NAMESPACE_MARK[0]) == NAMESPACE_MARK[1]
    except errors.KubernetesApiError as err:
        if not kube.is_not_found(err):
            raise
    with kube.translated_errors(f"create Namespace {namespace}", kube.server_of(kubeconfig)):
        client.create(Namespace(metadata=ObjectMeta(name=namespace, labels=dict([NAMESPACE_MARK]))))
    return True


def remove(kubeconfig: str, namespace: str, timeout: float) -> None:
    """Delete our namespace and wait until it is gone (a replacement may create it again right away)."""
    client = kube.client(kubeconfig)
    from lightkube.resources.core_v1 import Namespace

    def present() -> bool:
        try:
            with kube.translated_errors(f"get Namespace {namespace}", kube.server_of(kubeconfig)):
                client.get(Namespace, namespace)
        except errors.KubernetesApiError as err:
            if kube.is_not_found(err):
                return False
            raise
        return True

    try:
        with kube.translated_errors(f"delete Namespace {namespace}", kube.server_of(kubeconfig)):
            client.delete(Namespace, namespace)
    except errors.KubernetesApiError as err:
        if not kube.is_not_found(err):
            raise
    polling.wait_for(
        f"deletion of Namespace {namespace}",
        present,
        state_of=lambda there: "terminating" if there else "gone",
        done=lambda there: not there,
        timeout=timeout,
        backoff=polling.Backoff(first=0.2, cap=2.0),
    )

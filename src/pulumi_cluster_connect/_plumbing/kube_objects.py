"""Kubernetes objects given as maps: find one and its marks, server-side apply, delete, wait until gone.

An object is located by its apiVersion and kind (a built-in kind, or a custom resource's learnt from the cluster's
CRDs) and named by its reference, `apiVersion/kind/namespace/name`. This module knows nothing of the create
protocol: whose an object is, and what to do about it, is the resource's to decide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import kube, polling

# lightkube is imported here after kube.load_lightkube (kube.Api loads it): a preview never needs it.


@dataclass(frozen=True)
class Located:
    """An object's lightkube class, where it lives and its reference."""

    resource_class: Any
    name: str
    namespace: str | None
    ref: str

    @property
    def namespaced(self) -> bool:
        return self.namespace is not None


def reference(obj: Mapping[str, Any], namespaced: bool) -> str:
    """`apiVersion/kind/namespace/name`; the namespace is empty for cluster-scoped kinds."""
    metadata = obj["metadata"]
    namespace = (metadata.get("namespace") or "default") if namespaced else ""
    return f"{obj['apiVersion']}/{obj['kind']}/{namespace}/{metadata['name']}"


def split_reference(ref: str) -> tuple[str, str, str, str]:
    api_version, kind, namespace, name = ref.rsplit("/", 3)
    return api_version, kind, namespace, name


def marked(obj: Mapping[str, Any], marks: Mapping[str, str]) -> dict[str, Any]:
    """The object with `marks` among its annotations (the input is not changed)."""
    metadata = dict(obj["metadata"])
    metadata["annotations"] = {**(metadata.get("annotations") or {}), **marks}
    return {**obj, "metadata": metadata}


def is_namespaced(resource_class: Any) -> bool:
    kube.load_lightkube()
    from lightkube.core.resource import NamespacedResource

    return issubclass(resource_class, NamespacedResource)


def resource_class(api: kube.Api, obj: Mapping[str, Any]) -> Any:
    """The lightkube class of the object's apiVersion and kind (its other fields are not validated here); raises
    lightkube's LoadResourceError when the cluster does not serve the kind."""
    kube.load_lightkube()
    from lightkube import codecs
    from lightkube.core.exceptions import LoadResourceError

    api_version, kind = str(obj.get("apiVersion")), str(obj.get("kind"))
    try:
        return kube.ready(codecs.resource_registry.load(api_version, kind))
    except LoadResourceError:
        # A custom resource: learn its kinds from the cluster's CRDs, then try once more.
        api.learn_custom_kinds()
        return kube.ready(codecs.resource_registry.load(api_version, kind))


def locate(api: kube.Api, obj: Mapping[str, Any]) -> Located:
    """Where the object lives (`default` for a namespaced one given no namespace); raises LoadResourceError when
    its kind is not served."""
    found = resource_class(api, obj)
    namespaced = is_namespaced(found)
    ref = reference(obj, namespaced)
    _, _, namespace, name = split_reference(ref)
    return Located(found, name, namespace if namespaced else None, ref)


def served(api: kube.Api, obj: Mapping[str, Any]) -> Located | None:
    """`locate`, or None when the cluster does not serve the object's kind (so no such object can exist)."""
    kube.load_lightkube()
    from lightkube.core.exceptions import LoadResourceError

    try:
        return locate(api, obj)
    except LoadResourceError:
        return None


def served_reference(api: kube.Api, ref: str) -> Located | None:
    api_version, kind, namespace, name = split_reference(ref)
    return served(api, {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": namespace}})


def body(obj: Mapping[str, Any], where: Located, marks: Mapping[str, str]) -> dict[str, Any]:
    """What is applied: the object with `marks`, in its namespace (`default` when namespaced and given none)."""
    applied = marked(obj, marks)
    if where.namespace is not None:
        applied["metadata"]["namespace"] = where.namespace
    return applied


def live(api: kube.Api, where: Located) -> dict[str, Any] | None:
    """The object as the cluster has it, or None when there is none."""
    found = api.get(where.resource_class, where.name, where.namespace, where.ref)
    return None if found is None else dict(found.to_dict())


def marks_of(api: kube.Api, where: Located) -> dict[str, str] | None:
    """The object's annotations (where its owner mark is), or None when there is no such object."""
    found = api.get(where.resource_class, where.name, where.namespace, where.ref)
    if found is None:
        return None
    return dict((found.metadata.annotations if found.metadata is not None else None) or {})


def claimed_by_another(api: kube.Api, where: Located, claim_key: str, claim: str | None) -> bool:
    """Whether the object's `claim_key` annotation holds another claim than `claim` (None: claims are not kept)."""
    found = marks_of(api, where)
    return claim is not None and found is not None and found.get(claim_key, claim) != claim


def apply(api: kube.Api, obj: Mapping[str, Any], where: Located, marks: Mapping[str, str]) -> None:
    """Server-side apply with `marks`; a CustomResourceDefinition is waited for until it is Established."""
    api.apply(where.resource_class.from_dict(body(obj, where, marks)), where.ref)
    if obj.get("kind") == "CustomResourceDefinition":
        _wait_established(api, where)


def dry_run(api: kube.Api, obj: Mapping[str, Any], where: Located, marks: Mapping[str, str]) -> dict[str, Any]:
    """The object as a server-side apply with `marks` would leave it (nothing is changed)."""
    applied = api.apply(where.resource_class.from_dict(body(obj, where, marks)), where.ref, dry_run=True)
    return dict(applied.to_dict())


def delete(api: kube.Api, where: Located) -> bool:
    """Ask for the deletion, its dependents deleted in the background; False when there was nothing to delete."""
    from lightkube.types import CascadeType

    return api.delete(where.resource_class, where.name, where.namespace, where.ref, CascadeType.BACKGROUND)


def wait_gone(api: kube.Api, objects: Sequence[Located], what: str, timeout: float) -> None:
    def remaining() -> list[str]:
        return [where.ref for where in objects if marks_of(api, where) is not None]

    polling.wait_for(
        what,
        remaining,
        state_of=lambda left: f"{len(left)} left",
        done=lambda left: not left,
        timeout=timeout,
        backoff=polling.Backoff(first=0.2, cap=2.0),
    )


def _wait_established(api: kube.Api, where: Located) -> None:
    def established() -> bool:
        crd = api.get(where.resource_class, where.name, None, where.ref)
        conditions = (crd.status.conditions if crd is not None and crd.status else None) or []
        return any(c.type == "Established" and c.status == "True" for c in conditions)

    polling.wait_for(
        f"CustomResourceDefinition {where.name}",
        established,
        state_of=lambda ok: "Established" if ok else "",
        done=bool,
        timeout=60,
        backoff=polling.Backoff(first=0.2, cap=1.0),
    )

"""KubernetesManifest: server-side applies Kubernetes objects to the cluster of a kubeconfig, prunes, deletes."""

# Longer than 400 lines because applying, the ownership check before it, pruning, reading (drift, with a dry-run
# apply) and deleting all share the lookup of an object's kind (built-in or a CRD's), its reference and the body
# applied; one resource reads top to bottom. What differs between a live object and a dry run is _plumbing/drift.py.

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pulumi
import yaml
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)

from pulumi_cluster_connect._plumbing import drift, errors, inputs, kube, ownership, polling, progress, reporting

if TYPE_CHECKING:
    import lightkube

# lightkube is imported where objects are applied, read or deleted (after kube.load_lightkube, which kube.client
# calls): a preview (check and diff) never needs it.

DEFAULT_TIMEOUT = 300.0
# Kinds every other object may depend on are applied first and deleted last.
FOUNDATION_KINDS = ("Namespace", "CustomResourceDefinition")
INPUT_KEYS = ("kubeconfig", "objects", "yaml", "field_manager", inputs.TIMEOUT)
IDENTITY, ADOPT = ownership.IDENTITY, ownership.ADOPT
# Output: the value of the claim annotation the create put on every object it applied (updates keep it). A
# delete leaves alone objects claimed since by another create of the same objects (the replacement that
# `pulumi up --replace` creates before deleting this one).
CLAIM, CLAIM_KEY = "claim", f"{ownership.MARK_PREFIX}claim"
# Output set by refresh: what differs between the declared objects and the cluster, by object reference
# (`missing`, or `changed: <fields>`); the next up applies again. `drifted` (a flag) is what older versions set.
DRIFT, OLD_DRIFT_FLAG = "drift", "drifted"
ENV, GUIDE = kube.DELETE_UNREACHABLE_ENV, "docs/guides/drift-and-recovery.md"
DEAD_KUBECONFIG = "The kubeconfig stored in the stack for this resource no longer reaches its cluster"
READ_WAY_THROUGH = (
    f"{DEAD_KUBECONFIG}. If the cluster's endpoint moved or its credentials changed, give the program a working "
    "kubeconfig and run `pulumi up` (without --refresh): it takes the place of the stored one, in place, when both "
    "name the same server or the same certificate authority; refresh works again after. If the cluster is gone, "
    f"`{ENV}=true pulumi refresh` drops this resource from the stack and leaves its objects as they are ({GUIDE})"
)
DELETE_WAY_THROUGH = (
    f"{DEAD_KUBECONFIG}, so its objects cannot be deleted through it. If this is the old copy of a replaced "
    f"manifest (the new one is applied already) or the cluster is gone, run the command again with {ENV}=true "
    f"(`{ENV}=true pulumi up`, or `... pulumi destroy`): the stack lets go of this resource and leaves its objects "
    "as they are. If only the endpoint or the credentials changed and the program has a working kubeconfig, run "
    f"`pulumi up` first, then this command again ({GUIDE})"
)


def _whole_numbers(node: Any) -> Any:
    """Numbers reach a dynamic provider as floats (replicas: 2.0); Kubernetes wants integers back."""
    if isinstance(node, float) and node.is_integer():
        return int(node)
    if isinstance(node, list):
        return [_whole_numbers(item) for item in node]
    if isinstance(node, Mapping):
        return {key: _whole_numbers(value) for key, value in node.items()}
    return node


def parse_objects(props: Mapping[str, Any]) -> list[Any]:
    """The objects of the `objects` list or the `yaml` text, namespaces and CRDs first."""
    if props.get("yaml"):
        documents = [d for d in yaml.safe_load_all(props["yaml"]) if d]
    else:
        documents = [_whole_numbers(d) for d in props.get("objects") or []]
    expanded: list[Any] = []
    for document in documents:
        items = document.get("items") if isinstance(document, Mapping) else None
        if isinstance(document, Mapping) and str(document.get("kind", "")).endswith("List") and isinstance(items, list):
            expanded.extend(items)
        else:
            expanded.append(document)
    return sorted(expanded, key=_apply_rank)


def _apply_rank(obj: Any) -> int:
    kind = obj.get("kind") if isinstance(obj, Mapping) else None
    return FOUNDATION_KINDS.index(kind) if isinstance(kind, str) and kind in FOUNDATION_KINDS else len(FOUNDATION_KINDS)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def object_problems(objects: Sequence[Any]) -> list[str]:
    """What keeps each object from being applied; parts still unknown (preview) pass."""
    problems = []
    for index, obj in enumerate(objects):
        if inputs.is_unknown(obj):
            continue
        if not isinstance(obj, Mapping):
            problems.append(f"object {index} is not a map{inputs.got(obj)}")
            continue
        kind = obj.get("kind")
        label = f"object {index} ({kind})" if isinstance(kind, str) and len(kind) <= 63 else f"object {index}"
        missing = [
            key for key in ("apiVersion", "kind") if not (_is_text(obj.get(key)) or inputs.is_unknown(obj.get(key)))
        ]
        metadata = obj.get("metadata")
        if inputs.is_unknown(metadata):
            pass
        elif not isinstance(metadata, Mapping):
            missing.append("metadata.name")
        else:
            name, namespace = metadata.get("name"), metadata.get("namespace")
            if not (_is_text(name) or inputs.is_unknown(name)):
                missing.append("metadata.name")
            if namespace is not None and not (isinstance(namespace, str) or inputs.is_unknown(namespace)):
                problems.append(f"{label} has a metadata.namespace that is not a string")
        if missing:
            problems.append(f"{label} lacks {', '.join(missing)} (each a non-empty string)")
    return problems


def reference(obj: Mapping[str, Any], namespaced: bool) -> str:
    """`apiVersion/kind/namespace/name`; the namespace is empty for cluster-scoped kinds."""
    metadata = obj["metadata"]
    namespace = (metadata.get("namespace") or "default") if namespaced else ""
    return f"{obj['apiVersion']}/{obj['kind']}/{namespace}/{metadata['name']}"


def split_reference(ref: str) -> tuple[str, str, str, str]:
    api_version, kind, namespace, name = ref.rsplit("/", 3)
    return api_version, kind, namespace, name


def _yaml_problems(text: Any) -> list[str]:
    if not isinstance(text, str):
        return [f"must be YAML text{inputs.got(text)}"]
    try:
        return object_problems(parse_objects({"yaml": text}))
    except yaml.YAMLError as err:
        # The parser's message quotes the document, which may hold Secret data: say where, never what.
        mark = getattr(err, "problem_mark", None)
        return [f"is not valid YAML{f' (line {mark.line + 1})' if mark is not None else ''}"]
    except RecursionError:
        return ["is nested too deeply"]


def check(olds: Mapping[str, Any], news: Mapping[str, Any]) -> CheckResult:
    failures: list[CheckFailure] = []
    kube.check_kubeconfig(news, "kubeconfig", failures)
    inputs.check_timeout(news, failures)
    inputs.check_string(news, "field_manager", failures)
    has_objects, has_yaml = news.get("objects") is not None, news.get("yaml") is not None
    if has_objects == has_yaml:
        failures.append(CheckFailure("objects", "give exactly one of `objects` or `yaml`"))
    elif inputs.known(news, "yaml"):
        failures.extend(CheckFailure("yaml", problem) for problem in _yaml_problems(news["yaml"]))
    elif inputs.known(news, "objects"):
        if isinstance(news["objects"], list):
            failures.extend(CheckFailure("objects", p) for p in object_problems(parse_objects(news)))
        else:
            failures.append(
                CheckFailure("objects", f"must be a list of Kubernetes objects{inputs.got(news['objects'])}")
            )
    # The program sends `field_manager` only when given (one property less per resource): the stored inputs say
    # which one applied the objects, as they always did.
    return CheckResult({"field_manager": kube.FIELD_MANAGER, **news}, failures)


def diff(olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffResult:
    changed = [key for key in INPUT_KEYS if inputs.contains_unknown(news.get(key)) or olds.get(key) != news.get(key)]
    if changed == [inputs.TIMEOUT]:
        changed = []
    replaces = []
    # Another API server is another cluster: the objects must be made there and removed here; unless both
    # kubeconfigs trust the same certificate authority (the endpoint moved): then the new one takes the place of
    # the old in place, which may no longer reach anything. A kubeconfig still unknown (in part) or unreadable
    # cannot say, so it only updates.
    if "kubeconfig" in changed:
        old_server, new_server = (
            kube.server_or_none(olds.get("kubeconfig")),
            kube.server_or_none(news.get("kubeconfig")),
        )
        if (
            old_server is not None
            and new_server is not None
            and old_server != new_server
            and not kube.same_cluster(olds.get("kubeconfig"), news.get("kubeconfig"))
        ):
            replaces.append("kubeconfig")
    # What refresh found (a missing object, a changed field) is applied again, however many refreshes ran since.
    if not changed and (olds.get(DRIFT) or olds.get(OLD_DRIFT_FLAG)):
        changed = [DRIFT]
    return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)


def _resource_class(client: lightkube.Client, obj: Mapping[str, Any]) -> Any:
    """The lightkube class of the object's apiVersion and kind (its other fields are not validated here)."""
    kube.load_lightkube()
    from lightkube import codecs, generic_resource
    from lightkube.core.exceptions import LoadResourceError

    api_version, kind = str(obj.get("apiVersion")), str(obj.get("kind"))
    try:
        return kube.ready(codecs.resource_registry.load(api_version, kind))
    except LoadResourceError:
        # A custom resource: learn its kinds from the cluster's CRDs, then try once more.
        generic_resource.load_in_cluster_generic_resources(client)
        return kube.ready(codecs.resource_registry.load(api_version, kind))


def _is_namespaced(resource_class: Any) -> bool:
    kube.load_lightkube()
    from lightkube.core.resource import NamespacedResource

    return issubclass(resource_class, NamespacedResource)


def _marked(obj: Mapping[str, Any], marks: Mapping[str, str]) -> dict[str, Any]:
    """The object with our annotations: the owner mark, so a later create can tell it from someone else's, and
    the claim of the resource that applied it last (see CLAIM_KEY)."""
    metadata = dict(obj["metadata"])
    metadata["annotations"] = {**(metadata.get("annotations") or {}), **marks}
    return {**obj, "metadata": metadata}


def _body(obj: Mapping[str, Any], namespaced: bool, marks: Mapping[str, str]) -> dict[str, Any]:
    """What is applied: the object with our marks, in `default` when namespaced and given no namespace."""
    body = _marked(obj, marks)
    if namespaced and not obj["metadata"].get("namespace"):
        body["metadata"]["namespace"] = "default"
    return body


def _apply_all(
    kubeconfig: str, field_manager: str, objects: Sequence[Mapping[str, Any]], marks: Mapping[str, str]
) -> list[str]:
    client = kube.client(kubeconfig, field_manager)
    server = kube.server_of(kubeconfig)
    applied = []
    for obj in objects:
        resource_class = _resource_class(client, obj)
        namespaced = _is_namespaced(resource_class)
        ref = reference(obj, namespaced)
        body = _body(obj, namespaced, marks)
        with kube.translated_errors(f"server-side apply of {ref}", server):
            client.apply(resource_class.from_dict(body), field_manager=field_manager, force=True)
        if obj.get("kind") == "CustomResourceDefinition":
            _wait_established(client, obj["metadata"]["name"])
        applied.append(ref)
    return applied


def _owner_of_existing(client: lightkube.Client, server: str, obj: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """(reference, owner mark) of the object as it exists, None when it does not (or its kind is not served yet,
    so it cannot exist)."""
    kube.load_lightkube()
    from lightkube.core.exceptions import LoadResourceError

    try:
        resource_class = _resource_class(client, obj)
    except LoadResourceError:
        return None
    namespaced = _is_namespaced(resource_class)
    ref = reference(obj, namespaced)
    namespace = (obj["metadata"].get("namespace") or "default") if namespaced else None
    try:
        with kube.translated_errors(f"read of {ref}", server):
            found = client.get(resource_class, obj["metadata"]["name"], namespace=namespace)
    except errors.KubernetesApiError as err:
        if kube.is_not_found(err):
            return None
        raise
    annotations = (found.metadata.annotations if found.metadata is not None else None) or {}
    return ref, ownership.owner_of(annotations)


def _refuse_foreign(
    kubeconfig: str, objects: Sequence[Mapping[str, Any]], mark: str, known: Sequence[str] = ()
) -> None:
    """Fail, before anything is applied, when an object to apply exists and is not ours (nor in our state)."""
    client, server = kube.client(kubeconfig), kube.server_of(kubeconfig)
    foreign, left = [], 0
    for obj in objects:
        existing = _owner_of_existing(client, server, obj)
        if existing is None or existing[0] in known:
            continue
        ref, owner = existing
        if owner == mark:
            left += 1
        else:
            foreign.append(f"{ref} (annotation {ownership.OWNER_KEY}: {owner})" if owner else ref)
    if left and not foreign:
        progress.report(f"{left} of the objects were applied by an interrupted run of this resource: applying again")
    if foreign:
        raise errors.ClusterConnectError(
            f"objects already exist on {kube.server_of(kubeconfig)} and are not this resource's: "
            f"{', '.join(foreign)}. Nothing was changed. To manage them with this resource, set "
            "`adopt_existing=True` on it (server-side apply then takes over the fields it sets); or leave them out "
            "of the manifest"
        )


def _wait_established(client: lightkube.Client, name: str) -> None:
    from lightkube.resources.apiextensions_v1 import CustomResourceDefinition

    def established() -> bool:
        crd = client.get(CustomResourceDefinition, name)
        conditions = (crd.status.conditions if crd.status else None) or []
        return any(c.type == "Established" and c.status == "True" for c in conditions)

    polling.wait_for(
        f"CustomResourceDefinition {name}",
        established,
        state_of=lambda ok: "Established" if ok else "",
        done=bool,
        timeout=60,
        backoff=polling.Backoff(first=0.2, cap=1.0),
    )


def _claimed_by_another(
    client: lightkube.Client, server: str, resource_class: Any, ref: str, claim: str | None
) -> bool:
    """Whether a later create of the same objects (`pulumi up --replace`, a taint) applied them since."""
    _, _, namespace, name = split_reference(ref)
    try:
        with kube.translated_errors(f"read of {ref}", server):
            found = client.get(resource_class, name, namespace=namespace or None)
    except errors.KubernetesApiError as err:
        if kube.is_not_found(err):
            return False
        raise
    annotations = (found.metadata.annotations if found.metadata is not None else None) or {}
    return claim is not None and annotations.get(CLAIM_KEY, claim) != claim


def _delete_all(kubeconfig: str, refs: Sequence[str], timeout: float, claim: str | None = None) -> None:
    """Delete in reverse apply order with background propagation, then wait until every object is gone; an
    object that another resource's create claimed since is left to it."""
    kube.load_lightkube()
    from lightkube.core.exceptions import LoadResourceError
    from lightkube.types import CascadeType

    client = kube.client(kubeconfig)
    server = kube.server_of(kubeconfig)
    targets = []
    for ref in reversed(refs):
        api_version, kind, namespace, name = split_reference(ref)
        stub = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}}
        try:
            resource_class = _resource_class(client, stub)
        except LoadResourceError:
            continue  # its CRD is gone, and with it every object of the kind
        if _claimed_by_another(client, server, resource_class, ref, claim):
            progress.report(f"{ref} now belongs to the resource that replaced this one: not deleting it")
            continue
        targets.append((resource_class, name, namespace or None, ref))
        try:
            with kube.translated_errors(f"delete of {ref}", server):
                client.delete(resource_class, name, namespace=namespace or None, cascade=CascadeType.BACKGROUND)
        except errors.KubernetesApiError as err:
            if not kube.is_not_found(err):
                raise

    def remaining() -> list[str]:
        left = []
        for resource_class, name, namespace, ref in targets:
            try:
                with kube.translated_errors(f"read of {ref}", server):
                    client.get(resource_class, name, namespace=namespace)
                left.append(ref)
            except errors.KubernetesApiError as err:
                if not kube.is_not_found(err):
                    raise
        return left

    polling.wait_for(
        "deletion of the applied objects",
        remaining,
        state_of=lambda left: f"{len(left)} left",
        done=lambda left: not left,
        timeout=timeout,
        backoff=polling.Backoff(first=0.2, cap=2.0),
    )


def _drift(
    kubeconfig: str, field_manager: str, objects: Sequence[Mapping[str, Any]], marks: Mapping[str, str]
) -> dict[str, str]:
    """What differs between the declared objects and the cluster, by reference: `missing`, or the fields a
    server-side apply of ours would change (a dry run, so the server's own merge decides; fields only other
    managers set are not among them)."""
    kube.load_lightkube()
    from lightkube.core.exceptions import LoadResourceError

    client = kube.client(kubeconfig, field_manager)
    server = kube.server_of(kubeconfig)
    found: dict[str, str] = {}
    for obj in objects:
        try:
            resource_class = _resource_class(client, obj)
        except LoadResourceError:
            found[reference(obj, bool(obj["metadata"].get("namespace")))] = f"{drift.MISSING} (its kind is not served)"
            continue
        namespaced = _is_namespaced(resource_class)
        ref = reference(obj, namespaced)
        _, _, namespace, name = split_reference(ref)
        try:
            with kube.translated_errors(f"read of {ref}", server):
                live = client.get(resource_class, name, namespace=namespace or None).to_dict()
        except errors.KubernetesApiError as err:
            if not kube.is_not_found(err):
                raise
            found[ref] = drift.MISSING
            continue
        body = resource_class.from_dict(_body(obj, namespaced, marks))
        with kube.translated_errors(f"server-side apply (dry run) of {ref}", server):
            would_be = client.apply(body, field_manager=field_manager, force=True, dry_run=True).to_dict()
        paths = drift.changed_paths(live, would_be)
        if paths:
            found[ref] = drift.describe(paths, (live.get("metadata") or {}).get("managedFields"), field_manager)
    return found


def _unreachable(err: errors.KubernetesApiError, letting_go: str, way_through: str) -> bool:
    """True when the operation may let go of the resource (the cluster cannot be reached and the user said so);
    raises the error with the way through when it may not; False for any other error (the caller raises it)."""
    if not kube.is_unreachable(err):
        return False
    if kube.delete_unreachable():
        progress.report(f"{err}; {kube.DELETE_UNREACHABLE_ENV} is set: {letting_go}")
        return True
    raise errors.ClusterConnectError(f"{err}. {way_through}") from err


class KubernetesManifestProvider(reporting.ReportingProvider):
    secret_keys = ("kubeconfig", "objects", "yaml")

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return check(_olds, news)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff(olds, news)

    def create(self, props: dict[str, Any]) -> CreateResult:
        field_manager = props.get("field_manager") or kube.FIELD_MANAGER
        objects = parse_objects(props)
        server = kube.server_of(props["kubeconfig"])
        mark = _mark(props)
        if not ownership.adopting(props):
            _refuse_foreign(props["kubeconfig"], objects, mark)
        progress.report(f"applying {len(objects)} objects to {server}")
        claim = secrets.token_hex(8)
        applied = _apply_all(props["kubeconfig"], field_manager, objects, {ownership.OWNER_KEY: mark, CLAIM_KEY: claim})
        return CreateResult(manifest_id(props), {**props, "applied": applied, CLAIM: claim})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        field_manager = news.get("field_manager") or kube.FIELD_MANAGER
        objects = parse_objects(news)
        mark = _mark(news)
        if not ownership.adopting(news):
            _refuse_foreign(news["kubeconfig"], objects, mark, known=olds.get("applied", []))
        claim = str(olds.get(CLAIM) or secrets.token_hex(8))
        old_server, server = kube.server_or_none(olds.get("kubeconfig")), kube.server_of(news["kubeconfig"])
        if old_server not in (None, server):
            progress.report(f"applying to {server}, the same cluster as {old_server} (the same certificate authority)")
        applied = _apply_all(news["kubeconfig"], field_manager, objects, {ownership.OWNER_KEY: mark, CLAIM_KEY: claim})
        pruned = [ref for ref in olds.get("applied", []) if ref not in applied]
        if pruned:
            progress.report(f"pruning {len(pruned)} objects no longer in the manifest")
            _delete_all(news["kubeconfig"], pruned, _delete_timeout(news), claim)
        return UpdateResult({**news, "applied": applied, CLAIM: claim})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Compares the cluster with the declared objects (never with what an earlier read found), so what is
        missing or changed stays drift until an up applies it again."""
        field_manager = props.get("field_manager") or kube.FIELD_MANAGER
        marks = {ownership.OWNER_KEY: _mark(props), **({CLAIM_KEY: props[CLAIM]} if props.get(CLAIM) else {})}
        try:
            found = _drift(props["kubeconfig"], field_manager, parse_objects(props), marks)
        except errors.KubernetesApiError as err:
            if _unreachable(
                err, "dropping this resource from the stack; its objects are left as they are", READ_WAY_THROUGH
            ):
                return ReadResult("", {})
            raise
        outputs = {key: value for key, value in props.items() if key not in (DRIFT, OLD_DRIFT_FLAG)}
        if found:
            outputs[DRIFT] = found
        return ReadResult(id_, outputs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        try:
            _delete_all(props["kubeconfig"], props.get("applied", []), _delete_timeout(props), props.get(CLAIM))
        except errors.KubernetesApiError as err:
            letting_go = f"letting go of {len(props.get('applied', []))} objects, left as they are"
            if not _unreachable(err, letting_go, DELETE_WAY_THROUGH):
                raise


def _mark(props: Mapping[str, Any]) -> str:
    return ownership.owner_mark(str(props.get(IDENTITY) or ""))


def manifest_id(props: Mapping[str, Any]) -> str:
    """The same for the same resource and API server: a create re-run after a crash gives the same id."""
    return f"manifest-{ownership.digest(props.get(IDENTITY), kube.server_of(props['kubeconfig']))[:16]}"


def _delete_timeout(props: Mapping[str, Any]) -> float:
    return inputs.timeout_of(props, DEFAULT_TIMEOUT)


class KubernetesManifest(pulumi.dynamic.Resource, module="kubernetes", name="Manifest"):
    """Kubernetes objects applied server-side to the cluster of `kubeconfig`, owned by `field_manager`."""

    # For type checkers only: the SDK evaluates a Resource class's annotations again for every resource it
    # registers, and this output needs no conversion (see FargateProfile).
    if TYPE_CHECKING:
        applied: pulumi.Output[list[str]]
        """References of the applied objects, `apiVersion/kind/namespace/name`."""

    def __init__(
        self,
        resource_name: str,
        *,
        kubeconfig: pulumi.Input[str | Mapping[str, Any]],
        objects: pulumi.Input[Sequence[pulumi.Input[Mapping[str, Any]]]] | None = None,
        yaml: pulumi.Input[str] | None = None,
        field_manager: pulumi.Input[str] | None = None,
        timeout_seconds: pulumi.Input[float] | None = None,
        adopt_existing: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Objects this resource applies carry the annotation pulumi-cluster-connect/owner; an object to apply
        that exists without it fails the create unchanged, unless `adopt_existing=True` (then it is taken over)."""
        props: dict[str, Any] = {
            "kubeconfig": pulumi.Output.secret(kubeconfig),
            IDENTITY: ownership.identity_of(f"pulumi-python:{self._resource_type_name}", resource_name, opts),
            "applied": None,  # the public output: the SDK makes an attribute only for a key sent
        }
        # Objects may hold Secret data: keep them encrypted in the state's inputs and outputs.
        if objects is not None:
            props["objects"] = pulumi.Output.secret(objects)
        if yaml is not None:
            props["yaml"] = pulumi.Output.secret(yaml)
        if field_manager:
            props["field_manager"] = field_manager
        props.update(inputs.without_none({inputs.TIMEOUT: timeout_seconds, ADOPT: adopt_existing}))
        secret_outputs = pulumi.ResourceOptions(additional_secret_outputs=["kubeconfig", "objects", "yaml"])
        super().__init__(
            KubernetesManifestProvider(),
            resource_name,
            props,
            pulumi.ResourceOptions.merge(opts, secret_outputs),
        )

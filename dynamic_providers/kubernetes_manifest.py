"""KubernetesManifest: server-side applies Kubernetes objects to the cluster of a kubeconfig, prunes, deletes.

The objects themselves (their kind, reference, marks, apply, delete) are _plumbing/kube_objects.py's; what differs
between a live object and a dry run is _plumbing/drift.py's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pulumi
import yaml
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from pulumi_cluster_connect._plumbing import (
    drift,
    errors,
    inputs,
    kube,
    kube_objects,
    ownership,
    progress,
    protocol,
    reporting,
)

DEFAULT_TIMEOUT = 300.0
# Kinds every other object may depend on are applied first and deleted last.
FOUNDATION_KINDS = ("Namespace", "CustomResourceDefinition")
INPUT_KEYS = ("kubeconfig", "objects", "yaml", "field_manager", inputs.TIMEOUT)
IDENTITY, ADOPT = ownership.IDENTITY, ownership.ADOPT
# Output: the value of the claim annotation the create put on every object it applied (updates keep it). A
# delete leaves alone objects claimed since by another create of the same objects (the replacement that
# `pulumi up --replace` creates before deleting this one).
CLAIM, CLAIM_KEY = "claim", protocol.CLAIM_KEY
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


reference, split_reference = kube_objects.reference, kube_objects.split_reference


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


def _refuse_foreign(
    api: kube.Api, objects: Sequence[Mapping[str, Any]], identity: str, known: Sequence[str] = ()
) -> None:
    """Fail, before anything is applied, when an object to apply exists and is not ours (nor in our state)."""
    foreign: list[tuple[str, Mapping[str, str]]] = []
    left = 0
    for obj in objects:
        where = kube_objects.served(api, obj)
        marks = None if where is None or where.ref in known else kube_objects.marks_of(api, where)
        if where is None or marks is None:
            continue
        if protocol.whose(marks, identity) is protocol.Whose.OURS:
            left += 1
        else:
            foreign.append((where.ref, marks))
    if foreign:
        (ref, its_marks), others = foreign[0], [other for other, _ in foreign[1:]]
        more = f" (and {len(others)} more objects that are not this resource's: {', '.join(others)})" if others else ""
        words = protocol.Words(
            what=f"{ref} on {api.server}{more}",
            mark="annotation",
            adopt_note=" (server-side apply then takes over the fields it sets)",
            otherwise="leave it out of the manifest",
        )
        raise protocol.refused(words, its_marks)
    if left:
        progress.report(f"{left} of the objects were applied by an interrupted run of this resource: applying again")


def _apply_all(api: kube.Api, objects: Sequence[Mapping[str, Any]], marks: Mapping[str, str]) -> list[str]:
    applied = []
    for obj in objects:
        where = kube_objects.locate(api, obj)
        kube_objects.apply(api, obj, where, marks)
        applied.append(where.ref)
    return applied


def _delete_all(api: kube.Api, refs: Sequence[str], timeout: float, claim: str | None = None) -> None:
    """Delete in reverse apply order with background propagation, then wait until every object is gone; an
    object that another resource's create claimed since is left to it."""
    targets = []
    for ref in reversed(refs):
        where = kube_objects.served_reference(api, ref)
        if where is None:
            continue  # its CRD is gone, and with it every object of the kind
        if kube_objects.claimed_by_another(api, where, CLAIM_KEY, claim):
            progress.report(f"{ref} now belongs to the resource that replaced this one: not deleting it")
            continue
        targets.append(where)
        kube_objects.delete(api, where)
    kube_objects.wait_gone(api, targets, "deletion of the applied objects", timeout)


def _drift(api: kube.Api, objects: Sequence[Mapping[str, Any]], marks: Mapping[str, str]) -> dict[str, str]:
    """What differs between the declared objects and the cluster, by reference: `missing`, or the fields a
    server-side apply of ours would change (a dry run, so the server's own merge decides; fields only other
    managers set are not among them)."""
    found: dict[str, str] = {}
    for obj in objects:
        where = kube_objects.served(api, obj)
        if where is None:
            ref = reference(obj, bool(obj["metadata"].get("namespace")))
            found[ref] = f"{drift.MISSING} (its kind is not served)"
            continue
        live = kube_objects.live(api, where)
        if live is None:
            found[where.ref] = drift.MISSING
            continue
        paths = drift.changed_paths(live, kube_objects.dry_run(api, obj, where, marks))
        if paths:
            managed = (live.get("metadata") or {}).get("managedFields")
            found[where.ref] = drift.describe(paths, managed, api.field_manager)
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
        api = _api(props)
        objects = parse_objects(props)
        if not ownership.adopting(props):
            _refuse_foreign(api, objects, _identity(props))
        progress.report(f"applying {len(objects)} objects to {api.server}")
        claim = protocol.new_claim()
        applied = _apply_all(api, objects, {ownership.OWNER_KEY: _mark(props), CLAIM_KEY: claim})
        return CreateResult(manifest_id(props), {**props, "applied": applied, CLAIM: claim})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        api = _api(news)
        objects = parse_objects(news)
        if not ownership.adopting(news):
            _refuse_foreign(api, objects, _identity(news), known=olds.get("applied", []))
        claim = str(olds.get(CLAIM) or protocol.new_claim())
        old_server = kube.server_or_none(olds.get("kubeconfig"))
        if old_server not in (None, api.server):
            progress.report(
                f"applying to {api.server}, the same cluster as {old_server} (the same certificate authority)"
            )
        applied = _apply_all(api, objects, {ownership.OWNER_KEY: _mark(news), CLAIM_KEY: claim})
        pruned = [ref for ref in olds.get("applied", []) if ref not in applied]
        if pruned:
            progress.report(f"pruning {len(pruned)} objects no longer in the manifest")
            _delete_all(api, pruned, _delete_timeout(news), claim)
        return UpdateResult({**news, "applied": applied, CLAIM: claim})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Compares the cluster with the declared objects (never with what an earlier read found), so what is
        missing or changed stays drift until an up applies it again."""
        marks = {ownership.OWNER_KEY: _mark(props), **({CLAIM_KEY: props[CLAIM]} if props.get(CLAIM) else {})}
        try:
            found = _drift(_api(props), parse_objects(props), marks)
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
            _delete_all(_api(props), props.get("applied", []), _delete_timeout(props), props.get(CLAIM))
        except errors.KubernetesApiError as err:
            letting_go = f"letting go of {len(props.get('applied', []))} objects, left as they are"
            if not _unreachable(err, letting_go, DELETE_WAY_THROUGH):
                raise


def _api(props: Mapping[str, Any]) -> kube.Api:
    return kube.Api(props["kubeconfig"], props.get("field_manager") or kube.FIELD_MANAGER)


def _identity(props: Mapping[str, Any]) -> str:
    return str(props.get(IDENTITY) or "")


def _mark(props: Mapping[str, Any]) -> str:
    return ownership.owner_mark(_identity(props))


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

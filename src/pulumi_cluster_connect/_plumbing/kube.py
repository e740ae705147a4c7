"""Kubernetes clients for the providers, built per call from a kubeconfig given as YAML text or as a map.

Kubeconfig text is parsed once per process (the 256 most recently used are kept) with libyaml's loader where PyYAML has
it; every caller gets its own copy.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import functools
import hashlib
import importlib
import os
import pkgutil
import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import yaml
from pulumi.dynamic import CheckFailure

from . import errors, inputs

if TYPE_CHECKING:
    import lightkube

# lightkube and httpx are imported on first use, not with this module, so a preview (check and diff) never pays for
# them (0.1-0.2 s in every provider process). lightkube's modules import each other in cycles: two provider threads
# importing them for the first time at once deadlock (the import system's _DeadlockError), so the first use imports
# all of them, one thread at a time, through load_lightkube.
LIGHTKUBE_MODULES = (
    "httpx2",
    "lightkube",
    "lightkube.codecs",
    "lightkube.generic_resource",
    "lightkube.core.exceptions",
    "lightkube.core.resource",
    "lightkube.types",
    "lightkube.models.meta_v1",
)
_lightkube_loaded = threading.Event()
_lightkube_guard = threading.Lock()

# lightkube's models are msgspec Structs. msgspec builds a type's decoding information on its first use and calls
# back into Python meanwhile (for the class annotations), so another thread may run msgspec's C code on the type
# while it is half built: two threads converting a kind for the first time at once crash the process (a
# segmentation fault in msgspec._core; the connectors of two clusters applied side by side did). So load_lightkube
# builds it for every built-in kind up front (155 kinds, 0.05 s), and a kind made at run time (a custom resource)
# goes through `ready` before its first use. The information then stays on the classes.
_ready: set[type] = set()


def _build_type_info(model: type) -> None:
    import msgspec

    if issubclass(model, msgspec.Struct):
        msgspec.json.Decoder(model)  # builds and keeps the type information of the class and everything it holds
    _ready.add(model)


def _built_in_models() -> Iterator[type]:
    import lightkube.resources
    from lightkube.models import meta_v1

    yield meta_v1.Status  # what every error answer is decoded as
    for module_info in pkgutil.iter_modules(lightkube.resources.__path__, "lightkube.resources."):
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == module.__name__ and hasattr(value, "from_dict"):
                yield value


def load_lightkube() -> None:
    """Import lightkube and httpx once, one thread at a time, with every built-in kind ready for any thread.

    Call before importing anything of lightkube."""
    if _lightkube_loaded.is_set():
        return
    with _lightkube_guard:
        if _lightkube_loaded.is_set():
            return
        for name in LIGHTKUBE_MODULES:
            importlib.import_module(name)
        for model in _built_in_models():
            _build_type_info(model)
        _lightkube_loaded.set()


def ready(resource_class: type) -> type:
    """`resource_class`, safe to convert and decode from any thread (see above): for kinds made at run time."""
    load_lightkube()
    if resource_class in _ready:
        return resource_class
    with _lightkube_guard:
        if resource_class not in _ready:
            _build_type_info(resource_class)
    return resource_class


# libyaml's loader parses a kubeconfig ten times faster than PyYAML's pure-Python one, where it is built in.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
PARSED_LIMIT = 256


def load_yaml(text: str) -> Any:
    """One YAML (or JSON) document, with the fastest safe loader available."""
    return yaml.load(text, Loader=SAFE_LOADER)


@functools.lru_cache(maxsize=PARSED_LIMIT)
def _parsed(text: str) -> Any:
    """The document `text` holds, parsed once per process (an error is not kept: the next call parses again)."""
    return load_yaml(text)


def _parsed_once(text: str) -> Any:
    """The document `text` holds, parsed once per process; a copy each time, so no caller changes another's."""
    return copy.deepcopy(_parsed(text))


FIELD_MANAGER = "pulumi-cluster-connect"
Kubeconfig = str | Mapping[str, Any]
"""A kubeconfig as users hold it: YAML or JSON text, or the map pulumi-eks and pulumi-kubernetes outputs."""
MAX_TEXT = 1024 * 1024
# Fields of a kubeconfig user that are credentials: no message may show them.
CREDENTIAL_FIELDS = ("token", "password", "client-key-data")
AUTH_PROVIDER_FIELDS = ("access-token", "id-token", "refresh-token", "client-secret")


def _named(entries: object, what: str) -> dict[str, Mapping[str, Any]]:
    if entries is None:
        return {}
    if not isinstance(entries, list):
        raise ValueError(f"has `{what}` that is not a list")
    named: dict[str, Mapping[str, Any]] = {}
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            raise ValueError(f"has an entry of `{what}` that is not a map with a name")
        named[entry["name"]] = entry
    return named


def _load(kubeconfig: object) -> Mapping[str, Any]:
    if isinstance(kubeconfig, Mapping):
        return kubeconfig
    if not isinstance(kubeconfig, str):
        raise ValueError(f"must be YAML text or a map, got {inputs.type_name(kubeconfig)}")
    if len(kubeconfig) > MAX_TEXT:
        raise ValueError(f"is longer than {MAX_TEXT} characters")
    try:
        data = _parsed_once(kubeconfig)
    except yaml.YAMLError as err:
        # The parser's own message quotes the document, credentials included: say where, never what.
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise ValueError(f"is not valid YAML or JSON{where}") from None
    except RecursionError:
        raise ValueError("is nested too deeply to be a kubeconfig") from None
    if not isinstance(data, Mapping):
        raise ValueError(f"is not a kubeconfig document (expected a map, got {inputs.type_name(data)})")
    return data


def parse_kubeconfig(kubeconfig: object) -> dict[str, Any]:
    """The kubeconfig as a dict, checked to name a current context whose cluster has a server.

    Raises ValueError whose message names what is wrong, never a value of the document (it holds credentials).
    """
    data = _load(kubeconfig)
    contexts = _named(data.get("contexts"), "contexts")
    current = data.get("current-context")
    if not isinstance(current, str) or not current:
        raise ValueError("has no current-context")
    if current not in contexts:
        raise ValueError("has a current-context that names none of its contexts")
    context = contexts[current].get("context")
    if not isinstance(context, Mapping):
        raise ValueError("has a current context without a `context` map")
    clusters = _named(data.get("clusters"), "clusters")
    cluster_name = context.get("cluster")
    cluster = clusters.get(cluster_name) if isinstance(cluster_name, str) else None
    if cluster is None:
        raise ValueError("has a current context whose cluster is not among its clusters")
    entry = cluster.get("cluster")
    server = entry.get("server") if isinstance(entry, Mapping) else None
    if not isinstance(server, str) or not server:
        raise ValueError("has a current cluster without a server URL")
    user = context.get("user")
    if user is not None and (not isinstance(user, str) or user not in _named(data.get("users"), "users")):
        raise ValueError("has a current context whose user is not among its users")
    return dict(data)


def kubeconfig_problem(kubeconfig: object) -> str | None:
    """Why `kubeconfig` cannot be used (to follow "the kubeconfig ..." or a property name), or None."""
    try:
        parse_kubeconfig(kubeconfig)
    except ValueError as err:
        return str(err)
    return None


def check_kubeconfig(
    props: Mapping[str, Any], key: str, failures: list[CheckFailure], *, required: bool = True
) -> None:
    """A CheckFailure unless `props[key]` is a usable kubeconfig; one still unknown (in part) passes."""
    if key not in props or props[key] is None:
        if required:
            failures.append(CheckFailure(key, "is required: a kubeconfig as YAML text or a map"))
        return
    if inputs.contains_unknown(props[key]):
        return
    problem = kubeconfig_problem(props[key])
    if problem:
        failures.append(CheckFailure(key, f"the kubeconfig {problem}"))


def as_text(kubeconfig: Kubeconfig) -> str:
    """The kubeconfig as YAML text (what Loft and a kubeconfig file take)."""
    return kubeconfig if isinstance(kubeconfig, str) else yaml.safe_dump(dict(kubeconfig), sort_keys=False)


def credentials_in(kubeconfig: object) -> list[str]:
    """The credentials a kubeconfig holds (tokens, passwords, keys), for scrubbing messages; never raises."""
    try:
        data = _load(kubeconfig)
        users = data.get("users")
    except (ValueError, AttributeError):
        return []
    found: list[str] = []
    for entry in users if isinstance(users, list) else []:
        user = entry.get("user") if isinstance(entry, Mapping) else None
        if not isinstance(user, Mapping):
            continue
        found += [user[k] for k in CREDENTIAL_FIELDS if isinstance(user.get(k), str)]
        provider = user.get("auth-provider")
        config = provider.get("config") if isinstance(provider, Mapping) else None
        if isinstance(config, Mapping):
            found += [config[k] for k in AUTH_PROVIDER_FIELDS if isinstance(config.get(k), str)]
    return [value for value in found if value]


def client(kubeconfig: Kubeconfig, field_manager: str = FIELD_MANAGER, timeout: float = 30) -> lightkube.Client:
    load_lightkube()
    import httpx2
    import lightkube

    config = lightkube.KubeConfig.from_dict(parse_kubeconfig(kubeconfig))
    return lightkube.Client(config, field_manager=field_manager, timeout=httpx2.Timeout(timeout))


class Api:
    """The API of one cluster through lightkube, whose calls raise KubernetesApiError naming the server tried (never
    lightkube's or httpx's exceptions): the translation happens here, not at each call site. `what` names the object
    in messages (`read of <what> failed on <server>: ...`)."""

    def __init__(self, kubeconfig: Kubeconfig, field_manager: str = FIELD_MANAGER, timeout: float = 30) -> None:
        self.lightkube = client(kubeconfig, field_manager, timeout)
        self.server = server_of(kubeconfig)
        self.field_manager = field_manager

    def get(self, resource_class: Any, name: str, namespace: str | None, what: str) -> Any | None:
        """The object, or None when there is none."""
        try:
            with translated_errors(f"read of {what}", self.server):
                return self.lightkube.get(resource_class, name, namespace=namespace)
        except errors.KubernetesApiError as err:
            if is_not_found(err):
                return None
            raise

    def apply(self, body: Any, what: str, *, dry_run: bool = False) -> Any:
        """Server-side apply of `body` (a lightkube object), taking over the fields it sets from other managers."""
        with translated_errors(f"server-side apply{' (dry run)' if dry_run else ''} of {what}", self.server):
            return self.lightkube.apply(body, field_manager=self.field_manager, force=True, dry_run=dry_run)

    def create(self, body: Any, what: str) -> Any:
        with translated_errors(f"create {what}", self.server):
            return self.lightkube.create(body)

    def delete(self, resource_class: Any, name: str, namespace: str | None, what: str, cascade: Any = None) -> bool:
        """Ask for the deletion; False when there was nothing to delete."""
        try:
            with translated_errors(f"delete of {what}", self.server):
                self.lightkube.delete(resource_class, name, namespace=namespace, cascade=cascade)
        except errors.KubernetesApiError as err:
            if is_not_found(err):
                return False
            raise
        return True

    def learn_custom_kinds(self) -> None:
        """Make the kinds of the cluster's CustomResourceDefinitions known to lightkube."""
        from lightkube import generic_resource

        with translated_errors("list of CustomResourceDefinitions", self.server):
            generic_resource.load_in_cluster_generic_resources(self.lightkube)


@contextlib.contextmanager
def translated_errors(action: str, server: str | None = None) -> Iterator[None]:
    """Turn lightkube's and httpx's exceptions into KubernetesApiError with the API server's Status; the message
    names `server` (the URL tried: pass `server_of(kubeconfig)`), without any credentials in it."""
    load_lightkube()
    import httpx2
    from lightkube.core.exceptions import ApiError

    where = server_for_messages(server) if server else None
    try:
        yield
    except ApiError as err:
        reason, message = errors.status_reason_and_message(err.status.to_dict(), f"HTTP {err.status.code}")
        raise errors.KubernetesApiError(action, reason, message, err.status.code, where) from err
    except httpx2.HTTPError as err:
        raise errors.KubernetesApiError(action, UNREACHABLE, f"{type(err).__name__}: {err}", None, where) from err


UNREACHABLE = "Unreachable"
# Set to true, it lets a refresh drop, and a delete let go of, a resource whose stored kubeconfig no longer reaches
# its cluster (pulumi-kubernetes has PULUMI_K8S_DELETE_UNREACHABLE for the same). docs/guides/drift-and-recovery.md.
DELETE_UNREACHABLE_ENV = "PULUMI_CLUSTER_CONNECT_DELETE_UNREACHABLE"


def is_unreachable(err: BaseException) -> bool:
    """Whether the stored kubeconfig no longer works at all: no connection to its server, or its credentials
    rejected (401). Forbidden (403) is not: the cluster answered and knows who asked."""
    return isinstance(err, errors.KubernetesApiError) and (err.reason == UNREACHABLE or err.status == 401)


def delete_unreachable() -> bool:
    return os.environ.get(DELETE_UNREACHABLE_ENV, "").strip().lower() in ("1", "true", "yes")


def server_for_messages(server: str) -> str:
    """The URL without any user:password part (a kubeconfig's server could carry one)."""
    scheme, sep, rest = server.partition("://")
    _host, at, path = rest.partition("@") if "@" in rest.split("/", 1)[0] else ("", "", rest)
    return f"{scheme}{sep}{path}" if at else server


def is_not_found(err: BaseException) -> bool:
    return isinstance(err, errors.KubernetesApiError) and err.status == 404


def server_of(kubeconfig: Kubeconfig) -> str:
    """The API server URL of the kubeconfig's current context (for messages; never the credentials)."""
    data = parse_kubeconfig(kubeconfig)
    context = _named(data.get("contexts"), "contexts")[data["current-context"]]["context"]
    return str(_named(data.get("clusters"), "clusters")[context["cluster"]]["cluster"]["server"])


def server_or_none(kubeconfig: object) -> str | None:
    """The API server URL, or None when the kubeconfig is not a usable one (diff must not raise)."""
    try:
        return server_of(kubeconfig)  # type: ignore[arg-type]
    except ValueError:
        return None


def _current_cluster(kubeconfig: object) -> Mapping[str, Any]:
    data = parse_kubeconfig(kubeconfig)
    context = _named(data.get("contexts"), "contexts")[data["current-context"]]["context"]
    return dict(_named(data.get("clusters"), "clusters")[context["cluster"]]["cluster"])


def ca_fingerprint(kubeconfig: object) -> str | None:
    """The SHA-256 of the current cluster's certificate-authority-data, or None (no CA data: a CA file, the system's
    CAs or insecure-skip-tls-verify; or not a usable kubeconfig). Never raises: diff calls it."""
    try:
        data = _current_cluster(kubeconfig).get("certificate-authority-data")
        if not isinstance(data, str) or not data.strip():
            return None
        return hashlib.sha256(base64.b64decode("".join(data.split()), validate=True)).hexdigest()
    except (ValueError, binascii.Error, KeyError, TypeError, AttributeError):
        return None


def same_cluster(old: object, new: object) -> bool:
    """Whether two kubeconfigs name the same cluster: the same server, or servers trusted through the same
    certificate authority (an endpoint moved, a load balancer put in front). Never raises."""
    old_server, new_server = server_or_none(old), server_or_none(new)
    if old_server is None or new_server is None:
        return False
    if old_server == new_server:
        return True
    old_ca = ca_fingerprint(old)
    return old_ca is not None and old_ca == ca_fingerprint(new)

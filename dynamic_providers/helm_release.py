"""HelmRelease: a chart installed into the cluster of a kubeconfig by the Helm CLI (upgrade --install, uninstall)."""

from __future__ import annotations

import contextlib
import re
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)

from pulumi_cluster_connect._plumbing import (
    errors,
    helm_cli,
    helm_releases,
    inputs,
    kube,
    loft_api,
    owned_namespace,
    ownership,
    progress,
    protocol,
    reporting,
)

# --- inputs -----------------------------------------------------------------------------------------

DEFAULT_TIMEOUT = 300.0
RELEASE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
RELEASE_NAME_MAX = 53  # Helm's own limit: names end up in labels with suffixes
REPLACE_KEYS = ("release_name", "namespace")
UPGRADE_KEYS = ("chart", "repository", "version", "values", "repository_ca_data", "wait")
BOOLEANS = {"wait": True, "create_namespace": True, "adopt_existing": False}
STRINGS = ("chart", "repository", "helm_path")
RELEASE_OUTPUTS = ("status", "revision", "chart_name", "chart_version", "app_version")


def check(news: Mapping[str, Any]) -> CheckResult:
    """The rules Helm and Kubernetes apply, before any call; unknown values (preview) pass."""
    failures: list[CheckFailure] = []
    props = dict(news)
    for key, default in BOOLEANS.items():
        props.setdefault(key, default)
    props.setdefault(inputs.TIMEOUT, DEFAULT_TIMEOUT)

    for key in ("release_name", "namespace", "chart"):
        if key not in props:
            failures.append(CheckFailure(key, "is required"))
    kube.check_kubeconfig(props, "kubeconfig", failures)
    if inputs.known(props, "release_name"):
        name = props["release_name"]
        if not isinstance(name, str) or len(name) > RELEASE_NAME_MAX or not RELEASE_NAME.match(name):
            failures.append(
                CheckFailure(
                    "release_name",
                    f"must be at most {RELEASE_NAME_MAX} lower case letters, digits, '-' and '.', "
                    f"starting and ending with a letter or digit{inputs.got(name)}",
                )
            )
    if inputs.known(props, "namespace"):
        namespace = props["namespace"]
        if not isinstance(namespace, str) or not inputs.DNS_LABEL.match(namespace):
            failures.append(CheckFailure("namespace", f"must be a DNS-1123 label{inputs.got(namespace)}"))
    for key in STRINGS:
        if inputs.known(props, key) and not (isinstance(props[key], str) and props[key]):
            failures.append(CheckFailure(key, f"must be a non-empty string{inputs.got(props[key])}"))
    if inputs.known(props, "version") and not isinstance(props["version"], str):
        failures.append(CheckFailure("version", "must be a chart version or constraint (empty: the latest)"))
    _check_source(props, failures)
    if inputs.known(props, "values") and not isinstance(props["values"], Mapping):
        failures.append(CheckFailure("values", f"must be a map of chart values{inputs.got(props['values'])}"))
    for key in BOOLEANS:
        if inputs.known(props, key) and not isinstance(props[key], bool):
            failures.append(CheckFailure(key, f"must be true or false{inputs.got(props[key])}"))
    inputs.check_timeout(props, failures)
    return CheckResult(props, failures)


def _check_source(props: Mapping[str, Any], failures: list[CheckFailure]) -> None:
    if inputs.known(props, "repository") and isinstance(props["repository"], str):
        try:
            parsed = urllib.parse.urlsplit(props["repository"])
            hostname = parsed.hostname
        except ValueError:
            hostname = None
        # Never quote it: a URL may carry a password.
        if hostname is None or parsed.scheme not in ("https", "http"):
            failures.append(CheckFailure("repository", "must be an http(s) chart repository URL"))
        elif parsed.username or parsed.password:
            failures.append(CheckFailure("repository", "must not carry credentials"))
        chart = props.get("chart")
        if isinstance(chart, str) and ("/" in chart or chart.startswith("oci:")):
            failures.append(
                CheckFailure("chart", "must be a chart name when a repository is given (not a path or an oci:// URL)")
            )
    if inputs.known(props, "repository_ca_data"):
        if not props.get("repository"):
            failures.append(CheckFailure("repository_ca_data", "only applies with a repository"))
        loft_api.check_ca_data(props, "repository_ca_data", failures)


def _server(props: Mapping[str, Any]) -> str | None:
    return kube.server_or_none(props.get("kubeconfig"))


def diff(olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffResult:
    """Another name, namespace or cluster is another release; chart, version and values upgrade in place."""

    def changed(key: str) -> bool:
        return inputs.is_unknown(news.get(key)) or olds.get(key) != news.get(key)

    replaces = [key for key in REPLACE_KEYS if changed(key)]
    moved = changed("kubeconfig") and (
        inputs.contains_unknown(news.get("kubeconfig")) or _server(olds) != _server(news)
    )
    if moved:
        replaces.append("kubeconfig")
    changes = list(replaces)
    changes += [key for key in (*UPGRADE_KEYS, "kubeconfig") if key not in changes and changed(key)]
    if olds.get("drifted"):
        changes.append("status")
    # helm_path, create_namespace, adopt_existing and timeout_seconds only matter to the next call: no diff.
    return DiffResult(
        changes=bool(changes),
        replaces=replaces,
        # Same name in the same cluster: the old release must be gone before the new one is installed (forced
        # replacements too, which this diff does not see).
        delete_before_replace=not moved,
    )


def secrets_in(props: Mapping[str, Any]) -> list[str]:
    """What no message may show: every string value given to the chart and the kubeconfig's credentials."""
    found: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, Mapping):
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for item in node:
                collect(item)

    collect(props.get("values") or {})
    found += loft_api.secrets_in({"kubeconfig": props.get("kubeconfig")})
    # Short values (true, a port, a name) carry no secret and would make every message unreadable.
    return sorted({s for s in found if len(s) >= 8}, key=len, reverse=True)


def chart_source(props: Mapping[str, Any]) -> helm_cli.ChartSource:
    def optional(key: str) -> str | None:
        return str(props[key]) if props.get(key) else None

    return helm_cli.ChartSource(
        str(props["chart"]), optional("repository"), optional("version"), optional("repository_ca_data")
    )


@contextlib.contextmanager
def _helm(props: Mapping[str, Any]) -> Iterator[helm_cli.Helm]:
    helm_path = str(props["helm_path"]) if props.get("helm_path") else None
    with helm_cli.Helm.session(kube.as_text(props["kubeconfig"]), helm_path, secrets_in(props)) as helm:
        yield helm


def release_outputs(release: Mapping[str, Any]) -> dict[str, Any]:
    """What the release says of itself (never its values or manifest, which hold the secrets)."""
    chart = ((release.get("chart") or {}).get("metadata")) or {}
    return {
        "status": str((release.get("info") or {}).get("status") or ""),
        "revision": int(release.get("version") or 0),
        "chart_name": str(chart.get("name") or ""),
        "chart_version": str(chart.get("version") or ""),
        "app_version": str(chart.get("appVersion") or ""),
    }


# --- provider -----------------------------------------------------------------------------------------


class HelmReleaseProvider(reporting.ReportingProvider):
    secret_keys = ("kubeconfig", "values")

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return check(news)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff(olds, news)

    def create(self, props: dict[str, Any]) -> CreateResult:
        name, namespace = str(props["release_name"]), str(props["namespace"])
        timeout = inputs.timeout_of(props, DEFAULT_TIMEOUT)
        with _helm(props) as helm:
            existing = helm_releases.find(helm, name, namespace, timeout)
            if existing is not None:
                self._adopt(helm, props, existing, timeout)
            created_namespace = bool(props.get("create_namespace", True)) and owned_namespace.ensure(
                kube.as_text(props["kubeconfig"]), namespace
            )
            release = self._install(helm, props, timeout, adopted=existing is not None)
        outs = {**props, **release_outputs(release), "created_namespace": created_namespace}
        return CreateResult(f"{namespace}/{name}", outs)

    @staticmethod
    def _adopt(helm: helm_cli.Helm, props: Mapping[str, Any], existing: Mapping[str, Any], timeout: float) -> None:
        """A release of that name exists: ours (a create that ran before) or taken over on request."""
        name, namespace = str(props["release_name"]), str(props["namespace"])
        whose = helm_releases.whose(helm, name, namespace, _owner_mark(props), timeout)
        ours = whose in (helm_releases.Whose.OURS, helm_releases.Whose.OURS_MARKED_THE_OLD_WAY)
        if not ours and not ownership.adopting(props):
            raise _refused(name, namespace, whose)
        status = helm_releases.status_of(existing)
        if ours and status == "pending-install":
            # An install cut short (the process died mid-way): Helm refuses to touch it, so start over.
            progress.report(f"helm: release {name} was left pending-install by an earlier run; installing it again")
            helm_releases.uninstall(helm, name, namespace, timeout)
        else:
            progress.report(f"helm: adopting the existing release {name} in namespace {namespace} ({status})")

    @staticmethod
    def _install(helm: helm_cli.Helm, props: Mapping[str, Any], timeout: float, adopted: bool) -> dict[str, Any]:
        name, namespace = str(props["release_name"]), str(props["namespace"])
        source = f"{props['chart']}{' ' + str(props['version']) if props.get('version') else ''}"
        if props.get("repository"):
            source += f" from {props['repository']}"
        progress.report(f"helm: {'upgrading' if adopted else 'installing'} {source} as {namespace}/{name}")
        try:
            return helm_releases.install(
                helm,
                chart_source(props),
                name,
                namespace,
                props.get("values") or {},
                owner_mark=_owner_mark(props),
                wait=bool(props.get("wait", True)),
                timeout=timeout,
            )
        except errors.HelmError as err:
            left = helm_releases.find(helm, name, namespace, timeout)
            if left is None:
                raise
            # What Helm made stays in the cluster, marked as ours: the next `pulumi up` adopts and upgrades it.
            raise errors.HelmError(
                err.action,
                f"{err.message} (the release is left {helm_releases.status_of(left) or 'in place'} and marked as "
                f"ours: the next `pulumi up` upgrades it, or remove it with helm uninstall {name} -n {namespace})",
            ) from None

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        name, namespace = str(props["release_name"]), str(props["namespace"])
        with _helm(props) as helm:
            release = helm_releases.find(helm, name, namespace, inputs.timeout_of(props, DEFAULT_TIMEOUT))
        if release is None:
            return ReadResult("", {})
        found = release_outputs(release)
        outs: dict[str, Any] = {**props, **found}
        # Someone else's upgrade or rollback, or a failed one: the next up installs what the program says.
        drifted = found["status"] != "deployed" or (
            props.get("revision") is not None and found["revision"] != inputs.as_int(props["revision"])
        )
        if drifted:
            outs["drifted"] = True
        else:
            outs.pop("drifted", None)
        return ReadResult(id_, outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        timeout = inputs.timeout_of(news, DEFAULT_TIMEOUT)
        created_namespace = bool(olds.get("created_namespace"))
        with _helm(news) as helm:
            if news.get("create_namespace", True):
                created_namespace = owned_namespace.ensure(kube.as_text(news["kubeconfig"]), str(news["namespace"]))
            release = self._install(helm, news, timeout, adopted=True)
        outs = {**news, **release_outputs(release), "created_namespace": created_namespace}
        outs.pop("drifted", None)
        return UpdateResult(outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        name, namespace = str(props["release_name"]), str(props["namespace"])
        timeout = inputs.timeout_of(props, DEFAULT_TIMEOUT)
        with _helm(props) as helm:
            progress.report(f"helm: uninstalling {namespace}/{name}")
            helm_releases.uninstall(helm, name, namespace, timeout)
            others = bool(props.get("created_namespace")) and helm_releases.any_in(helm, namespace, timeout)
        if props.get("created_namespace") and not others:
            owned_namespace.remove(kube.as_text(props["kubeconfig"]), namespace, timeout)


def _refused(name: str, namespace: str, whose: helm_releases.Whose) -> errors.ClusterConnectError:
    words = protocol.Words(
        what=f"a release {name!r}",
        exists=f"already exists in namespace {namespace!r}",
        mark="label",
        otherwise=f"uninstall it (helm uninstall {name} -n {namespace})",
    )
    whose_it_is = (
        "was installed by another stack or resource (another owner label)"
        if whose is helm_releases.Whose.ANOTHER_RESOURCES
        else f"was not installed by pulumi-cluster-connect (no release label {helm_releases.GENERIC_LABEL})"
    )
    return protocol.refused(words, None, whose_it_is=whose_it_is)


def _owner_mark(props: Mapping[str, Any]) -> str:
    """The owner label's value: from the resource's stable key, so another stack's release of the same name is not
    ours. A state from before `identity` existed gets it from the program on its next update."""
    return ownership.owner_mark(str(props.get(ownership.IDENTITY) or ""))


# --- resource -----------------------------------------------------------------------------------------


class HelmRelease(pulumi.dynamic.Resource, module="helm", name="Release"):
    """A Helm chart installed as a release into the cluster of `kubeconfig`, by the Helm 3 CLI.

    Values reach Helm on stdin and the kubeconfig as a 0600 file, never on a command line; both stay
    secret in the state. A release of the same name that this resource installed before is adopted;
    anybody else's only with `adopt_existing=True`. The namespace is created when missing (and removed
    with the last release in it, if it was created so).
    """

    status: pulumi.Output[str]
    """Helm's status of the release: deployed, failed, ..."""
    revision: pulumi.Output[int]
    chart_name: pulumi.Output[str]
    chart_version: pulumi.Output[str]
    """The chart version installed (what `version` resolved to)."""
    app_version: pulumi.Output[str]
    created_namespace: pulumi.Output[bool]

    def __init__(
        self,
        resource_name: str,
        *,
        kubeconfig: pulumi.Input[str | Mapping[str, Any]],
        release_name: pulumi.Input[str],
        namespace: pulumi.Input[str],
        chart: pulumi.Input[str],
        repository: pulumi.Input[str] | None = None,
        version: pulumi.Input[str] | None = None,
        values: pulumi.Input[Mapping[str, Any]] | None = None,
        repository_ca_data: pulumi.Input[str] | None = None,
        wait: pulumi.Input[bool] | None = None,
        create_namespace: pulumi.Input[bool] | None = None,
        adopt_existing: pulumi.Input[bool] | None = None,
        helm_path: pulumi.Input[str] | None = None,
        timeout_seconds: pulumi.Input[float] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            ownership.IDENTITY: ownership.identity_of(f"pulumi-python:{self._resource_type_name}", resource_name, opts),
            "kubeconfig": pulumi.Output.secret(kubeconfig),
            "release_name": release_name,
            "namespace": namespace,
            "chart": chart,
            # The outputs even when None, as every class sends its public outputs (test_public_outputs.py).
            **dict.fromkeys((*RELEASE_OUTPUTS, "created_namespace")),
        }
        # Optional inputs only when given: a None never reaches the engine, but costs the SDK an Output per key.
        props.update(
            inputs.without_none(
                {
                    "repository": repository,
                    "version": version,
                    # Values may hold tokens and passwords: encrypted in the state, inputs and outputs alike.
                    "values": None if values is None else pulumi.Output.secret(values),
                    "repository_ca_data": repository_ca_data,
                    "wait": wait,
                    "create_namespace": create_namespace,
                    "adopt_existing": adopt_existing,
                    "helm_path": helm_path,
                    inputs.TIMEOUT: timeout_seconds,
                }
            )
        )
        secret_outputs = pulumi.ResourceOptions(additional_secret_outputs=["kubeconfig", "values"])
        opts = pulumi.ResourceOptions.merge(opts, secret_outputs)
        super().__init__(HelmReleaseProvider(), resource_name, props, opts)

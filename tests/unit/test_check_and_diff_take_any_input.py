"""Every provider's check and diff, fed what the engine can send: failures, never exceptions or connections.

Values are shaped as the engine delivers them (strings of any size and script, floats for numbers, booleans,
None, lists and maps nested, `Unknown` at any depth), mixed with plausible values so that many inputs pass
check and reach diff. A secret planted in every kubeconfig must never show in a failure.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pulumi.dynamic import CheckFailure, CheckResult, DiffResult, ResourceProvider
from pulumi.output import Unknown

from pulumi_cluster_connect.dynamic_providers import (
    cluster_version,
    connection_wait,
    fargate_profile,
    helm_release,
    kubernetes_manifest,
    loft_cluster_connect,
    loft_cluster_initialized,
    registered_cluster,
    service_account_kubeconfig,
)

EXAMPLES = 240  # per provider: 9 providers, 2,160 inputs through check (and diff when check passes)
SECRET = "s3cret-T0KEN-never-shown"
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

# --- what the engine can send -------------------------------------------------------------------------

unknown = st.builds(Unknown)
huge_text = st.builds(lambda piece, times: piece * times, st.text(min_size=1, max_size=3), st.integers(1000, 5000))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**63), 2**63).map(float),
    st.text(max_size=40),
    huge_text,
    unknown,
)
engine_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8,
)
state_values = st.recursive(
    scalars.filter(lambda v: not isinstance(v, Unknown)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12,
)


def kubeconfig_map(server: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "c",
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
        "clusters": [{"name": "k", "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
        "users": [{"name": "u", "user": {"token": SECRET}}],
    }


def _broken(text: str, cut: int) -> str:
    """A kubeconfig damaged as by hand: truncated, or with a stray character on the token's line."""
    return text[: cut % (len(text) + 1)] if cut % 2 else text.replace(f"token: {SECRET}", f"token: {SECRET}: [")


kubeconfig_texts = st.sampled_from(["https://127.0.0.1:6443", "https://10.0.0.1"]).map(
    lambda server: yaml.safe_dump(kubeconfig_map(server))
)
kubeconfigs = st.one_of(
    kubeconfig_texts,
    st.sampled_from(["https://127.0.0.1:6443", "https://10.0.0.1"]).map(kubeconfig_map),
    st.builds(_broken, kubeconfig_texts, st.integers(0, 400)),
    st.builds(
        lambda m, u: {**m, "users": [{"name": "u", "user": {"token": SECRET}}, u]},
        st.just(kubeconfig_map("x")),
        engine_values,
    ),
    engine_values,
)


def maybe(plausible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(plausible, plausible, unknown, engine_values)


names = st.sampled_from(["edge", "web-1", "a", "x" * 101, "Edge_2", "eks-web", ""])
regions = st.sampled_from(["us-west-2", "eu-central-1", "mars", ""])
role_arns = st.sampled_from(["arn:aws:iam::123456789012:role/agent", "arn:aws:iam::1:user/x"])
tags = st.dictionaries(st.sampled_from(["team", "aws:x", "k" * 129, "env"]), maybe(st.text(max_size=10)), max_size=4)
timeouts = st.sampled_from([60.0, 0.0, -1.0, 1e300])
objects = st.lists(
    maybe(
        st.fixed_dictionaries(
            {"apiVersion": maybe(st.just("v1")), "kind": maybe(st.sampled_from(["ConfigMap", "Namespace", "List"]))},
            optional={
                "metadata": maybe(st.fixed_dictionaries({"name": maybe(names)}, optional={"namespace": maybe(names)})),
                "items": engine_values,
            },
        )
    ),
    max_size=4,
)
manifest_yaml = st.one_of(
    st.sampled_from(
        [
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\nkind: Namespace\n",
            "apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: ConfigMap, metadata: {name: c}}]\n",
            "apiVersion: v1\nkind: List\nitems: 3\n",
            "a: [\n",
            "[" * 500,
            "- just\n- a list\n",
        ]
    ),
    st.text(max_size=60),
)

SHAPES: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "fargate_profile": {
        "cluster_name": names,
        "fargate_profile_name": names,
        "pod_execution_role_arn": role_arns,
        "selectors": st.lists(
            maybe(
                st.fixed_dictionaries(
                    {"namespace": maybe(names)},
                    optional={
                        "labels": maybe(st.dictionaries(st.text(max_size=5), maybe(st.text(max_size=5)), max_size=6))
                    },
                )
            ),
            max_size=6,
        ),
        "subnet_ids": st.lists(maybe(st.sampled_from(["subnet-0a1", "subnet-0b2", "sg-1"])), max_size=4),
        "tags": tags,
        "region": regions,
        "timeout_seconds": timeouts,
        "auto_name_prefix": names,
        "auto_named": st.booleans(),
    },
    "registered_cluster": {
        "cluster_name": names,
        "connector_provider": st.sampled_from([*registered_cluster.PROVIDERS, "K3S"]),
        "role_arn": role_arns,
        "tags": tags,
        "region": regions,
        "identity": st.just("proj/dev/edge"),
    },
    "connection_wait": {
        "cluster_name": names,
        "activation_id": st.uuids().map(str),
        "region": regions,
        "timeout_seconds": timeouts,
    },
    "cluster_version": {
        "cluster_name": names,
        "version": st.sampled_from(["1.29", "1.30", "1", "v1.30"]),
        "force": st.booleans(),
        "region": regions,
        "timeout_seconds": timeouts,
    },
    "kubernetes_manifest": {
        "kubeconfig": kubeconfigs,
        "objects": objects,
        "yaml": manifest_yaml,
        "field_manager": names,
        "timeout_seconds": timeouts,
    },
    "loft_cluster_connect": {
        "loft_url": st.sampled_from(["https://loft.example.com", "http://[::1", "ftp://u:p@h", "https://"]),
        "access_key": st.text(max_size=10),
        "cluster_name": names,
        "kubeconfig": kubeconfigs,
        "owner": st.dictionaries(st.sampled_from(["user", "team", "group"]), maybe(names), max_size=2),
        "access": st.lists(
            maybe(
                st.dictionaries(
                    st.sampled_from(["verbs", "users", "teams", "bogus"]), maybe(st.lists(maybe(names), max_size=2))
                )
            ),
            max_size=3,
        ),
        "ca_data": st.sampled_from(["-----BEGIN CERTIFICATE-----\nx\n", "bm90IGEgY2VydA==", "ünïcödé"]),
        "insecure": st.booleans(),
        "mode": st.sampled_from(["auto", "cluster-connect", "agent", "v4"]),
        "wait_for_initialized": st.booleans(),
        "timeout_seconds": timeouts,
        "management_namespace": names,
    },
    "service_account_kubeconfig": {
        "admin_kubeconfig": kubeconfigs,
        "namespace": names,
        "secret_name": names,
    },
    "helm_release": {
        "kubeconfig": kubeconfigs,
        "release_name": names,
        "namespace": names,
        "chart": st.sampled_from(["loft", "oci://x/y", "a/b"]),
        "repository": st.sampled_from(["https://charts.loft.sh", "http://[::1", "ftp://u:p@h", "https://u:p@h"]),
        "version": st.sampled_from(["4.3.0", "", ">=1"]),
        "values": st.dictionaries(st.text(max_size=6), engine_values, max_size=3),
        "repository_ca_data": st.sampled_from(["-----BEGIN CERTIFICATE-----\nx\n", "bm90", "ünï"]),
        "wait": st.booleans(),
        "create_namespace": st.booleans(),
        "adopt_existing": st.booleans(),
        "helm_path": st.sampled_from(["helm", ""]),
        "timeout_seconds": timeouts,
    },
    "loft_cluster_initialized": {
        "cluster_name": names,
        "loft_url": st.sampled_from(["https://loft.example.com", "http://[::1", "ftp://u:p@h"]),
        "access_key": st.text(max_size=10),
        "ca_data": st.sampled_from(["-----BEGIN CERTIFICATE-----\nx\n", "bm90IGEgY2VydA==", "ünïcödé"]),
        "insecure": st.booleans(),
        "agent_revision": st.sampled_from([1.0, 2.0]),
        "timeout_seconds": timeouts,
    },
}

KUBECONFIG_OK = st.sampled_from([yaml.safe_dump(kubeconfig_map("https://127.0.0.1:6443")), kubeconfig_map("https://k")])
VALID: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "fargate_profile": {
        "cluster_name": st.just("edge"),
        "pod_execution_role_arn": st.just("arn:aws:iam::123456789012:role/pods"),
        "selectors": st.lists(st.fixed_dictionaries({"namespace": st.just("a")}), min_size=1, max_size=2),
        "subnet_ids": st.lists(st.sampled_from(["subnet-0a1", "subnet-0b2"]) | unknown, max_size=3),
        "tags": st.dictionaries(st.sampled_from(["team", "env"]), st.just("x") | unknown, max_size=2),
    },
    "registered_cluster": {
        "cluster_name": st.just("edge"),
        "connector_provider": st.sampled_from(registered_cluster.PROVIDERS),
        "role_arn": st.just("arn:aws:iam::123456789012:role/agent"),
        "tags": st.dictionaries(st.sampled_from(["team", "env"]), st.just("x") | unknown, max_size=2),
        "region": st.just("us-west-2"),
    },
    "connection_wait": {"cluster_name": st.just("edge"), "activation_id": st.just("id-1"), "timeout_seconds": timeouts},
    "cluster_version": {"cluster_name": st.just("edge"), "version": st.sampled_from(["1.29", "1.31"])},
    "kubernetes_manifest": {
        "kubeconfig": KUBECONFIG_OK,
        "objects": st.just([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}]),
    },
    "loft_cluster_connect": {
        "loft_url": st.just("https://loft.example.com"),
        "access_key": st.just("key"),
        "cluster_name": st.just("edge"),
        "kubeconfig": KUBECONFIG_OK,
    },
    "service_account_kubeconfig": {
        "admin_kubeconfig": KUBECONFIG_OK,
        "namespace": st.just("loft"),
        "secret_name": st.just("loft-admin-token"),
    },
    "helm_release": {
        "kubeconfig": KUBECONFIG_OK,
        "release_name": st.just("loft"),
        "namespace": st.just("loft"),
        "chart": st.just("loft"),
        "repository": st.just("https://charts.loft.sh"),
        "values": st.dictionaries(st.sampled_from(["a", "b"]), engine_values, max_size=2),
    },
    "loft_cluster_initialized": {
        "cluster_name": st.just("edge"),
        "loft_url": st.just("https://loft.example.com"),
        "access_key": st.just("key"),
    },
}

PROVIDERS: dict[str, Callable[[], ResourceProvider]] = {
    "fargate_profile": fargate_profile.FargateProfileProvider,
    "registered_cluster": registered_cluster.RegisteredClusterProvider,
    "connection_wait": connection_wait.ConnectionWaitProvider,
    "cluster_version": cluster_version.ClusterVersionProvider,
    "kubernetes_manifest": kubernetes_manifest.KubernetesManifestProvider,
    "loft_cluster_connect": loft_cluster_connect.LoftClusterConnectProvider,
    "service_account_kubeconfig": service_account_kubeconfig.ServiceAccountKubeconfigProvider,
    "helm_release": helm_release.HelmReleaseProvider,
    "loft_cluster_initialized": loft_cluster_initialized.LoftClusterInitializedProvider,
}


def news_of(resource: str) -> st.SearchStrategy[dict[str, Any]]:
    """Inputs as a Resource sends them: some of its keys (None ones dropped), each plausible or anything."""
    shaped = {key: maybe(value) for key, value in SHAPES[resource].items()}
    valid = {key: value | unknown for key, value in VALID[resource].items()}
    return st.one_of(
        st.fixed_dictionaries({}, optional=shaped),
        st.fixed_dictionaries(valid),
        st.fixed_dictionaries(valid, optional={k: v for k, v in shaped.items() if k not in valid}),
    ).map(lambda d: {k: v for k, v in d.items() if v is not None})


def state_of(resource: str) -> st.SearchStrategy[dict[str, Any]]:
    """Old outputs: plausible ones (with the status fields diff reads) or anything a state can hold."""
    plausible = st.fixed_dictionaries(
        {},
        optional={
            **{key: value.filter(lambda v: not isinstance(v, Unknown)) for key, value in SHAPES[resource].items()},
            "status": st.sampled_from(["PENDING", "ACTIVE", "FAILED"]),
            "activation_expiry": st.sampled_from(["2000-01-01T00:00:00Z", "2999-01-01T00:00:00Z", "soon"]),
            "connected_via": st.sampled_from(["agent", "cluster-connect"]),
            "drifted": st.booleans(),
        },
    )
    return st.one_of(plausible, st.dictionaries(st.text(max_size=12), state_values, max_size=5))


# --- the property ---------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    attempts: list[str] = []

    def refuse(*args: Any, **_kwargs: Any) -> Any:
        attempts.append(repr(args[:2]))
        raise AssertionError("check or diff tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield attempts
    assert attempts == [], attempts


def assert_safe_failures(result: CheckResult) -> None:
    assert isinstance(result, CheckResult)
    assert isinstance(result.inputs, dict)
    for failure in result.failures:
        assert isinstance(failure, CheckFailure)
        assert isinstance(failure.property, str) and isinstance(failure.reason, str) and failure.reason
        assert SECRET not in failure.reason
        assert len(failure.reason) < 1000, "a failure quotes a (huge) value"


@pytest.mark.parametrize("resource", sorted(PROVIDERS))
def test_check_and_diff_never_raise_nor_connect_on_engine_shaped_inputs(resource: str) -> None:
    provider = PROVIDERS[resource]()
    passed = 0

    @FUZZ
    @given(olds=state_of(resource), news=news_of(resource))
    def run(olds: dict[str, Any], news: dict[str, Any]) -> None:
        nonlocal passed
        result = provider.check(olds, dict(news))
        assert_safe_failures(result)
        # diff is called only on inputs that passed check, with the outputs of the state as olds.
        if not result.failures:
            passed += 1
            assert isinstance(provider.diff("some-id", olds, dict(result.inputs)), DiffResult)

    run()
    # The plausible values make enough inputs pass check for diff to be exercised, not just the failures.
    assert passed >= EXAMPLES // 20, passed

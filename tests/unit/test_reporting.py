"""How lifecycle errors are worded and scrubbed; outside the provider server they are raised unchanged."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult

from pulumi_cluster_connect._plumbing import errors, reporting

TOKEN = "sha256~very-secret-token"
KUBECONFIG = {
    "apiVersion": "v1",
    "current-context": "c",
    "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
    "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:1"}}],
    "users": [{"name": "u", "user": {"token": TOKEN}}],
}


class Failing(reporting.ReportingProvider):
    secret_keys = ("kubeconfig",)

    def create(self, props: dict[str, Any]) -> CreateResult:
        raise errors.ClusterConnectError(f"apply failed with token {TOKEN}")


def test_outside_the_provider_server_the_error_is_raised_unchanged() -> None:
    with pytest.raises(errors.ClusterConnectError, match="apply failed"):
        Failing().create({"kubeconfig": KUBECONFIG})


def test_the_methods_of_a_subclass_are_wrapped_once() -> None:
    assert getattr(Failing.create, "__reported__", False)
    assert reporting.servicer_context() is None


def test_secrets_are_found_in_kubeconfigs_given_as_text_or_map_and_in_base64() -> None:
    import yaml

    for given in (KUBECONFIG, yaml.safe_dump(KUBECONFIG)):
        found = reporting.secrets_in([given])
        assert TOKEN in found
        assert base64.b64encode(TOKEN.encode()).decode() in found
    message = f"token {TOKEN} or {base64.b64encode(TOKEN.encode()).decode()}"
    assert TOKEN not in reporting.scrubbed(message, reporting.secrets_in([KUBECONFIG]))
    assert "[secret]" in reporting.scrubbed(message, reporting.secrets_in([KUBECONFIG]))


def test_our_errors_read_as_they_are_and_others_as_unexpected_with_their_place() -> None:
    assert reporting.sentence(errors.AwsApiError("EKS X", "Code", "why\nnext"), "P.create") == (
        "EKS X failed: Code: why next"
    )
    empty: dict[str, str] = {}
    try:
        empty["missing"]
    except KeyError as err:
        text = reporting.sentence(err, "P.create")
    assert text.startswith("unexpected KeyError in P.create at test_reporting.py:")
    assert "please report it" in text


def test_failures_of_secret_properties_name_them_in_the_reason_so_the_engine_prints_no_value() -> None:
    result = CheckResult(
        {}, [CheckFailure("kubeconfig", "the kubeconfig has no current-context"), CheckFailure("mode", "bad")]
    )
    rewritten = reporting.unquoted(result, ("kubeconfig",))
    assert [(f.property, f.reason) for f in rewritten.failures] == [
        ("", "kubeconfig: the kubeconfig has no current-context"),
        ("mode", "bad"),
    ]

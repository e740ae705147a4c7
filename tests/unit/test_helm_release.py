"""HelmRelease: check and diff as the engine sends them, and the Helm CLI's private home and messages."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi.output import Unknown

from pulumi_cluster_connect._plumbing import errors, helm_cli, helm_releases
from pulumi_cluster_connect.cli import helm_binary
from pulumi_cluster_connect.dynamic_providers import helm_release

TOKEN = "kubeconfig-token-never-shown"
CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def kubeconfig(server: str = "https://127.0.0.1:1") -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "c",
            "clusters": [{"name": "a", "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
            "users": [{"name": "u", "user": {"token": TOKEN}}],
            "contexts": [{"name": "c", "context": {"cluster": "a", "user": "u"}}],
        }
    )


def props(**overrides: Any) -> dict[str, Any]:
    """Inputs as the engine sends them after check: defaults filled, numbers as floats, no None keys."""
    base: dict[str, Any] = {
        "kubeconfig": kubeconfig(),
        "release_name": "loft",
        "namespace": "loft",
        "chart": "loft",
        "repository": "https://charts.example.com",
        "version": "4.3.1",
        "values": {"agentOnly": True, "token": "agent-token-never-shown", "replicaCount": 1.0},
        "wait": True,
        "create_namespace": True,
        "adopt_existing": False,
        "timeout_seconds": 300.0,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def failures(news: dict[str, Any]) -> dict[str, str]:
    return {f.property: f.reason for f in helm_release.check(news).failures}


# --- check ------------------------------------------------------------------------------------------


def test_complete_inputs_pass_and_the_defaults_are_filled() -> None:
    news = props()
    for key in ("wait", "create_namespace", "adopt_existing", "timeout_seconds"):
        del news[key]

    result = helm_release.check(news)

    assert result.failures == []
    assert {k: result.inputs[k] for k in ("wait", "create_namespace", "adopt_existing", "timeout_seconds")} == {
        "wait": True,
        "create_namespace": True,
        "adopt_existing": False,
        "timeout_seconds": 300.0,
    }


def test_unknown_values_in_preview_pass() -> None:
    unknowns = {k: Unknown() for k in ("kubeconfig", "release_name", "namespace", "chart", "version", "values")}
    assert failures(props(**unknowns)) == {}


def test_the_required_inputs_are_named() -> None:
    assert set(failures({})) == {"kubeconfig", "release_name", "namespace", "chart"}


@pytest.mark.parametrize("name", ["Loft", "-loft", "loft_agent", "a" * 54, ""])
def test_a_release_name_helm_refuses_is_refused_before_any_call(name: str) -> None:
    assert "release_name" in failures(props(release_name=name))


def test_a_dotted_release_name_of_53_characters_is_fine() -> None:
    assert failures(props(release_name="a.b-" + "c" * 49)) == {}


def test_the_namespace_must_be_a_dns_label() -> None:
    assert "namespace" in failures(props(namespace="Loft"))


def test_the_repository_must_be_an_http_url_without_credentials() -> None:
    assert "repository" in failures(props(repository="charts.example.com"))
    assert "repository" in failures(props(repository="https://user:pass@charts.example.com"))


def test_a_chart_path_or_oci_reference_does_not_go_with_a_repository() -> None:
    assert "chart" in failures(props(chart="./charts/loft"))
    assert "chart" in failures(props(chart="oci://ghcr.io/loft-sh/loft"))
    assert failures(props(chart="oci://ghcr.io/loft-sh/loft", repository=None)) == {}


def test_the_repository_ca_must_be_pem_and_needs_a_repository() -> None:
    assert "repository_ca_data" in failures(props(repository_ca_data="not a certificate"))
    assert "repository_ca_data" in failures(props(repository=None, repository_ca_data=CA))
    assert failures(props(repository_ca_data=CA)) == {}


def test_values_must_be_a_mapping_and_flags_booleans() -> None:
    found = failures(props(values=["a"], wait="yes", timeout_seconds=-1.0))
    assert set(found) == {"values", "wait", "timeout_seconds"}


def test_an_empty_version_means_the_latest() -> None:
    assert failures(props(version="")) == {}
    assert "version" in failures(props(version=4.0))


def test_a_kubeconfig_problem_does_not_quote_the_kubeconfig() -> None:
    broken = kubeconfig().replace("current-context: c", "current-context: missing")
    found = failures(props(kubeconfig=broken))
    assert "kubeconfig" in found
    assert TOKEN not in found["kubeconfig"]


# --- diff -------------------------------------------------------------------------------------------


def test_values_chart_and_version_upgrade_in_place() -> None:
    for change in ({"values": {"agentOnly": True, "token": "rotated"}}, {"version": "4.3.2"}, {"chart": "other"}):
        result = helm_release.diff(props(), props(**change))
        assert result.changes
        assert result.replaces == []


def test_another_name_or_namespace_replaces_deleting_first() -> None:
    result = helm_release.diff(props(), props(namespace="loft-2"))

    assert result.replaces == ["namespace"]
    assert result.delete_before_replace


def test_another_cluster_replaces_without_deleting_first() -> None:
    result = helm_release.diff(props(), props(kubeconfig=kubeconfig("https://10.0.0.2:6443")))

    assert result.replaces == ["kubeconfig"]
    assert not result.delete_before_replace


def test_new_credentials_for_the_same_cluster_are_kept_without_a_replacement() -> None:
    rotated = kubeconfig().replace(TOKEN, "another-token")
    result = helm_release.diff(props(), props(kubeconfig=rotated))
    assert result.changes
    assert result.replaces == []


def test_unknown_values_in_preview_show_as_a_change() -> None:
    assert helm_release.diff(props(), props(values=Unknown())).changes


def test_settings_that_only_matter_to_the_next_call_change_nothing() -> None:
    news = props(timeout_seconds=30.0, helm_path="/opt/helm", create_namespace=False, adopt_existing=True)
    assert not helm_release.diff(props(), news).changes


def test_a_release_refresh_saw_drifted_is_upgraded_back() -> None:
    assert helm_release.diff({**props(), "drifted": True}, props()).changes


# --- the Helm CLI -----------------------------------------------------------------------------------


def test_every_value_string_and_the_kubeconfig_credentials_are_redacted() -> None:
    secrets = helm_release.secrets_in(props())

    assert "agent-token-never-shown" in secrets
    assert TOKEN in secrets
    assert "loft" not in secrets  # too short to be a secret, too common to hide


def test_whole_floats_reach_the_chart_as_integers() -> None:
    assert helm_cli.whole_numbers({"replicaCount": 1.0, "ratio": 0.5, "list": [2.0]}) == {
        "replicaCount": 1,
        "ratio": 0.5,
        "list": [2],
    }


def test_release_outputs_never_carry_the_values_or_the_manifest() -> None:
    release = {
        "name": "loft",
        "version": 3,
        "info": {"status": "deployed"},
        "chart": {"metadata": {"name": "loft", "version": "4.3.1", "appVersion": "4.3.1"}},
        "config": {"token": "agent-token-never-shown"},
        "manifest": "kind: Secret ...",
    }

    assert helm_release.release_outputs(release) == {
        "status": "deployed",
        "revision": 3,
        "chart_name": "loft",
        "chart_version": "4.3.1",
        "app_version": "4.3.1",
    }


def test_a_missing_helm_binary_is_reported_with_what_to_do() -> None:
    with pytest.raises(errors.HelmError, match="install Helm 3"):
        helm_cli.find_helm("/nonexistent/helm")


@pytest.fixture(scope="module")
def helm_path() -> str:
    return str(helm_binary.ensure_on_path())


def test_helm_runs_with_the_kubeconfig_in_a_private_file_removed_afterwards(helm_path: str) -> None:
    with helm_cli.Helm.session(kubeconfig(), helm_path, [TOKEN]) as helm:
        home, kubeconfig_file = helm.home, helm.kubeconfig_file
        assert stat.S_IMODE(home.stat().st_mode) == 0o700
        assert stat.S_IMODE(kubeconfig_file.stat().st_mode) == 0o600
        assert TOKEN in kubeconfig_file.read_text()
        with pytest.raises(errors.HelmError) as raised:
            helm.release("loft", "loft", timeout=30)

    assert "helm status loft failed" in str(raised.value)
    assert "127.0.0.1:1" in raised.value.message  # Helm's own reason: the cluster is unreachable
    assert not Path(home).exists()


def test_helm_messages_never_show_a_secret(helm_path: str) -> None:
    with (
        helm_cli.Helm.session(kubeconfig(), helm_path, ["127.0.0.1:1"]) as helm,
        pytest.raises(errors.HelmError) as raised,
    ):
        helm.release("loft", "loft", timeout=30)
    assert "127.0.0.1:1" not in str(raised.value)
    assert "***" in raised.value.message


def test_another_ones_release_is_refused_in_the_protocols_one_sentence_with_helms_own_terms() -> None:
    unmarked = str(helm_release._refused("loft", "adopt", helm_releases.Whose.UNMARKED))
    another = str(helm_release._refused("loft", "adopt", helm_releases.Whose.ANOTHER_RESOURCES))

    assert unmarked == (
        "a release 'loft' already exists in namespace 'adopt' and was not installed by pulumi-cluster-connect (no "
        "release label managed-by=pulumi-cluster-connect). Nothing was changed. To manage it with this resource, set "
        "`adopt_existing=True` on it; or uninstall it (helm uninstall loft -n adopt)"
    )
    assert "and was installed by another stack or resource (another owner label). Nothing was changed." in another

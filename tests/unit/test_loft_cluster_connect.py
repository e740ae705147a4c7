"""LoftClusterConnect: check and diff as the engine calls them, the lifecycle against the in-process Loft double."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from pulumi.output import Unknown

from pulumi_cluster_connect._plumbing import errors, loft_clusters
from pulumi_cluster_connect.dynamic_providers import loft_cluster_connect as lcc
from pulumi_cluster_connect.dynamic_providers import service_account_kubeconfig
from pulumi_cluster_connect.sandbox.loft import LoftControl, LoftSandbox, target

TOKEN = "kubeconfig-token-never-shown"
KUBECONFIG = f"""
apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}}}]
users: [{{name: u, user: {{token: {TOKEN}}}}}]
contexts: [{{name: c, context: {{cluster: c, user: u}}}}]
current-context: c
"""


def unknown() -> Any:
    """The value preview sends for what depends on a resource not created yet."""
    return Unknown()


def props(**overrides: Any) -> dict[str, Any]:
    """Inputs as the engine sends them after check: defaults filled, numbers as floats, no None keys."""
    base: dict[str, Any] = {
        "loft_url": "https://loft.example.com",
        "access_key": "loft-access-key",
        "cluster_name": "prod-eu",
        "kubeconfig": KUBECONFIG,
        "display_name": "Prod EU",
        "mode": "auto",
        "wait_for_initialized": True,
        "timeout_seconds": 300.0,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def failures_of(news: dict[str, Any], config: dict[str, Any] | None = None) -> dict[str, str]:
    return {f.property: f.reason for f in lcc.check({}, news, config or {}).failures}


# --- check ------------------------------------------------------------------------------------------


def test_check_accepts_complete_inputs_and_fills_the_defaults() -> None:
    news = props()
    del news["mode"], news["wait_for_initialized"], news["timeout_seconds"]

    result = lcc.check({}, news, {})

    assert result.failures == []
    assert (result.inputs["mode"], result.inputs["wait_for_initialized"], result.inputs["timeout_seconds"]) == (
        "auto",
        True,
        300.0,
    )


def test_check_rejects_a_cluster_name_that_is_not_a_dns_label() -> None:
    assert "cluster_name" in failures_of(props(cluster_name="Prod_EU"))
    assert "cluster_name" in failures_of(props(cluster_name="a" * 64))


def test_check_rejects_urls_that_are_not_http_or_carry_credentials() -> None:
    assert "loft_url" in failures_of(props(loft_url="loft.example.com"))
    assert "loft_url" in failures_of(props(loft_url="https://user:pw@loft.example.com"))
    assert "loft_url" not in failures_of(props(loft_url="http://127.0.0.1:8080/"))


def test_check_needs_a_kubeconfig_with_a_current_context_except_in_agent_mode() -> None:
    assert "kubeconfig" in failures_of(props(kubeconfig=None))
    assert "kubeconfig" not in failures_of(props(kubeconfig=None, mode="agent"))
    reason = failures_of(props(kubeconfig="apiVersion: v1\nkind: Config\n"))["kubeconfig"]
    assert "current-context" in reason


def test_check_never_quotes_the_kubeconfig_it_rejects() -> None:
    reason = failures_of(props(kubeconfig=f"token: {TOKEN}\n  bad: [unclosed"))["kubeconfig"]
    assert TOKEN not in reason


def test_check_wants_an_owner_with_exactly_one_of_user_or_team() -> None:
    assert "owner" in failures_of(props(owner={"user": "a", "team": "b"}))
    assert "owner" in failures_of(props(owner={}))
    assert "owner" in failures_of(props(owner={"group": "x"}))
    assert "owner" not in failures_of(props(owner={"team": "platform"}))


def test_check_validates_access_rules() -> None:
    good = [{"name": "ops", "verbs": ["*"], "teams": ["ops"]}]
    assert failures_of(props(access=good)) == {}
    found = failures_of(props(access=[{"verbs": [], "users": "alice", "colour": "red"}]))
    assert set(found) == {"access[0]", "access[0].users", "access[0].verbs"}


def test_check_refuses_ca_data_together_with_insecure_and_ca_data_that_is_not_pem() -> None:
    assert "insecure" in failures_of(props(insecure=True, ca_data="-----BEGIN CERTIFICATE-----\nx\n"))
    assert "ca_data" in failures_of(props(ca_data="not a certificate"))
    encoded = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n").decode()
    assert failures_of(props(ca_data=encoded)) == {}


def test_check_wants_a_positive_timeout_and_a_known_mode() -> None:
    assert "timeout_seconds" in failures_of(props(timeout_seconds=0.0))
    assert "mode" in failures_of(props(mode="v5"))


def test_check_takes_url_and_access_key_from_the_stack_config() -> None:
    news = props(loft_url=None, access_key=None)
    assert set(failures_of(news)) == {"loft_url", "access_key"}
    assert failures_of(news, {"loft:url": "https://loft.example.com", "loft:accessKey": "k"}) == {}


def test_check_lets_unknown_values_pass_during_preview() -> None:
    news = props(kubeconfig=unknown(), cluster_name=unknown(), owner={"user": unknown()}, access=[unknown()])
    assert failures_of(news) == {}


# --- diff ---------------------------------------------------------------------------------------------


def olds(**overrides: Any) -> dict[str, Any]:
    return {**props(**overrides), "phase": "Initialized", "uid": "u-1", "connected_via": "cluster-connect"}


def test_diff_without_changes_says_so() -> None:
    result = lcc.diff(olds(), props())
    assert result.changes is False
    assert result.replaces == []


def test_changing_what_was_posted_replaces_and_disconnects_first() -> None:
    for key, value in [("display_name", "Prod"), ("kubeconfig", KUBECONFIG + "\n"), ("owner", {"user": "bob"})]:
        result = lcc.diff(olds(), props(**{key: value}))
        assert result.changes is True
        assert result.replaces == [key]
        assert result.delete_before_replace is True


def test_a_forced_replacement_under_the_same_name_disconnects_first_too() -> None:
    # `pulumi up --replace` takes delete_before_replace from a diff that found no change.
    result = lcc.diff(olds(), props())
    assert (result.changes, result.delete_before_replace) == (False, True)


def test_a_new_cluster_name_replaces_without_disconnecting_first() -> None:
    result = lcc.diff(olds(), props(cluster_name="prod-us"))
    assert result.replaces == ["cluster_name"]
    assert result.delete_before_replace is False


def test_wait_timeout_tls_and_access_key_changes_update_in_place() -> None:
    for key, value in [
        ("timeout_seconds", 60.0),
        ("wait_for_initialized", False),
        ("access_key", "rotated"),
        ("insecure", True),
    ]:
        result = lcc.diff(olds(), props(**{key: value}))
        assert result.changes is True
        assert result.replaces == []


def test_an_explicit_mode_equal_to_the_detected_one_does_not_replace() -> None:
    assert lcc.diff(olds(), props(mode="cluster-connect")).replaces == []
    assert lcc.diff(olds(), props(mode="agent")).replaces == ["mode"]


def test_an_unknown_kubeconfig_in_preview_replaces() -> None:
    assert lcc.diff(olds(), props(kubeconfig=unknown())).replaces == ["kubeconfig"]


def test_the_agent_flow_keeps_a_changed_kubeconfig_without_replacing() -> None:
    old = {**olds(mode="agent"), "connected_via": "agent"}
    result = lcc.diff(old, props(mode="agent", kubeconfig=KUBECONFIG + "\n"))
    assert result.replaces == []
    assert result.changes is True


# --- lifecycle against the double -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, LoftSandbox]]:
    started = {"v3": LoftSandbox().start(), "v4": LoftSandbox(version="v4", tls=True).start()}
    yield started
    for sandbox in started.values():
        sandbox.stop()


@pytest.fixture
def v3(servers: dict[str, LoftSandbox]) -> Iterator[LoftSandbox]:
    control = LoftControl(servers["v3"].url)
    control.reset()
    control.set_durations(initialize=0.2, delete=0.2)
    yield servers["v3"]
    control.reset()


@pytest.fixture
def v4(servers: dict[str, LoftSandbox]) -> Iterator[LoftSandbox]:
    control = LoftControl(servers["v4"].url)
    control.reset()
    control.set_durations(initialize=0.2, delete=0.2)
    yield servers["v4"]
    control.reset()


@pytest.fixture
def reachable_target(monkeypatch: pytest.MonkeyPatch) -> None:
    """The connected cluster is not reached here (the integration tests reach a real one)."""
    monkeypatch.setattr(target, "connect", lambda kubeconfig, name, namespace, host: f"loft-cluster-config-{name}")
    monkeypatch.setattr(target, "disconnect", lambda kubeconfig, namespace, secret: None)


def on(sandbox: LoftSandbox, **overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {"loft_url": sandbox.url, "access_key": sandbox.access_key}
    if sandbox.ca_data:
        settings["ca_data"] = sandbox.ca_data
    return props(**{**settings, **overrides})


def provider() -> lcc.LoftClusterConnectProvider:
    return lcc.LoftClusterConnectProvider()


def test_create_connects_waits_for_initialized_and_reports_the_cluster(v3: LoftSandbox, reachable_target: None) -> None:
    result = provider().create(on(v3))

    assert result.id == "prod-eu"
    outs = result.outs or {}
    assert outs["phase"] == "Initialized"
    assert outs["connected_via"] == "cluster-connect"
    assert outs["uid"]
    assert "agent_access_key" not in outs


def test_an_unreachable_kubeconfig_fails_with_the_servers_reason_and_no_secret(v3: LoftSandbox) -> None:
    with pytest.raises(errors.LoftApiError) as raised:
        provider().create(on(v3))

    assert raised.value.reason == "BadRequest"
    assert "error connecting to cluster: https://127.0.0.1:1: " in raised.value.message
    assert TOKEN not in str(raised.value)
    assert v3.access_key not in str(raised.value)
    assert LoftControl(v3.url).state()["clusters"] == []


def test_a_bad_access_key_fails_with_the_401_reason_and_a_hint(v3: LoftSandbox) -> None:
    with pytest.raises(errors.LoftApiError) as raised:
        provider().create(on(v3, access_key="wrong-key"))

    assert (raised.value.status, raised.value.reason) == (401, "Unauthorized")
    assert "access_key" in str(raised.value)
    assert "wrong-key" not in str(raised.value)


def test_an_existing_cluster_is_reported_as_already_connected(v3: LoftSandbox, reachable_target: None) -> None:
    provider().create(on(v3))

    with pytest.raises(errors.ClusterConnectError) as raised:
        provider().create(on(v3))

    assert "Loft cluster 'prod-eu' already exists and is not made by pulumi-cluster-connect" in str(raised.value)
    assert "adopt_existing=True" in str(raised.value)
    assert "import" not in str(raised.value)


def test_a_failed_cluster_connect_status_is_reported_with_its_reason(v3: LoftSandbox) -> None:
    LoftControl(v3.url).inject("connect_failed", "prod-eu", reason="QuotaExceeded", message="too many clusters")

    with pytest.raises(errors.LoftApiError, match="QuotaExceeded: too many clusters"):
        provider().create(on(v3))


def test_a_failed_phase_stops_the_wait_with_its_message_and_disconnects_again(
    v3: LoftSandbox, reachable_target: None
) -> None:
    LoftControl(v3.url).inject("phase_failed", "prod-eu", reason="AgentError", message="agent crashed")

    with pytest.raises(errors.ClusterConnectError) as raised:
        provider().create(on(v3))

    failed = raised.value.__cause__
    assert isinstance(failed, errors.LifecycleFailed)
    assert (failed.state, failed.reason) == ("Failed", "AgentError: agent crashed")
    assert str(raised.value).endswith("Loft accepted cluster prod-eu: it was disconnected again")
    assert LoftControl(v3.url).state()["clusters"] == []


def test_read_reports_drift_and_a_missing_cluster_as_gone(v3: LoftSandbox, reachable_target: None) -> None:
    outs = provider().create(on(v3)).outs or {}

    read = provider().read("prod-eu", {**outs, "display_name": "edited elsewhere"})
    assert read.id == "prod-eu"
    assert (read.outs or {})["display_name"] == "Prod EU"

    provider().delete("prod-eu", outs)
    assert provider().read("prod-eu", outs).id == ""


def test_delete_waits_until_the_cluster_is_gone_and_tolerates_absence(v3: LoftSandbox, reachable_target: None) -> None:
    outs = provider().create(on(v3)).outs or {}

    provider().delete("prod-eu", outs)

    assert LoftControl(v3.url).state()["clusters"] == []
    provider().delete("prod-eu", outs)


def test_update_checks_the_new_settings_and_keeps_every_output(v3: LoftSandbox, reachable_target: None) -> None:
    outs = provider().create(on(v3)).outs or {}

    updated = provider().update("prod-eu", outs, on(v3, timeout_seconds=60.0)).outs or {}

    assert updated["timeout_seconds"] == 60.0
    assert updated["phase"] == "Initialized"
    assert updated["connected_via"] == "cluster-connect"


def test_an_explicit_cluster_connect_mode_on_v4_explains_the_missing_api(v4: LoftSandbox) -> None:
    with pytest.raises(errors.LoftApiError, match="mode='agent'"):
        provider().create(on(v4, mode="cluster-connect"))


def test_auto_mode_on_v4_creates_the_cluster_and_outputs_the_agent_key(v4: LoftSandbox) -> None:
    outs = provider().create(on(v4, kubeconfig=None)).outs or {}

    assert outs["connected_via"] == "agent"
    assert outs["agent_access_key"]
    assert outs["loft_host"] == v4.url.split("://")[1]
    assert outs["agent_ca_cert"] == v4.ca_data
    assert outs["platform_version"] == "v4.3.1"
    assert LoftControl(v4.url).state()["access_keys"] == ["prod-eu"]
    provider().delete("prod-eu", outs)
    assert LoftControl(v4.url).state()["access_keys"] == []


def test_the_agent_flow_creates_a_network_peer_cluster_as_the_platform_cli_does() -> None:
    body = loft_clusters.cluster_body("prod-eu", "", lcc.cluster_spec(props(display_name="Prod EU")))

    assert body["spec"] == {"displayName": "Prod EU", "networkPeer": True}
    assert "config" not in json.dumps(body)


def test_refresh_reads_the_access_key_the_platform_holds_now(v4: LoftSandbox) -> None:
    LoftControl(v4.url).inject("revoked_access_key", "prod-eu")
    outs = provider().create(on(v4, kubeconfig=None, mode="agent")).outs or {}

    read = provider().read("prod-eu", outs).outs or {}

    assert read["agent_access_key"] != outs["agent_access_key"]
    assert read["agent_access_key"] == (v4.backend.agent_keys["prod-eu"] if v4.backend else None)
    provider().delete("prod-eu", outs)


def test_an_update_keeps_the_agent_outputs(v4: LoftSandbox) -> None:
    outs = provider().create(on(v4, kubeconfig=None, mode="agent")).outs or {}

    updated = provider().update("prod-eu", outs, on(v4, kubeconfig=None, mode="agent", timeout_seconds=60.0)).outs or {}

    assert {k: updated[k] for k in lcc.AGENT_OUTPUTS} == {k: outs[k] for k in lcc.AGENT_OUTPUTS}
    provider().delete("prod-eu", outs)


def test_tls_is_verified_with_ca_data_unless_insecure_is_explicit(v4: LoftSandbox) -> None:
    with pytest.raises(errors.LoftApiError) as raised:
        provider().read("prod-eu", on(v4, ca_data=None))
    assert raised.value.reason == "Unreachable"
    assert "CERTIFICATE_VERIFY_FAILED" in raised.value.message

    assert provider().read("prod-eu", on(v4, ca_data=None, insecure=True)).id == ""


def test_the_stack_config_stands_in_for_url_and_access_key(v4: LoftSandbox) -> None:
    configured = provider()
    configured._stack_config = {"loft:url": v4.url, "loft:accessKey": v4.access_key}
    assert configured.read("prod-eu", {"ca_data": v4.ca_data}).id == ""


# --- ServiceAccountKubeconfig ---------------------------------------------------------------------------


def test_a_service_account_kubeconfig_uses_the_token_on_the_admins_cluster_entry() -> None:
    secret = {
        "metadata": {
            "name": "loft-admin-token",
            "namespace": "loft",
            "annotations": {"kubernetes.io/service-account.name": "loft-admin"},
        },
        "data": {"token": base64.b64encode(b"sa-token").decode()},
    }

    text = service_account_kubeconfig.service_account_kubeconfig(KUBECONFIG, secret)

    assert text is not None
    config = yaml.safe_load(text)
    assert config["users"][0]["user"] == {"token": "sa-token"}
    assert config["clusters"][0]["cluster"] == {"server": "https://127.0.0.1:1", "insecure-skip-tls-verify": True}
    assert config["current-context"] == "loft-loft-admin"
    assert service_account_kubeconfig.service_account_kubeconfig(KUBECONFIG, {**secret, "data": {}}) is None

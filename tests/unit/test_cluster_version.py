"""ClusterVersionProvider: check and diff as pure functions, the lifecycle against the in-process sandbox."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown

from pulumi_cluster_connect._plumbing import errors, ownership
from pulumi_cluster_connect._plumbing.cluster_updates import ClusterUpdates
from pulumi_cluster_connect._plumbing.upgrade_readiness import UpgradeBlocked
from pulumi_cluster_connect.dynamic_providers import _rollback_rules as rollback_rules
from pulumi_cluster_connect.dynamic_providers._version_gate import new_update
from pulumi_cluster_connect.dynamic_providers.cluster_version import (
    ClusterVersionProvider,
    preview_lines,
)
from pulumi_cluster_connect.sandbox import seed
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

REGION = "us-west-2"
UPDATE_SECONDS = 0.2
UNKNOWN = Unknown()


def provider(config: dict[str, Any] | None = None) -> ClusterVersionProvider:
    made = ClusterVersionProvider()
    made.configure(ConfigureRequest(Config(config or {}, "tests")))
    return made


def failures_of(news: dict[str, Any]) -> dict[str, str]:
    return {f.property: f.reason for f in provider().check({}, news).failures}


def outputs(**overrides: Any) -> dict[str, Any]:
    """Old outputs as the engine keeps them in the state."""
    return {"cluster_name": "prod", "version": "1.30", "region": REGION, "platform_version": "eks.1", **overrides}


# check


def test_valid_inputs_pass_the_check_unchanged() -> None:
    news = {"cluster_name": "prod", "version": "1.32", "force": True, "timeout_seconds": 90.0, "region": REGION}

    result = provider().check({}, news)

    assert (result.inputs, result.failures) == (news, [])


def test_the_cluster_name_and_version_are_required() -> None:
    assert set(failures_of({})) == {"cluster_name", "version"}


@pytest.mark.parametrize("version", [1.32, "1.32.1", "v1.32", "latest", ""])
def test_a_version_must_be_a_minor_version_string(version: Any) -> None:
    assert "1.32" in failures_of({"cluster_name": "prod", "version": version})["version"]


@pytest.mark.parametrize("name", ["-prod", "prod cluster", "x" * 101])
def test_a_cluster_name_must_follow_the_eks_rules(name: str) -> None:
    assert "cluster_name" in failures_of({"cluster_name": name, "version": "1.32"})


@pytest.mark.parametrize(
    ("key", "value"),
    [("force", "yes"), ("update_addons", 1.0), ("timeout_seconds", 0.0), ("timeout_seconds", True), ("region", "west")],
)
def test_options_of_the_wrong_kind_fail_the_check_naming_the_property(key: str, value: Any) -> None:
    assert key in failures_of({"cluster_name": "prod", "version": "1.32", key: value})


def test_unknown_values_in_preview_pass_the_check() -> None:
    news = {"cluster_name": UNKNOWN, "version": UNKNOWN, "force": UNKNOWN, "timeout_seconds": UNKNOWN}

    assert failures_of(news) == {}


# diff


def test_a_new_version_updates_in_place() -> None:
    result = provider().diff(f"{REGION}/prod", outputs(), {"cluster_name": "prod", "version": "1.32"})

    assert (result.changes, result.replaces) == (True, [])


def test_another_cluster_replaces() -> None:
    result = provider().diff(f"{REGION}/prod", outputs(), {"cluster_name": "staging", "version": "1.30"})

    assert (result.changes, result.replaces) == (True, ["cluster_name"])


def test_another_region_replaces() -> None:
    news = {"cluster_name": "prod", "version": "1.30", "region": "eu-west-1"}

    assert provider().diff(f"{REGION}/prod", outputs(), news).replaces == ["region"]


def test_another_region_in_the_stack_config_replaces() -> None:
    result = provider({"aws:region": "eu-west-1"}).diff(
        f"{REGION}/prod", outputs(), {"cluster_name": "prod", "version": "1.30"}
    )

    assert result.replaces == ["region"]


def test_no_region_anywhere_keeps_the_region_the_cluster_was_found_in() -> None:
    result = provider().diff(f"{REGION}/prod", outputs(), {"cluster_name": "prod", "version": "1.30"})

    assert (result.changes, result.replaces) == (False, [])


def test_an_update_a_refresh_saw_running_away_from_the_target_is_a_change(capsys: pytest.CaptureFixture[str]) -> None:
    olds = outputs(version="1.31", version_in_progress="1.30")

    kept = provider().diff(f"{REGION}/prod", olds, {"cluster_name": "prod", "version": "1.31"})
    same_way = provider().diff(f"{REGION}/prod", olds, {"cluster_name": "prod", "version": "1.30"})
    nothing_running = provider().diff(
        f"{REGION}/prod", outputs(version="1.31"), {"cluster_name": "prod", "version": "1.31"}
    )

    assert (kept.changes, kept.replaces) == (True, [])
    assert "an update to 1.30 was in progress at the last refresh; the up keeps 1.31" in capsys.readouterr().err
    assert (same_way.changes, same_way.replaces) == (True, [])
    assert nothing_running.changes is False


def test_force_and_timeout_changes_are_no_ops() -> None:
    news = {"cluster_name": "prod", "version": "1.30", "force": True, "timeout_seconds": 5.0}

    result = provider().diff(f"{REGION}/prod", outputs(force=False, timeout_seconds=60.0), news)

    assert (result.changes, result.replaces) == (False, [])


def test_an_unknown_version_in_preview_is_a_change_and_an_unknown_cluster_a_replacement() -> None:
    unknown_version = provider().diff(f"{REGION}/prod", outputs(), {"cluster_name": "prod", "version": UNKNOWN})
    unknown_cluster = provider().diff(f"{REGION}/prod", outputs(), {"cluster_name": UNKNOWN, "version": "1.30"})

    assert (unknown_version.changes, unknown_version.replaces) == (True, [])
    assert unknown_cluster.replaces == ["cluster_name"]


# preview: what diff says from the state alone

READINESS_OUTPUT = {
    "version": "1.31",
    "checked_at": "2026-05-01T10:00:00+00:00",
    "blocking": ['insight "Deprecated APIs removed in Kubernetes v1.31" (ERROR): in use'],
    "warnings": ['insight "Cluster health issues" (WARNING): degraded'],
}


def test_preview_lists_the_steps_and_what_the_first_one_met_at_the_last_up(
    capsys: pytest.CaptureFixture[str],
) -> None:
    olds = outputs(readiness=READINESS_OUTPUT)

    provider().diff(f"{REGION}/prod", olds, {"cluster_name": "prod", "version": "1.32"})

    lines = [line.removeprefix("[cluster-connect] ") for line in capsys.readouterr().err.splitlines()]
    assert lines == [
        "EKS cluster prod: 1.30 -> 1.32 takes 2 steps (1.30 -> 1.31, 1.31 -> 1.32); node groups, upgrade insights "
        "and add-ons are checked before each one runs",
        "EKS cluster prod: as of 2026-05-01T10:00:00+00:00, 1.30 -> 1.31 would be blocked by: insight "
        '"Deprecated APIs removed in Kubernetes v1.31" (ERROR): in use; set force=True to go past it',
        'EKS cluster prod: as of 2026-05-01T10:00:00+00:00, 1.30 -> 1.31: warning: insight "Cluster health issues" '
        "(WARNING): degraded",
        "EKS cluster prod: the later steps are checked during the up, once the cluster has reached them",
    ]


def test_preview_with_force_says_the_up_would_go_past_a_blocker() -> None:
    lines = preview_lines(outputs(readiness=READINESS_OUTPUT), {"version": "1.31", "force": True})

    assert lines[1].endswith("force is set: the up would go past it")


def test_preview_without_a_readiness_record_for_the_first_step_says_it_is_not_known() -> None:
    lines = preview_lines(outputs(readiness={**READINESS_OUTPUT, "version": "1.35"}), {"version": "1.31"})

    assert lines[1] == (
        "EKS cluster prod: what 1.30 -> 1.31 would meet is not known: run `pulumi preview --refresh` to read it"
    )


def test_preview_of_one_minor_down_prints_the_rollback_plan() -> None:
    lines = preview_lines(outputs(), {"version": "1.29"})

    assert lines == [
        "EKS cluster prod: rollback 1.30 -> 1.29 (as of the last up or refresh); EKS allows it once, within 7 days "
        "after the in-place upgrade to 1.30 finished; the rules, rollback insights, add-ons, node groups and "
        "Fargate profiles are checked before it runs"
    ]


def test_preview_of_two_minors_down_says_it_would_be_refused() -> None:
    assert preview_lines(outputs(), {"version": "1.28"}) == [
        "EKS cluster prod: runs Kubernetes 1.30 (as of the last up or refresh); 1.28 is 2 minors below 1.30: EKS "
        "rolls a cluster back one minor only (rule: one minor back, once); set version to 1.29 or later"
    ]


def test_two_minors_below_the_last_up_fails_the_check_naming_the_rule() -> None:
    failures = provider().check(
        {"cluster_name": "prod", "version": "1.31"}, {"cluster_name": "prod", "version": "1.29"}
    )

    assert [(f.property, f.reason) for f in failures.failures] == [
        (
            "version",
            "1.29 is 2 minors below 1.31: EKS rolls a cluster back one minor only (rule: one minor back, once); set "
            "version to 1.30 or later (as of the last up)",
        )
    ]


def test_one_minor_below_the_last_up_passes_the_check() -> None:
    failures = provider().check(
        {"cluster_name": "prod", "version": "1.31"}, {"cluster_name": "prod", "version": "1.30"}
    )

    assert failures.failures == []


@pytest.mark.parametrize("minutes", [119.0, 10081.0, 600.5, "720", True])
def test_a_rollback_timeout_outside_eks_bounds_fails_the_check(minutes: Any) -> None:
    failures = failures_of({"cluster_name": "prod", "version": "1.30", "rollback_timeout_minutes": minutes})

    assert list(failures) == ["rollback_timeout_minutes"]
    assert "whole number of minutes" in failures["rollback_timeout_minutes"]


def test_a_rollback_timeout_within_bounds_passes_the_check() -> None:
    assert failures_of({"cluster_name": "prod", "version": "1.30", "rollback_timeout_minutes": 120.0}) == {}


@pytest.mark.parametrize("version", [UNKNOWN, "latest", 1.31, None])
def test_preview_says_nothing_of_a_version_it_cannot_read(version: Any) -> None:
    assert preview_lines(outputs(readiness="garbage"), {"version": version}) == []


def test_preview_prints_nothing_when_the_version_stays(capsys: pytest.CaptureFixture[str]) -> None:
    provider().diff(f"{REGION}/prod", outputs(readiness=READINESS_OUTPUT), {"cluster_name": "prod", "version": "1.30"})

    assert capsys.readouterr().err == ""


# polling


def test_the_provider_pickles_without_any_client() -> None:
    assert len(serialize_provider(provider({"aws:region": REGION}))) < 10_000


# lifecycle against the sandbox


@pytest.fixture
def eks(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[EKSClient]:
    """A sandbox cluster `prod` at 1.29, reached by the provider through the standard variables."""
    for key, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "sandbox",
        "AWS_SECRET_ACCESS_KEY": "sandbox-secret",
        "AWS_REGION": REGION,
        # botocore reads only AWS_DEFAULT_REGION.
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    control = SandboxControl(endpoint)
    control.reset()
    control.set_durations(cluster_update=UPDATE_SECONDS)
    session = boto3.session.Session(region_name=REGION)
    role = session.client("iam").create_role(RoleName="cluster", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = session.client("eks")
    client.create_cluster(name="prod", version="1.29", roleArn=role, resourcesVpcConfig={"subnetIds": ["subnet-a"]})
    yield client
    control.reset()


def add_nodegroup(eks: EKSClient, name: str, version: str) -> None:
    role = boto3.session.Session(region_name=REGION).client("iam").get_role(RoleName="cluster")["Role"]["Arn"]
    eks.create_nodegroup(clusterName="prod", nodegroupName=name, nodeRole=role, subnets=["subnet-a"], version=version)


def versions_of(updates: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    return [(u["from"], u["to"], u["status"]) for u in updates]


def test_create_steps_one_minor_version_at_a_time_to_the_target(
    eks: EKSClient, capsys: pytest.CaptureFixture[str]
) -> None:
    result = provider().create({"cluster_name": "prod", "version": "1.32"})

    assert result.id == f"{REGION}/prod"
    assert result.outs is not None
    assert versions_of(result.outs["updates"]) == [
        ("1.29", "1.30", "Successful"),
        ("1.30", "1.31", "Successful"),
        ("1.31", "1.32", "Successful"),
    ]
    assert {k: result.outs[k] for k in ("cluster_name", "version", "platform_version", "region")} == {
        "cluster_name": "prod",
        "version": "1.32",
        "platform_version": "eks.1",
        "region": REGION,
    }
    assert eks.describe_cluster(name="prod")["cluster"]["version"] == "1.32"
    progress_lines = [line for line in capsys.readouterr().err.splitlines() if ": done (update " in line]
    assert [line.split("] ")[1].split(":")[0] for line in progress_lines] == [
        "EKS cluster prod 1.29 -> 1.30",
        "EKS cluster prod 1.30 -> 1.31",
        "EKS cluster prod 1.31 -> 1.32",
    ]


def test_create_at_the_current_version_runs_no_update(eks: EKSClient) -> None:
    result = provider().create({"cluster_name": "prod", "version": "1.29"})

    assert result.outs is not None
    assert (result.outs["version"], result.outs["updates"]) == ("1.29", [])
    assert eks.list_updates(name="prod")["updateIds"] == []


def test_update_returns_every_output(eks: EKSClient) -> None:
    news = {"cluster_name": "prod", "version": "1.30", "force": False, "timeout_seconds": 10.0}

    result = provider().update(f"{REGION}/prod", outputs(version="1.29"), news)

    assert result.outs is not None
    assert set(result.outs) == {
        "cluster_name",
        "version",
        "platform_version",
        "region",
        "force",
        "timeout_seconds",
        "updates",
        "addon_updates",
        "readiness",
        "account_id",  # where the cluster lives, from its ARN (issue 29)
    }


def test_a_rollback_of_a_cluster_created_at_its_version_is_refused_naming_the_rule(eks: EKSClient) -> None:
    with pytest.raises(rollback_rules.RollbackRefused) as refused:
        provider().create({"cluster_name": "prod", "version": "1.28"})

    assert str(refused.value) == (
        "EKS cluster prod: rollback 1.29 -> 1.28 is refused, nothing was changed (rule: not for a cluster created at "
        "its current version): EKS records no in-place upgrade to Kubernetes 1.29, the version the cluster was "
        "created at, so there is nothing to roll back; set version to 1.29"
    )
    assert eks.list_updates(name="prod")["updateIds"] == []


def test_two_minors_below_the_cluster_is_refused_before_any_update(eks: EKSClient) -> None:
    with pytest.raises(rollback_rules.RollbackRefused, match=r"rule: one minor back, once"):
        provider().create({"cluster_name": "prod", "version": "1.27"})

    assert eks.list_updates(name="prod")["updateIds"] == []


def test_a_missing_cluster_fails_with_the_api_error(eks: EKSClient) -> None:
    with pytest.raises(errors.AwsApiError, match="ResourceNotFoundException"):
        provider().create({"cluster_name": "ghost", "version": "1.30"})


def test_a_node_group_behind_the_control_plane_blocks_the_next_step_naming_it(eks: EKSClient) -> None:
    add_nodegroup(eks, "workers", "1.29")

    with pytest.raises(errors.ClusterConnectError, match=r"workers \(1\.29\)"):
        provider().create({"cluster_name": "prod", "version": "1.31"})

    assert eks.describe_cluster(name="prod")["cluster"]["version"] == "1.30"


def test_force_goes_past_a_lagging_node_group(eks: EKSClient, capsys: pytest.CaptureFixture[str]) -> None:
    add_nodegroup(eks, "workers", "1.28")

    result = provider().create({"cluster_name": "prod", "version": "1.30", "force": True})

    assert result.outs is not None
    assert result.outs["version"] == "1.30"
    assert "workers (1.28); going on because force is set" in capsys.readouterr().err


def test_a_failed_update_stops_with_its_errors_and_the_next_run_resumes(eks: EKSClient, endpoint: str) -> None:
    SandboxControl(endpoint).inject("update_failed", operation="UpdateClusterVersion", target="prod")
    SandboxControl(endpoint).set_durations(cluster_update=UPDATE_SECONDS)

    with pytest.raises(errors.LifecycleFailed, match="InsufficientFreeAddresses") as failed:
        provider().create({"cluster_name": "prod", "version": "1.31"})
    resumed = provider().update(f"{REGION}/prod", outputs(version="1.29"), {"cluster_name": "prod", "version": "1.31"})

    assert "stays at Kubernetes 1.29" in str(failed.value)
    assert resumed.outs is not None
    assert versions_of(resumed.outs["updates"]) == [("1.29", "1.30", "Successful"), ("1.30", "1.31", "Successful")]


def test_an_update_already_in_progress_is_waited_out_and_counted(eks: EKSClient, endpoint: str) -> None:
    # Long enough to still run when the provider, after making its client, first looks.
    SandboxControl(endpoint).set_durations(cluster_update=1.5)
    running = eks.update_cluster_version(name="prod", version="1.30")["update"]
    SandboxControl(endpoint).set_durations(cluster_update=UPDATE_SECONDS)

    result = provider().create({"cluster_name": "prod", "version": "1.31"})

    assert result.outs is not None
    assert result.outs["updates"][0]["id"] == running["id"]
    assert versions_of(result.outs["updates"]) == [("1.29", "1.30", "Successful"), ("1.30", "1.31", "Successful")]


def test_the_overall_timeout_stops_a_long_wait(eks: EKSClient, endpoint: str) -> None:
    SandboxControl(endpoint).set_durations(cluster_update=30)

    with pytest.raises(errors.WaitTimeout):
        provider().create({"cluster_name": "prod", "version": "1.30", "timeout_seconds": 0.6})


def test_read_reports_the_version_the_cluster_really_runs(eks: EKSClient) -> None:
    update = eks.update_cluster_version(name="prod", version="1.30")["update"]
    provider().create({"cluster_name": "prod", "version": "1.30"})

    result = provider().read(f"{REGION}/prod", outputs(version="1.29", updates=[]))

    assert result.id == f"{REGION}/prod"
    assert result.outs is not None
    assert (result.outs["version"], result.outs["platform_version"]) == ("1.30", "eks.1")
    assert update["id"]


def test_read_records_where_an_update_still_running_leads_and_forgets_it_once_done(
    eks: EKSClient, endpoint: str
) -> None:
    sandbox = SandboxControl(endpoint)
    sandbox.set_durations(cluster_update=30)
    eks.update_cluster_version(name="prod", version="1.30")

    running = provider().read(f"{REGION}/prod", outputs(version="1.29", updates=[]))
    sandbox.advance_clock(60)
    done = provider().read(f"{REGION}/prod", running.outs or {})

    assert running.outs is not None and running.outs["version_in_progress"] == "1.30"
    assert done.outs is not None and "version_in_progress" not in done.outs
    assert done.outs["version"] == "1.30"


def test_read_of_an_import_id_fills_in_the_outputs(eks: EKSClient) -> None:
    result = provider().read(f"{REGION}/prod", {})

    assert result.outs is not None
    readiness = result.outs.pop("readiness")
    assert result.outs == {
        "cluster_name": "prod",
        "region": REGION,
        "version": "1.29",
        "platform_version": "eks.4",
        "updates": [],
        "account_id": "123456789012",
    }
    assert (readiness["version"], readiness["blocking"], readiness["warnings"]) == ("1.30", [], [])


def test_read_of_a_deleted_cluster_says_it_is_gone(eks: EKSClient) -> None:
    eks.delete_cluster(name="prod")

    assert provider().read(f"{REGION}/prod", outputs()).id == ""


def test_delete_leaves_the_cluster_as_it_is_and_says_so(eks: EKSClient, capsys: pytest.CaptureFixture[str]) -> None:
    provider().delete(f"{REGION}/prod", outputs(version="1.29"))

    assert eks.describe_cluster(name="prod")["cluster"]["version"] == "1.29"
    assert "left at Kubernetes 1.29" in capsys.readouterr().err


# readiness: insights and add-ons before each step

RECOMMENDATION = "Update manifests and API clients to use newer Kubernetes APIs if applicable before upgrading"
DEPRECATED_APIS: dict[str, Any] = {
    "name": "Deprecated APIs removed in Kubernetes v1.30",
    "status": "ERROR",
    "reason": "Deprecated API usage detected within last 30 days",
    "recommendation": RECOMMENDATION,
    "resources": ["/apis/flowcontrol.apiserver.k8s.io/v1beta2/flowschemas/catch-all"],
    "deprecations": [
        {
            "usage": "/apis/flowcontrol.apiserver.k8s.io/v1beta2/flowschemas",
            "replacedWith": "/apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas",
            "stopServingVersion": "1.29",
        }
    ],
}


def finding(version: str, status: str = "ERROR", **overrides: Any) -> dict[str, Any]:
    return {
        **DEPRECATED_APIS,
        "name": f"Deprecated APIs removed in Kubernetes v{version}",
        "status": status,
        **overrides,
    }


def add_addon(eks: EKSClient, name: str, version: str) -> None:
    eks.create_addon(clusterName="prod", addonName=name, addonVersion=version)
    deadline = time.monotonic() + 10
    while eks.describe_addon(clusterName="prod", addonName=name)["addon"]["status"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_an_error_insight_blocks_the_step_before_any_change_naming_it_with_its_advice(
    eks: EKSClient, endpoint: str
) -> None:
    SandboxControl(endpoint).set_insights("prod", "1.30", [finding("1.30")])

    with pytest.raises(UpgradeBlocked) as blocked:
        provider().create({"cluster_name": "prod", "version": "1.30"})

    message = str(blocked.value)
    assert "EKS cluster prod 1.29 -> 1.30 is blocked, nothing was changed" in message
    assert 'insight "Deprecated APIs removed in Kubernetes v1.30" (ERROR)' in message
    assert f"Recommendation: {RECOMMENDATION}" in message
    assert "Affected: /apis/flowcontrol.apiserver.k8s.io/v1beta2/flowschemas/catch-all" in message
    assert "v1beta2/flowschemas -> /apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas" in message
    assert "set force=True" in message
    assert eks.list_updates(name="prod")["updateIds"] == []
    assert eks.describe_cluster(name="prod")["cluster"]["version"] == "1.29"


def test_an_error_insight_for_a_later_minor_stops_the_run_at_that_step(eks: EKSClient, endpoint: str) -> None:
    SandboxControl(endpoint).set_insights("prod", "1.31", [finding("1.31")])

    with pytest.raises(UpgradeBlocked, match=r"1\.30 -> 1\.31 is blocked.*stays at Kubernetes 1\.30"):
        provider().create({"cluster_name": "prod", "version": "1.32"})

    assert eks.describe_cluster(name="prod")["cluster"]["version"] == "1.30"


def test_force_passes_an_error_insight_saying_what_it_overrode(
    eks: EKSClient, endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    SandboxControl(endpoint).set_insights("prod", "1.30", [finding("1.30")])

    result = provider().create({"cluster_name": "prod", "version": "1.30", "force": True})

    assert result.outs is not None
    assert result.outs["version"] == "1.30"
    assert (
        'EKS cluster prod 1.29 -> 1.30: force is set, going on despite: insight "Deprecated APIs removed in '
        'Kubernetes v1.30" (ERROR)' in capsys.readouterr().err
    )


def test_a_warning_insight_is_printed_and_the_step_goes_on(
    eks: EKSClient, endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    SandboxControl(endpoint).set_insights("prod", "1.30", [finding("1.30", "WARNING")])

    result = provider().create({"cluster_name": "prod", "version": "1.30"})

    assert result.outs is not None
    assert result.outs["version"] == "1.30"
    assert (
        'EKS cluster prod 1.29 -> 1.30: warning: insight "Deprecated APIs removed in Kubernetes v1.30" (WARNING)'
        in (capsys.readouterr().err)
    )


def test_an_error_that_a_fresh_evaluation_no_longer_finds_does_not_block(eks: EKSClient, endpoint: str) -> None:
    control = SandboxControl(endpoint)
    control.set_insights("prod", "1.30", [finding("1.30")])
    control.set_insights("prod", "1.30", [finding("1.30", "PASSING")], after_refresh=True)

    result = provider().create({"cluster_name": "prod", "version": "1.30"})

    assert result.outs is not None
    assert result.outs["version"] == "1.30"


def test_without_permission_to_read_insights_eks_own_refusal_is_reported_with_its_message(
    eks: EKSClient, endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    control = SandboxControl(endpoint)
    control.set_insights("prod", "1.30", [finding("1.30")])
    control.inject("access_denied", operation="ListInsights", count=0)

    with pytest.raises(UpgradeBlocked) as refused:
        provider().create({"cluster_name": "prod", "version": "1.30"})

    message = str(refused.value)
    assert "1.29 -> 1.30 was refused by EKS, nothing was changed" in message
    assert "InvalidStateException: Upgrade readiness issues detected" in message
    assert "could not read EKS's upgrade insights (AccessDeniedException" in capsys.readouterr().err
    assert eks.list_updates(name="prod")["updateIds"] == []


def test_an_add_on_that_would_not_run_on_the_next_minor_blocks_naming_the_versions_that_would(
    eks: EKSClient,
) -> None:
    add_addon(eks, "coredns", "v1.10.1-eksbuild.38")

    with pytest.raises(UpgradeBlocked) as blocked:
        provider().create({"cluster_name": "prod", "version": "1.31"})

    message = str(blocked.value)
    assert "1.30 -> 1.31 is blocked" in message
    assert "add-on coredns v1.10.1-eksbuild.38 does not run on Kubernetes 1.31; compatible: " in message
    assert "v1.11.3-eksbuild.2 (default)" in message
    assert "EKS add-on version compatibility" not in message  # EKS's insight says the same: shown once
    assert eks.describe_cluster(name="prod")["cluster"]["version"] == "1.30"


def test_update_addons_moves_a_lagging_add_on_to_a_version_of_both_minors_before_the_control_plane(
    eks: EKSClient, capsys: pytest.CaptureFixture[str]
) -> None:
    add_addon(eks, "kube-proxy", "v1.29.0-eksbuild.1")

    result = provider().create({"cluster_name": "prod", "version": "1.31", "update_addons": True})

    assert result.outs is not None
    assert result.outs["version"] == "1.31"
    assert [(u["addon"], u["from"], u["to"], u["status"]) for u in result.outs["addon_updates"]] == [
        ("kube-proxy", "v1.29.0-eksbuild.1", "v1.29.15-eksbuild.2", "Successful")
    ]
    assert eks.describe_addon(clusterName="prod", addonName="kube-proxy")["addon"]["addonVersion"] == (
        "v1.29.15-eksbuild.2"
    )
    assert "runs on Kubernetes 1.29 and 1.30, updating it before the control plane" in capsys.readouterr().err


def test_a_cancelled_update_stops_with_its_reason_and_the_next_run_resumes_with_a_new_request(
    eks: EKSClient, endpoint: str
) -> None:
    SandboxControl(endpoint).inject("update_cancelled", operation="UpdateClusterVersion", target="prod")

    with pytest.raises(
        errors.LifecycleFailed, match="reached Cancelled: cancelled: The update was cancelled"
    ) as failed:
        provider().create({"cluster_name": "prod", "version": "1.30"})
    resumed = provider().update(f"{REGION}/prod", outputs(version="1.29"), {"cluster_name": "prod", "version": "1.30"})

    assert "stays at Kubernetes 1.29" in str(failed.value)
    assert resumed.outs is not None
    assert versions_of(resumed.outs["updates"]) == [("1.29", "1.30", "Successful")]
    assert len(eks.list_updates(name="prod")["updateIds"]) == 2


def test_the_update_in_progress_race_after_a_step_is_waited_out(
    eks: EKSClient, endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    SandboxControl(endpoint).inject("update_race", operation="UpdateClusterVersion", target="prod", count=2)

    result = provider().create({"cluster_name": "prod", "version": "1.31"})

    assert result.outs is not None
    assert versions_of(result.outs["updates"]) == [("1.29", "1.30", "Successful"), ("1.30", "1.31", "Successful")]
    assert capsys.readouterr().err.count("EKS still reports an update in progress") == 2


def test_an_update_that_had_ended_is_asked_again_with_the_next_generations_token() -> None:
    key, step = f"ClusterVersion/{REGION}/prod", {"cluster_created_at": "2026-01-01", "step": "1.29->1.30"}
    answers = iter(
        [{"id": "a", "status": "Failed"}, {"id": "b", "status": "Cancelled"}, {"id": "c", "status": "InProgress"}]
    )
    asked: list[str] = []

    def ask(token: str) -> dict[str, Any]:
        asked.append(token)
        return next(answers)

    update = new_update("EKS cluster prod 1.29 -> 1.30", key, step, ask)

    assert update["id"] == "c"
    assert asked == [ownership.request_token(key, step, generation) for generation in range(3)]
    assert len(set(asked)) == 3


def test_the_readiness_output_says_what_the_next_step_would_meet(eks: EKSClient, endpoint: str) -> None:
    SandboxControl(endpoint).set_insights("prod", "1.31", [finding("1.31")])

    result = provider().create({"cluster_name": "prod", "version": "1.30"})

    assert result.outs is not None
    readiness = result.outs["readiness"]
    assert readiness["version"] == "1.31"
    assert [line.split(":")[0] for line in readiness["blocking"]] == [
        'insight "Deprecated APIs removed in Kubernetes v1.31" (ERROR)'
    ]


def test_a_finding_that_shows_up_during_the_add_on_updates_blocks_saying_what_did_change(
    eks: EKSClient, endpoint: str
) -> None:
    add_addon(eks, "kube-proxy", "v1.29.0-eksbuild.1")

    def set_finding_once_updating() -> None:
        deadline = time.monotonic() + 20
        while eks.describe_addon(clusterName="prod", addonName="kube-proxy")["addon"]["status"] != "UPDATING":
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)
        SandboxControl(endpoint).set_insights("prod", "1.30", [finding("1.30")])

    watcher = threading.Thread(target=set_finding_once_updating, daemon=True)
    watcher.start()
    with pytest.raises(UpgradeBlocked) as blocked:
        provider().create({"cluster_name": "prod", "version": "1.30", "update_addons": True})
    watcher.join()

    assert (
        "1.29 -> 1.30 is blocked, the add-ons were updated (kube-proxy to v1.29.15-eksbuild.2) but the control "
        "plane was not changed (the cluster stays at Kubernetes 1.29)" in str(blocked.value)
    )
    assert eks.list_updates(name="prod")["updateIds"] == []


ANY_VALUE = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=8) | st.just(UNKNOWN),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
VERSIONS = st.from_regex(r"\A1\.[0-9]{1,3}\Z") | ANY_VALUE


@settings(max_examples=300, deadline=None)
@given(
    old_version=VERSIONS,
    new_version=VERSIONS,
    readiness=st.fixed_dictionaries(
        {}, optional={"version": VERSIONS, "checked_at": ANY_VALUE, "blocking": ANY_VALUE, "warnings": ANY_VALUE}
    )
    | ANY_VALUE,
    force=ANY_VALUE,
)
def test_the_preview_lines_never_raise_on_what_the_state_and_the_engine_can_hold(
    old_version: Any, new_version: Any, readiness: Any, force: Any
) -> None:
    lines = preview_lines(
        {"cluster_name": "prod", "version": old_version, "readiness": readiness},
        {"version": new_version, "force": force},
    )

    assert all(isinstance(line, str) for line in lines)


# rollback: one minor down, with EKS's rules checked before any change


def upgraded_to_1_30(eks: EKSClient) -> None:
    provider().create({"cluster_name": "prod", "version": "1.30"})


def rollback_news(**extra: Any) -> dict[str, Any]:
    return {"cluster_name": "prod", "version": "1.29", **extra}


def test_one_minor_down_rolls_back_as_a_version_rollback_recorded_in_updates(eks: EKSClient) -> None:
    upgraded_to_1_30(eks)

    result = provider().update(f"{REGION}/prod", outputs(version="1.30"), rollback_news())

    assert result.outs is not None
    [rollback] = result.outs["updates"]
    assert (rollback["type"], rollback["from"], rollback["to"], rollback["status"]) == (
        "VersionRollback",
        "1.30",
        "1.29",
        "Successful",
    )
    assert result.outs["version"] == "1.29"
    assert eks.describe_update(name="prod", updateId=rollback["id"])["update"]["type"] == "VersionRollback"
    assert eks.describe_cluster(name="prod")["cluster"]["version"] == "1.29"


def test_a_rollback_after_the_window_is_refused_with_the_dates_before_any_change(eks: EKSClient, endpoint: str) -> None:
    upgraded_to_1_30(eks)
    SandboxControl(endpoint).advance_clock(8 * 24 * 3600)
    before = eks.list_updates(name="prod")["updateIds"]

    with pytest.raises(rollback_rules.RollbackRefused) as refused:
        provider().update(f"{REGION}/prod", outputs(version="1.30"), rollback_news())

    message = str(refused.value)
    assert message.startswith(
        "EKS cluster prod: rollback 1.30 -> 1.29 is refused, nothing was changed (rule: within 7 days after an "
        "in-place upgrade finished): the upgrade to 1.30 started on 20"
    )
    assert message.endswith("set version to 1.30 and fix forward")
    assert eks.list_updates(name="prod")["updateIds"] == before


def test_a_second_rollback_is_refused_one_minor_back_once(eks: EKSClient) -> None:
    provider().create({"cluster_name": "prod", "version": "1.31"})
    provider().update(f"{REGION}/prod", outputs(version="1.31"), {"cluster_name": "prod", "version": "1.30"})

    with pytest.raises(
        rollback_rules.RollbackRefused, match=r"\(rule: one minor back, once\): the cluster was already"
    ):
        provider().update(f"{REGION}/prod", outputs(version="1.30"), rollback_news())


def test_a_rollback_to_extended_support_with_the_standard_policy_is_refused(eks: EKSClient) -> None:
    role = eks.describe_cluster(name="prod")["cluster"]["roleArn"]
    eks.create_cluster(
        name="std",
        version="1.30",
        roleArn=role,
        resourcesVpcConfig={"subnetIds": ["subnet-a"]},
        upgradePolicy={"supportType": "STANDARD"},
    )
    provider().create({"cluster_name": "std", "version": "1.31"})

    with pytest.raises(rollback_rules.RollbackRefused) as refused:
        provider().create({"cluster_name": "std", "version": "1.30"})

    assert "(rule: not to an extended-support version unless upgradePolicy.supportType is EXTENDED)" in str(
        refused.value
    )
    assert "Kubernetes 1.30 has been in extended support since 2025-07-23" in str(refused.value)


ROLLBACK_SKEW = {
    "name": "Kubelet version skew",
    "status": "ERROR",
    "reason": "Fargate pods run kubelet v1.30",
    "recommendation": "Delete the pods so that they restart, or pass force",
}


def test_an_error_rollback_insight_blocks_before_any_change_and_force_rolls_back(
    eks: EKSClient, endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    upgraded_to_1_30(eks)
    SandboxControl(endpoint).set_insights("prod", "1.29", [ROLLBACK_SKEW], category="ROLLBACK_READINESS")
    before = eks.list_updates(name="prod")["updateIds"]

    with pytest.raises(UpgradeBlocked) as blocked:
        provider().update(f"{REGION}/prod", outputs(version="1.30"), rollback_news())
    unchanged = eks.list_updates(name="prod")["updateIds"]
    forced = provider().update(f"{REGION}/prod", outputs(version="1.30"), rollback_news(force=True))

    assert "EKS cluster prod rollback 1.30 -> 1.29 is blocked, nothing was changed" in str(blocked.value)
    assert 'insight "Kubelet version skew" (ERROR): Fargate pods run kubelet v1.30' in str(blocked.value)
    assert str(blocked.value).endswith("or set force=True to roll back anyway.")
    assert unchanged == before
    assert forced.outs is not None and forced.outs["version"] == "1.29"
    assert 'force is set, going on despite: insight "Kubelet version skew" (ERROR)' in capsys.readouterr().err


def test_an_unknown_rollback_insight_blocks_as_an_error_does(eks: EKSClient, endpoint: str) -> None:
    upgraded_to_1_30(eks)
    unknown = {"name": "Cluster health issues", "status": "UNKNOWN", "reason": "Could not be evaluated"}
    SandboxControl(endpoint).set_insights("prod", "1.29", [unknown], category="ROLLBACK_READINESS")

    with pytest.raises(UpgradeBlocked, match=r'insight "Cluster health issues" \(UNKNOWN\)'):
        provider().update(f"{REGION}/prod", outputs(version="1.30"), rollback_news())


def test_a_warning_rollback_insight_is_printed_and_the_rollback_goes_on(
    eks: EKSClient, endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    upgraded_to_1_30(eks)
    warning = {**ROLLBACK_SKEW, "status": "WARNING"}
    SandboxControl(endpoint).set_insights("prod", "1.29", [warning], category="ROLLBACK_READINESS")

    result = provider().update(f"{REGION}/prod", outputs(version="1.30"), rollback_news())

    assert result.outs is not None and result.outs["version"] == "1.29"
    assert 'rollback 1.30 -> 1.29: warning: insight "Kubelet version skew" (WARNING)' in capsys.readouterr().err


def test_a_node_group_newer_than_the_rollback_target_blocks_naming_it(eks: EKSClient) -> None:
    upgraded_to_1_30(eks)
    add_nodegroup(eks, "workers", "1.30")

    with pytest.raises(UpgradeBlocked) as blocked:
        provider().update(f"{REGION}/prod", outputs(version="1.30"), rollback_news())

    assert "managed node groups run a Kubernetes newer than 1.29 and EKS does not roll them back: workers (1.30)" in (
        str(blocked.value)
    )


def test_the_rollback_timeout_reaches_eks_as_rollback_config(eks: EKSClient) -> None:
    upgraded_to_1_30(eks)

    # update() without check(): a value outside EKS's bounds reaches EKS, whose refusal proves it was sent.
    with pytest.raises(rollback_rules.RollbackRefused) as refused:
        provider().update(f"{REGION}/prod", outputs(version="1.30"), rollback_news(rollback_timeout_minutes=100.0))
    result = provider().update(f"{REGION}/prod", outputs(version="1.30"), rollback_news(rollback_timeout_minutes=120.0))

    assert str(refused.value) == (
        "EKS cluster prod rollback 1.30 -> 1.29 was refused by EKS, nothing was changed (the cluster stays at "
        "Kubernetes 1.30): InvalidParameterException: rollbackConfig.timeoutMinutes must be between 120 and 10080"
    )
    assert result.outs is not None
    assert (result.outs["version"], result.outs["rollback_timeout_minutes"]) == ("1.29", 120.0)


@pytest.mark.parametrize(
    "fault",
    [
        ("DescribeUpdate", "throttle"),
        ("DescribeUpdate", "server_error"),
        ("DescribeInsightsRefresh", "throttle"),
        ("DescribeCluster", "unavailable"),
    ],
    ids=lambda f: f"{f[0]}-{f[1]}",
)
def test_a_storm_on_a_status_poll_is_ridden_out_within_the_timeout(
    eks: EKSClient,
    endpoint: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fault: tuple[str, str],
) -> None:
    operation, kind = fault
    # botocore gives up after 2 attempts here (8 by default, with up to 20 s between them): a storm of 6 faults
    # in a row outlasts three of its calls.
    monkeypatch.setenv("CLUSTER_CONNECT_AWS_MAX_ATTEMPTS", "2")
    control = SandboxControl(endpoint)
    control.set_durations(cluster_update=1.0)
    control.reset_calls()
    control.inject(kind, operation=operation, count=6)

    # Two steps: the second one refreshes the insights (DescribeInsightsRefresh).
    result = provider().create({"cluster_name": "prod", "version": "1.31"})

    assert result.outs is not None and result.outs["version"] == "1.31"
    assert ", asking again (" in capsys.readouterr().err
    assert control.calls().get(operation, 0) >= 6
    assert len(eks.list_updates(name="prod")["updateIds"]) == 2


def at_1_31_with_coredns_of_1_31(eks: EKSClient) -> None:
    provider().create({"cluster_name": "prod", "version": "1.31"})
    add_addon(eks, "coredns", "v1.12.1-eksbuild.2")


def test_an_add_on_that_would_not_run_on_the_rollback_target_blocks_naming_it(eks: EKSClient) -> None:
    at_1_31_with_coredns_of_1_31(eks)

    with pytest.raises(UpgradeBlocked) as blocked:
        provider().update(f"{REGION}/prod", outputs(version="1.31"), {"cluster_name": "prod", "version": "1.30"})

    assert "EKS cluster prod rollback 1.31 -> 1.30 is blocked, nothing was changed" in str(blocked.value)
    assert "add-on coredns v1.12.1-eksbuild.2 does not run on Kubernetes 1.30; compatible:" in str(blocked.value)
    assert eks.describe_cluster(name="prod")["cluster"]["version"] == "1.31"


def test_update_addons_downgrades_the_add_on_first_then_rolls_back(eks: EKSClient) -> None:
    at_1_31_with_coredns_of_1_31(eks)

    result = provider().update(
        f"{REGION}/prod", outputs(version="1.31"), {"cluster_name": "prod", "version": "1.30", "update_addons": True}
    )

    assert result.outs is not None
    assert [(u["addon"], u["from"], u["to"], u["status"]) for u in result.outs["addon_updates"]] == [
        ("coredns", "v1.12.1-eksbuild.2", "v1.11.1-eksbuild.13", "Successful")
    ]
    assert [(u["type"], u["to"]) for u in result.outs["updates"]] == [("VersionRollback", "1.30")]
    assert eks.describe_addon(clusterName="prod", addonName="coredns")["addon"]["addonVersion"] == (
        "v1.11.1-eksbuild.13"
    )


def test_a_rollback_of_a_cluster_with_fargate_profiles_warns_about_their_pods(
    eks: EKSClient, capsys: pytest.CaptureFixture[str]
) -> None:
    seeded = seed.seed()
    eks.create_cluster(
        name="fg",
        version="1.30",
        roleArn=seeded["clusterRoleArn"],
        resourcesVpcConfig={"subnetIds": seeded["privateSubnetIds"]},
    )
    provider().create({"cluster_name": "fg", "version": "1.31"})
    eks.create_fargate_profile(
        clusterName="fg",
        fargateProfileName="apps",
        podExecutionRoleArn=seeded["podExecutionRoleArn"],
        selectors=[{"namespace": "apps"}],
        subnets=seeded["privateSubnetIds"],
    )
    capsys.readouterr()

    result = provider().create({"cluster_name": "fg", "version": "1.30"})

    assert result.outs is not None and result.outs["version"] == "1.30"
    assert (
        "EKS cluster fg rollback 1.31 -> 1.30: warning: EKS does not roll Fargate nodes back (profiles apps): pods "
        "started at 1.31 keep their kubelet and fail the kubelet version skew rollback insight; delete those pods, or "
        "set force=True; with kubeconfig and recycle_fargate_pods=True this resource moves them onto 1.30 kubelets "
        "after the rollback"
    ) in capsys.readouterr().err


def test_a_rollback_eks_no_longer_cancels_is_waited_out_then_undone(
    eks: EKSClient, endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    role = eks.describe_cluster(name="prod")["cluster"]["roleArn"]
    eks.create_cluster(
        name="auto",
        version="1.30",
        roleArn=role,
        resourcesVpcConfig={"subnetIds": ["subnet-a"]},
        computeConfig={"enabled": True, "nodePools": ["general-purpose"]},
    )
    provider().create({"cluster_name": "auto", "version": "1.31"})
    SandboxControl(endpoint).set_durations(rollback_node_phase=0.5, cluster_update=0.5)
    rollback = eks.update_cluster_version(name="auto", version="1.30")["update"]

    def too_late(self: object, update_id: str) -> None:
        raise errors.AwsApiError(
            "CancelUpdate", "InvalidRequestException", f"Update {update_id} can no longer be cancelled"
        )

    monkeypatch.setattr(ClusterUpdates, "cancel", too_late)
    capsys.readouterr()
    result = provider().update(f"{REGION}/auto", {}, {"cluster_name": "auto", "version": "1.31"})

    assert result.outs is not None and result.outs["version"] == "1.31"
    assert [(u["type"], u["from"], u["to"], u["status"]) for u in result.outs["updates"]] == [
        ("VersionRollback", "1.31", "1.30", "Successful"),
        ("VersionUpdate", "1.30", "1.31", "Successful"),
    ]
    assert eks.describe_update(name="auto", updateId=rollback["id"])["update"]["status"] == "Successful"
    assert "EKS can no longer cancel it" in capsys.readouterr().err

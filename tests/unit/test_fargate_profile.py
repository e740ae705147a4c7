"""FargateProfileProvider: check and diff as the engine calls them, the lifecycle against the sandbox."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import dill
import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.output import Unknown

from pulumi_cluster_connect._plumbing import errors, ownership, pacing
from pulumi_cluster_connect.dynamic_providers import fargate_profile as fp
from pulumi_cluster_connect.sandbox import seed
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl
from pulumi_cluster_connect.sandbox.aws.server import AwsSandbox

pytestmark = pytest.mark.unit

ROLE = f"arn:aws:iam::123456789012:role/{seed.POD_EXECUTION_ROLE}"  # the role the seed makes
REGION = "us-west-2"
CLUSTER = "apps"
OWNER_TAG = {ownership.OWNER_KEY: ownership.owner_mark("")}  # what `created` profiles carry: no identity given


def news(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "cluster_name": CLUSTER,
        "fargate_profile_name": "web",
        "pod_execution_role_arn": ROLE,
        "selectors": [{"namespace": "web", "labels": {"tier": "front"}}],
        "subnet_ids": ["subnet-0a", "subnet-0b"],
        "tags": {"team": "platform"},
    }
    props.update(overrides)
    return {k: v for k, v in props.items() if v is not None}


def failures_of(props: dict[str, Any], olds: dict[str, Any] | None = None) -> dict[str, str]:
    result = fp.FargateProfileProvider().check(olds or {}, props)
    return {f.property: f.reason for f in result.failures}


# --- check ----------


def test_valid_inputs_pass_check_with_selectors_normalised() -> None:
    result = fp.FargateProfileProvider().check({}, news(selectors=[{"namespace": "web"}]))
    assert result.failures == []
    assert result.inputs["selectors"] == [{"namespace": "web", "labels": {}}]
    assert "auto_named" not in result.inputs


@pytest.mark.parametrize(
    ("overrides", "prop", "words"),
    [
        ({"selectors": [{"namespace": f"n{i}"} for i in range(6)]}, "selectors", "at most 5 selectors"),
        (
            {"selectors": [{"namespace": "a", "labels": {f"k{i}": "v" for i in range(6)}}]},
            "selectors",
            "5 labels",
        ),
        ({"selectors": [{"labels": {"a": "b"}}]}, "selectors", "selectors[0].namespace is required"),
        ({"selectors": []}, "selectors", "non-empty"),
        ({"selectors": None}, "selectors", "at least one selector"),
        ({"fargate_profile_name": "eks-web"}, "fargate_profile_name", "'eks-'"),
        ({"fargate_profile_name": "web.app"}, "fargate_profile_name", "letters, digits"),
        ({"pod_execution_role_arn": "arn:aws:iam::1:user/x"}, "pod_execution_role_arn", "IAM role ARN"),
        ({"pod_execution_role_arn": None}, "pod_execution_role_arn", "required"),
        ({"cluster_name": None}, "cluster_name", "required"),
        ({"subnet_ids": ["sg-123"]}, "subnet_ids", "not a subnet ID"),
        ({"region": "mars"}, "region", "AWS region"),
        ({"tags": {"aws:x": "y"}}, "tags", "reserved prefix"),
        ({"timeout_seconds": -1.0}, "timeout_seconds", "positive"),
    ],
)
def test_check_names_the_property_that_breaks_a_rule(overrides: dict[str, Any], prop: str, words: str) -> None:
    found = failures_of(news(**overrides))
    assert prop in found, found
    assert words in found[prop]


def test_check_accepts_unknown_values_in_preview() -> None:
    props = news(
        cluster_name=Unknown(),
        pod_execution_role_arn=Unknown(),
        selectors=[{"namespace": Unknown(), "labels": Unknown()}],
        subnet_ids=Unknown(),
        tags=Unknown(),
    )
    assert failures_of(props) == {}


def auto_named(**overrides: Any) -> dict[str, Any]:
    props = news(fargate_profile_name=None, auto_name_prefix="web-pods", identity="proj/dev/FargateProfile::web")
    return fp.FargateProfileProvider().check({}, {**props, **overrides}).inputs


def test_without_a_name_check_derives_one_from_the_resource_so_a_rerun_asks_for_the_same() -> None:
    first = auto_named()
    assert first["fargate_profile_name"].startswith("web-pods-")
    assert first["auto_named"] is True
    assert auto_named()["fargate_profile_name"] == first["fargate_profile_name"], "a re-run asks for the same name"
    again = fp.FargateProfileProvider().check(first, news(fargate_profile_name=None, auto_name_prefix="web-pods"))
    assert again.inputs["fargate_profile_name"] == first["fargate_profile_name"], "kept through a stack rename"
    other = auto_named(identity="proj/dev/FargateProfile::other")
    assert other["fargate_profile_name"] != first["fargate_profile_name"], "another resource, another name"


def test_a_replacement_gets_a_new_name_and_a_tag_change_keeps_it() -> None:
    first = auto_named()
    moved = auto_named(selectors=[{"namespace": "other"}])
    assert moved["fargate_profile_name"] != first["fargate_profile_name"]
    retagged = fp.FargateProfileProvider().check(first, {**first, "tags": {"team": "other"}}).inputs
    assert retagged["fargate_profile_name"] == first["fargate_profile_name"]
    reordered = auto_named(subnet_ids=["subnet-0b", "subnet-0a"])
    assert reordered["fargate_profile_name"] == first["fargate_profile_name"]


def test_preview_shows_the_name_only_once_everything_it_derives_from_is_known() -> None:
    assert isinstance(auto_named(pod_execution_role_arn=Unknown())["fargate_profile_name"], Unknown)
    assert isinstance(auto_named(selectors=[{"namespace": Unknown()}])["fargate_profile_name"], Unknown)
    assert failures_of({**news(fargate_profile_name=None), "pod_execution_role_arn": Unknown()}) == {}


def test_our_tag_keys_are_reserved_and_count_toward_the_limit() -> None:
    assert "reserved" in failures_of(news(tags={"pulumi-cluster-connect/owner": "x"}))["tags"]
    assert "at most 48" in failures_of(news(tags={f"k{i}": "v" for i in range(49)}))["tags"]


def test_an_explicit_name_replacing_an_auto_name_is_used_as_given() -> None:
    auto = fp.FargateProfileProvider().check({}, news(fargate_profile_name=None, auto_name_prefix="x")).inputs
    explicit = fp.FargateProfileProvider().check(auto, news(fargate_profile_name="mine")).inputs
    assert explicit["fargate_profile_name"] == "mine"
    assert "auto_named" not in explicit


# --- diff ----------


def outputs(**overrides: Any) -> dict[str, Any]:
    checked = fp.FargateProfileProvider().check({}, news()).inputs
    return {**checked, "region": REGION, "arn": "arn:aws:eks:x", "status": "ACTIVE", **overrides}


def test_identical_inputs_have_no_changes() -> None:
    olds = outputs()
    result = fp.FargateProfileProvider().diff("apps/web", olds, fp.FargateProfileProvider().check(olds, news()).inputs)
    assert result.changes is False
    assert result.replaces == []


def test_subnets_in_another_order_are_no_change() -> None:
    checked = fp.FargateProfileProvider().check({}, news(subnet_ids=["subnet-0b", "subnet-0a"])).inputs
    assert fp.FargateProfileProvider().diff("apps/web", outputs(), checked).changes is False


def test_subnets_left_to_eks_are_no_change_though_eks_reports_the_ones_it_picked() -> None:
    without_subnets = news()
    del without_subnets["subnet_ids"]
    checked = fp.FargateProfileProvider().check({}, without_subnets).inputs

    assert fp.FargateProfileProvider().diff("apps/web", outputs(), checked).changes is False
    assert fp.FargateProfileProvider().diff("apps/web", outputs(), {**checked, "subnet_ids": ["subnet-0c"]}).replaces


def test_a_tag_change_updates_in_place() -> None:
    checked = fp.FargateProfileProvider().check({}, news(tags={"team": "apps"})).inputs
    result = fp.FargateProfileProvider().diff("apps/web", outputs(), checked)
    assert result.changes is True
    assert result.replaces == []


def test_a_selector_change_with_an_explicit_name_replaces_deleting_first() -> None:
    checked = fp.FargateProfileProvider().check({}, news(selectors=[{"namespace": "other"}])).inputs
    result = fp.FargateProfileProvider().diff("apps/web", outputs(), checked)
    assert result.replaces == ["selectors"]
    assert result.delete_before_replace is True


def test_a_selector_change_with_an_auto_name_replaces_creating_first() -> None:
    provider = fp.FargateProfileProvider()
    old_inputs = provider.check({}, news(fargate_profile_name=None, auto_name_prefix="web")).inputs
    olds = {**old_inputs, "region": REGION, "arn": "arn", "status": "ACTIVE"}
    checked = provider.check(
        old_inputs, news(fargate_profile_name=None, auto_name_prefix="web", subnet_ids=["subnet-0c"])
    )
    result = provider.diff("apps/x", olds, checked.inputs)
    assert result.replaces == ["fargate_profile_name", "subnet_ids"], "the preview shows the new name"
    assert result.delete_before_replace is False


def test_a_new_explicit_name_replaces_without_deleting_first() -> None:
    checked = fp.FargateProfileProvider().check({}, news(fargate_profile_name="web2")).inputs
    result = fp.FargateProfileProvider().diff("apps/web", outputs(), checked)
    assert result.replaces == ["fargate_profile_name"]
    assert result.delete_before_replace is False


def test_an_unknown_selector_in_preview_is_a_replacement() -> None:
    checked = fp.FargateProfileProvider().check({}, news(selectors=Unknown())).inputs
    result = fp.FargateProfileProvider().diff("apps/web", outputs(), checked)
    assert result.replaces == ["selectors"]


def test_an_explicit_region_change_replaces_but_a_missing_region_keeps_the_resolved_one() -> None:
    provider = fp.FargateProfileProvider()
    assert provider.diff("apps/web", outputs(), provider.check({}, news()).inputs).replaces == []
    moved = provider.diff("apps/web", outputs(), provider.check({}, news(region="eu-west-1")).inputs)
    assert moved.replaces == ["region"]


def test_configure_keeps_only_the_aws_settings_of_the_stack_config() -> None:
    provider = fp.FargateProfileProvider()
    provider.configure(ConfigureRequest(Config({"aws:region": "eu-west-1", "proj:secret": "x"}, "proj")))
    assert provider._stack_config == {"aws:region": "eu-west-1"}


# --- lifecycle against the sandbox ----------


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    sandbox = AwsSandbox().start()
    saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update(AWS_ENDPOINT_URL=sandbox.url, AWS_ACCESS_KEY_ID="a", AWS_SECRET_ACCESS_KEY="b")
    try:
        yield sandbox.url
    finally:
        sandbox.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def eks(endpoint: str) -> Iterator[Any]:
    control = SandboxControl(endpoint)
    control.reset()
    control.set_durations(fargate_create=0.3, fargate_delete=0.3)
    client = boto3.client("eks", region_name=REGION, endpoint_url=endpoint)
    # The seeded VPC and roles; this cluster runs on the seeded private subnets only.
    seeded = seed.seed({**os.environ, "AWS_REGION": REGION})
    assert seeded["podExecutionRoleArn"] == ROLE
    client.create_cluster(
        name=CLUSTER, roleArn=seeded["clusterRoleArn"], resourcesVpcConfig={"subnetIds": seeded["privateSubnetIds"]}
    )
    yield client
    control.reset()


def provider() -> fp.FargateProfileProvider:
    made = fp.FargateProfileProvider()
    made.configure(ConfigureRequest(Config({"aws:region": REGION}, "tests")))
    return made


def created(name: str, **overrides: Any) -> tuple[str, dict[str, Any]]:
    """A profile made by the provider; without subnet_ids, as most users write it, EKS picks the subnets."""
    checked = provider().check({}, news(fargate_profile_name=name, **{"subnet_ids": None, **overrides})).inputs
    result = provider().create(checked)
    assert result.id is not None and result.outs is not None
    return result.id, result.outs


def test_concurrent_creates_on_one_cluster_all_become_active(eks: Any) -> None:
    results: dict[str, dict[str, Any]] = {}
    failures: list[BaseException] = []

    def one(name: str) -> None:
        try:
            results[name] = created(name, selectors=[{"namespace": name}])[1]
        except BaseException as err:
            failures.append(err)

    threads = [threading.Thread(target=one, args=(f"p{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert {r["status"] for r in results.values()} == {"ACTIVE"}
    assert results["p0"]["selectors"] == [{"namespace": "p0", "labels": {}}]
    assert results["p0"]["region"] == REGION


def test_a_profile_busy_from_outside_the_process_is_waited_out(eks: Any) -> None:
    eks.create_fargate_profile(
        clusterName=CLUSTER,
        fargateProfileName="other",
        podExecutionRoleArn=ROLE,
        selectors=[{"namespace": "o"}],
    )
    assert created("web")[1]["status"] == "ACTIVE"


def test_a_create_failed_profile_raises_its_health_issue_and_is_deleted(eks: Any, endpoint: str) -> None:
    SandboxControl(endpoint).inject("fargate_create_failed", target="web")
    with pytest.raises(errors.LifecycleFailed) as failed:
        created("web")
    assert failed.value.state == "CREATE_FAILED"
    assert "AccessDenied" in str(failed.value)
    assert ROLE in str(failed.value)
    assert "next `pulumi up` tries again" in str(failed.value)
    assert eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == []


def test_delete_waits_until_gone_and_a_missing_profile_is_success(eks: Any) -> None:
    id_, outs = created("web")
    provider().delete(id_, outs)
    assert eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == []
    provider().delete(id_, outs)


def test_a_delete_failed_profile_raises_its_health_issue(eks: Any, endpoint: str) -> None:
    id_, outs = created("web")
    SandboxControl(endpoint).inject("fargate_delete_failed", target="web")
    with pytest.raises(errors.LifecycleFailed) as failed:
        provider().delete(id_, outs)
    assert "InternalFailure" in str(failed.value)


def test_read_reports_the_profile_and_an_empty_id_once_it_is_gone(eks: Any) -> None:
    id_, outs = created("web")
    read = provider().read(id_, outs)
    assert read.id == id_
    assert read.outs == outs
    assert read.inputs is not None and "arn" not in read.inputs
    SandboxControl(os.environ["AWS_ENDPOINT_URL"]).set_durations(fargate_delete=0)
    eks.delete_fargate_profile(clusterName=CLUSTER, fargateProfileName="web")
    assert provider().read(id_, outs).id == ""


def test_read_of_an_import_id_needs_no_stored_state(eks: Any) -> None:
    created("web")
    read = provider().read(f"{CLUSTER}/web", {})
    assert read.outs is not None and read.outs["fargate_profile_name"] == "web"
    assert read.outs["tags"] == {"team": "platform"}


def test_update_changes_tags_in_place_and_returns_every_output(eks: Any) -> None:
    id_, outs = created("web")
    new_inputs = provider().check(outs, news(fargate_profile_name="web", tags={"env": "dev"})).inputs
    result = provider().update(id_, outs, new_inputs)
    assert result.outs is not None
    assert result.outs["tags"] == {"env": "dev"}
    assert result.outs["arn"] == outs["arn"]
    assert eks.list_tags_for_resource(resourceArn=outs["arn"])["tags"] == {"env": "dev", **OWNER_TAG}


def test_creates_on_one_cluster_list_it_once_instead_of_describing_each_name_first(eks: Any, endpoint: str) -> None:
    control = SandboxControl(endpoint)
    control.reset_calls()
    for name in ("a", "b", "c"):
        created(name, selectors=[{"namespace": name}])
    calls = control.calls()
    assert calls.get("ListFargateProfiles") == 1
    assert calls["CreateFargateProfile"] == 3
    # Only the waits' looks: each create's first look confirms what EKS answered (at most a few at 0.3 s).
    assert calls["DescribeFargateProfile"] <= 3 * 2


def test_a_profile_made_by_someone_else_after_the_listing_still_fails_the_create_unchanged(eks: Any) -> None:
    created("a", selectors=[{"namespace": "a"}])  # the listing is taken: "web" is free
    eks.create_fargate_profile(
        clusterName=CLUSTER, fargateProfileName="web", podExecutionRoleArn=ROLE, selectors=[{"namespace": "o"}]
    )
    with pytest.raises(errors.ClusterConnectError, match="already exists and is not made by pulumi-cluster-connect"):
        created("web")
    profile = eks.describe_fargate_profile(clusterName=CLUSTER, fargateProfileName="web")["fargateProfile"]
    assert profile["selectors"] == [{"namespace": "o", "labels": {}}]


def test_a_profile_this_process_made_is_looked_at_before_a_second_create_of_its_name(eks: Any) -> None:
    """`pulumi up --replace` keeping the name: the replacement must adopt (and claim) the profile, not take EKS's
    replayed answer for a new one, or the old resource's delete would remove it. (A create without a stable key
    never takes a profile for its own: the Resource always gives one.)"""
    identity = "proj/dev/pulumi-python:dynamic/eks:FargateProfile::web"
    id_, first = created("web", identity=identity)
    _, second = created("web", identity=identity)
    assert second["arn"] == first["arn"] and second.get("claim")
    provider().delete(id_, first)
    assert eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == ["web"]


def test_a_created_profile_records_how_long_its_creation_took_and_its_deletion_looks_there(
    eks: Any, endpoint: str
) -> None:
    control = SandboxControl(endpoint)
    control.set_durations(fargate_create=3.0, fargate_delete=3.0)
    pacing.EXPECTATIONS.forget()
    id_, outs = created("web")
    after, by = outs["creation_seconds"]
    assert after < by and 2.5 < by < 4.0
    assert provider().read(id_, outs).outs == outs, "kept by refresh"
    updated = provider().update(id_, outs, provider().check(outs, news(fargate_profile_name="web", tags={})).inputs)
    assert updated.outs is not None and updated.outs["creation_seconds"] == [after, by], "kept by update"

    pacing.EXPECTATIONS.forget()  # a destroy is a new process: only the state's record guides its first wait
    control.reset_calls()
    provider().delete(id_, outs)
    # The claim check, then one or two looks around the expected end (a cold wait: 3.0 / 0.7, 5 looks).
    assert control.calls()["DescribeFargateProfile"] <= 1 + 2


@pytest.mark.parametrize("recorded", [None, "7", [3.0], [5.0, 1.0], [-1.0, 2.0], [True, 2.0], ["1", "2"]])
def test_a_missing_or_edited_creation_record_means_a_cold_wait(eks: Any, recorded: Any) -> None:
    id_, outs = created("web")
    state = {k: v for k, v in outs.items() if k != "creation_seconds"}
    if recorded is not None:
        state["creation_seconds"] = recorded
    provider().delete(id_, state)
    assert eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == []


def test_the_provider_pickles_without_clients_or_locks() -> None:
    made = provider()
    assert len(dill.dumps(made, recurse=True)) < 2000

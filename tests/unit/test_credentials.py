"""profile and assume_roles: check rules, identity in diff (from the state, offline), the aws.Provider refusal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
from pulumi.output import Unknown

from pulumi_cluster_connect._plumbing import arguments, aws, credentials
from pulumi_cluster_connect.components import eks_connected_cluster as ecc
from pulumi_cluster_connect.dynamic_providers import (
    cluster_version,
    connection_wait,
    fargate_profile,
    registered_cluster,
)

HUB = "arn:aws:iam::111111111111:role/hub"
SPOKE = "arn:aws:iam::222222222222:role/spoke"
SPOKE_ADMIN = "arn:aws:iam::222222222222:role/admin"
OTHER = "arn:aws:iam::333333333333:role/spoke"
SECRET_EXTERNAL_ID = "ext-id-do-not-print"
KUBECONFIG = (
    "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
    "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:6443'}}]\nusers: [{name: u, user: {token: t0ken}}]\n"
)


def failures(props: dict[str, Any]) -> list[str]:
    found: list[Any] = []
    credentials.check(props, found)
    return [f"{f.property}: {f.reason}" for f in found]


def test_a_chain_in_pulumi_aws_shape_passes_the_check() -> None:
    roles = [
        {"role_arn": HUB, "session_name": "platform", "duration_seconds": 3600.0},
        {
            "role_arn": SPOKE,
            "external_id": SECRET_EXTERNAL_ID,
            "source_identity": "alice",
            "tags": {"team": "platform"},
            "transitive_tag_keys": ["team"],
            "policy": '{"Version": "2012-10-17", "Statement": []}',
            "policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        },
    ]
    assert failures({"profile": "hub", "assume_roles": roles}) == []


def test_unknown_values_at_any_depth_pass_the_check() -> None:
    assert failures({"assume_roles": Unknown()}) == []
    assert failures({"assume_roles": [{"role_arn": Unknown(), "duration_seconds": Unknown()}]}) == []


@pytest.mark.parametrize(
    ("roles", "said"),
    [
        ("arn:aws:iam::1:role/x", "assume_roles: must be a list of roles to assume in order"),
        ([{"session_name": "s1"}], "assume_roles: assume_roles[0].role_arn is required"),
        ([{"role_arn": "arn:aws:iam::1:user/x"}], "assume_roles: assume_roles[0].role_arn must be an IAM role ARN"),
        ([{"role_arn": HUB, "duration_seconds": 60.0}], "assume_roles[0].duration_seconds must be a whole number"),
        ([{"role_arn": HUB, "duration_seconds": 900.5}], "assume_roles[0].duration_seconds must be a whole number"),
        ([{"role_arn": HUB, "session_name": "a b"}], "assume_roles[0].session_name must be 2-64 characters"),
        ([{"role_arn": HUB, "role": "x"}], "assume_roles[0] has unknown keys ['role']"),
        ([{"role_arn": HUB, "policy_arns": ["nope"]}], "assume_roles[0].policy_arns must be a list of IAM policy ARNs"),
        ([{"role_arn": HUB, "tags": {"aws:x": "y"}}], "assume_roles[0].tags: tag key 'aws:x' uses the reserved"),
        ([{"role_arn": HUB}] * 11, "at most 10 roles can be chained, got 11"),
    ],
)
def test_a_bad_chain_names_the_property_and_the_rule(roles: Any, said: str) -> None:
    assert any(said in failure for failure in failures({"assume_roles": roles})), failures({"assume_roles": roles})


def test_an_external_id_or_a_policy_never_appears_in_a_failure() -> None:
    roles = [
        {
            "role_arn": HUB,
            "external_id": f"{SECRET_EXTERNAL_ID} with spaces",
            "policy": f"not json {SECRET_EXTERNAL_ID}",
        }
    ]
    found = failures({"assume_roles": roles})
    assert len(found) == 2
    assert not any(SECRET_EXTERNAL_ID in failure for failure in found)


def test_a_profile_must_be_a_non_empty_string() -> None:
    assert failures({"profile": ""}) == ["profile: must be a non-empty string, got an empty string"]


def state(**extra: Any) -> dict[str, Any]:
    return {"assume_roles": [{"role_arn": HUB}, {"role_arn": SPOKE}], "account_id": "222222222222", **extra}


@pytest.mark.parametrize(
    ("news", "replaces", "changes"),
    [
        ({"assume_roles": [{"role_arn": HUB}, {"role_arn": SPOKE}]}, [], []),
        ({"assume_roles": [{"role_arn": HUB}, {"role_arn": SPOKE, "session_name": "other"}]}, [], ["assume_roles"]),
        ({"assume_roles": [{"role_arn": HUB}, {"role_arn": SPOKE_ADMIN}]}, [], ["assume_roles"]),
        ({"assume_roles": [{"role_arn": SPOKE}]}, [], ["assume_roles"]),
        ({"profile": "spoke"}, [], ["profile", "assume_roles"]),
        ({"assume_roles": [{"role_arn": HUB}, {"role_arn": OTHER}]}, ["assume_roles"], ["assume_roles"]),
        ({"assume_roles": [{"role_arn": HUB}, {"role_arn": Unknown()}]}, ["assume_roles"], ["assume_roles"]),
    ],
    ids=[
        "same",
        "session name",
        "another role, same account",
        "shorter chain",
        "a profile",
        "another account",
        "unknown",
    ],
)
def test_identity_is_the_recorded_account_not_the_route(
    news: dict[str, Any], replaces: list[str], changes: list[str]
) -> None:
    assert credentials.identity_changes(state(), news) == (replaces, changes)


def test_a_state_without_a_recorded_account_never_replaces_for_the_route() -> None:
    assert credentials.identity_changes({}, {"assume_roles": [{"role_arn": OTHER}]}) == ([], ["assume_roles"])


def registration_state(**extra: Any) -> dict[str, Any]:
    return {
        "cluster_name": "edge",
        "connector_provider": "OTHER",
        "role_arn": "arn:aws:iam::222222222222:role/agent",
        "region": "us-west-2",
        "status": "PENDING",
        **state(),
        **extra,
    }


def test_each_resource_replaces_when_the_last_role_moves_it_to_another_account() -> None:
    olds = registration_state()
    moved = {
        **{k: v for k, v in olds.items() if k not in ("status", "account_id")},
        "assume_roles": [{"role_arn": OTHER}],
    }
    same = {**moved, "assume_roles": [{"role_arn": SPOKE_ADMIN, "session_name": "ops"}]}
    registration = registered_cluster.RegisteredClusterProvider()
    assert "assume_roles" in (registration.diff("edge", olds, moved).replaces or [])
    kept = registration.diff("edge", olds, same)
    assert (kept.changes, kept.replaces) == (True, [])

    wait_olds = {"cluster_name": "edge", "activation_id": "a", "status": "ACTIVE", **state()}
    wait_news = {"cluster_name": "edge", "activation_id": "a"}
    wait = connection_wait.diff_wait(wait_olds, {**wait_news, "assume_roles": [{"role_arn": OTHER}]})
    assert "assume_roles" in (wait.replaces or [])
    assert (
        connection_wait.diff_wait(wait_olds, {**wait_news, "assume_roles": [{"role_arn": SPOKE_ADMIN}]}).replaces == []
    )

    profile_olds = {"cluster_name": "apps", "pod_execution_role_arn": HUB, "fargate_profile_name": "p", **state()}
    profile_news = {k: v for k, v in profile_olds.items() if k != "account_id"}
    profiles = fargate_profile.FargateProfileProvider()
    assert "assume_roles" in (
        profiles.diff("apps/p", profile_olds, {**profile_news, "assume_roles": [{"role_arn": OTHER}]}).replaces or []
    )
    assert (
        profiles.diff("apps/p", profile_olds, {**profile_news, "assume_roles": [{"role_arn": SPOKE_ADMIN}]}).replaces
        == []
    )

    version_olds = {"cluster_name": "prod", "version": "1.30", "region": "us-west-2", **state()}
    version_news = {"cluster_name": "prod", "version": "1.30", "region": "us-west-2"}
    versions = cluster_version.ClusterVersionProvider()
    assert versions.diff("x", version_olds, {**version_news, "assume_roles": [{"role_arn": OTHER}]}).replaces == [
        "assume_roles"
    ]
    assert (
        versions.diff("x", version_olds, {**version_news, "assume_roles": [{"role_arn": SPOKE_ADMIN}]}).replaces == []
    )


def test_every_resource_with_a_route_says_in_the_preview_what_a_route_change_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    another_way_in = {"assume_roles": [{"role_arn": SPOKE_ADMIN}]}
    elsewhere = {"assume_roles": [{"role_arn": OTHER}]}
    profile_olds = {"cluster_name": "apps", "pod_execution_role_arn": HUB, "fargate_profile_name": "p", **state()}
    profile_news = {k: v for k, v in profile_olds.items() if k not in ("account_id", "assume_roles")}
    version_olds = {"cluster_name": "prod", "version": "1.30", "region": "us-west-2", **state()}
    version_news = {"cluster_name": "prod", "version": "1.30", "region": "us-west-2"}
    profiles, versions = fargate_profile.FargateProfileProvider(), cluster_version.ClusterVersionProvider()

    profiles.diff("apps/p", profile_olds, {**profile_news, **another_way_in})
    versions.diff("x", version_olds, {**version_news, **another_way_in})
    said = capsys.readouterr().err
    assert "Fargate profile p on cluster apps: another route into account 222222222222; the update records it" in said
    assert "version of prod: another route into account 222222222222; the update records it" in said

    profiles.diff("apps/p", profile_olds, {**profile_news, **elsewhere})
    versions.diff("x", version_olds, {**version_news, **elsewhere})
    said = capsys.readouterr().err
    assert "Fargate profile p on cluster apps lives in account 222222222222; `assume_roles` now leads to" in said
    assert "version of prod lives in account 222222222222; `assume_roles` now leads to account 333333333333" in said

    profiles.diff("apps/p", profile_olds, {**profile_news, "assume_roles": state()["assume_roles"]})
    versions.diff("x", version_olds, {**version_news, "assume_roles": state()["assume_roles"]})
    assert "route" not in capsys.readouterr().err


def test_the_route_asks_sts_in_pulumi_aws_order_with_a_default_session_name() -> None:
    route = credentials.route_of(
        {
            "assume_roles": [
                {"role_arn": HUB},
                {"role_arn": SPOKE, "duration_seconds": 900.0, "tags": {"b": "2", "a": "1"}},
            ]
        }
    )
    assert route.role_arns() == [HUB, SPOKE]
    assert credentials._request({"role_arn": SPOKE, "duration_seconds": 900.0, "tags": {"b": "2", "a": "1"}}) == {
        "RoleArn": SPOKE,
        "RoleSessionName": "pulumi-cluster-connect",
        "DurationSeconds": 900,
        "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
    }
    assert (
        SECRET_EXTERNAL_ID
        not in credentials.route_of({"assume_roles": [{"role_arn": HUB, "external_id": SECRET_EXTERNAL_ID}]}).key
    )


def test_the_state_records_the_route_and_the_account_of_the_arn() -> None:
    outs = credentials.with_route(
        {"profile": "old", "x": 1},
        {"assume_roles": [{"role_arn": SPOKE}]},
        "arn:aws:eks:us-west-2:222222222222:cluster/edge",
    )
    assert outs == {"x": 1, "assume_roles": [{"role_arn": SPOKE}], "account_id": "222222222222"}


class AwsProvider(pulumi.ProviderResource):
    def __init__(self, name: str) -> None:
        super().__init__("aws", name, {})


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.created: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.created.append(args)
        outputs = dict(args.inputs)
        if args.typ.endswith("RegisteredCluster"):
            outputs.update(activation_id="a", activation_code="c", region="us-west-2")
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


@pytest.fixture
def mocked() -> Iterator[Mocks]:
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="proj", stack="dev", preview=False)
    yield mocks


def test_an_aws_provider_given_to_a_resource_is_refused_before_anything_is_made(mocked: Mocks) -> None:
    spoke = AwsProvider("spoke")
    refused = (
        r"FargateProfile p: opts\.provider carries an aws\.Provider, which would be ignored \(nothing was created\)"
    )
    with pytest.raises(arguments.ArgumentsError, match=refused + ".*assume_roles"):
        fargate_profile.FargateProfile(
            "p",
            cluster_name="apps",
            pod_execution_role_arn=HUB,
            selectors=[{"namespace": "a"}],
            opts=pulumi.ResourceOptions(provider=spoke),
        )
    with pytest.raises(arguments.ArgumentsError, match=r"opts\.providers"):
        registered_cluster.RegisteredCluster(
            "r", connector_provider="OTHER", role_arn=HUB, opts=pulumi.ResourceOptions(providers={"aws": spoke})
        )


def test_a_component_takes_an_aws_provider_only_beside_its_own_route(mocked: Mocks) -> None:
    spoke = AwsProvider("spoke")
    base: dict[str, Any] = {"kubeconfig": KUBECONFIG, "connector_provider": "OTHER", "role_arn": SPOKE}
    with pytest.raises(arguments.ArgumentsError, match=r"EksConnectedCluster edge: opts\.providers"):
        ecc.EksConnectedCluster("edge", ecc.EksConnectedClusterArgs(**base), pulumi.ResourceOptions(providers=[spoke]))  # type: ignore[typeddict-item]
    with_route = ecc.EksConnectedClusterArgs(**base, assume_roles=[{"role_arn": SPOKE}])  # type: ignore[typeddict-item]
    ecc.EksConnectedCluster("edge2", with_route, pulumi.ResourceOptions(providers=[spoke]))


def test_the_component_passes_its_route_to_the_children_that_call_aws(mocked: Mocks) -> None:
    chain = [{"role_arn": SPOKE, "external_id": SECRET_EXTERNAL_ID}]
    args: dict[str, Any] = {"kubeconfig": KUBECONFIG, "connector_provider": "OTHER", "role_arn": SPOKE}
    ecc.EksConnectedCluster("edge", ecc.EksConnectedClusterArgs(**args, profile="hub", assume_roles=chain))  # type: ignore[typeddict-item]
    pulumi.runtime.sync_await._sync_await(pulumi.runtime.stack.wait_for_rpcs())

    by_type = {r.typ.rsplit(":", 1)[-1]: r.inputs for r in mocked.created}
    for child in ("RegisteredCluster", "ConnectionWait"):
        assert (by_type[child].get("profile"), by_type[child].get("assume_roles")) == ("hub", chain), child


def test_a_resource_profile_s_region_is_where_diff_expects_it(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    config.write_text("[profile spoke]\nregion = eu-central-1\n[default]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    olds = {"region": "eu-central-1", "profile": "spoke"}
    assert aws.moved_region(olds, {"profile": "spoke"}, "region", {}) is None
    assert aws.moved_region(olds, {}, "region", {}) == "us-east-1"


def test_the_preview_says_what_a_route_change_does() -> None:
    olds = state()
    same = {"assume_roles": [{"role_arn": SPOKE_ADMIN}]}
    assert credentials.route_message("registration edge", olds, same) == (
        "registration edge: another route into account 222222222222; the update records it and changes nothing in AWS"
    )
    assert credentials.route_message("x", olds, {"profile": "p"}) == (
        "x: another route into account 222222222222; the update records it and changes nothing in AWS, once STS "
        "confirms the new route reaches it"
    )
    moved = credentials.route_message("x", olds, {"assume_roles": [{"role_arn": OTHER}]})
    assert (
        moved == "x lives in account 222222222222; `assume_roles` now leads to account 333333333333: replacing it there"
    )
    assert credentials.route_message("x", olds, {"assume_roles": olds["assume_roles"]}) is None

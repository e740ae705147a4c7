"""Many accounts in one stack through the real engine: each resource acts with the credentials it names, a role
that cannot be assumed is named, sessions shorter than a wait are refreshed, identity is the account."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from pulumi_cluster_connect._plumbing.credentials import AssumeRole
from pulumi_cluster_connect.dynamic_providers import FargateProfile, RegisteredCluster
from pulumi_cluster_connect.sandbox.aws import accounts
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl
from pulumi_cluster_connect.sandbox.stacks import StackFactory

EVERY = (accounts.HUB_ACCOUNT, accounts.DEV, accounts.STAGING, accounts.PROD)


@pytest.fixture
def world(aws: SandboxControl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    made = accounts.hub_and_spoke(tmp_path)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(made["config_file"]))
    return made


def registered_in(name: str) -> list[str]:
    """The accounts where a registration of that name exists."""
    return [a for a in EVERY if name in accounts.client("eks", a).list_clusters(include=["all"])["clusters"]]


def profiles_in(cluster: str, name: str) -> list[str]:
    found = []
    for account in (accounts.DEV, accounts.STAGING):
        if name in accounts.client("eks", account).list_fargate_profiles(clusterName=cluster)["fargateProfileNames"]:
            found.append(account)
    return found


def test_a_registration_moves_with_its_account_and_stays_for_another_route_into_the_same_one(
    stacks: StackFactory, world: dict[str, Any]
) -> None:
    """Same account through another role and session name: an update that only records the route. Another
    account: a replacement, the old registration deregistered with the credentials its state records."""
    connector = {a: world["seeded"][a]["connectorRoleArn"] for a in (accounts.DEV, accounts.PROD)}
    dev_admin = accounts.role(accounts.DEV, "admin", [f"arn:aws:iam::{accounts.HUB_ACCOUNT}:root"])
    settings: dict[str, Any] = {"roles": world["prod_chain"], "connector": connector[accounts.PROD]}

    def program() -> None:
        RegisteredCluster(
            "edge", connector_provider="OTHER", role_arn=settings["connector"], assume_roles=settings["roles"]
        )

    stack = stacks.inline(program)
    stack.up()
    assert registered_in("edge") == [accounts.PROD]
    [state] = stack.resources("RegisteredCluster")
    assert state["outputs"]["account_id"] == accounts.PROD

    settings["roles"] = [
        {**world["prod_chain"][0], "session_name": "other"},
        {**world["prod_chain"][1], "session_name": "ops"},
    ]
    assert stack.preview().change_summary == {"same": 1, "update": 1}
    assert f"registration edge: another route into account {accounts.PROD}; the update records it" in stack.output
    assert "activation expired" not in stack.output
    stack.up()
    [state] = stack.resources("RegisteredCluster")
    assert state["outputs"]["assume_roles"][1]["session_name"] == "ops"
    assert registered_in("edge") == [accounts.PROD]

    settings.update(roles=[{"role_arn": dev_admin}], connector=connector[accounts.DEV])
    preview = stack.preview()
    assert preview.change_summary.get(auto.OpType.REPLACE) == 1
    assert "lives in account 333333333333; `assume_roles` now leads to account 111111111111" in stack.output
    stack.up()
    assert registered_in("edge") == [accounts.DEV]
    assert stack.resources("RegisteredCluster")[0]["outputs"]["account_id"] == accounts.DEV

    assert "ASIA" not in stack.state_text()  # no session key (moto's start so), only the route
    stack.destroy()
    assert registered_in("edge") == []
    assert accounts.EXTERNAL_ID not in stack.output


def test_a_role_that_cannot_be_assumed_is_named_and_nothing_is_made(
    stacks: StackFactory, world: dict[str, Any]
) -> None:
    closed = accounts.role(accounts.STAGING, "closed", ["arn:aws:iam::999999999999:root"])
    wrong_external_id = [world["prod_chain"][0], {**world["prod_chain"][1], "external_id": "not-the-right-one"}]
    chains = {"closed": [{"role_arn": closed}], "wrong-id": wrong_external_id}

    def program() -> None:
        for name, chain in chains.items():
            RegisteredCluster(
                name,
                connector_provider="OTHER",
                role_arn=world["seeded"][accounts.PROD]["connectorRoleArn"],
                assume_roles=chain,
            )

    stack = stacks.inline(program)
    with pytest.raises(auto.CommandError):
        stack.up()
    assert f"could not assume role {closed} (role 1 of 1 in assume_roles): STS answered AccessDenied" in stack.output
    assert f"could not assume role {world['prod_role']} (role 2 of 2 in assume_roles)" in stack.output
    assert "not-the-right-one" not in stack.output
    assert "Traceback" not in stack.output
    assert stack.resources("RegisteredCluster") == []
    assert registered_in("closed") == registered_in("wrong-id") == []


def test_removing_a_resource_uses_the_route_its_state_records_and_names_a_role_revoked_since(
    stacks: StackFactory, world: dict[str, Any]
) -> None:
    present = {"yes": True}

    def program() -> None:
        if present["yes"]:
            RegisteredCluster(
                "edge",
                connector_provider="OTHER",
                role_arn=world["seeded"][accounts.PROD]["connectorRoleArn"],
                assume_roles=world["prod_chain"],
            )

    stack = stacks.inline(program)
    stack.up()
    accounts.client("iam", accounts.PROD).update_assume_role_policy(
        RoleName=accounts.SPOKE_ROLE, PolicyDocument=accounts.trust_policy(["arn:aws:iam::999999999999:root"])
    )
    present["yes"] = False
    with pytest.raises(auto.CommandError):
        stack.up()
    assert f"could not assume role {world['prod_role']}" in stack.output
    assert registered_in("edge") == [accounts.PROD]  # still there, still in the state
    assert len(stack.resources("RegisteredCluster")) == 1

    accounts.client("iam", accounts.PROD).update_assume_role_policy(
        RoleName=accounts.SPOKE_ROLE,
        PolicyDocument=accounts.trust_policy([world["hub_role"]], accounts.EXTERNAL_ID),
    )
    stack.up()
    assert registered_in("edge") == []


def test_a_wait_outlives_sessions_shorter_than_it(
    stacks: StackFactory, world: dict[str, Any], aws: SandboxControl
) -> None:
    """Sessions of 2 s, a Fargate profile that takes 6 s to create and as long to delete: botocore refreshes the
    chain as it goes, and no request is refused as expired."""
    aws.set_durations(assumed_role_session=2, fargate_create=6, fargate_delete=6)
    pod_role = world["seeded"][accounts.DEV]["podExecutionRoleArn"]
    dev: list[AssumeRole] = [
        {"role_arn": accounts.role(accounts.DEV, "admin", [f"arn:aws:iam::{accounts.HUB_ACCOUNT}:root"])}
    ]

    def program() -> None:
        FargateProfile(
            "slow",
            cluster_name="apps",
            fargate_profile_name="slow",
            pod_execution_role_arn=pod_role,
            selectors=[{"namespace": "slow"}],
            assume_roles=dev,
        )

    stack = stacks.inline(program)
    aws.reset_calls()
    stack.up()
    assert profiles_in("apps", "slow") == [accounts.DEV]
    assert aws.calls().get("AssumeRole", 0) >= 3  # asked again as sessions ended
    stack.destroy()
    assert profiles_in("apps", "slow") == []
    assert "expired" not in stack.output.lower()
    assert json.dumps(dev) not in stack.output


def test_a_profile_that_now_reaches_another_account_is_refused_at_update_and_changes_nothing(
    stacks: StackFactory, world: dict[str, Any]
) -> None:
    """A profile's account is not in the inputs: diff shows an update, and the update asks STS and refuses."""
    settings = {"profile": "dev"}

    def program() -> None:
        RegisteredCluster(
            "edge",
            connector_provider="OTHER",
            role_arn=world["seeded"][accounts.DEV]["connectorRoleArn"],
            profile=settings["profile"],
        )

    stack = stacks.inline(program)
    stack.up()
    assert registered_in("edge") == [accounts.DEV]

    settings["profile"] = "staging"
    assert stack.preview().change_summary == {"same": 1, "update": 1}
    with pytest.raises(auto.CommandError):
        stack.up()
    assert (
        f"lives in account {accounts.DEV}, and its new profile/assume_roles reach account {accounts.STAGING}: "
        "nothing was changed"
    ) in stack.output
    [state] = stack.resources("RegisteredCluster")
    assert (state["outputs"]["profile"], state["outputs"]["account_id"]) == ("dev", accounts.DEV)
    assert registered_in("edge") == [accounts.DEV]

    settings["profile"] = "dev"
    stack.destroy()
    assert registered_in("edge") == []

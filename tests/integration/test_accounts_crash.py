"""A `pulumi up` over two accounts reached through assumed roles, killed midway (its whole process tree), recovers
as the docs say: each account holds exactly what the state says, and nothing after destroy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import crash_recovery
from pulumi_cluster_connect.sandbox.aws import accounts
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl

PROGRAM = """
import json
import pulumi
from pulumi_cluster_connect.dynamic_providers import FargateProfile, RegisteredCluster

config = pulumi.Config()
dev, prod = json.loads(config.require("devRoles")), json.loads(config.require("prodRoles"))
pods = config.require("devPodRole")
FargateProfile("apps", cluster_name="apps", fargate_profile_name="apps", pod_execution_role_arn=pods,
               selectors=[{"namespace": "apps"}], assume_roles=dev)
FargateProfile("jobs", cluster_name="apps", pod_execution_role_arn=pods, selectors=[{"namespace": "jobs"}],
               assume_roles=dev)
RegisteredCluster("edge", connector_provider="OTHER", role_arn=config.require("prodConnector"), assume_roles=prod)
"""
# Seconds after the first resource step: during the first profile's creation, and during the second's.
KILLS = (1.0, 4.0)


def new_stack(
    root: Path, name: str, world: dict[str, Any], dev_roles: list[dict[str, str]]
) -> crash_recovery.CrashStack:
    work_dir = root / name
    work_dir.mkdir()
    (work_dir / "Pulumi.yaml").write_text("name: accounts-crash\nruntime: python\n")
    (work_dir / "__main__.py").write_text(PROGRAM)
    env = {
        **os.environ,
        "PULUMI_HOME": str(root / "pulumi-home"),
        "PULUMI_BACKEND_URL": (root / "backend").as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": crash_recovery.PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_PYTHON_CMD": sys.executable,
    }
    (root / "backend").mkdir(exist_ok=True)
    stack = crash_recovery.CrashStack(work_dir, name, env)
    subprocess.run(
        ["pulumi", "stack", "init", name, "--secrets-provider", "passphrase", "--non-interactive"],
        cwd=work_dir,
        env=env,
        check=True,
        capture_output=True,
    )
    settings = {
        "devRoles": json.dumps(dev_roles),
        "prodRoles": json.dumps(world["prod_chain"]),
        "devPodRole": world["seeded"][accounts.DEV]["podExecutionRoleArn"],
        "prodConnector": world["seeded"][accounts.PROD]["connectorRoleArn"],
    }
    stack.pulumi(
        "config", "set-all", *[arg for k, v in settings.items() for arg in ("--plaintext", f"{k}={v}")], quiet=True
    )
    return stack


def world_problems(stack: crash_recovery.CrashStack, *, made: bool = True) -> list[str]:
    """What differs between the state and the accounts: each resource in its recorded account and nowhere else."""
    problems = []
    in_state = {str(o["fargate_profile_name"]): o.get("account_id") for o in stack.outputs_of("FargateProfile")}
    for account in (accounts.HUB_ACCOUNT, accounts.DEV, accounts.STAGING, accounts.PROD):
        eks = accounts.client("eks", account)
        clusters = eks.list_clusters(include=["all"])["clusters"]
        found = (
            set(eks.list_fargate_profiles(clusterName="apps")["fargateProfileNames"]) if "apps" in clusters else set()
        )
        expected = {name for name, recorded in in_state.items() if recorded == account}
        if found != expected:
            problems.append(f"account {account}: profiles {sorted(found)}, the state says {sorted(expected)}")
        registered = [o for o in stack.outputs_of("RegisteredCluster") if o.get("account_id") == account]
        if ("edge" in clusters) != bool(registered):
            problems.append(f"account {account}: registration edge {'present' if 'edge' in clusters else 'absent'}")
    if made and (len(in_state) != 2 or set(in_state.values()) != {accounts.DEV}):
        problems.append(f"the state's profiles: {in_state}")
    return problems


@pytest.mark.parametrize("kill_after", KILLS)
def test_a_killed_up_through_assumed_roles_recovers_in_each_account(
    kill_after: float,
    pulumi_engine: Path,
    aws: SandboxControl,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = accounts.hub_and_spoke(tmp_path)
    aws.set_durations(fargate_create=2.5, fargate_delete=0.5, assumed_role_session=2)
    dev_roles = [{"role_arn": accounts.role(accounts.DEV, "admin", [f"arn:aws:iam::{accounts.HUB_ACCOUNT}:root"])}]
    stack = new_stack(tmp_path, "crash", world, dev_roles)
    outcome = crash_recovery.Outcome(seed=0, kill_after=kill_after)

    crash_recovery.up_killed(stack, outcome)
    for step in crash_recovery.RECOVERY:
        stack.pulumi(*step)
    stack.pulumi("up", "--yes", "--skip-preview")
    problems = world_problems(stack)
    preview = stack.pulumi("preview", "--expect-no-changes", check=False)
    stack.pulumi("destroy", "--yes", "--skip-preview")
    left = world_problems(stack, made=False)

    transcript = "\n".join(stack.transcript)
    assert outcome.killed, transcript[-3000:]
    assert problems == [], transcript[-3000:]
    assert preview.returncode == 0, preview.stdout[-2000:]
    assert left == [], transcript[-3000:]
    assert stack.outputs_of("") == []
    assert accounts.EXTERNAL_ID not in transcript

"""The main job: the repository's platform stack, run with the real engine against the local sandbox."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from pulumi_cluster_connect.cli import engine
from pulumi_cluster_connect.sandbox import launcher, seed

STACK = "sandbox"
PASSPHRASE = "sandbox"  # the sandbox stack's secrets provider: a local demo, not for real credentials


def _stack(state_dir: Path, project_dir: Path) -> auto.Stack:
    if not (project_dir / "Pulumi.yaml").exists():
        raise FileNotFoundError(
            f"{project_dir} has no Pulumi.yaml: run the demo from a checkout of pulumi-cluster-connect"
        )
    backend = (state_dir / "state").resolve()
    backend.mkdir(parents=True, exist_ok=True)
    env = {
        "PULUMI_BACKEND_URL": backend.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_PYTHON_CMD": sys.executable,
    }
    opts = auto.LocalWorkspaceOptions(work_dir=str(project_dir), env_vars=env, secrets_provider="passphrase")
    return auto.create_or_select_stack(stack_name=STACK, work_dir=str(project_dir), opts=opts)


def summary(outputs: dict[str, Any]) -> str:
    lines = ["", "Platform stack on the sandbox:"]
    connected = outputs.get("eksConnector", {})
    lines.append(
        f"  EKS Connector   {connected.get('clusterName')}: {connected.get('status')}  ({connected.get('arn')})"
    )
    for profile in outputs.get("fargateProfiles", []):
        lines.append(f"  Fargate profile {profile.get('name')}: {profile.get('status')}")
    upgrade = outputs.get("clusterVersion", {})
    lines.append(
        f"  EKS version     {upgrade.get('clusterName')}: {upgrade.get('version')}"
        f" (steps run: {', '.join(upgrade.get('steps', [])) or 'none'})"
    )
    loft = outputs.get("loft", {})
    lines.append(f"  Loft            {loft.get('clusterName')}: {loft.get('phase')}")
    return "\n".join(lines)


def up(state_dir: Path, project_dir: Path) -> int:
    engine.ensure_on_path()
    if launcher.running_pid(state_dir) is None:
        # A new sandbox is a new world: state left from an earlier one describes nothing that exists.
        shutil.rmtree(state_dir / "state", ignore_errors=True)
        print(f"starting the sandbox in {state_dir} ...", flush=True)
    launcher.start_in_background(state_dir, None)
    os.environ.update(launcher.load_environment(state_dir))
    # What a platform team already has (a VPC, IAM roles, an EKS cluster), as pulumi-aws would make it; the aws
    # plugin cannot run offline, so the sandbox is seeded with boto3.
    seeded = seed.seed()
    stack = _stack(state_dir, project_dir)
    for key in ("connectorRoleArn", "podExecutionRoleArn", "eksClusterName"):
        stack.set_config(key, auto.ConfigValue(seeded[key]))
    stack.remove_config("fargateSubnets")
    for index, subnet_id in enumerate(seeded["privateSubnetIds"]):
        stack.set_config(f"fargateSubnets[{index}]", auto.ConfigValue(subnet_id), path=True)
    stack.set_config("aws:region", auto.ConfigValue(os.environ["AWS_REGION"]))
    stack.set_config("loftUrl", auto.ConfigValue(os.environ["LOFT_URL"]))
    stack.set_config("loftAccessKey", auto.ConfigValue(os.environ["LOFT_ACCESS_KEY"], secret=True))
    stack.set_config("externalKubeconfig", auto.ConfigValue(Path(os.environ["KUBECONFIG"]).read_text(), secret=True))
    result = stack.up(on_output=print, color="never")
    print(summary({k: v.value for k, v in result.outputs.items()}))
    print(f"\nTear it all down with: make demo-down   (state: {state_dir / 'state'})")
    return 0


def down(state_dir: Path, project_dir: Path) -> int:
    engine.ensure_on_path()
    if launcher.running_pid(state_dir) is not None:
        os.environ.update(launcher.load_environment(state_dir))
        try:
            _stack(state_dir, project_dir).destroy(on_output=print, color="never")
        finally:
            # Whatever the destroy did, the sandbox (and everything it made) goes with it.
            launcher.stop_background(state_dir)
    shutil.rmtree(state_dir / "state", ignore_errors=True)
    print("the platform stack is destroyed and the sandbox stopped")
    return 0

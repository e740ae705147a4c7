"""The wheel, installed into a fresh virtualenv, runs the README's steps: sandbox up --seed, then an example."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

from .leftovers import processes_under

REPO = Path(__file__).resolve().parents[2]


def run(*command: str, env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def test_the_wheel_in_a_fresh_virtualenv_seeds_the_sandbox_and_runs_an_example(
    tmp_path: Path, pulumi_engine: Path
) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(REPO)],
        check=True,
        capture_output=True,
    )
    wheels = list(dist.glob("pulumi_cluster_connect-*.whl"))
    assert len(wheels) == 1
    env_dir = tmp_path / "fresh-venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    subprocess.run(
        [bin_dir / "pip", "install", "--quiet", "-c", REPO / "constraints.txt", f"{wheels[0]}[sandbox]"],
        check=True,
        capture_output=True,
    )
    # A user's shell: the virtualenv activated, their own pulumi CLI on PATH, nothing of this checkout.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PULUMI_", "KUBECONFIG", "LOFT_"))}
    env |= {"PATH": f"{bin_dir}{os.pathsep}{pulumi_engine}{os.pathsep}{env['PATH']}", "VIRTUAL_ENV": str(env_dir)}
    env["PULUMI_HOME"] = str(tmp_path / "pulumi-home")
    project = tmp_path / "fargate"
    shutil.copytree(REPO / "examples" / "fargate", project)
    state_dir = tmp_path / "sandbox"

    printed = run(
        "cluster-connect", "sandbox", "up", "--background", "--seed", "--dir", str(state_dir), env=env, cwd=tmp_path
    )
    try:
        seeded = dict(line[1:].split(None, 1) for line in printed.splitlines() if line.startswith("#   "))
        exported = [line.removeprefix("export ").partition("=") for line in printed.splitlines()]
        env |= {key: value.strip("'\"") for key, _, value in exported if key.isupper() and key != "LOFT_ACCESS_KEY"}
        run("pulumi", "stack", "init", "dev", env=env, cwd=project)
        run("pulumi", "config", "set", "clusterName", seeded["eksClusterName"].strip(), env=env, cwd=project)
        run(
            "pulumi",
            "config",
            "set",
            "podExecutionRoleArn",
            seeded["podExecutionRoleArn"].strip(),
            env=env,
            cwd=project,
        )
        up = run("pulumi", "up", "--yes", "--skip-preview", env=env, cwd=project)
        assert "created" in up
        outputs = run("pulumi", "stack", "output", "profiles", "--json", env=env, cwd=project)
        assert '"apps": "dev-apps"' in outputs
        run("pulumi", "destroy", "--yes", env=env, cwd=project)
    finally:
        run("cluster-connect", "sandbox", "down", "--dir", str(state_dir), env=env, cwd=tmp_path)
    assert processes_under(state_dir) == []

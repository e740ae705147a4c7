"""The main job: `cluster-connect demo up` runs the repository's platform stack on the sandbox and reports it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pulumi_cluster_connect.cli import demo
from pulumi_cluster_connect.sandbox import launcher

from .leftovers import processes_under

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pulumi_cluster_connect.cli", *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=REPO,
    )


def test_the_platform_stack_runs_to_a_summary_and_tears_down(
    tmp_path: Path, pulumi_engine: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state_dir = tmp_path / "sandbox"
    up = cli("demo", "up", "--dir", str(state_dir))
    try:
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        summary = up.stdout[up.stdout.index("Platform stack on the sandbox:") :]
        assert "EKS Connector   edge-cluster: ACTIVE" in summary
        assert summary.count(": ACTIVE") == 3  # the connector and two Fargate profiles
        assert "EKS version     platform: 1.32 (steps run: 1.30->1.31, 1.31->1.32)" in summary
        assert "Loft            edge-cluster: Initialized" in summary

        env = launcher.load_environment(state_dir)
        kube_token = Path(env["KUBECONFIG"]).read_text().split("token: ")[1].split()[0]
        for secret in (kube_token, env["LOFT_ACCESS_KEY"]):
            assert secret not in up.stdout and secret not in up.stderr

        for key, value in env.items():
            monkeypatch.setenv(key, value)
        stack = demo._stack(state_dir, REPO)
        assert set(stack.preview().change_summary) == {"same"}
        exported = subprocess.run(
            ["pulumi", "stack", "export", "--stack", demo.STACK],
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, **stack.workspace.env_vars},
        ).stdout
        assert kube_token not in exported and env["LOFT_ACCESS_KEY"] not in exported
    finally:
        down = cli("demo", "down", "--dir", str(state_dir))
    assert down.returncode == 0, down.stdout[-2000:] + down.stderr[-2000:]
    assert launcher.running_pid(state_dir) is None
    assert processes_under(state_dir) == []

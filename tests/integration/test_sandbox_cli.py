"""`cluster-connect sandbox up/down`: one command starts everything, another stops it with nothing left."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import boto3
import lightkube
from lightkube.resources.core_v1 import Namespace

from pulumi_cluster_connect.sandbox import launcher

from .leftovers import processes_under


def cli(*args: str) -> str:
    command = [sys.executable, "-m", "pulumi_cluster_connect.cli", *args]
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=240).stdout


def test_the_sandbox_starts_with_one_command_serves_real_clients_and_stops_with_another(tmp_path: Path) -> None:
    state_dir = tmp_path / "sandbox"
    printed = cli("sandbox", "up", "--background", "--dir", str(state_dir))
    try:
        assert "export AWS_ENDPOINT_URL=http://127.0.0.1:" in printed
        env = launcher.load_environment(state_dir)
        assert env["LOFT_ACCESS_KEY"] not in printed

        eks = boto3.client(
            "eks",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name=env["AWS_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )
        assert eks.list_clusters()["clusters"] == []

        kube = lightkube.Client(lightkube.KubeConfig.from_file(env["KUBECONFIG"]))
        assert "kube-system" in {ns.metadata.name for ns in kube.list(Namespace) if ns.metadata}

        request = urllib.request.Request(f"{env['LOFT_URL']}/version")
        with urllib.request.urlopen(request, timeout=5) as response:
            assert "version" in json.load(response)

        assert processes_under(state_dir)
    finally:
        assert "sandbox stopped" in cli("sandbox", "down", "--dir", str(state_dir))
    assert processes_under(state_dir) == []
    assert not (state_dir / "env").exists()

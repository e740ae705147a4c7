"""The wheel installs into a clean virtualenv and both public packages import from there."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_built_wheel_installs_into_a_clean_virtualenv_and_imports(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(REPO)],
        check=True,
        capture_output=True,
    )
    wheels = list(dist.glob("pulumi_cluster_connect-*.whl"))
    assert len(wheels) == 1

    env_dir = tmp_path / "clean-venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-c", str(REPO / "constraints.txt"), str(wheels[0])],
        check=True,
        capture_output=True,
    )
    probe = (
        "import pulumi_cluster_connect.components as c, pulumi_cluster_connect.dynamic_providers as d;"
        "print(d.__file__); print(c.__file__); print(sorted(d.__all__))"
    )
    result = subprocess.run([str(python), "-c", probe], check=True, capture_output=True, text=True, cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert str(env_dir) in lines[0] and str(env_dir) in lines[1]
    assert "KubernetesManifest" in lines[2]

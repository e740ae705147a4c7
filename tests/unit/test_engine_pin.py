"""The engine the CLI and the tests look for is the one tools/pulumi builds."""

from __future__ import annotations

import re
from pathlib import Path

from pulumi_cluster_connect.cli import engine

REPO = Path(__file__).resolve().parents[2]


def test_the_cli_looks_for_the_engine_version_that_tools_pulumi_builds() -> None:
    script = (REPO / "tools" / "pulumi" / "build.sh").read_text()
    built = re.search(r'^PULUMI_VERSION="(v[\d.]+)"', script, re.M)

    assert built is not None
    assert built.group(1) == engine.PINNED_VERSION
    assert engine.pinned_build_dir().name == built.group(1)

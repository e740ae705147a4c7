"""The engine and the Helm CLI the CLI and the tests look for are the ones tools/pulumi and tools/helm build."""

from __future__ import annotations

import re
from pathlib import Path

from pulumi_cluster_connect.cli import engine, helm_binary

REPO = Path(__file__).resolve().parents[2]


def test_the_cli_looks_for_the_engine_version_that_tools_pulumi_builds() -> None:
    script = (REPO / "tools" / "pulumi" / "build.sh").read_text()
    built = re.search(r'^PULUMI_VERSION="(v[\d.]+)"', script, re.M)

    assert built is not None
    assert built.group(1) == engine.PINNED_VERSION
    assert engine.pinned_build_dir().name == built.group(1)


def test_the_tests_look_for_the_helm_version_that_tools_helm_builds() -> None:
    script = (REPO / "tools" / "helm" / "build.sh").read_text()
    built = re.search(r'^HELM_VERSION="(v[\d.]+)"', script, re.M)
    gomod = (REPO / "tools" / "helm" / "go.mod").read_text()

    assert built is not None
    assert built.group(1) == helm_binary.PINNED_VERSION
    assert helm_binary.pinned_build_dir().name == built.group(1)
    assert f"helm.sh/helm/v3 {built.group(1)}" in gomod

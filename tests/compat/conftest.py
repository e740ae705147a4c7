"""The compatibility legs: which pulumi SDK and engine run, checked, and the integration tests' peers shared."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from pulumi_cluster_connect.cli import engine
from pulumi_cluster_connect.sandbox.stacks import StackFactory

# The integration tests' peers (one kube-apiserver, AWS and Loft sandboxes per session), shared, not copied.
from tests.integration.conftest import (  # noqa: F401
    agent,
    aws,
    aws_endpoint,
    fargate_cluster,
    helm_cli,
    kube,
    loft,
    loft_sandbox,
    platform,
    platform_sandbox,
)


@dataclass(frozen=True)
class Leg:
    """The SDK this process imports and the engine first on PATH: what every failure message names."""

    sdk: str
    engine: str
    engine_dir: Path

    def __str__(self) -> str:
        return f"pulumi SDK {self.sdk}, engine {self.engine}"


@pytest.fixture(scope="session")
def pulumi_engine() -> Path:
    """The engine of this leg, first on PATH: COMPAT_ENGINE (a version tools/pulumi/build.sh built), else the pin."""
    wanted = os.environ.get("COMPAT_ENGINE")
    if not wanted:
        return engine.ensure_on_path()
    folder = engine.cache_root() / "pulumi" / wanted
    if not all(os.access(folder / plugin, os.X_OK) for plugin in engine.PLUGINS):
        pytest.fail(f"engine {wanted} is not built: run `bash tools/pulumi/build.sh {wanted}` (make engine-newest)")
    os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ['PATH']}"
    return folder


@pytest.fixture(scope="session")
def leg(pulumi_engine: Path) -> Leg:
    """What runs here, checked against what the Makefile's leg asked for (COMPAT_SDK, COMPAT_ENGINE)."""
    sdk = importlib.metadata.version("pulumi")
    version = subprocess.run(
        [str(pulumi_engine / "pulumi"), "version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    running = Leg(sdk, version, pulumi_engine)
    assert sdk == os.environ.get("COMPAT_SDK", sdk), f"this leg wants SDK {os.environ['COMPAT_SDK']}: {running}"
    assert version == os.environ.get("COMPAT_ENGINE", engine.PINNED_VERSION), f"wrong engine: {running}"
    return running


@pytest.fixture
def stacks(leg: Leg, tmp_path: Path) -> StackFactory:
    return StackFactory(tmp_path)

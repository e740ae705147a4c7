"""Finds the Helm CLI for the sandbox and the tests: the pinned build `make helm` caches, else `helm` on PATH."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pulumi_cluster_connect.cli import engine

PINNED_VERSION = "v3.22.0"  # tools/helm/build.sh's HELM_VERSION (a unit test keeps them equal)


def pinned_build_dir() -> Path:
    return engine.cache_root() / "helm" / PINNED_VERSION


def ensure_on_path() -> Path:
    """Put helm first on PATH (HelmRelease looks for it there) and return the path of the binary."""
    pinned = pinned_build_dir() / "helm"
    if os.access(pinned, os.X_OK):
        os.environ["PATH"] = f"{pinned.parent}{os.pathsep}{os.environ['PATH']}"
        return pinned
    found = shutil.which("helm")
    if found is None:
        raise FileNotFoundError(
            "the helm CLI is not on PATH: install Helm 3 (https://helm.sh/docs/intro/install/), "
            "or in a source checkout run `make helm` to build the pinned one"
        )
    return Path(found)

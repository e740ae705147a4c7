"""Finds the Pulumi engine: the pinned build that `make engine` caches, else the user's `pulumi` on PATH."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

PINNED_VERSION = "v3.259.0"  # tools/pulumi/build.sh's PULUMI_VERSION (a unit test keeps them equal)
PLUGINS = ("pulumi", "pulumi-language-python", "pulumi-language-python-exec", "pulumi-resource-pulumi-python")


def cache_root() -> Path:
    """Where the build scripts under tools/ cache what they build (as their CACHE_ROOT)."""
    return Path(
        os.environ.get("CLUSTER_CONNECT_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pulumi-cluster-connect"
    )


def pinned_build_dir() -> Path:
    return cache_root() / "pulumi" / PINNED_VERSION


def ensure_on_path() -> Path:
    """Put the engine first on PATH and return its folder."""
    pinned = pinned_build_dir()
    if all(os.access(pinned / plugin, os.X_OK) for plugin in PLUGINS):
        os.environ["PATH"] = f"{pinned}{os.pathsep}{os.environ['PATH']}"
        return pinned
    found = shutil.which("pulumi")
    if found is None:
        raise FileNotFoundError(
            "the Pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/iac/download-install/), "
            "or in a source checkout run `make engine` to build the pinned one"
        )
    return Path(found).parent

"""Finds the Pulumi engine: `pulumi` on PATH, else the pinned build of a source checkout (tools/pulumi)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / "tools" / "pulumi" / "build.sh"


def ensure_on_path() -> Path:
    if BUILD_SCRIPT.exists():
        out = subprocess.run(["bash", str(BUILD_SCRIPT)], check=True, stdout=subprocess.PIPE, text=True).stdout
        engine_dir = Path(out.strip().splitlines()[-1])
        os.environ["PATH"] = f"{engine_dir}{os.pathsep}{os.environ['PATH']}"
        return engine_dir
    found = shutil.which("pulumi")
    if found is None:
        raise FileNotFoundError("the Pulumi CLI is not on PATH: install it, or run from a source checkout")
    return Path(found).parent

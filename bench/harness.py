"""What the benchmarks run on: the real engine with a file backend, a passphrase and an isolated Pulumi home.

The benchmarks import this module, never tests/ (the test harness is tests/integration/stacks.py).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi import automation as auto

REPO = Path(__file__).resolve().parents[1]
PASSPHRASE = "bench-passphrase"


def engine_env(root: Path) -> dict[str, str]:
    backend = root / "backend"
    backend.mkdir(parents=True, exist_ok=True)
    return {
        "PULUMI_HOME": str(root / "pulumi-home"),
        "PULUMI_BACKEND_URL": backend.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_PYTHON_CMD": sys.executable,
        # Providers defined in bench modules are pickled by reference: the provider process imports them too.
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p),
    }


@dataclass
class Stacks:
    """Inline-program stacks in one temporary file backend."""

    root: Path

    def inline(self, program: Callable[[], None], stack: str, project: str = "bench") -> auto.Stack:
        env = engine_env(self.root)
        opts = auto.LocalWorkspaceOptions(
            pulumi_home=env["PULUMI_HOME"],
            env_vars=env,
            project_settings=auto.ProjectSettings(
                name=project, runtime="python", backend=auto.ProjectBackend(url=env["PULUMI_BACKEND_URL"])
            ),
            secrets_provider="passphrase",
        )
        return auto.create_or_select_stack(stack_name=stack, project_name=project, program=program, opts=opts)


def timed(action: Callable[[], Any]) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


def load() -> str:
    """The machine's load averages (1, 5, 15 min), printed beside every figure: the machine is shared."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"

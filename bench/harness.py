"""What the benchmarks share: stacks on the real engine (the sandbox's stack harness), timing and machine load."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pulumi_cluster_connect.sandbox.aws.control import SandboxControl
from pulumi_cluster_connect.sandbox.aws.server import AwsSandbox
from pulumi_cluster_connect.sandbox.stacks import StackFactory

REPO = Path(__file__).resolve().parents[1]


def stacks(root: Path) -> StackFactory:
    """Stacks in a file backend under `root`. Providers defined in bench modules are pickled by reference, so the
    provider process must import them too: the repository goes on its PYTHONPATH."""
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    return StackFactory(root)


@contextmanager
def aws_sandbox(region: str) -> Iterator[SandboxControl]:
    """An in-process AwsSandbox for the block: boto3 here and the providers of the engine's deployments reach it
    through this process's environment (AWS_ENDPOINT_URL and test credentials, no profile)."""
    sandbox = AwsSandbox().start()
    os.environ.update(sandbox.client_environment(region))
    os.environ.pop("AWS_PROFILE", None)
    try:
        yield SandboxControl(sandbox.url)
    finally:
        sandbox.stop()


def timed(action: Callable[[], Any]) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


def load() -> str:
    """The machine's load averages (1, 5, 15 min), printed beside every figure: the machine is shared."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"

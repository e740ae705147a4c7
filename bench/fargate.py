"""Benchmark: `pulumi up`/`destroy` of N Fargate profiles against the sandbox, ours vs a botocore-waiter baseline."""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import pulumi  # noqa: E402
from pulumi.dynamic import Resource  # noqa: E402

from pulumi_cluster_connect._plumbing import errors, fargate_profiles  # noqa: E402
from pulumi_cluster_connect.dynamic_providers import fargate_profile as fp  # noqa: E402
from pulumi_cluster_connect.sandbox import seed  # noqa: E402

CLUSTER = seed.CLUSTER_NAME  # seeded on private subnets, with the pod execution role

N = 6
D = 5.0
REGION = "us-west-2"


class BaselineFargateProfileProvider(fp.FargateProfileProvider):
    """Our provider with its waits replaced by botocore's FargateProfileActive/Deleted waiters."""

    def _wait_active(
        self,
        eks: Any,
        profile: tuple[str, str],
        what: str,
        timeout: float,
        *,
        pace: Any = None,
        first_look: Any = None,
        took: Any = None,
    ) -> dict[str, Any]:
        cluster, name = profile
        eks.get_waiter("fargate_profile_active").wait(clusterName=cluster, fargateProfileName=name)
        found = fargate_profiles.find(eks, cluster, name)
        if found is None:
            raise errors.ClusterConnectError(f"{what} disappeared")
        return found

    def _delete_and_wait(
        self, eks: Any, profile: tuple[str, str], what: str, timeout: float, *, expected: Any = None
    ) -> None:
        cluster, name = profile
        eks.delete_fargate_profile(clusterName=cluster, fargateProfileName=name)
        eks.get_waiter("fargate_profile_deleted").wait(clusterName=cluster, fargateProfileName=name)


class BaselineFargateProfile(Resource, module="eks", name="BaselineFargateProfile"):
    arn: pulumi.Output[str]

    def __init__(self, resource_name: str, props: Mapping[str, Any]) -> None:
        # Imported by module path so the provider process (PYTHONPATH=repo) unpickles it by reference.
        provider = importlib.import_module("bench.fargate").BaselineFargateProfileProvider()
        super().__init__(provider, resource_name, {**props, "arn": None, "status": None})


def program(count: int, baseline: bool, role: str = "") -> Callable[[], None]:
    def run() -> None:
        for i in range(count):
            props = {
                "cluster_name": CLUSTER,
                "fargate_profile_name": f"p{i}",
                "pod_execution_role_arn": role,
                "selectors": [{"namespace": f"ns{i}"}],
            }
            if baseline:
                importlib.import_module("bench.fargate").BaselineFargateProfile(f"p{i}", props)
            else:
                fp.FargateProfile(f"p{i}", **props)  # type: ignore[arg-type]

    return run


def timed(action: Callable[[], Any]) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


def main() -> None:
    from pulumi_cluster_connect.cli import engine
    from pulumi_cluster_connect.sandbox.aws.control import SandboxControl
    from pulumi_cluster_connect.sandbox.aws.server import AwsSandbox
    from pulumi_cluster_connect.sandbox.stacks import StackFactory

    engine.ensure_on_path()
    sandbox = AwsSandbox().start()
    os.environ.update(
        sandbox.client_environment(REGION),
        # The baseline provider lives in this script's folder: its provider process must import it too.
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p),
    )
    control = SandboxControl(sandbox.url)

    print(f"N={N} profiles, d={D:.0f}s per create and per delete; physical limit N x d = {N * D:.0f}s")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            factory = StackFactory(Path(tmp))
            for label, baseline in (("ours", False), ("baseline (botocore waiters)", True)):
                control.reset()
                control.set_durations(fargate_create=D, fargate_delete=D)
                role = seed.seed()["podExecutionRoleArn"]
                stack = factory.inline(program(0, baseline), stack="ours" if not baseline else "baseline")
                empty_up = timed(stack.up)
                stack.stack.workspace.program = program(N, baseline, role)
                control.reset_calls()
                full_up = timed(stack.up)
                up_calls = control.calls()
                control.reset_calls()
                full_destroy = timed(stack.destroy)
                destroy_calls = control.calls()
                stack.stack.workspace.program = program(0, baseline)
                stack.up()
                empty_destroy = timed(stack.destroy)
                up_ratio = (full_up - empty_up) / (N * D)
                destroy_ratio = (full_destroy - empty_destroy) / (N * D)
                print(f"\n{label}")
                print(f"  up:      {full_up:6.1f}s - empty {empty_up:4.1f}s -> ratio {up_ratio:.3f}")
                print(f"  destroy: {full_destroy:6.1f}s - empty {empty_destroy:4.1f}s -> ratio {destroy_ratio:.3f}")
                print(f"  API calls per profile, up:      {_per_profile(up_calls)}")
                print(f"  API calls per profile, destroy: {_per_profile(destroy_calls)}")
    finally:
        sandbox.stop()


def _per_profile(calls: Mapping[str, int]) -> str:
    fargate_calls = {k: v for k, v in calls.items() if "Fargate" in k or "Tag" in k}
    total = sum(fargate_calls.values()) / N
    detail = ", ".join(f"{k} {v / N:.1f}" for k, v in sorted(fargate_calls.items()))
    return f"{total:.1f} ({detail})"


if __name__ == "__main__":
    main()

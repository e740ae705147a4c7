"""Benchmark: Fargate profiles on a fleet of clusters against the physical limit EKS sets, and API calls per operation.

EKS runs one Fargate profile operation at a time per cluster and different clusters at once, so C clusters with P
profiles each cannot be created faster than P x d (d: one operation). For each d this prints, for 1 x 6 (the
single-cluster baseline of the same run), 3 x 3 and 6 x 2 (clusters x profiles):

    ratio = (wall time of `pulumi up` creating them  -  wall time of an up with nothing to do) / (P x d)

(the up with nothing to do runs the same program once they exist), the same for `pulumi destroy`, with the API
calls per profile operation (create or delete plus describes) and, in brackets, how many of those describes are
the waits' looks (the rest are FargateProfile's crash-safety checks: is the name taken, one ListFargateProfiles per
cluster before its first create; whose profile is it, a describe before each delete).
Goals: ratio <= 1.10 and <= 4 calls per operation. Runs the real engine against an in-process AwsSandbox.

    .venv/bin/python bench/fleet.py [--durations 4.5 7.3] [--runs 1] [--write-docs]

--write-docs also writes the figures, the date, the command and the machine's load to docs/performance/fleet.json,
with a timeline of the 3 x 3 creates of the first duration, and draws the performance page's table and plots from
them (bench/plots.py).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import harness, plots  # noqa: E402
from pulumi_cluster_connect.cli import engine  # noqa: E402
from pulumi_cluster_connect.dynamic_providers.fargate_profile import FargateProfile  # noqa: E402
from pulumi_cluster_connect.sandbox import seed  # noqa: E402
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl  # noqa: E402
from pulumi_cluster_connect.sandbox.stacks import StackFactory  # noqa: E402

REGION = "us-west-2"
SHAPES = ((1, 6), (3, 3), (6, 2))
RATIO_GOAL, CALLS_GOAL = 1.10, 4.0
PROFILE_OPERATIONS = ("CreateFargateProfile", "DeleteFargateProfile", "DescribeFargateProfile", "ListFargateProfiles")
# Describes a create makes besides its wait (none: whether the name is taken comes from one ListFargateProfiles per
# cluster, counted among the calls) and a delete (whose profile is it now): what is left over are the waits' looks.
CHECKS_PER_CREATE, CHECKS_PER_DELETE = 0, 1


def program(clusters: int, profiles: int, role: str) -> Callable[[], None]:
    def run() -> None:
        for c in range(clusters):
            for p in range(profiles):
                FargateProfile(
                    f"c{c}-p{p}",
                    cluster_name=f"fleet-{c}",
                    fargate_profile_name=f"p{p}",
                    pod_execution_role_arn=role,
                    selectors=[{"namespace": f"apps-{p}"}],
                )

    return run


@dataclass
class Figures:
    up_ratio: float
    up_calls: float
    up_looks: float
    destroy_ratio: float
    destroy_calls: float
    destroy_looks: float
    others: dict[str, int]
    # Each profile's creation as EKS saw it, in seconds since `pulumi up` started: accepted -> ACTIVE.
    timeline: list[dict[str, Any]]
    up_seconds: float


def per_operation(calls: Mapping[str, int], operations: int) -> float:
    return sum(calls.get(name, 0) for name in PROFILE_OPERATIONS) / operations


def looks(calls: Mapping[str, int], operations: int, checks: int) -> float:
    """The waits' DescribeFargateProfile calls per operation."""
    return (calls.get("DescribeFargateProfile", 0) - checks * operations) / operations


def measure(stacks: StackFactory, control: SandboxControl, clusters: int, profiles: int, d: float) -> Figures:
    control.reset()
    control.set_durations(fargate_create=d, fargate_delete=d)
    seeded = seed.seed()  # private subnets, a cluster role, a pod execution role that trusts Fargate
    eks = boto3.client("eks", region_name=REGION)
    for c in range(clusters):
        eks.create_cluster(
            name=f"fleet-{c}",
            roleArn=seeded["clusterRoleArn"],
            resourcesVpcConfig={"subnetIds": seeded["privateSubnetIds"]},
        )
    role = seeded["podExecutionRoleArn"]
    stack = stacks.inline(program(0, 0, role), stack=f"fleet-{clusters}x{profiles}-{d:g}".replace(".", "_"))
    stack.up()
    limit = profiles * d
    operations = clusters * profiles

    stack.stack.workspace.program = program(clusters, profiles, role)
    control.reset_calls()
    started = time.time()
    up = harness.timed(stack.up)
    up_calls = control.calls()
    timeline = creations(eks, clusters, profiles, d, started)
    # The same program again, with nothing to do: the fixed cost of a deployment of this stack (engine, program,
    # provider process start, a check and diff per profile). Destroy is measured against it too.
    idle = statistics.median(harness.timed(stack.up) for _ in range(2))
    control.reset_calls()
    destroy = harness.timed(stack.destroy)
    destroy_calls = control.calls()
    others = {k: v for k, v in {**up_calls, **destroy_calls}.items() if k not in PROFILE_OPERATIONS}
    return Figures(
        up_ratio=(up - idle) / limit,
        up_calls=per_operation(up_calls, operations),
        up_looks=looks(up_calls, operations, CHECKS_PER_CREATE),
        destroy_ratio=(destroy - idle) / limit,
        destroy_calls=per_operation(destroy_calls, operations),
        destroy_looks=looks(destroy_calls, operations, CHECKS_PER_DELETE),
        others=others,
        timeline=timeline,
        up_seconds=up,
    )


def creations(eks: Any, clusters: int, profiles: int, d: float, started: float) -> list[dict[str, Any]]:
    """When EKS accepted each profile and when it became ACTIVE (accepted + d in the sandbox), since `started`."""
    found = []
    for c in range(clusters):
        for p in range(profiles):
            profile = eks.describe_fargate_profile(clusterName=f"fleet-{c}", fargateProfileName=f"p{p}")
            accepted = profile["fargateProfile"]["createdAt"].timestamp() - started
            found.append({"cluster": f"fleet-{c}", "profile": f"p{p}", "start": accepted, "end": accepted + d})
    return found


def verdict(ratio: float, calls: float) -> str:
    return "met" if ratio <= RATIO_GOAL and calls <= CALLS_GOAL else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--durations", type=float, nargs="+", default=[4.5, 7.3], help="d, seconds per operation")
    parser.add_argument("--runs", type=int, default=1, help="runs per shape (the median ratio is printed)")
    parser.add_argument(
        "--write-docs", action="store_true", help="write docs/performance/fleet.json, its table and plots"
    )
    args = parser.parse_args()
    record: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join(["bench/fleet.py", *sys.argv[1:]]),
        "machine": f"{os.cpu_count()} CPUs",
        "load_start": harness.load().split(" on ")[0],
        "results": [],
        "timeline": None,
    }

    engine.ensure_on_path()
    print(f"Fargate profiles on a fleet, goals: ratio <= {RATIO_GOAL:.2f}, <= {CALLS_GOAL:.0f} API calls per operation")
    with harness.aws_sandbox(REGION) as control, tempfile.TemporaryDirectory(prefix="bench-fleet-") as root:
        stacks = harness.stacks(Path(root))
        for d in args.durations:
            print(f"\nd = {d:g} s per profile operation ({harness.load()} at the start)")
            print(
                "  clusters x profiles   limit   up: ratio  calls/op (waits' looks)"
                "   destroy: ratio  calls/op (waits' looks)   verdict"
            )
            for clusters, profiles in SHAPES:
                runs = [measure(stacks, control, clusters, profiles, d) for _ in range(args.runs)]
                up_ratio = statistics.median(r.up_ratio for r in runs)
                destroy_ratio = statistics.median(r.destroy_ratio for r in runs)
                worst = max(runs, key=lambda r: r.up_calls + r.destroy_calls)
                label = f"{clusters} x {profiles}" + (" (baseline)" if clusters == 1 else "")
                print(
                    f"  {label:<20} {profiles * d:5.1f}s   {up_ratio:9.3f}  {worst.up_calls:8.2f} "
                    f"({worst.up_looks:4.2f})       {destroy_ratio:14.3f}  {worst.destroy_calls:8.2f} "
                    f"({worst.destroy_looks:4.2f})         "
                    f"{verdict(max(up_ratio, destroy_ratio), max(worst.up_calls, worst.destroy_calls))}"
                )
                if runs[-1].others:
                    print(f"    other calls: {runs[-1].others}")
                record["results"].append(
                    {
                        "d": d,
                        "clusters": clusters,
                        "profiles": profiles,
                        "limit": profiles * d,
                        "up_ratio": up_ratio,
                        "destroy_ratio": destroy_ratio,
                        "up_calls": worst.up_calls,
                        "up_looks": worst.up_looks,
                        "destroy_calls": worst.destroy_calls,
                        "destroy_looks": worst.destroy_looks,
                    }
                )
                if record["timeline"] is None and clusters > 1:
                    record["timeline"] = {
                        "d": d,
                        "clusters": clusters,
                        "profiles": profiles,
                        "up_seconds": runs[0].up_seconds,
                        "operations": runs[0].timeline,
                    }
            print(f"  ({harness.load()} at the end)")
    record["load_end"] = harness.load().split(" on ")[0]
    if args.write_docs:
        plots.FLEET.parent.mkdir(parents=True, exist_ok=True)
        plots.FLEET.write_text(json.dumps(record, indent=1) + "\n")
        for path in [plots.FLEET, *plots.write_fleet(record)]:
            print(f"wrote {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()

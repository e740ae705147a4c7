"""Benchmark: how close a three-step ClusterVersion upgrade, and then a rollback, come to their EKS update durations.

    ratio = (wall time of `pulumi up` 1.29 -> 1.32  -  wall time of an up with nothing to do) / (3 x u)
    rollback ratio = (wall time of `pulumi up` 1.32 -> 1.31 (a VersionRollback)  -  the same idle up) / u

with u the sandbox's update duration; the goal is ratio <= 1.10 at u = 5 s. The readiness checks run as they do
for users: the cluster has three add-ons (vpc-cni, coredns, kube-proxy at versions that run on 1.29 to 1.32),
each step reads EKS's upgrade insights and the add-ons' compatible versions, and the insights of every step
after the first are refreshed (the sandbox's refresh takes its default `insights_refresh` duration). The rollback
reads EKS's rules first (the update history, the cluster), its ROLLBACK_READINESS insights, the add-ons against
1.31, the node groups and the Fargate profiles. Also prints the API calls per step. Runs the real engine (built by
tools/pulumi/build.sh) against an in-process AwsSandbox seeded as the demo is.

    .venv/bin/python bench/upgrade.py [--update-seconds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pulumi

from pulumi_cluster_connect.cli import engine
from pulumi_cluster_connect.dynamic_providers.cluster_version import ClusterVersion
from pulumi_cluster_connect.sandbox import seed
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl
from pulumi_cluster_connect.sandbox.aws.server import AwsSandbox
from pulumi_cluster_connect.sandbox.aws.settings import Durations
from pulumi_cluster_connect.sandbox.stacks import StackFactory

REGION = "us-west-2"
CLUSTER = "bench"
STEPS = 3
GOAL = 1.10
# Versions that run on every minor from 1.29 to 1.32, so that no step is blocked and each one checks them all.
ADDONS = {"vpc-cni": "v1.18.3-eksbuild.2", "coredns": "v1.11.4-eksbuild.14", "kube-proxy": "v1.29.15-eksbuild.2"}
READINESS_CALLS = (
    "ListInsights",
    "DescribeInsight",
    "StartInsightsRefresh",
    "DescribeInsightsRefresh",
    "ListAddons",
    "DescribeAddon",
    "DescribeAddonVersions",
    "ListNodegroups",
)
ROLLBACK_CALLS = (*READINESS_CALLS, "ListUpdates", "DescribeUpdate", "DescribeClusterVersions", "ListFargateProfiles")


def program(version: str) -> Callable[[], None]:
    def run() -> None:
        upgrade = ClusterVersion("upgrade", cluster_name=CLUSTER, version=version)
        pulumi.export("version", upgrade.version)

    return run


def timed(action: Callable[[], Any]) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


def install_addons(eks: Any) -> None:
    for name, version in ADDONS.items():
        eks.create_addon(clusterName=CLUSTER, addonName=name, addonVersion=version)
    deadline = time.monotonic() + 60
    while any(eks.describe_addon(clusterName=CLUSTER, addonName=n)["addon"]["status"] != "ACTIVE" for n in ADDONS):
        if time.monotonic() > deadline:
            raise TimeoutError("add-ons not ACTIVE")
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update-seconds", type=float, default=5.0, help="u, the sandbox's update duration")
    parser.add_argument("--idle-runs", type=int, default=3, help="ups with nothing to do (median taken)")
    args = parser.parse_args()
    u: float = args.update_seconds

    engine.ensure_on_path()
    sandbox = AwsSandbox().start()
    os.environ.update(sandbox.client_environment(REGION))
    os.environ.pop("AWS_PROFILE", None)
    try:
        control = SandboxControl(sandbox.url)
        control.set_durations(cluster_update=u, addon_update=0.5)
        seeded = seed.seed()
        eks = boto3.session.Session(region_name=REGION).client("eks")
        eks.create_cluster(
            name=CLUSTER,
            version="1.29",
            roleArn=seeded["clusterRoleArn"],
            resourcesVpcConfig={"subnetIds": seeded["privateSubnetIds"]},
        )
        install_addons(eks)

        with tempfile.TemporaryDirectory(prefix="bench-upgrade-") as root:
            factory = StackFactory(Path(root))
            factory.inline(program("1.29"), stack="bench").up()
            idle = [timed(factory.inline(program("1.29"), stack="bench").up) for _ in range(args.idle_runs)]
            control.reset_calls()
            upgrade = timed(factory.inline(program("1.32"), stack="bench").up)
            calls = control.calls()
            assert eks.describe_cluster(name=CLUSTER)["cluster"]["version"] == "1.32"
            control.reset_calls()
            rollback = timed(factory.inline(program("1.31"), stack="bench").up)
            rollback_calls = control.calls()

        assert eks.describe_cluster(name=CLUSTER)["cluster"]["version"] == "1.31"
        idle_median = statistics.median(idle)
        ratio = (upgrade - idle_median) / (STEPS * u)
        verdict = "met" if ratio <= GOAL else "MISSED"
        readiness_calls = {op: calls[op] for op in READINESS_CALLS if calls.get(op)}
        print(f"update duration u         : {u:.1f} s (insights refresh {Durations().insights_refresh:.1f} s)")
        print(f"up with nothing to do     : {idle_median:.2f} s (median of {', '.join(f'{t:.2f}' for t in idle)})")
        print(f"up 1.29 -> 1.32, {STEPS} steps : {upgrade:.2f} s")
        print(f"{STEPS} x u                     : {STEPS * u:.2f} s")
        print(f"ratio                     : {ratio:.3f} (goal <= {GOAL:.2f}: {verdict})")
        print(f"DescribeUpdate calls/step : {calls.get('DescribeUpdate', 0) / STEPS:.1f}")
        print(f"readiness calls (all)     : {sum(readiness_calls.values())} {readiness_calls}")
        rollback_ratio = (rollback - idle_median) / u
        rollback_verdict = "met" if rollback_ratio <= GOAL else "MISSED"
        checks = {op: rollback_calls[op] for op in ROLLBACK_CALLS if rollback_calls.get(op)}
        print(f"up 1.32 -> 1.31, rollback : {rollback:.2f} s")
        print(f"rollback ratio            : {rollback_ratio:.3f} (goal <= {GOAL:.2f}: {rollback_verdict})")
        print(f"rollback reads (all)      : {sum(checks.values())} {checks}")
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()

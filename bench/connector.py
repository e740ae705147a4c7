"""Benchmark: how soon `pulumi up` of an EksConnectedCluster ends after the EKS Connector agent connects.

For agent delays of 0, 5, 15 and 30 s (from the agent first seeing its activation to connecting), this prints the
seconds from the connection (the sandbox turns the registration ACTIVE) to the end of the deployment (the engine's
summary event), to the CLI's last event, and the DescribeCluster calls the wait made. Goal: the deployment ends
within 2 s of the connection. (`Stack.up` of the Automation API returns about a second later still: it runs
`pulumi stack output` and `pulumi stack history` after the update.) Runs the real engine against an in-process
AwsSandbox, a real kube-apiserver and the simulated agent.

    .venv/bin/python bench/connector.py [--delays 0 5 15 30]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pulumi
from pulumi import automation as auto

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import harness  # noqa: E402
from pulumi_cluster_connect.cli import engine  # noqa: E402
from pulumi_cluster_connect.components.eks_connected_cluster import EksConnectedCluster  # noqa: E402
from pulumi_cluster_connect.sandbox import kubernetes, seed  # noqa: E402
from pulumi_cluster_connect.sandbox.agent import SimulatedAgent  # noqa: E402
from pulumi_cluster_connect.sandbox.aws import registrations  # noqa: E402
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl  # noqa: E402
from pulumi_cluster_connect.sandbox.stacks import StackFactory  # noqa: E402

REGION = "us-west-2"
GOAL = 2.0


def program(kubeconfig: str, role_arn: str, cluster_name: str) -> Callable[[], None]:
    def run() -> None:
        cluster = EksConnectedCluster(
            "edge",
            {
                "cluster_name": cluster_name,
                "kubeconfig": pulumi.Output.secret(kubeconfig),
                "connector_provider": "OTHER",
                "role_arn": role_arn,
                "region": REGION,
                "timeout_seconds": 300,
            },
        )
        pulumi.export("status", cluster.status)

    return run


@dataclass
class Connection:
    up: float
    to_summary: float
    to_last_event: float
    describes: int


def connect(stacks: StackFactory, control: SandboxControl, plane: kubernetes.ControlPlane, delay: float) -> Connection:
    control.reset()
    role = seed.seed()["connectorRoleArn"]  # trusts ssm.amazonaws.com, as RegisterCluster checks
    name = f"edge-{delay:g}".replace(".", "-")
    stack = stacks.inline(program(plane.kubeconfig_text(), role, name), stack=name)
    seen: dict[str, float] = {}

    def on_event(event: auto.EngineEvent) -> None:
        seen["last"] = time.time()
        if event.summary_event is not None:
            seen["summary"] = seen["last"]

    with SimulatedAgent(plane.kubeconfig_text(), connect_delay=delay):
        up = harness.timed(lambda: stack.up(on_event=on_event))
    describes = control.calls().get("DescribeCluster", 0)
    registration = registrations.registration(REGION, name)
    assert registration is not None and registration.connected_at is not None
    stack.destroy()
    connected = registration.connected_at
    return Connection(up, seen["summary"] - connected, seen["last"] - connected, describes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delays", type=float, nargs="+", default=[0.0, 5.0, 15.0, 30.0])
    args = parser.parse_args()

    engine.ensure_on_path()
    with harness.aws_sandbox(REGION) as control:
        plane = kubernetes.start_temporary()
        try:
            measure_delays(control, plane, args.delays)
        finally:
            kubernetes.stop_temporary(plane)


def measure_delays(control: SandboxControl, plane: kubernetes.ControlPlane, delays: list[float]) -> None:
    print(f"EKS Connector up: seconds from the agent connecting to the end of the deployment (goal <= {GOAL:.0f} s)")
    print(f"({harness.load()} at the start)")
    print("  agent delay   up       connected -> deployment ended   -> CLI done   DescribeCluster calls   verdict")
    with tempfile.TemporaryDirectory(prefix="bench-connector-") as root:
        stacks = harness.stacks(Path(root))
        for delay in delays:
            c = connect(stacks, control, plane, delay)
            print(
                f"  {delay:8.0f} s  {c.up:5.1f} s  {c.to_summary:28.2f} s  {c.to_last_event:8.2f} s  "
                f"{c.describes:22d}   {'met' if c.to_summary <= GOAL else 'MISSED'}"
            )
    print(f"({harness.load()} at the end)")


if __name__ == "__main__":
    main()

"""Killed `pulumi up` runs recovered as the docs say: the world equals the state, and nothing is left after destroy.

Three runs of bench/crash_recovery.py (which runs twenty and prints the count converged).
"""

from __future__ import annotations

from pathlib import Path

from bench import crash_recovery
from pulumi_cluster_connect.sandbox import kubernetes
from pulumi_cluster_connect.sandbox.agent import SimulatedAgent
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl

# Seeds whose kills land early, midway and late in the steps (0.9 s, 3.6 s and 6.4 s after the first one began).
SEEDS = (14, 11, 6)


def test_killed_ups_recover_to_a_world_equal_to_the_state_and_destroy_leaves_nothing(
    pulumi_engine: Path,
    aws: SandboxControl,
    kube: kubernetes.ControlPlane,
    agent: SimulatedAgent,
    tmp_path: Path,
) -> None:
    peers = crash_recovery.Peers(aws, {}, kube.kubeconfig_text())
    outcomes = [crash_recovery.run_once(peers, tmp_path, seed) for seed in SEEDS]
    assert [o.line() for o in outcomes if not o.converged] == []
    assert sum(o.killed for o in outcomes) >= 2, [o.line() for o in outcomes]

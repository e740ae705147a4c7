"""One killed `pulumi up` recovered as the README says, on this leg's SDK and engine (bench/crash_recovery.py)."""

from __future__ import annotations

from pathlib import Path

from bench import crash_recovery
from pulumi_cluster_connect.sandbox import kubernetes
from pulumi_cluster_connect.sandbox.agent import SimulatedAgent
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl

from .conftest import Leg

SEED = 11  # a kill midway through the steps (3.6 s after the first began), as in tests/integration


def test_a_killed_up_recovers_to_a_world_equal_to_the_state_and_destroy_leaves_nothing(
    leg: Leg, aws: SandboxControl, kube: kubernetes.ControlPlane, agent: SimulatedAgent, tmp_path: Path
) -> None:
    outcome = crash_recovery.run_once(crash_recovery.Peers(aws, {}, kube.kubeconfig_text()), tmp_path, SEED)
    assert outcome.converged, f"{leg}: {outcome.line()}"

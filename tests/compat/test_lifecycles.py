"""Every resource kind through the leg's SDK and engine: preview, up, refresh, an update, destroy.

The examples cover the nine kinds between them (eks-connector: RegisteredCluster, KubernetesManifest,
ConnectionWait; fargate: FargateProfile; upgrade: ClusterVersion; loft: KubernetesManifest, ServiceAccountKubeconfig,
LoftClusterConnect, LoftClusterInitialized; loft:v4: HelmRelease), configured as tests/integration/test_examples.py
configures them; the update is one config change each.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pulumi import automation as auto

from pulumi_cluster_connect import dynamic_providers
from pulumi_cluster_connect.sandbox.kubernetes import ControlPlane
from pulumi_cluster_connect.sandbox.stacks import StackFactory
from tests.integration.test_examples import CASES, EXAMPLES

from .conftest import Leg

# Per example: the config key changed by the update, and its new value (a list is set item by item).
UPDATES: dict[str, tuple[str, str | list[str]]] = {
    "eks-connector": ("consoleAccessArns", ["arn:aws:iam::123456789012:user/alice"]),
    "fargate": ("namespaces", ["apps", "batch"]),
    "upgrade": ("version", "1.32"),
    "loft": ("ownerTeam", "apps"),
    "loft:v4": ("ownerTeam", "apps"),
}
KINDS = set(dynamic_providers.__all__)
seen_types: set[str] = set()


@pytest.mark.parametrize("example", sorted(UPDATES))
def test_each_kind_previews_ups_refreshes_updates_and_destroys(
    example: str,
    leg: Leg,
    stacks: StackFactory,
    kube: ControlPlane,
    request: pytest.FixtureRequest,
) -> None:
    request.getfixturevalue("aws")  # the AWS sandbox, reset
    tmp_path: Path = request.getfixturevalue("tmp_path")
    folder = example.split(":", maxsplit=1)[0]
    project = shutil.copytree(EXAMPLES / folder, tmp_path / folder)
    stack = stacks.project(project)
    verify = CASES[example](stack, request)

    preview = stack.preview()
    assert set(preview.change_summary) == {"create"}, f"{leg}: {example} preview: {preview.change_summary}"
    verify({key: output.value for key, output in stack.up().outputs.items()})
    seen_types.update(r["type"] for r in stack.resources() if r["type"].startswith("pulumi-python:dynamic/"))

    stack.refresh()
    assert set(stack.preview().change_summary) == {"same"}, f"{leg}: {example} drifted after a refresh"

    key, value = UPDATES[example]
    if isinstance(value, list):
        for index, item in enumerate(value):
            stack.stack.set_config(f"{key}[{index}]", auto.ConfigValue(item), path=True)
    else:
        stack.set_config(key, value)
    changes = stack.up().summary.resource_changes or {}
    assert set(changes) - {"same"}, f"{leg}: {example}: changing {key} changed nothing: {changes}"
    assert set(stack.preview().change_summary) == {"same"}, f"{leg}: {example} not converged after the update"

    assert kube.token not in stack.state_text(), f"{leg}: {example} stored the kubeconfig's token in plaintext"
    assert kube.token not in stack.output, f"{leg}: {example} showed the kubeconfig's token"
    stack.destroy()
    assert stack.resources() == [], f"{leg}: {example} left resources in the state"


def test_the_examples_above_covered_every_kind(leg: Leg) -> None:
    if not seen_types:
        pytest.skip("runs after the lifecycle tests, in the same session")
    # One type token per public resource class (tests/unit/test_public_contract.py pins which).
    assert len(seen_types) == len(KINDS), f"{leg}: {len(KINDS)} kinds, exercised: {sorted(seen_types)}"

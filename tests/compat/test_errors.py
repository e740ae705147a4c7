"""Errors read as the user sees them on this leg's SDK and engine: our one sentence, no traceback, no secret.

The SDK decides how an exception from a provider method reaches the engine (pulumi/dynamic/__main__.py; since SDK
3.260 every servicer method is wrapped in `_abort_with_traceback`). _plumbing/reporting.py answers the gRPC call
itself; when an SDK changes that path, these tests fail and their message names the SDK and engine that did it.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from pulumi_cluster_connect.dynamic_providers.cluster_version import ClusterVersion
from pulumi_cluster_connect.dynamic_providers.fargate_profile import FargateProfile
from pulumi_cluster_connect.dynamic_providers.kubernetes_manifest import KubernetesManifest
from pulumi_cluster_connect.sandbox import seed
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl
from pulumi_cluster_connect.sandbox.stacks import StackFactory, TestStack
from tests.integration.test_bad_input import CONFIG_MAP, TOKEN, kubeconfig

from .conftest import Leg

REGION = "us-west-2"
# What grpc's server says when an exception escapes a servicer; a Python traceback.
GRPC_WRAPPING, TRACEBACK = "Exception calling application", "Traceback (most recent call last)"


def shown(stack: TestStack, failed: pytest.ExceptionInfo[auto.CommandError]) -> str:
    return stack.output + "\n" + str(failed.value)


def assert_one_sentence(leg: Leg, text: str, sentence: str) -> None:
    """`sentence` is shown, with no traceback or gRPC wrapping around it: else the failure names the leg."""
    tail = text[-1500:]
    assert sentence in text, f"{leg}: the user does not read our sentence {sentence!r}; they read:\n{tail}"
    assert TRACEBACK not in text, f"{leg}: the user reads a Python traceback:\n{tail}"
    assert GRPC_WRAPPING not in text, f"{leg}: the user reads grpc's {GRPC_WRAPPING!r}:\n{tail}"


@pytest.fixture
def seeded(aws: SandboxControl, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    aws.set_durations(fargate_create=0.5, fargate_delete=0.5)
    return seed.seed()


def test_a_failing_create_reads_as_our_sentence_without_the_kubeconfigs_token(leg: Leg, stacks: StackFactory) -> None:
    def program() -> None:
        KubernetesManifest("app", kubeconfig=kubeconfig("https://127.0.0.1:9"), objects=[CONFIG_MAP])

    stack = stacks.inline(program)
    with pytest.raises(auto.CommandError) as failed:
        stack.up()
    text = shown(stack, failed)
    assert_one_sentence(
        leg, text, "read of v1/ConfigMap/default/c failed on https://127.0.0.1:9: Unreachable: ConnectError"
    )
    assert TOKEN not in text, f"{leg}: the kubeconfig's token is shown"
    assert TOKEN not in stack.state_text(), f"{leg}: the kubeconfig's token is stored in plaintext"


def test_the_issues_program_reads_as_our_sentences(leg: Leg, stacks: StackFactory, seeded: dict[str, Any]) -> None:
    """Issue 28's program: a profile on a cluster that does not exist, a version below the cluster's."""
    role = seeded["podExecutionRoleArn"]

    def program() -> None:
        FargateProfile("web", cluster_name="nope", pod_execution_role_arn=role, selectors=[{"namespace": "web"}])
        ClusterVersion("upgrade", cluster_name=seed.CLUSTER_NAME, version="1.29")

    stack = stacks.inline(program)
    with pytest.raises(auto.CommandError) as failed:
        stack.up()
    text = shown(stack, failed)
    assert_one_sentence(leg, text, "EKS CreateFargateProfile failed")
    assert_one_sentence(leg, text, "ResourceNotFoundException: No cluster found for name: nope")
    # A version below the cluster's is a rollback; one the cluster was created at has nothing to roll back.
    assert_one_sentence(leg, text, f"rollback {seed.CLUSTER_VERSION} -> 1.29 is refused")


def test_a_check_failure_reads_as_our_sentence_without_the_token(leg: Leg, stacks: StackFactory) -> None:
    text = yaml.safe_dump(kubeconfig("https://127.0.0.1:9")).replace(f"token: {TOKEN}", f"token: {TOKEN}: [")

    def program() -> None:
        KubernetesManifest("app", kubeconfig=text, objects=[CONFIG_MAP])

    stack = stacks.inline(program)
    for run in (stack.preview, stack.up):
        with pytest.raises(auto.CommandError) as failed:
            run()
        output = shown(stack, failed)
        assert_one_sentence(leg, output, "is not valid YAML or JSON (line")
        assert TOKEN not in output, f"{leg}: a check failure shows the kubeconfig's token"
    assert stack.resources("Manifest") == [], f"{leg}: a failed check left a resource"

"""One program can declare thousands of our resources: the SDK's pickler wrapping never reaches our providers."""

from __future__ import annotations

import itertools
import pickle
from collections.abc import Callable, Iterator
from typing import Any

import pulumi
import pytest
from pulumi.dynamic import ResourceProvider

from pulumi_cluster_connect.dynamic_providers import (
    ClusterVersion,
    ConnectionWait,
    FargateProfile,
    HelmRelease,
    KubernetesManifest,
    LoftClusterConnect,
    LoftClusterInitialized,
    RegisteredCluster,
    ServiceAccountKubeconfig,
)

from .test_provider_pickling import provider_classes

COUNT = 5000
ROLE = "arn:aws:iam::123456789012:role/r"
KUBECONFIG = "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts: [{name: c, context: {cluster: c}}]\n"
CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m", "namespace": "default"}}


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.registered = 0

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.registered += 1
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


DECLARE: list[Callable[[int], pulumi.CustomResource]] = [
    lambda i: FargateProfile(
        f"profile-{i}", cluster_name=f"c{i % 50}", pod_execution_role_arn=ROLE, selectors=[{"namespace": "n"}]
    ),
    lambda i: ClusterVersion(f"version-{i}", cluster_name=f"c{i}", version="1.32"),
    lambda i: RegisteredCluster(f"registered-{i}", connector_provider="OTHER", role_arn=ROLE),
    lambda i: ConnectionWait(f"wait-{i}", cluster_name=f"c{i}", activation_id="a"),
    lambda i: KubernetesManifest(f"manifest-{i}", kubeconfig=KUBECONFIG, objects=[CONFIGMAP]),
    lambda i: ServiceAccountKubeconfig(f"sa-{i}", admin_kubeconfig=KUBECONFIG, namespace="n", secret_name="s"),
    lambda i: LoftClusterConnect(f"loft-{i}", cluster_name=f"c{i}", loft_url="https://loft", access_key="k"),
    lambda i: HelmRelease(f"helm-{i}", kubeconfig=KUBECONFIG, release_name="r", namespace="n", chart="c"),
    lambda i: LoftClusterInitialized(f"init-{i}", cluster_name=f"c{i}", loft_url="https://loft", access_key="k"),
]


@pytest.fixture(autouse=True)
def pickler_as_other_tests_found_it() -> Iterator[None]:
    """serialize_provider wraps the pure-Python pickler's `_batch_setitems` once per resource and never unwraps it
    (pulumi/pulumi#17803): after 5,000 resources, later tests of this process that pickle a dict would overflow."""
    original = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]
    yield
    pickle._Pickler._batch_setitems = original  # type: ignore[attr-defined]


def test_a_program_declares_five_thousand_of_our_resources() -> None:
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="fleet", stack="many", preview=False)
    declare = itertools.cycle(DECLARE)

    resources = [next(declare)(i) for i in range(COUNT)]
    pulumi.runtime.sync_await._sync_await(pulumi.runtime.stack.wait_for_rpcs())

    assert len(resources) == COUNT
    assert mocks.registered == COUNT


@pytest.mark.parametrize("provider_class", provider_classes(), ids=lambda cls: cls.__name__)
def test_a_new_provider_has_no_instance_attributes_to_pickle(provider_class: type[ResourceProvider]) -> None:
    # An attribute set in __init__ makes serialize_provider pickle a dict, which walks the SDK's ever-growing
    # chain of pickler wrappers: a RecursionError after ~490 resources (pulumi/pulumi#17803).
    assert vars(provider_class()) == {}

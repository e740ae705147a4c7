"""The SDK internals we lean on, each pinned through this leg's real provider process, named in the failure.

- _plumbing/serving.py: `python -m pulumi.dynamic` serves calls from a `concurrent.futures.ThreadPoolExecutor` of
  4 workers, reached through the worker thread's `_args[0]` weak reference, whose `_max_workers` can be raised.
- _plumbing/reporting.py: the servicer method (Create, ...) calls the provider with its gRPC `context` as a local,
  found on the call stack (`reporting.servicer_context`).
- _plumbing/configured.py: the SDK pickles the provider with dill (`serialize_provider`) into every resource's
  state; ours has an empty instance `__dict__`, so its pickle holds no state (pulumi/pulumi#17803: the SDK's
  pickler wrapping would otherwise be walked once per resource and overflow the stack).
"""

from __future__ import annotations

import base64
import importlib.metadata
import json
import pickletools
import sys
from collections.abc import Callable
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, Resource, ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider

from pulumi_cluster_connect.dynamic_providers.kubernetes_manifest import KubernetesManifest
from pulumi_cluster_connect.sandbox.kubernetes import ControlPlane
from pulumi_cluster_connect.sandbox.stacks import StackFactory
from tests.unit.test_provider_pickling import provider_classes

from .conftest import Leg

OUTPUTS = ("sdk", "python", "main", "context_found", "pool", "workers", "widened_to")


def probe_resource() -> Callable[[str], Resource]:
    """A dynamic resource whose create reports what the provider process runs. Defined in a function, so that dill
    pickles it by value (the provider process cannot import the tests)."""

    class ProbeProvider(ResourceProvider):
        def create(self, props: dict[str, Any]) -> CreateResult:
            import importlib.metadata as provider_metadata
            import sys as provider_sys

            from pulumi_cluster_connect._plumbing import reporting, serving

            pool = serving.serving_pool()
            workers = getattr(pool, "_max_workers", None)
            widened = serving.widen()
            main_spec = getattr(provider_sys.modules.get("__main__"), "__spec__", None)
            return CreateResult(
                "probe",
                {
                    "sdk": provider_metadata.version("pulumi"),
                    "python": provider_sys.executable,
                    "main": getattr(main_spec, "name", None),
                    "context_found": reporting.servicer_context() is not None,
                    "pool": type(pool).__module__ + "." + type(pool).__qualname__,
                    "workers": workers,
                    "widened_to": getattr(pool, "_max_workers", None) if widened else None,
                },
            )

    class Probe(Resource):
        def __init__(self, name: str) -> None:
            super().__init__(ProbeProvider(), name, dict.fromkeys(OUTPUTS))

    return Probe


def test_the_provider_process_runs_this_legs_sdk_and_the_internals_we_lean_on(
    leg: Leg, stacks: StackFactory, kube: ControlPlane
) -> None:
    probe = probe_resource()

    def program() -> None:
        found = probe("probe")
        for key in OUTPUTS:
            pulumi.export(key, getattr(found, key))
        KubernetesManifest(
            "settings",
            kubeconfig=kube.kubeconfig_text(),
            objects=[{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "compat-probe"}, "data": {}}],
        )

    stack = stacks.inline(program)
    stack.up()
    seen = stack.outputs()
    try:
        assert seen["sdk"] == leg.sdk == importlib.metadata.version("pulumi"), (
            f"{leg}: the provider process imported pulumi {seen['sdk']} ({seen['python']}), not the leg's SDK"
        )
        assert seen["python"] == sys.executable, f"{leg}: the provider process ran {seen['python']}"
        assert seen["main"] == "pulumi.dynamic.__main__", f"{leg}: the provider process's main is {seen['main']}"
        assert seen["context_found"], (
            f"{leg}: reporting.servicer_context() found no gRPC context on the call stack of Create: errors would "
            "reach users as the SDK words them (_plumbing/reporting.py)"
        )
        assert (seen["pool"], seen["workers"]) == ("concurrent.futures.thread.ThreadPoolExecutor", 4), (
            f"{leg}: the SDK serves from {seen['pool']} with {seen['workers']} workers, not the ThreadPoolExecutor(4) "
            "_plumbing/serving.py widens"
        )
        assert seen["widened_to"] == 64, f"{leg}: serving.widen() did not widen the SDK's pool: {seen['widened_to']}"

        [manifest] = stack.resources(":Manifest")
        stored = manifest["outputs"]["__provider"]  # a secret: shown as {<sig>: ..., "plaintext": <JSON text>}
        pickled = base64.b64decode(json.loads(stored["plaintext"]) if isinstance(stored, dict) else stored)
        opcodes = {op.name for op, _, _ in pickletools.genops(pickled)}
        assert "BUILD" not in opcodes, (
            f"{leg}: the provider pickled into the state carries instance state (pulumi/pulumi#17803, "
            "_plumbing/configured.py)"
        )
    finally:
        stack.destroy()


def test_six_hundred_providers_pickle_as_the_sdk_does_without_instance_state(leg: Leg) -> None:
    """The SDK's serialize_provider, called once per resource as a program does (pulumi/pulumi#17803)."""
    for cls in provider_classes():
        for _ in range(600):
            data = base64.b64decode(serialize_provider(cls()))
        opcodes = {op.name for op, _, _ in pickletools.genops(data)}
        assert "BUILD" not in opcodes, f"{leg}: {cls.__name__} pickles with instance state"

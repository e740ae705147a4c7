"""Errors through the SDK's own provider server (`python -m pulumi.dynamic`), spoken to over gRPC as the engine does.

Runs under whichever pulumi SDK the environment has: the pinned one here, the oldest under `make unit-oldest`, the
newest in the compatibility suite. A failure names the SDK, since what it checks is how that SDK's server treats
the exception our provider raises (SDK 3.260 and later wrap each servicer method and abort again with a traceback).
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2  # type: ignore[import-untyped]
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from pulumi_cluster_connect.dynamic_providers.fargate_profile import FargateProfileProvider
from pulumi_cluster_connect.dynamic_providers.kubernetes_manifest import KubernetesManifestProvider

SDK = importlib.metadata.version("pulumi")
TOKEN = "sha256~token-the-server-must-not-echo-0123"
URN = "urn:pulumi:dev::proj::pulumi-python:dynamic:Resource::app"
TRACEBACK, GRPC_WRAPPING = "Traceback (most recent call last)", "Exception calling application"
KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "current-context": "c",
    "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
    "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:9", "insecure-skip-tls-verify": True}}],
    "users": [{"name": "u", "user": {"token": TOKEN}}],
}
CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}


@pytest.fixture
def provider_server() -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """The SDK's dynamic provider server in its own process, as `pulumi-resource-pulumi-python` starts it; AWS
    behind an endpoint nobody listens on."""
    environment = {
        **os.environ,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_DEFAULT_REGION": "us-west-2",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.dynamic"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().strip())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield provider_pb2_grpc.ResourceProviderStub(channel)
    finally:
        process.kill()
        process.wait()


def properties(values: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def test_a_failing_create_answers_with_our_sentence_and_nothing_else(
    provider_server: provider_pb2_grpc.ResourceProviderStub,
) -> None:
    props = {
        "__provider": serialize_provider(KubernetesManifestProvider()),
        "kubeconfig": KUBECONFIG,
        "objects": [CONFIG_MAP],
        "identity": URN,
    }
    with pytest.raises(grpc.RpcError) as failed:
        provider_server.Create(provider_pb2.CreateRequest(urn=URN, properties=properties(props)), timeout=60)
    error: Any = failed.value
    details = str(error.details())
    sdk = f"pulumi SDK {SDK}"
    assert error.code() == grpc.StatusCode.UNKNOWN, f"{sdk}: answered {error.code()}: {details}"
    assert "v1/ConfigMap/default/c" in details and "Unreachable" in details, f"{sdk}: our sentence is lost: {details}"
    assert TRACEBACK not in details, f"{sdk} answers a failing create with a traceback: {details}"
    assert GRPC_WRAPPING not in details, f"{sdk} wraps our sentence: {details}"
    assert "\n" not in details, f"{sdk}: more than one sentence: {details}"
    assert TOKEN not in details, f"{sdk}: the kubeconfig's token is in the message"


def test_the_engines_cancel_ends_a_wait_at_its_next_look(
    provider_server: provider_pb2_grpc.ResourceProviderStub,
) -> None:
    manifest = {"__provider": serialize_provider(KubernetesManifestProvider()), "kubeconfig": KUBECONFIG}
    manifest |= {"objects": [CONFIG_MAP], "identity": URN}
    with pytest.raises(grpc.RpcError):  # a first call configures a provider, which listens for the engine's Cancel
        provider_server.Create(provider_pb2.CreateRequest(urn=URN, properties=properties(manifest)), timeout=60)
    provider_server.Cancel(empty_pb2.Empty(), timeout=10)

    profile = {
        "__provider": serialize_provider(FargateProfileProvider()),
        "cluster_name": "platform",
        "fargate_profile_name": "web",
        "pod_execution_role_arn": "arn:aws:iam::123456789012:role/pods",
        "selectors": [{"namespace": "web"}],
        "identity": URN,
    }
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as failed:
        provider_server.Create(provider_pb2.CreateRequest(urn=URN, properties=properties(profile)), timeout=120)
    details = str(failed.value.details())
    sdk = f"pulumi SDK {SDK}"
    # Without the Cancel heard, the look at the unreachable endpoint is asked again for 20 s, then fails as such.
    assert "cancelled while waiting for" in details, f"{sdk}: the engine's Cancel did not reach the wait: {details}"
    assert time.monotonic() - started < 20, f"{sdk}: the wait went on after the Cancel"

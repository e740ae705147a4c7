"""Inline programs in one long process: a new engine on a port an earlier engine used is reached at once."""

from __future__ import annotations

import socket
from concurrent import futures

import grpc
import pytest
from pulumi.runtime import _grpc_settings

from pulumi_cluster_connect.sandbox import stacks

pytestmark = pytest.mark.unit


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _answer(channel: grpc.Channel) -> grpc.StatusCode:
    call = channel.unary_unary("/test.Nothing/Here", request_serializer=bytes, response_deserializer=bytes)
    try:
        call(b"", timeout=5)
    except grpc.RpcError as err:
        code: grpc.StatusCode = err.code()
        return code
    return grpc.StatusCode.OK


def test_a_channel_to_a_reused_port_does_not_inherit_the_old_engines_backoff() -> None:
    assert stacks.LOCAL_SUBCHANNEL_POOL in _grpc_settings._GRPC_CHANNEL_OPTIONS
    target = f"127.0.0.1:{_free_port()}"
    options = _grpc_settings._GRPC_CHANNEL_OPTIONS
    earlier = grpc.insecure_channel(target, options=options)  # the SDK never closes its channels
    assert _answer(earlier) == grpc.StatusCode.UNAVAILABLE  # that engine has gone
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    server.add_insecure_port(target)
    server.start()
    try:
        later = grpc.insecure_channel(target, options=options)
        # Reached: the server answers that it has no such method (a shared subchannel would say UNAVAILABLE).
        assert _answer(later) == grpc.StatusCode.UNIMPLEMENTED
    finally:
        server.stop(None)
        earlier.close()

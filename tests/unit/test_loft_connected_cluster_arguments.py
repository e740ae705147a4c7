"""LoftConnectedCluster rejects bad arguments before registering anything, under pulumi's mocks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pulumi
import pytest

from pulumi_cluster_connect.components import loft_connected_cluster as lcc

KUBECONFIG: dict[str, Any] = {
    "apiVersion": "v1",
    "current-context": "c",
    "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
    "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
    "users": [{"name": "u", "user": {"token": "t0ken-value"}}],
}


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.created: list[str] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.created.append(args.typ)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


@pytest.fixture
def mocks() -> Iterator[Mocks]:
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="proj", stack="dev", preview=False)
    yield mocks


def args(**overrides: Any) -> lcc.LoftConnectedClusterArgs:
    given: dict[str, Any] = {
        "loft_url": "https://loft.example.com",
        "access_key": "key-value",
        "cluster_name": "edge",
        "kubeconfig": KUBECONFIG,
        **overrides,
    }
    return given  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("overrides", "property_path"),
    [
        ({"loft_url": "ftp://user:pa55word@loft"}, "loft_url"),
        ({"cluster_name": "Edge_1"}, "cluster_name"),
        ({"owner": {"user": "a", "team": "b"}}, "owner"),
        ({"access": {"verbs": ["*"]}}, "access"),
        ({"insecure": True, "ca_data": "bm90IGEgY2VydA=="}, "ca_data"),
        ({"namespace": "Loft"}, "namespace"),
        ({"kubeconfig": ["not", "a", "kubeconfig"]}, "kubeconfig"),
        ({"timeout_seconds": "300"}, "timeout_seconds"),
        ({"mode": "helm"}, "mode"),
        ({"agent_values": {"token": "mine"}}, "agent_values"),
        ({"agent_values": ["token"]}, "agent_values"),
        ({"service_account": 3.0}, "service_account"),
        ({"adopt_existing": "yes"}, "adopt_existing"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_arguments_fail_before_anything_is_registered(
    mocks: Mocks, overrides: dict[str, Any], property_path: str
) -> None:
    with pytest.raises(pulumi.InputPropertiesError) as raised:
        lcc.LoftConnectedCluster("edge", args(**overrides))
    assert property_path in [e["property_path"] for e in raised.value.errors or []]
    assert mocks.created == []
    for secret in ("pa55word", "t0ken-value", "key-value"):
        assert secret not in str(raised.value)


def test_a_kubeconfig_as_text_or_as_a_map_is_accepted() -> None:
    import yaml

    for kubeconfig in (KUBECONFIG, yaml.safe_dump(KUBECONFIG), pulumi.Output.from_input(KUBECONFIG)):
        lcc._validate("edge", args(kubeconfig=kubeconfig))

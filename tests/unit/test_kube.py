"""Kubeconfigs are parsed once per process with libyaml's loader; every caller gets its own copy."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import yaml

from pulumi_cluster_connect._plumbing import errors, kube

SERVER, CA = "https://admin:pw@10.0.0.1:6443/k", "certificate-authority-data"

KUBECONFIG = """apiVersion: v1
kind: Config
current-context: edge
contexts: [{name: edge, context: {cluster: edge, user: admin}}]
clusters: [{name: edge, cluster: {server: "https://10.0.0.1:6443"}}]
users: [{name: admin, user: {token: abc}}]
"""


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    original = kube.load_yaml

    def counting(text: str) -> Any:
        seen.append(text)
        return original(text)

    monkeypatch.setattr(kube, "load_yaml", counting)
    kube._parsed.cache_clear()
    return seen


def test_the_same_kubeconfig_is_parsed_once_per_process(loads: list[str]) -> None:
    for _ in range(5):
        assert kube.server_of(KUBECONFIG) == "https://10.0.0.1:6443"
        kube.parse_kubeconfig(KUBECONFIG)

    assert loads == [KUBECONFIG]
    kube.parse_kubeconfig(KUBECONFIG.replace("10.0.0.1", "10.0.0.2"))
    assert len(loads) == 2


def test_a_caller_changing_its_parsed_kubeconfig_does_not_change_the_next_one(loads: list[str]) -> None:
    kube.parse_kubeconfig(KUBECONFIG)["contexts"].clear()

    assert kube.parse_kubeconfig(KUBECONFIG)["contexts"][0]["name"] == "edge"


def test_a_bad_kubeconfig_still_fails_every_time(loads: list[str]) -> None:
    for _ in range(2):
        with pytest.raises(ValueError, match="current-context"):
            kube.parse_kubeconfig("apiVersion: v1\nkind: Config\n")
        with pytest.raises(ValueError, match="not valid YAML"):
            kube.parse_kubeconfig("a: [unclosed")


def test_libyaml_is_used_when_pyyaml_was_built_with_it() -> None:
    assert yaml.__with_libyaml__
    assert kube.SAFE_LOADER.__name__ == "CSafeLoader"


HAMMER = """
import importlib, pkgutil, sys, threading
import lightkube.resources
from pulumi_cluster_connect._plumbing import kube

if sys.argv[1] == "loaded":
    kube.load_lightkube()
classes = []
for info in pkgutil.iter_modules(lightkube.resources.__path__, "lightkube.resources."):
    module = importlib.import_module(info.name)
    classes += [
        value for value in vars(module).values()
        if isinstance(value, type) and value.__module__ == module.__name__ and hasattr(value, "from_dict")
    ]

def first_use(resource_class, together):
    together.wait()
    try:
        resource_class.from_dict({"metadata": {"name": "x"}})
    except Exception:
        pass  # some kinds have required fields: only a crash matters here

for resource_class in classes:
    together = threading.Barrier(4)
    threads = [threading.Thread(target=first_use, args=(resource_class, together)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
print(len(classes))
"""


def _first_uses_in_four_threads(mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", HAMMER, mode],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_after_load_lightkube_threads_may_first_use_any_built_in_kind_at_the_same_moment() -> None:
    result = _first_uses_in_four_threads("loaded")

    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.strip()) > 100


def test_without_it_msgspec_crashes_the_process_so_the_warm_up_is_still_needed() -> None:
    # A run crashes about 6 times in 7 here, so up to five runs. When a msgspec release builds type information
    # safely, this fails: load_lightkube's warm-up may then go.
    runs = [_first_uses_in_four_threads("bare")]
    while runs[-1].returncode == 0 and len(runs) < 5:
        runs.append(_first_uses_in_four_threads("bare"))

    assert runs[-1].returncode == -11, [run.returncode for run in runs]
    assert "msgspec._core" in runs[-1].stderr


def test_a_kind_made_at_run_time_is_ready_once_and_then_returned_as_is() -> None:
    from lightkube.generic_resource import create_namespaced_resource

    widget = create_namespaced_resource("example.com", "v1", "Widget", "widgets")

    assert kube.ready(widget) is widget
    assert kube.ready(widget) is widget
    assert widget in kube._ready


def test_a_kubernetes_error_names_the_server_tried_without_its_credentials() -> None:
    import httpx2

    with pytest.raises(errors.KubernetesApiError) as raised, kube.translated_errors("read of v1/ConfigMap/d/c", SERVER):
        raise httpx2.ConnectError("refused")
    assert (
        str(raised.value)
        == "read of v1/ConfigMap/d/c failed on https://10.0.0.1:6443/k: Unreachable: ConnectError: refused"
    )
    assert kube.is_unreachable(raised.value)


def cluster(server: str, **entries: str) -> dict[str, Any]:
    return {
        "current-context": "c",
        "contexts": [{"name": "c", "context": {"cluster": "k"}}],
        "clusters": [{"name": "k", "cluster": {"server": server, **entries}}],
    }


def test_two_servers_trusted_through_the_same_ca_data_are_the_same_cluster() -> None:
    ca = "Y2VydGlmaWNhdGU="
    assert kube.same_cluster(cluster("https://a"), cluster("https://a"))
    assert kube.same_cluster(cluster("https://a", **{CA: ca}), cluster("https://b", **{CA: f" {ca}\n"}))
    assert not kube.same_cluster(cluster("https://a", **{CA: ca}), cluster("https://b", **{CA: "b3RoZXI="}))
    assert not kube.same_cluster(cluster("https://a"), cluster("https://b"))
    assert not kube.same_cluster(
        cluster("https://a", **{CA: "not base64!"}), cluster("https://b", **{CA: "not base64!"})
    )
    assert not kube.same_cluster(None, cluster("https://a"))


def test_the_api_translates_errors_itself_naming_the_object_and_the_server() -> None:
    from lightkube.resources.core_v1 import ConfigMap

    api = kube.Api(KUBECONFIG.replace("https://10.0.0.1:6443", "https://127.0.0.1:1"), timeout=5)
    with pytest.raises(errors.KubernetesApiError) as raised:
        api.get(ConfigMap, "c", "d", "v1/ConfigMap/d/c")
    assert str(raised.value).startswith("read of v1/ConfigMap/d/c failed on https://127.0.0.1:1: Unreachable: ")
    assert kube.is_unreachable(raised.value)

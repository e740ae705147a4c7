"""Kubeconfigs are parsed once per process with libyaml's loader; every caller gets its own copy."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import yaml

from pulumi_cluster_connect._plumbing import kube

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
    monkeypatch.setattr(kube, "_parsed", {})
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
import importlib, pkgutil, threading
import lightkube.resources
from pulumi_cluster_connect._plumbing import kube

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
        kube.ready(resource_class).from_dict({"metadata": {"name": "x"}})
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


def test_threads_that_first_use_a_kind_at_the_same_moment_do_not_crash_the_process() -> None:
    # Without kube.ready, msgspec's first conversion of a lightkube class in two threads at once crashes with a
    # segmentation fault (every run of this script, in a few hundred kinds).
    result = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", HAMMER], check=False, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.strip()) > 100

"""The pickled providers that land in every user's state refer only to `pulumi_cluster_connect.` modules."""

from __future__ import annotations

import base64
import importlib
import io
import pickle
import pkgutil
from typing import Any

import pytest
from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider

import pulumi_cluster_connect.dynamic_providers as package

OWN_TOP_LEVEL_FOLDERS = {"components", "dynamic_providers", "sandbox", "__main__"}
STATE_SIZE_LIMIT = 4096


def provider_classes() -> list[type[ResourceProvider]]:
    found = []
    for module_info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, ResourceProvider)
                and value is not ResourceProvider
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return found


class RecordingUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self.references: list[tuple[str, str]] = []

    def find_class(self, module: str, name: str) -> Any:
        self.references.append((module, name))
        return super().find_class(module, name)


def test_every_public_resource_has_a_provider_to_check() -> None:
    assert {cls.__name__ for cls in provider_classes()} >= {"KubernetesManifestProvider"}


@pytest.mark.parametrize("provider_class", provider_classes(), ids=lambda cls: cls.__name__)
def test_a_pickled_provider_refers_to_its_class_by_its_package_path(provider_class: type[ResourceProvider]) -> None:
    data = base64.b64decode(serialize_provider(provider_class()))
    unpickler = RecordingUnpickler(data)
    restored = unpickler.load()

    assert type(restored) is provider_class
    assert (provider_class.__module__, provider_class.__name__) in unpickler.references
    for module, _ in unpickler.references:
        assert module.split(".")[0] not in OWN_TOP_LEVEL_FOLDERS, module
    own = [module for module, _ in unpickler.references if "cluster_connect" in module]
    assert all(module.startswith("pulumi_cluster_connect.dynamic_providers.") for module in own), own
    assert len(data) < STATE_SIZE_LIMIT, f"{len(data)} bytes: something heavy is captured by value"

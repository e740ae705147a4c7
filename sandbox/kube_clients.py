"""Kubernetes clients for the sandbox's simulated agents, built from a kubeconfig given as text."""

from __future__ import annotations

from typing import Any

import httpx2
import lightkube
import msgspec
import yaml
from lightkube.models.meta_v1 import Status


def client(kubeconfig: str, field_manager: str, timeout: float = 10.0) -> lightkube.Client:
    config = lightkube.KubeConfig.from_dict(yaml.safe_load(kubeconfig))
    return lightkube.Client(config, field_manager=field_manager, timeout=httpx2.Timeout(timeout))


def ready(*kinds: Any) -> None:
    """Build msgspec's type information for these lightkube classes (and Status, what errors decode as) now.

    msgspec builds it on a class's first use and calls back into Python meanwhile, so two threads using a class
    for the first time at once crash the process (a segmentation fault in msgspec._core): the sandbox's agents
    poll from threads. Call this at import, which runs one thread at a time.
    """
    for kind in (Status, *kinds):
        msgspec.json.Decoder(kind)

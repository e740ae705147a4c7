"""Kubernetes clients for the sandbox's simulated agents, built from a kubeconfig given as text."""

from __future__ import annotations

import httpx2
import lightkube
import yaml


def client(kubeconfig: str, field_manager: str, timeout: float = 10.0) -> lightkube.Client:
    config = lightkube.KubeConfig.from_dict(yaml.safe_load(kubeconfig))
    return lightkube.Client(config, field_manager=field_manager, timeout=httpx2.Timeout(timeout))

"""Fargate profiles with their real lifecycle (filled in by the Fargate work)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .call import Call

HANDLERS: dict[str, Callable[[Call], dict[str, Any] | None]] = {}


def reset() -> None:
    pass

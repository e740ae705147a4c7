"""Markers by folder: tests/unit, tests/integration, tests/docs and tests/compat are marked by their name."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = Path(str(item.fspath)).resolve().relative_to(HERE).parts[0]
        if folder in ("unit", "integration", "docs", "compat"):
            item.add_marker(getattr(pytest.mark, folder))

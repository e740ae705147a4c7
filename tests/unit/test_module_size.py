"""Modules stay small enough to read in one sitting: at most 400 lines each, no exceptions. A module that grows past
it is split by job (a resource's input rules, its adapter to the create protocol, its service module)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE_FOLDERS = ("components", "dynamic_providers", "sandbox", "src")
LIMIT = 400


def package_modules() -> list[Path]:
    return sorted(
        p for folder in PACKAGE_FOLDERS for p in (REPO / folder).rglob("*.py") if "__pycache__" not in p.parts
    )


def test_it_finds_the_modules() -> None:
    names = {p.name for p in package_modules()}
    assert {"fargate_profile.py", "protocol.py", "handlers.py"} <= names


@pytest.mark.parametrize("module", package_modules(), ids=lambda p: str(p.relative_to(REPO)))
def test_a_module_fits_in_400_lines(module: Path) -> None:
    lines = len(module.read_text().splitlines())
    assert lines <= LIMIT, f"{lines} lines: split it by job"

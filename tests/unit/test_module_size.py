"""Modules stay small enough to read in one sitting: over ~400 lines, the module says why at its top."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE_FOLDERS = ("components", "dynamic_providers", "sandbox", "src")
LIMIT = 400
REASON_MARK = "Longer than 400 lines because"
TOP_LINES = 20


def package_modules() -> list[Path]:
    return sorted(
        p for folder in PACKAGE_FOLDERS for p in (REPO / folder).rglob("*.py") if "__pycache__" not in p.parts
    )


@pytest.mark.parametrize("module", package_modules(), ids=lambda p: str(p.relative_to(REPO)))
def test_a_long_module_says_at_its_top_why_it_is_long(module: Path) -> None:
    lines = module.read_text().splitlines()
    if len(lines) <= LIMIT:
        return
    top = "\n".join(lines[:TOP_LINES])
    assert REASON_MARK in top, f"{len(lines)} lines: split it, or say at its top '{REASON_MARK} ...'"

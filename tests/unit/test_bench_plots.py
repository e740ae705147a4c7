"""The performance page's figures, drawn from what bench/fleet.py --write-docs records: table and plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import plots

RUN: dict[str, Any] = {
    "date": "2026-12-07 03:53 UTC",
    "command": "bench/fleet.py --durations 4.5 --write-docs",
    "machine": "2 CPUs",
    "load_start": "load 0.50 0.40 0.30",
    "load_end": "load 0.60 0.40 0.30",
    "results": [
        {
            "d": 4.5,
            "clusters": c,
            "profiles": p,
            "limit": p * 4.5,
            "up_ratio": 1.05,
            "destroy_ratio": 1.01,
            "up_calls": 3.33,
            "up_looks": 2.0,
            "destroy_calls": 3.17,
            "destroy_looks": 1.17,
        }
        for c, p in ((1, 6), (3, 3), (6, 2))
    ],
    "timeline": {
        "d": 4.5,
        "clusters": 3,
        "profiles": 3,
        "up_seconds": 16.0,
        "operations": [
            {"cluster": f"fleet-{c}", "profile": f"p{p}", "start": 1.0 + 5 * p, "end": 5.5 + 5 * p}
            for c in range(3)
            for p in range(3)
        ],
    },
}


def test_the_table_says_when_how_and_under_what_load_the_figures_were_taken(tmp_path: Path) -> None:
    written = plots.write_fleet(RUN, tmp_path)
    assert [p.name for p in written] == ["fleet-figures.md", "fleet-ratio.png", "fleet-timeline.png"]
    table = (tmp_path / "fleet-figures.md").read_text()
    assert "2026-12-07 03:53 UTC" in table
    assert "`bench/fleet.py --durations 4.5 --write-docs`" in table
    assert "load 0.50 0.40 0.30 at the start" in table
    assert "| 4.5 | 3 x 3 | 13.5 | 1.050 | 3.33 (2.00) | 1.010 | 3.17 (1.17) |" in table


def test_the_plots_are_png_images(tmp_path: Path) -> None:
    plots.write_fleet(RUN, tmp_path)
    for name in ("fleet-ratio.png", "fleet-timeline.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG"), name


def test_a_run_without_a_timeline_draws_no_timeline(tmp_path: Path) -> None:
    written = plots.write_fleet({**RUN, "timeline": None}, tmp_path)
    assert not (tmp_path / "fleet-timeline.png").exists()
    assert len(written) == 2

"""The performance page's figures: tables and plots drawn from what the benchmarks wrote (docs/performance/*.json).

`bench/fleet.py --write-docs` writes docs/performance/fleet.json and calls `write_fleet`; run this module to draw
again from the files already there:

    .venv/bin/python bench/plots.py
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

DOCS = Path(__file__).resolve().parents[1] / "docs" / "performance"
FLEET = DOCS / "fleet.json"


def fleet_table(run: Mapping[str, Any]) -> str:
    """The run's figures as a markdown table, headed by its date, command and machine load."""
    lines = [
        f"Run of {run['date']}: `{run['command']}` on {run['machine']}, {run['load_start']} at the start, "
        f"{run['load_end']} at the end.",
        "",
        "| d (s per operation) | clusters x profiles | limit P x d (s) | up: ratio | calls per create (looks) "
        "| destroy: ratio | calls per delete (looks) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in run["results"]:
        lines.append(
            f"| {row['d']:g} | {row['clusters']} x {row['profiles']} | {row['limit']:.1f} | {row['up_ratio']:.3f} "
            f"| {row['up_calls']:.2f} ({row['up_looks']:.2f}) | {row['destroy_ratio']:.3f} "
            f"| {row['destroy_calls']:.2f} ({row['destroy_looks']:.2f}) |"
        )
    return "\n".join(lines) + "\n"


def fleet_ratios(run: Mapping[str, Any], path: Path) -> None:
    """`pulumi up` and `destroy` time over EKS's limit, per shape and operation duration: 1.0 is the limit."""
    rows: Sequence[Mapping[str, Any]] = run["results"]
    labels = [f"{r['clusters']} x {r['profiles']}\nd = {r['d']:g} s" for r in rows]
    positions = range(len(rows))
    figure, axes = plt.subplots(figsize=(max(6.0, 1.2 * len(rows)), 3.6))
    axes.bar([p - 0.2 for p in positions], [r["up_ratio"] for r in rows], width=0.4, label="pulumi up")
    axes.bar([p + 0.2 for p in positions], [r["destroy_ratio"] for r in rows], width=0.4, label="pulumi destroy")
    axes.axhline(1.0, color="black", linewidth=1, label="EKS's limit (P x d)")
    axes.axhline(1.10, color="grey", linewidth=1, linestyle="--", label="goal 1.10")
    axes.set_xticks(list(positions), labels)
    axes.set_ylabel("time / limit")
    axes.set_ylim(0, max(1.3, *(max(r["up_ratio"], r["destroy_ratio"]) for r in rows)) + 0.35)
    axes.set_title(f"Fargate profiles on a fleet ({run['date']}, {run['load_start']})", fontsize=9)
    axes.legend(fontsize=7, loc="upper left", ncol=4)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def fleet_timeline(run: Mapping[str, Any], path: Path) -> None:
    """Each cluster's profile creations over time (EKS accepted -> ACTIVE), against the limit P x d."""
    timeline = run["timeline"]
    operations: Sequence[Mapping[str, Any]] = timeline["operations"]
    clusters = sorted({op["cluster"] for op in operations})
    figure, axes = plt.subplots(figsize=(7.5, 0.55 * len(clusters) + 1.9))
    for row, cluster in enumerate(clusters):
        spans = [(op["start"], op["end"] - op["start"]) for op in operations if op["cluster"] == cluster]
        axes.broken_barh(spans, (row - 0.35, 0.7), facecolors="tab:blue", edgecolor="white")
    first = min(op["start"] for op in operations)
    limit = timeline["profiles"] * timeline["d"]
    axes.axvline(first + limit, color="black", linewidth=1, label=f"limit: first create + P x d = {limit:g} s")
    axes.axvline(timeline["up_seconds"], color="tab:red", linewidth=1, label="pulumi up ends")
    axes.set_yticks(range(len(clusters)), clusters)
    axes.set_xlabel("seconds since pulumi up started")
    axes.set_title(
        f"{timeline['clusters']} clusters x {timeline['profiles']} profiles, d = {timeline['d']:g} s "
        f"({run['date']}): one operation per cluster at a time",
        fontsize=9,
    )
    axes.set_ylim(-0.6, len(clusters) + 0.2)
    axes.legend(fontsize=7, loc="upper left", ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_fleet(run: Mapping[str, Any], folder: Path = DOCS) -> list[Path]:
    """The fleet run's table and plots into `folder`, beside its JSON; returns what was written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "fleet-figures.md", folder / "fleet-ratio.png"]
    written[0].write_text(fleet_table(run))
    fleet_ratios(run, written[1])
    if run.get("timeline"):
        written.append(folder / "fleet-timeline.png")
        fleet_timeline(run, written[2])
    return written


def main() -> None:
    for path in write_fleet(json.loads(FLEET.read_text())):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()

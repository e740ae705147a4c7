"""docs/guides/install.md's tested-versions table is the versions CI runs: the Makefile's legs, the pins."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOLCHAINS = "pip + virtualenv, uv {uv}, uv workspace, poetry {poetry}, Automation API + virtualenv"


def makefile_value(name: str) -> str:
    found = re.search(rf"^{name} := (\S+)$", (REPO / "Makefile").read_text(), re.M)
    assert found is not None, f"Makefile sets no {name}"
    return found.group(1)


def test_the_tested_versions_table_lists_what_the_ci_legs_run() -> None:
    engine = re.search(r'^PULUMI_VERSION="(v[\d.]+)"', (REPO / "tools/pulumi/build.sh").read_text(), re.M)
    sdk = re.search(r"^pulumi==([\d.]+)$", (REPO / "constraints.txt").read_text(), re.M)
    assert engine is not None and sdk is not None
    toolchains = TOOLCHAINS.format(uv=makefile_value("UV_VERSION"), poetry=makefile_value("POETRY_VERSION"))
    expected = [
        f"| whole suite | {sdk.group(1)} | {engine.group(1)} | pip (the dev environment) |",
        f"| compat: oldest SDK | {makefile_value('OLDEST_PULUMI')} | {engine.group(1)} | {toolchains} |",
        f"| compat: newest SDK | {makefile_value('NEWEST_PULUMI')} | {engine.group(1)} | {toolchains} |",
        f"| compat: newest engine | {sdk.group(1)} | {makefile_value('NEWEST_ENGINE')} | {toolchains} |",
    ]

    guide = (REPO / "docs/guides/install.md").read_text()
    table = guide.split("<!-- tested-versions: begin -->")[1].split("<!-- tested-versions: end -->")[0]
    assert [line for line in table.strip().splitlines()[2:]] == expected

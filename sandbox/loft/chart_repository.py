"""The Helm chart repository the Loft double serves: the agent chart under charts/, packaged per platform version."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

CHART_DIR = Path(__file__).resolve().parent / "charts" / "loft"
CHART_NAME = "loft"
INDEX = "index.yaml"


def package(chart_dir: Path, version: str) -> bytes:
    """The chart as `helm package` would write it: a gzipped tar with the files under `<name>/`,
    its Chart.yaml stamped with `version` (the platform's version, as charts.loft.sh publishes it)."""
    chart = yaml.safe_load((chart_dir / "Chart.yaml").read_text())
    chart["version"] = version
    chart["appVersion"] = version
    files: dict[str, bytes] = {"Chart.yaml": yaml.safe_dump(chart, sort_keys=False).encode()}
    for path in sorted(chart_dir.rglob("*")):
        relative = path.relative_to(chart_dir).as_posix()
        if path.is_file() and relative != "Chart.yaml":
            files[relative] = path.read_bytes()
    buffer = io.BytesIO()
    # mtime 0 everywhere: the same chart and version always give the same bytes, hence the same digest.
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w") as archive,
    ):
        for relative, data in files.items():
            info = tarfile.TarInfo(f"{chart['name']}/{relative}")
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def archive_name(version: str) -> str:
    return f"{CHART_NAME}-{version}.tgz"


@dataclass
class ChartRepository:
    """index.yaml and one archive per version, built once at start (what a static chart site serves)."""

    versions: tuple[str, ...]
    chart_dir: Path = CHART_DIR
    archives: dict[str, bytes] = field(default_factory=dict)
    index_yaml: bytes = b""

    def build(self) -> ChartRepository:
        chart = yaml.safe_load((self.chart_dir / "Chart.yaml").read_text())
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        entries: list[dict[str, Any]] = []
        for version in self.versions:
            data = package(self.chart_dir, version)
            self.archives[archive_name(version)] = data
            entries.append(
                {
                    "apiVersion": chart["apiVersion"],
                    "name": chart["name"],
                    "description": chart.get("description", ""),
                    "type": chart.get("type", "application"),
                    "version": version,
                    "appVersion": version,
                    "created": created,
                    "digest": hashlib.sha256(data).hexdigest(),
                    # Relative: Helm resolves it against the repository URL it was given.
                    "urls": [archive_name(version)],
                }
            )
        index = {"apiVersion": "v1", "entries": {chart["name"]: entries}, "generated": created}
        self.index_yaml = yaml.safe_dump(index, sort_keys=False).encode()
        return self

    def file(self, name: str) -> tuple[bytes, str] | None:
        """The body and content type of a file of the repository, or None."""
        if name == INDEX:
            return self.index_yaml, "application/x-yaml"
        if name in self.archives:
            return self.archives[name], "application/gzip"
        return None

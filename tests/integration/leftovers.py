"""What a test leaves running: processes whose command line names a folder."""

from __future__ import annotations

import subprocess
from pathlib import Path


def processes_under(folder: Path) -> list[str]:
    found = subprocess.run(["pgrep", "-af", str(folder)], check=False, capture_output=True, text=True).stdout
    return [line for line in found.splitlines() if "pgrep" not in line]

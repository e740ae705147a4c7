"""Progress lines from provider code: printed, because pulumi.log does not reach the engine from a provider."""

from __future__ import annotations

import sys

PREFIX = "[cluster-connect]"


def report(line: str) -> None:
    print(f"{PREFIX} {line}", file=sys.stderr, flush=True)

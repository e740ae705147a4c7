"""Serve the Loft double in the foreground: `python -m pulumi_cluster_connect.sandbox.loft [v3|v4] [--tls]`"""

from __future__ import annotations

import sys
import threading

from .server import LoftSandbox


def main(argv: list[str]) -> None:
    version = next((a for a in argv if a in ("v3", "v4")), "v3")
    sandbox = LoftSandbox(version=version, tls="--tls" in argv).start()
    print(f"LOFT_URL={sandbox.url}")
    print(f"LOFT_ACCESS_KEY={sandbox.access_key}", flush=True)
    if sandbox.ca_data:
        print(sandbox.ca_data, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main(sys.argv[1:])

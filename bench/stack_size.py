"""Benchmark: how a stack of many of our resources scales on one machine (a `pulumi preview` through the real engine).

For N FargateProfiles (three per cluster) and for N KubernetesManifests (two per cluster, each with its cluster's
kubeconfig, as EksConnectedCluster makes them), this prints the preview's wall time, the time per resource, and
the peak memory of the processes the preview ran (the engine, the language host and the provider, sampled every
0.2 s; this process, which runs the inline program, is not among them), beside
the same for the trivial dynamic resource of bench/trivial.py. What grows faster than N shows up as a time per
resource that rises with N.

    .venv/bin/python bench/stack_size.py [--counts 500 2000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import harness, preview  # noqa: E402
from pulumi_cluster_connect.cli import engine  # noqa: E402

KINDS: dict[str, Callable[[int], object]] = {
    kind: preview.KINDS[kind] for kind in (preview.YARDSTICK, "FargateProfile", "KubernetesManifest")
}


def _descendants_rss_kib() -> int:
    """The resident memory of every process descended from this one, summed (Linux /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue  # ended meanwhile
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
        rss[int(entry)] = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    mine = {os.getpid()}
    grew = True
    while grew:
        found = {pid for pid, parent in parents.items() if parent in mine} - mine
        grew = bool(found)
        mine |= found
    return sum(rss[pid] for pid in mine - {os.getpid()})


class PeakMemory:
    """Samples the memory of this process's descendants while it is entered; `peak_mib` is the highest sum."""

    def __init__(self) -> None:
        self.peak_mib = 0.0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_mib = max(self.peak_mib, _descendants_rss_kib() / 1024)

    def __enter__(self) -> PeakMemory:
        self._sampler.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._sampler.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[500, 2000])
    args = parser.parse_args()

    engine.ensure_on_path()
    os.environ.setdefault("AWS_REGION", "us-west-2")
    print("A preview of N resources of one kind through the real engine")
    with tempfile.TemporaryDirectory(prefix="bench-stack-size-") as root:
        stacks = harness.stacks(Path(root))
        for count in args.counts:
            print(f"\nN = {count} ({harness.load()} at the start)")
            print(f"  {'':<22} {'preview':>9}  {'per resource':>12}  {'peak process memory':>20}")
            for i, (kind, declare) in enumerate(KINDS.items()):
                stack = stacks.inline(preview.program(declare, count), stack=f"size-{i}-{count}")
                with PeakMemory() as memory:
                    wall = harness.timed(stack.preview)
                print(f"  {kind:<22} {wall:8.1f}s  {wall / count * 1000:9.1f} ms  {memory.peak_mib:15.0f} MiB")
            print(f"  ({harness.load()} at the end)")


if __name__ == "__main__":
    main()

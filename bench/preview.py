"""Benchmark: what one of our resources costs a `pulumi preview`, against a trivial dynamic resource.

For N = 50 and 150 resources of one kind in a new stack:

    per resource = (time of `pulumi preview` with N resources  -  with none) / N
    ratio        = per resource of the kind / per resource of bench.trivial.Trivial

in wall time and in CPU time (this process, which runs the inline program, plus the engine and the plugins it
starts: steadier than wall time on a shared machine). Goal: both ratios <= 1.20. Two more rows give the
yardstick's provider the properties FargateProfile and KubernetesManifest send, to show what part of their cost is
what they carry rather than what they do (the "vs props" column), and one more gives it only a secret kubeconfig,
the least a resource that applies to a cluster must carry. The kubeconfigs are like a fleet's: one per cluster,
two manifests per cluster (the connector and console access of EksConnectedCluster), with a CA certificate and a
client key inline.

Where the engine's share goes: `--engine-profile DIR` runs every engine with `--profiling`, one CPU profile per
engine process, named after the kind it previewed (the largest of a kind is its preview); read them with
`go tool pprof -top -cum DIR/<Kind>.*.cpu`. On engine 3.259 about a quarter of the engine's CPU in a manifest's
preview is its automatic log (pulumi/pulumi#22494), which records every property value each time it crosses an RPC.

Two experiments show what changes upstream would give, without changing anything users run: `--engine PATH` runs
the previews with another `pulumi` binary (bench/engine_without_property_log.sh builds the pinned engine without
the log lines that record property values), and `--sdk-waits-once` changes how the Python SDK waits for a program's
outputs at its end (see `sdk_waits_once`), in the programs this bench runs only.

    .venv/bin/python bench/preview.py [--counts 50 150] [--runs 5] [--engine-profile DIR] [--engine PATH]
                                      [--sdk-waits-once]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import inspect
import os
import resource
import shutil
import statistics
import sys
import tempfile
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi.runtime.stack

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import harness, trivial  # noqa: E402
from pulumi_cluster_connect.cli import engine  # noqa: E402
from pulumi_cluster_connect.dynamic_providers import (  # noqa: E402
    ClusterVersion,
    FargateProfile,
    KubernetesManifest,
    RegisteredCluster,
)
from pulumi_cluster_connect.dynamic_providers.connection_wait import ConnectionWait  # noqa: E402
from pulumi_cluster_connect.sandbox.stacks import StackFactory  # noqa: E402

GOAL = 1.20
ROLE = "arn:aws:iam::123456789012:role/fleet"
PEM = base64.b64encode(b"-----BEGIN CERTIFICATE-----\n" + b"A" * 1400 + b"\n-----END CERTIFICATE-----\n").decode()


def kubeconfig(cluster: int) -> str:
    return f"""apiVersion: v1
kind: Config
current-context: c{cluster}
clusters:
- name: c{cluster}
  cluster:
    server: https://10.0.{cluster // 250}.{cluster % 250}:6443
    certificate-authority-data: {PEM}
contexts:
- name: c{cluster}
  context: {{cluster: c{cluster}, user: admin, namespace: default}}
users:
- name: admin
  user:
    client-certificate-data: {PEM}
    client-key-data: {PEM}
"""


def configmap(i: int) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"m{i}", "namespace": "default"}}


SUBNETS = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]


def fargate_inputs(i: int) -> dict[str, Any]:
    return {
        "cluster_name": f"c{i // 3}",
        "pod_execution_role_arn": ROLE,
        "selectors": [{"namespace": f"apps-{i}"}],
        "subnet_ids": SUBNETS,
    }


def identity(kind: str, name: str) -> str:
    """As long as the `identity` our resources send (ownership.identity_of)."""
    return f"tests/k0-50/pulumi-python:dynamic/{kind}::{name}"


def trivial_like_fargate(i: int) -> object:
    """The yardstick's provider with the properties FargateProfile sends (its public outputs even when None)."""
    public_none = ("fargate_profile_name", "tags", "region", "arn", "status")
    return trivial.Trivial(
        f"tf{i}",
        **fargate_inputs(i),
        auto_name_prefix=f"p{i}",
        identity=identity("eks:FargateProfile", f"p{i}"),
        **dict.fromkeys(public_none),
    )


def trivial_like_manifest(i: int) -> object:
    """The yardstick's provider with the properties KubernetesManifest sends: a secret kubeconfig and secret
    objects, the identity and its public output."""
    secret = pulumi.ResourceOptions(additional_secret_outputs=["kubeconfig", "objects", "yaml"])
    return trivial.Trivial(
        f"tm{i}",
        secret,
        kubeconfig=pulumi.Output.secret(kubeconfig(i // 2)),
        identity=identity("kubernetes:Manifest", f"m{i}"),
        applied=None,
        objects=pulumi.Output.secret([configmap(i)]),
    )


def trivial_with_kubeconfig(i: int) -> object:
    """The yardstick's provider with only a secret kubeconfig, as any resource that acts on a cluster carries."""
    secret = pulumi.ResourceOptions(additional_secret_outputs=["kubeconfig"])
    return trivial.Trivial(f"tk{i}", secret, kubeconfig=pulumi.Output.secret(kubeconfig(i // 2)))


YARDSTICK = "Trivial (yardstick)"
KINDS: dict[str, Callable[[int], object]] = {
    YARDSTICK: lambda i: trivial.Trivial(f"t{i}", name=f"t{i}", value="v"),
    "Trivial, Fargate's props": trivial_like_fargate,
    "FargateProfile": lambda i: FargateProfile(f"p{i}", **fargate_inputs(i)),
    "Trivial, a kubeconfig": trivial_with_kubeconfig,
    "Trivial, manifest props": trivial_like_manifest,
    "KubernetesManifest": lambda i: KubernetesManifest(f"m{i}", kubeconfig=kubeconfig(i // 2), objects=[configmap(i)]),
    "ClusterVersion": lambda i: ClusterVersion(f"v{i}", cluster_name=f"c{i}", version="1.32"),
    "RegisteredCluster": lambda i: RegisteredCluster(f"r{i}", connector_provider="OTHER", role_arn=ROLE),
    "ConnectionWait": lambda i: ConnectionWait(f"w{i}", cluster_name=f"c{i}", activation_id=f"a{i}"),
}
# What each kind is compared with besides the yardstick: the yardstick carrying the same properties.
PROPS_ROW = {"FargateProfile": "Trivial, Fargate's props", "KubernetesManifest": "Trivial, manifest props"}
PROFILE_PREFIX = "BENCH_PREVIEW_PROFILE"


def program(declare: Callable[[int], object], count: int) -> Callable[[], None]:
    def run() -> None:
        for i in range(count):
            declare(i)
        pulumi.export("count", count)

    return run


@dataclass
class Cost:
    wall: float
    cpu: float


def measured(action: Callable[[], object]) -> Cost:
    """Wall time, and CPU time of this process (the inline program) plus the engine and plugins it ran."""
    before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = harness.timed(action)
    after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before, strict=True))
    return Cost(wall, cpu)


def per_resource(stacks: StackFactory, count: int, runs: int) -> dict[str, list[Cost]]:
    """Per kind, `runs` samples of (preview with `count` resources - preview with none) / count.

    Each round measures the empty preview and every kind once, one after the other, so a change in the machine's
    load between rounds shifts the yardstick and the kinds alike. The yardstick is measured at both ends of the
    round and its sample is their mean: every ratio of the round divides by it, so its noise is every row's.
    """
    empty = stacks.inline(program(KINDS[YARDSTICK], 0), stack=f"empty-{count}")
    full = {kind: stacks.inline(program(KINDS[kind], count), stack=f"k{i}-{count}") for i, kind in enumerate(KINDS)}
    samples: dict[str, list[Cost]] = {kind: [] for kind in KINDS}

    def sample(kind: str, base: Cost) -> Cost:
        os.environ[PROFILE_PREFIX] = "".join(c for c in kind if c.isalnum())
        cost = measured(full[kind].preview)
        return Cost((cost.wall - base.wall) / count, (cost.cpu - base.cpu) / count)

    for _ in range(runs):
        os.environ[PROFILE_PREFIX] = "empty"
        base = measured(empty.preview)
        for kind in full:
            samples[kind].append(sample(kind, base))
        first, last = samples[YARDSTICK][-1], sample(YARDSTICK, base)
        samples[YARDSTICK][-1] = Cost((first.wall + last.wall) / 2, (first.cpu + last.cpu) / 2)
    return samples


def compile_once(root: Path) -> None:
    """Provider processes compile our modules once, as users' do (pip byte-compiles an installed wheel; an editable
    install writes its bytecode on first use). With PYTHONDONTWRITEBYTECODE set, as on this machine, every provider
    process of every preview compiled them from source: 20-40 ms per preview that the yardstick's small module does
    not pay, a fixed cost that was counted per resource. The bytecode goes to the bench's temporary folder."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(root / "bytecode")


def profile_the_engine(root: Path, into: Path) -> None:
    """Put first on PATH a `pulumi` that runs the engine with `--profiling` into `into`, each profile named after
    the kind being previewed (the Automation API runs whichever `pulumi` PATH finds)."""
    engine_binary = shutil.which("pulumi")
    if engine_binary is None:
        raise SystemExit("no pulumi on PATH to profile")
    into.mkdir(parents=True, exist_ok=True)
    wrapper = root / "profiling-engine"
    wrapper.mkdir()
    script = wrapper / "pulumi"
    script.write_text(
        f'#!/bin/sh\nexec "{engine_binary}" --profiling "{into.resolve()}/${{{PROFILE_PREFIX}:-other}}" "$@"\n'
    )
    script.chmod(0o755)
    os.environ["PATH"] = f"{wrapper}{os.pathsep}{os.environ['PATH']}"


def run_this_engine(root: Path, binary: Path) -> None:
    """Put `binary` first on PATH as `pulumi`; its plugins still come from the engine's folder."""
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"--engine {binary}: not an executable")
    folder = root / "chosen-engine"
    folder.mkdir()
    (folder / "pulumi").symlink_to(binary.resolve())
    os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ['PATH']}"


def sdk_waits_once() -> None:
    """Experiment: at a program's end the Python SDK (`pulumi.runtime.stack.wait_for_rpcs`) waits for every output
    it tracks, one per property of every resource, with `asyncio.wait(..., FIRST_COMPLETED)` in a loop; each wake-up
    adds and removes a callback on every output still pending, so the cost is outputs x wake-ups, and it runs while
    the engine is still answering. Here that wait becomes one `ALL_COMPLETED` wait (same outputs, same errors
    re-raised after), to measure what a change in the SDK would save. It affects the programs this bench runs, in
    this process, and nothing else."""
    waits = inspect.getsource(pulumi.runtime.stack.wait_for_rpcs)
    if vars(pulumi.runtime.stack).get("asyncio") is not asyncio or "FIRST_COMPLETED" not in waits:
        raise SystemExit("--sdk-waits-once: this SDK's wait_for_rpcs waits otherwise; the experiment does not apply")
    waiting_once = types.ModuleType("asyncio")
    vars(waiting_once).update(vars(asyncio))

    async def wait_for_all(
        pending: Any, *, timeout: float | None = None, return_when: str = asyncio.ALL_COMPLETED
    ) -> tuple[set[Any], set[Any]]:
        del return_when
        return await asyncio.wait(pending, timeout=timeout, return_when=asyncio.ALL_COMPLETED)

    vars(waiting_once)["wait"] = wait_for_all
    vars(pulumi.runtime.stack)["asyncio"] = waiting_once


def ratio(costs: list[Cost], against: list[Cost]) -> tuple[float, float]:
    """Median wall and CPU ratios of paired samples (each round's own comparison)."""
    return (
        statistics.median(c.wall / y.wall for c, y in zip(costs, against, strict=True)),
        statistics.median(c.cpu / y.cpu for c, y in zip(costs, against, strict=True)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[50, 150])
    parser.add_argument("--runs", type=int, default=5, help="rounds per count (medians are printed)")
    parser.add_argument("--engine-profile", type=Path, help="write the engines' CPU profiles here")
    parser.add_argument("--engine", type=Path, help="run this pulumi binary instead of the pinned engine")
    parser.add_argument(
        "--sdk-waits-once", action="store_true", help="the SDK waits for a program's outputs in one wait (experiment)"
    )
    args = parser.parse_args()

    engine.ensure_on_path()
    os.environ.setdefault("AWS_REGION", "us-west-2")
    print(f"Preview cost per resource against a trivial dynamic resource (goal: ratio <= {GOAL:.2f})")
    if args.sdk_waits_once:
        sdk_waits_once()
        print("Experiment: the SDK waits for a program's outputs in one wait (--sdk-waits-once)")
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as root:
        compile_once(Path(root))
        if args.engine is not None:
            run_this_engine(Path(root), args.engine)
            print(f"Experiment: the engine is {args.engine} (--engine)")
        if args.engine_profile is not None:
            profile_the_engine(Path(root), args.engine_profile)
        stacks = harness.stacks(Path(root))
        for count in args.counts:
            print(f"\nN = {count}, median of {args.runs} rounds ({harness.load()} at the start)")
            samples = per_resource(stacks, count, args.runs)
            yardstick = samples[YARDSTICK]
            print(f"  {'':<24} {'wall':>9}  {'ratio':>5}   {'CPU':>9}  {'ratio':>5}   {'verdict':<7} vs props")
            for kind, costs in samples.items():
                wall = statistics.median(c.wall for c in costs)
                cpu = statistics.median(c.cpu for c in costs)
                wall_ratio, cpu_ratio = ratio(costs, yardstick)
                verdict = "" if costs is yardstick else ("met" if max(wall_ratio, cpu_ratio) <= GOAL else "MISSED")
                props = ratio(costs, samples[PROPS_ROW[kind]]) if kind in PROPS_ROW else None
                against_props = f"{props[0]:.2f}/{props[1]:.2f}" if props else ""
                print(
                    f"  {kind:<24} {wall * 1000:6.1f} ms  {wall_ratio:5.2f}   {cpu * 1000:6.1f} ms  {cpu_ratio:5.2f}   "
                    f"{verdict:<7} {against_props}"
                )
            print(f"  ({harness.load()} at the end)")


if __name__ == "__main__":
    main()

"""The `cluster-connect` command: run the local sandbox, and the main job (the platform stack) against it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def _seeded(environment: dict[str, str]) -> str:
    """Seed the sandbox (idempotent) and say what it made, as comments a shell `eval` skips."""
    from pulumi_cluster_connect.sandbox import seed

    made = seed.seed(environment)
    lines = ["# seeded: what a platform team already has (cluster-connect sandbox up --seed):"]
    lines += [f"#   {key:<20} {' '.join(v) if isinstance(v, list) else v}" for key, v in made.items()]
    lines.append(
        f"# e.g. for examples/fargate: pulumi config set clusterName {made['eksClusterName']} && "
        f"pulumi config set podExecutionRoleArn {made['podExecutionRoleArn']}"
    )
    return "\n".join(lines) + "\n"


def _sandbox(args: argparse.Namespace) -> int:
    from pulumi_cluster_connect.sandbox import launcher
    from pulumi_cluster_connect.sandbox.loft import LoftSandbox

    state_dir = Path(args.dir)
    if args.action == "up" and args.background:
        print(launcher.start_in_background(state_dir, args.kubeconfig, loft_version=args.loft_version), end="")
        if args.seed:
            print(_seeded(launcher.load_environment(state_dir)), end="")
        print(f"# the sandbox runs in the background; stop it with: cluster-connect sandbox down --dir {state_dir}")
        return 0
    if args.action == "up":
        loft = LoftSandbox(version=args.loft_version)
        sandbox = launcher.Sandbox(state_dir=state_dir, kubeconfig=args.kubeconfig, loft=loft).start()
        print(sandbox.environment_script(), end="", flush=True)
        if args.seed:
            print(_seeded(sandbox.environment()), end="", flush=True)
        print("# the sandbox is running; Ctrl-C stops it", flush=True)
        try:
            sandbox.serve_until_signalled()
        finally:
            sandbox.stop()
        return 0
    if args.action == "down":
        stopped = launcher.stop_background(state_dir)
        print("sandbox stopped" if stopped else "no sandbox was running")
        return 0
    env_file = state_dir / "env"
    if not env_file.exists():
        print(f"no sandbox is running in {state_dir}", file=sys.stderr)
        return 1
    print(env_file.read_text(), end="")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from pulumi_cluster_connect.cli import demo

    if args.action == "up":
        return demo.up(Path(args.dir), Path(args.project))
    return demo.down(Path(args.dir), Path(args.project))


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="cluster-connect", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    sandbox = commands.add_parser("sandbox", help="the local sandbox: EKS/IAM/STS endpoint, Kubernetes, Loft")
    sandbox.add_argument("action", choices=["up", "down", "env"])
    sandbox.add_argument("--dir", default=".sandbox", help="where the sandbox keeps its state (default .sandbox)")
    sandbox.add_argument("--kubeconfig", type=Path, help="use this cluster instead of starting a kube-apiserver")
    sandbox.add_argument("--background", action="store_true", help="detach and return once it is ready")
    sandbox.add_argument(
        "--seed", action="store_true", help="also make a VPC with private subnets, IAM roles and an EKS cluster"
    )
    sandbox.add_argument(
        "--loft-version",
        choices=["v3", "v4"],
        default="v3",
        help="the Loft double plays Loft v3 (ClusterConnect, the default) or vCluster Platform v4 (agents)",
    )
    sandbox.set_defaults(run=_sandbox)

    demo = commands.add_parser("demo", help="the main job: the platform stack of this repository, on the sandbox")
    demo.add_argument("action", choices=["up", "down"])
    demo.add_argument("--dir", default=".sandbox", help="sandbox and state folder (default .sandbox)")
    demo.add_argument("--project", default=".", help="the Pulumi project to run (default: this folder)")
    demo.set_defaults(run=_demo)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())

"""Crash recovery: SIGKILL the whole `pulumi up` process tree at seeded random moments, recover as the docs say,
and count the runs after which EKS and Kubernetes hold exactly what the state says, and nothing after destroy.

    .venv/bin/python bench/crash_recovery.py --runs 20 --seed 1

The stack (bench/crash_program): an EksConnectedCluster, a ClusterVersion step 1.30 -> 1.31 and three
FargateProfiles (two auto-named, one with a fixed name), against the AWS sandbox, a real kube-apiserver and the
simulated connector agent. tests/integration/test_crash_recovery.py runs three of these runs in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import boto3  # noqa: E402
import lightkube  # noqa: E402
from lightkube.core.resource import NamespacedResource  # noqa: E402
from lightkube.resources.apps_v1 import StatefulSet  # noqa: E402
from lightkube.resources.core_v1 import ConfigMap, Namespace, Secret, ServiceAccount  # noqa: E402
from lightkube.resources.rbac_authorization_v1 import ClusterRole, ClusterRoleBinding, Role, RoleBinding  # noqa: E402

from pulumi_cluster_connect._plumbing import ownership  # noqa: E402
from pulumi_cluster_connect.cli import engine  # noqa: E402
from pulumi_cluster_connect.sandbox import kubernetes  # noqa: E402
from pulumi_cluster_connect.sandbox.agent import SimulatedAgent  # noqa: E402
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl  # noqa: E402
from pulumi_cluster_connect.sandbox.aws.server import AwsSandbox  # noqa: E402

PROGRAM = Path(__file__).resolve().parent / "crash_program"
PASSPHRASE = "crash-recovery"
REGION = "us-west-2"
EKS_CLUSTER, CONNECTED = "platform", "edge-crash"
FROM_VERSION, TO_VERSION = "1.30", "1.31"
# The recovery the docs give for this engine version (3.259), after a killed `pulumi up`, then `pulumi up`.
RECOVERY = (("cancel", "--yes"), ("refresh", "--clear-pending-creates", "--yes", "--skip-preview"))
# When the kill lands: this many seconds after the engine started its first resource step. An uninterrupted up
# of this stack spends about 7-10 s in its steps on the sandbox's short lifecycles (2 shared cores), so the kills
# spread over every step, most of them while something is being made.
KILL_SPAN = (0.0, 8.0)
FIRST_STEP = "pulumi-python:dynamic/"
# The progress lines of a create that meets what an interrupted run left: adopted, or replaced when unfit.
TAKEN_OVER, TAKEN_OVER_PREFIX = "interrupted run", "[cluster-connect] "
DURATIONS = {"fargate_create": 2.0, "fargate_delete": 0.5, "cluster_update": 2.0}
# The kinds the connector manifest applies, with their API versions (references as the manifest writes them).
KINDS: tuple[tuple[Any, str], ...] = (
    *((kind, "v1") for kind in (Namespace, Secret, ConfigMap, ServiceAccount)),
    *((kind, "rbac.authorization.k8s.io/v1") for kind in (Role, RoleBinding, ClusterRole, ClusterRoleBinding)),
    (StatefulSet, "apps/v1"),
)
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "{service}"}, "Action": "sts:AssumeRole"}],
}


@dataclass(frozen=True)
class Peers:
    """What the runs talk to: the AWS sandbox (in this process, beside the simulated agent), a kube-apiserver."""

    control: SandboxControl
    aws_env: dict[str, str]
    kubeconfig: str


@dataclass
class Outcome:
    seed: int
    kill_after: float
    """Seconds after the first resource step."""
    killed: bool = False
    processes_killed: int = 0
    last_line: str = ""
    taken_over: list[str] = field(default_factory=list)
    """What the recovery's `pulumi up` found left by the killed run and adopted or replaced (its progress lines)."""
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def converged(self) -> bool:
        return not self.problems

    def line(self) -> str:
        when = (
            f"killed {self.processes_killed} processes {self.kill_after:.1f}s into the steps"
            if self.killed
            else "not killed (the up ended first)"
        )
        verdict = "converged" if self.converged else "NOT converged: " + "; ".join(self.problems)
        found = f"; the recovery took over: {'; '.join(self.taken_over)}" if self.taken_over else ""
        return f"seed {self.seed}: {when} (last line: {self.last_line!r}){found}; {verdict} ({self.seconds:.0f}s)"


@dataclass
class CrashStack:
    """A stack of the crash program, driven through the `pulumi` CLI (not the Automation API: the whole process
    tree of `pulumi up` must be killable)."""

    work_dir: Path
    name: str
    env: dict[str, str]
    transcript: list[str] = field(default_factory=list)

    def command(self, *args: str) -> list[str]:
        return ["pulumi", *args, "--stack", self.name, "--non-interactive", "--color", "never"]

    def pulumi(self, *args: str, check: bool = True, quiet: bool = False) -> subprocess.CompletedProcess[str]:
        """Run a command; `quiet` keeps its arguments and output (secrets, the state) out of the transcript."""
        result = subprocess.run(
            self.command(*args),
            check=False,
            cwd=self.work_dir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        shown = (
            f"{args[0]} {args[1]} ... -> {result.returncode}" if quiet else f"{' '.join(args)} -> {result.returncode}"
        )
        self.transcript.append(f"$ pulumi {shown}\n{'' if quiet else result.stdout}{result.stderr}")
        if check and result.returncode != 0:
            raise RuntimeError(f"pulumi {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
        return result

    def state(self) -> dict[str, Any]:
        deployment: dict[str, Any] = json.loads(self.pulumi("stack", "export", quiet=True).stdout)["deployment"]
        return deployment

    def outputs_of(self, type_suffix: str) -> list[dict[str, Any]]:
        resources = self.state().get("resources") or []
        return [dict(r.get("outputs") or {}) for r in resources if str(r["type"]).endswith(type_suffix)]


def new_stack(root: Path, peers: Peers, name: str, seeded: dict[str, str]) -> CrashStack:
    work_dir = root / name
    shutil.copytree(PROGRAM, work_dir)
    backend = root / "backend"
    backend.mkdir(exist_ok=True)
    env = {
        **os.environ,
        **peers.aws_env,
        "PULUMI_HOME": str(root / "pulumi-home"),
        "PULUMI_BACKEND_URL": backend.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_PYTHON_CMD": sys.executable,
    }
    stack = CrashStack(work_dir, name, env)
    subprocess.run(
        ["pulumi", "stack", "init", name, "--secrets-provider", "passphrase", "--non-interactive"],
        cwd=work_dir,
        env=env,
        check=True,
        capture_output=True,
    )
    plain = {**seeded, "connectedName": CONNECTED, "version": TO_VERSION}
    settings = [arg for key, value in plain.items() for arg in ("--plaintext", f"{key}={value}")]
    stack.pulumi("config", "set-all", *settings, "--secret", f"kubeconfig={peers.kubeconfig}", quiet=True)
    return stack


def seed_aws(peers: Peers) -> dict[str, str]:
    """A fresh sandbox: the EKS cluster at 1.30 on two private subnets, the connector and pod execution roles."""
    peers.control.reset()
    peers.control.set_durations(**DURATIONS)
    session = boto3.session.Session(region_name=REGION)
    iam, ec2 = session.client("iam"), session.client("ec2")

    def role(name: str, service: str) -> str:
        trust = json.dumps(TRUST).replace("{service}", service)
        return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"])

    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.42.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    session.client("eks").create_cluster(
        name=EKS_CLUSTER,
        version=FROM_VERSION,
        roleArn=role("platform-cluster", "eks.amazonaws.com"),
        resourcesVpcConfig={"subnetIds": subnets},
    )
    return {
        "eksCluster": EKS_CLUSTER,
        "podExecutionRoleArn": role("fargate-pods", "eks-fargate-pods.amazonaws.com"),
        "connectorRoleArn": role("eks-connector-agent", "ssm.amazonaws.com"),
    }


# --- the kill ----------------------------------------------------------------------------------------------


def descendants(root: int) -> list[int]:
    """`root` and every process under it (the engine starts its plugins in process groups of their own, so a
    process group is not enough)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def kill_tree(root: int) -> int:
    """Stop the whole tree first, so that nothing in it makes another call or another process, then kill it."""
    stopped: set[int] = set()
    while fresh := [pid for pid in descendants(root) if pid not in stopped]:
        for pid in fresh:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                continue
            stopped.add(pid)
    for pid in stopped:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    return len(stopped)


def up_killed(stack: CrashStack, outcome: Outcome) -> None:
    """`pulumi up`, in a session of its own, its whole process tree killed `outcome.kill_after` seconds after the
    engine started the first resource step (unless it ended before)."""
    process = subprocess.Popen(
        stack.command("up", "--yes", "--skip-preview"),
        cwd=stack.work_dir,
        env=stack.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    first_step = threading.Event()

    def read() -> None:
        for line in process.stdout or []:
            lines.append(line)
            if FIRST_STEP in line:
                first_step.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    while not first_step.wait(0.05) and process.poll() is None:
        pass
    try:
        process.wait(timeout=outcome.kill_after)
    except subprocess.TimeoutExpired:
        outcome.processes_killed = kill_tree(process.pid)
        outcome.killed = True
        process.wait()
    reader.join(5)
    outcome.last_line = next((line.strip() for line in reversed(lines) if line.strip()), "")
    verdict = f"killed {outcome.kill_after:.1f}s into the steps" if outcome.killed else "not killed"
    stack.transcript.append(f"$ pulumi up ({verdict})\n{''.join(lines)}")


# --- the checks --------------------------------------------------------------------------------------------


def _kube() -> lightkube.Client:
    return lightkube.Client(lightkube.KubeConfig.from_env())


def owned_objects(client: lightkube.Client) -> set[str]:
    """References (`apiVersion/kind/namespace/name`) of every object carrying our owner annotation."""
    found = set()
    for resource, api_version in KINDS:
        listing = (
            client.list(resource, namespace="*") if issubclass(resource, NamespacedResource) else client.list(resource)
        )
        for obj in listing:
            metadata = obj.metadata
            if metadata is None or ownership.OWNER_KEY not in (metadata.annotations or {}):
                continue
            found.add(f"{api_version}/{resource.__name__}/{metadata.namespace or ''}/{metadata.name}")
    return found


def world_problems(stack: CrashStack, kube: lightkube.Client) -> list[str]:
    """What differs between the state and EKS or Kubernetes: duplicates, orphans, missing or stale objects."""
    problems = []
    state = stack.state()
    if state.get("pending_operations"):
        problems.append(f"pending operations left: {state['pending_operations']}")
    resources = state.get("resources") or []

    def outputs(type_suffix: str) -> list[dict[str, Any]]:
        return [dict(r.get("outputs") or {}) for r in resources if str(r["type"]).endswith(type_suffix)]

    eks = boto3.session.Session(region_name=REGION).client("eks")
    profiles = {o["fargate_profile_name"]: o for o in outputs("eks:FargateProfile")}
    in_eks = sorted(eks.list_fargate_profiles(clusterName=EKS_CLUSTER)["fargateProfileNames"])
    if len(profiles) != 3 or sorted(profiles) != in_eks:
        problems.append(f"Fargate profiles in the state {sorted(profiles)}, in EKS {in_eks}")
    for name in set(in_eks) & set(profiles):
        live = eks.describe_fargate_profile(clusterName=EKS_CLUSTER, fargateProfileName=name)["fargateProfile"]
        if (live["status"], live["fargateProfileArn"]) != ("ACTIVE", profiles[name]["arn"]):
            problems.append(f"profile {name}: {live['status']} {live['fargateProfileArn']} vs {profiles[name]['arn']}")
    registered = outputs("eks:RegisteredCluster")
    in_eks = sorted(set(eks.list_clusters(include=["all"])["clusters"]) - {EKS_CLUSTER})
    if [r["cluster_name"] for r in registered] != in_eks:
        problems.append(f"registrations in the state {[r['cluster_name'] for r in registered]}, in EKS {in_eks}")
    elif registered:
        connected = eks.describe_cluster(name=CONNECTED)["cluster"]
        activation = connected.get("connectorConfig", {}).get("activationId")
        if activation != registered[0]["activation_id"] or connected.get("status") != "ACTIVE":
            problems.append(f"registration {CONNECTED}: {connected.get('status')}, activation differs from the state's")
    waits = outputs("eks:ConnectionWait")
    wanted = [("ACTIVE", r.get("activation_id")) for r in registered]
    if [(w.get("status"), w.get("activation_id")) for w in waits] != wanted:
        problems.append(f"connection waits in the state: {waits}")
    version = eks.describe_cluster(name=EKS_CLUSTER)["cluster"]["version"]
    if [o.get("version") for o in outputs("eks:ClusterVersion")] != [TO_VERSION] or version != TO_VERSION:
        problems.append(f"cluster version {version}, state {outputs('eks:ClusterVersion')}")
    applied = {ref for o in outputs("kubernetes:Manifest") for ref in o.get("applied") or []}
    owned = owned_objects(kube)
    if not applied or owned != applied:
        problems.append(
            f"Kubernetes: only in the state {sorted(applied - owned)}, only in the cluster {sorted(owned - applied)}"
        )
    return problems


def leftovers(kube: lightkube.Client) -> list[str]:
    eks = boto3.session.Session(region_name=REGION).client("eks")
    found = [f"profile {n}" for n in eks.list_fargate_profiles(clusterName=EKS_CLUSTER)["fargateProfileNames"]]
    found += [f"registration {n}" for n in set(eks.list_clusters(include=["all"])["clusters"]) - {EKS_CLUSTER}]
    found += sorted(owned_objects(kube))
    return found


@contextmanager
def kubeconfig_env(kubeconfig: str) -> Iterator[None]:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as file:
        file.write(kubeconfig)
        file.flush()
        saved = os.environ.get("KUBECONFIG")
        os.environ["KUBECONFIG"] = file.name
        try:
            yield
        finally:
            if saved is None:
                os.environ.pop("KUBECONFIG", None)
            else:
                os.environ["KUBECONFIG"] = saved


def run_once(peers: Peers, root: Path, seed: int) -> Outcome:
    """One run: a killed `pulumi up`, the documented recovery, `pulumi up`, the checks, destroy, the checks."""
    started = time.monotonic()
    rng = random.Random(seed)
    outcome = Outcome(seed, kill_after=rng.uniform(*KILL_SPAN))
    stack = new_stack(root, peers, f"crash-{seed}", seed_aws(peers))
    with kubeconfig_env(peers.kubeconfig):
        kube = _kube()
        try:
            up_killed(stack, outcome)
            for step in RECOVERY:
                stack.pulumi(*step)
            recovered = stack.pulumi("up", "--yes", "--skip-preview").stdout.splitlines()
            outcome.taken_over = sorted(
                {line.split(TAKEN_OVER_PREFIX, 1)[1] for line in recovered if TAKEN_OVER in line}
            )
            outcome.problems += world_problems(stack, kube)
            preview = stack.pulumi("preview", "--expect-no-changes", check=False)
            if preview.returncode != 0:
                outcome.problems.append(f"a preview after recovery wants changes:\n{preview.stdout[-2000:]}")
            stack.pulumi("destroy", "--yes", "--skip-preview")
            outcome.problems += [f"left after destroy: {what}" for what in leftovers(kube)]
        except (RuntimeError, subprocess.TimeoutExpired) as err:
            outcome.problems.append(str(err)[-3000:])
    outcome.seconds = time.monotonic() - started
    (root / f"crash-{seed}.log").write_text("\n".join(stack.transcript))
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1, help="the first run's seed; run i uses seed + i")
    parser.add_argument("--keep", type=Path, help="a folder to keep the stacks and the logs of failed runs in")
    args = parser.parse_args(argv)
    engine.ensure_on_path()
    sandbox = AwsSandbox().start()
    aws_env = sandbox.client_environment(REGION)
    os.environ.update(aws_env)
    plane = kubernetes.start_temporary()
    outcomes = []
    try:
        with SimulatedAgent(plane.kubeconfig_text()), tempfile.TemporaryDirectory() as scratch:
            root = args.keep or Path(scratch)
            root.mkdir(parents=True, exist_ok=True)
            peers = Peers(SandboxControl(sandbox.url), aws_env, plane.kubeconfig_text())
            for seed in range(args.seed, args.seed + args.runs):
                outcomes.append(run_once(peers, root, seed))
                print(outcomes[-1].line(), flush=True)
    finally:
        kubernetes.stop_temporary(plane)
        sandbox.stop()
    killed = sum(o.killed for o in outcomes)
    converged = sum(o.converged for o in outcomes)
    taken_over = sum(bool(o.taken_over) for o in outcomes)
    print(
        f"converged {converged}/{len(outcomes)} (kills that landed during `pulumi up`: {killed}; "
        f"runs whose recovery took over what the killed run had made: {taken_over})"
    )
    return 0 if converged == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Starts and stops the whole sandbox: Kubernetes, the AWS endpoint, the connector agent and the Loft double."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import agent, kubernetes
from .aws.server import AwsSandbox
from .loft.server import LoftSandbox

DEFAULT_DIR = Path(".sandbox")
SANDBOX_PASSPHRASE = "sandbox"  # encrypts only the config of throwaway stacks that run against the sandbox
LOG_TAIL_LINES = 25


@dataclass
class Sandbox:
    """Everything the sandbox runs, in this process (servers as threads, the control plane as children)."""

    state_dir: Path = DEFAULT_DIR
    kubeconfig: Path | None = None  # an existing cluster instead of starting one
    control_plane: kubernetes.ControlPlane | None = None
    aws: AwsSandbox = field(default_factory=AwsSandbox)
    loft: LoftSandbox = field(default_factory=LoftSandbox)
    connector_agent: agent.SimulatedAgent | None = None

    @property
    def kubeconfig_path(self) -> Path:
        return self.kubeconfig or (self.state_dir / "kube" / "kubeconfig.yaml")

    @property
    def env_file(self) -> Path:
        return self.state_dir / "env"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "sandbox.pid"

    def start(self) -> Sandbox:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "pulumi-state").mkdir(exist_ok=True)
        try:
            if self.kubeconfig is None:
                self.control_plane = kubernetes.ControlPlane(self.state_dir.resolve() / "kube").start()
            self.aws.start()
            # vCluster Platform agents that Helm installs in the sandbox cluster run and dial the Loft double.
            self.loft.agent_kubeconfig = self.kubeconfig_path.read_text()
            self.loft.start()
            self.connector_agent = agent.SimulatedAgent(self.kubeconfig_path.read_text()).start()
        except BaseException:
            self.stop()
            raise
        _write_private(self.state_dir / "loft-access-key", self.loft.access_key)
        # Last of what a waiting `start_in_background` reads: it returns as soon as this file exists.
        _write_private(self.env_file, self.environment_script())
        self.pid_file.write_text(str(os.getpid()))
        return self

    def environment(self) -> dict[str, str]:
        return {
            **self.aws.client_environment(),
            "KUBECONFIG": str(self.kubeconfig_path.resolve()),
            "LOFT_URL": self.loft.url,
            # Stacks run against the sandbox keep their state beside it, offline, under a throwaway passphrase.
            "PULUMI_BACKEND_URL": (self.state_dir.resolve() / "pulumi-state").as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": SANDBOX_PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            # The vCluster Platform agent chart, served by the Loft double as a mirror would serve it.
            "LOFT_CHART_REPOSITORY": self.loft.chart_repository_url,
        }

    def environment_script(self) -> str:
        lines = [f"export {key}={shlex.quote(value)}" for key, value in self.environment().items()]
        # The Loft access key is read from its file, so it is never printed.
        key_file = shlex.quote(str((self.state_dir / "loft-access-key").resolve()))
        lines.append(f'export LOFT_ACCESS_KEY="$(cat {key_file})"')
        return "\n".join(lines) + "\n"

    def stop(self) -> None:
        if self.connector_agent is not None:
            self.connector_agent.stop()
        self.loft.stop()
        self.aws.stop()
        if self.control_plane is not None:
            self.control_plane.stop()
        for path in (self.env_file, self.pid_file):
            path.unlink(missing_ok=True)

    def serve_until_signalled(self) -> None:
        stopped = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopped.set())
        stopped.wait()


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, whole: readers polling for it never see it empty or half-written."""
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(text)
    partial.replace(path)


def start_in_background(
    state_dir: Path, kubeconfig: Path | None, timeout: float = 180, loft_version: str = "v3"
) -> str:
    """Start `cluster-connect sandbox up` as a detached process; return its environment script."""
    env_file = state_dir / "env"
    if env_file.exists() and running_pid(state_dir):
        return env_file.read_text()
    state_dir.mkdir(parents=True, exist_ok=True)
    env_file.unlink(missing_ok=True)
    args = [sys.executable, "-m", "pulumi_cluster_connect.cli", "sandbox", "up", "--dir", str(state_dir)]
    if kubeconfig:
        args += ["--kubeconfig", str(kubeconfig)]
    args += ["--loft-version", loft_version]
    with (state_dir / "sandbox.log").open("ab") as log:
        process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if env_file.exists():
            return env_file.read_text()
        if process.poll() is not None:
            raise RuntimeError(
                f"the sandbox exited with {process.returncode}; the end of {state_dir / 'sandbox.log'}:\n"
                + _tail(state_dir / "sandbox.log")
            )
        time.sleep(0.2)
    process.terminate()
    raise TimeoutError(f"the sandbox did not start within {timeout:.0f}s; see {state_dir / 'sandbox.log'}")


def _tail(log: Path) -> str:
    lines = log.read_text(errors="replace").splitlines()
    return "\n".join(lines[-LOG_TAIL_LINES:])


def running_pid(state_dir: Path) -> int | None:
    try:
        pid = int((state_dir / "sandbox.pid").read_text())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def stop_background(state_dir: Path, timeout: float = 60) -> bool:
    """Stop a background sandbox; False when none was running."""
    pid = running_pid(state_dir)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def load_environment(state_dir: Path) -> dict[str, str]:
    """The variables of a running sandbox's env file (with the Loft access key read from its file)."""
    env: dict[str, str] = {}
    for line in (state_dir / "env").read_text().splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        if key == "LOFT_ACCESS_KEY":
            env[key] = (state_dir / "loft-access-key").read_text()
        else:
            env[key] = shlex.split(value)[0]
    return env

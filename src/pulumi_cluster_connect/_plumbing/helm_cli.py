"""The Helm 3 CLI, run per call with a private home: the kubeconfig as a 0600 file, values on stdin."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import errors, loft_api

# The mark on every release installed here (a Helm release label): what a re-run create may adopt.
MARK = ("managed-by", "pulumi-cluster-connect")


def whole_numbers(node: Any) -> Any:
    """Numbers reach a dynamic provider as floats (replicaCount: 1.0); charts expect integers back."""
    if isinstance(node, float) and node.is_integer():
        return int(node)
    if isinstance(node, list):
        return [whole_numbers(item) for item in node]
    if isinstance(node, Mapping):
        return {key: whole_numbers(value) for key, value in node.items()}
    return node


def find_helm(given: str | None) -> str:
    """`given` (a path or a name on PATH), else `helm` on PATH."""
    found = shutil.which(given) if given else shutil.which("helm")
    if found is None:
        where = f"helm_path {given!r} is not an executable" if given else "the helm CLI is not on PATH"
        raise errors.HelmError(
            "find Helm", f"{where}: install Helm 3 (https://helm.sh/docs/intro/install/) on the machine running pulumi"
        )
    return found


def _write_private(path: Path, text: str) -> Path:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    return path


@dataclass(frozen=True)
class ChartSource:
    """Where a chart comes from: a name in `repository` (optionally trusted through a CA), a path or an oci:// URL."""

    chart: str
    repository: str | None = None
    version: str | None = None
    repository_ca_data: str | None = None


@dataclass(frozen=True)
class Helm:
    """The Helm CLI bound to one kubeconfig (a 0600 file in a private temporary directory)."""

    binary: str
    home: Path
    kubeconfig_file: Path
    redact: tuple[str, ...]

    @classmethod
    @contextlib.contextmanager
    def session(cls, kubeconfig: str, helm_path: str | None, redact: Sequence[str]) -> Iterator[Helm]:
        binary = find_helm(helm_path)
        with tempfile.TemporaryDirectory(prefix="helm-") as home:  # created 0700
            kubeconfig_file = _write_private(Path(home) / "kubeconfig", kubeconfig)
            yield cls(binary, Path(home), kubeconfig_file, tuple(redact))

    def _environment(self) -> dict[str, str]:
        # The user's HELM_KUBE* and namespace settings would override the kubeconfig we were given.
        env = {k: v for k, v in os.environ.items() if not k.startswith("HELM_KUBE") and k != "HELM_NAMESPACE"}
        env.pop("KUBECONFIG", None)
        # A cache of our own: parallel calls never share a half-written repository index.
        env.update(HELM_CACHE_HOME=str(self.home / "cache"), HELM_DRIVER="secret")
        return env

    def clean(self, text: str) -> str:
        for secret in self.redact:
            text = text.replace(secret, "***")
        return text

    def run(self, action: str, args: list[str], timeout: float, stdin: str | None = None) -> str:
        """Run helm with `args`; its error (stderr) becomes HelmError, with every secret value redacted."""
        command = [self.binary, *args, "--kubeconfig", str(self.kubeconfig_file)]
        try:
            result = subprocess.run(
                command,
                input=stdin,
                capture_output=True,
                text=True,
                env=self._environment(),
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise errors.HelmError(action, f"helm did not finish within {timeout:.0f}s") from None
        except OSError as err:
            raise errors.HelmError(action, f"cannot run {self.binary}: {err.strerror}") from None
        if result.returncode != 0:
            message = result.stderr.strip() or result.stdout.strip() or f"exit status {result.returncode}"
            raise errors.HelmError(action, self.clean(message[-2000:]))
        return result.stdout

    def release(self, name: str, namespace: str, timeout: float) -> dict[str, Any] | None:
        """The release as `helm status` shows it, or None when there is none."""
        try:
            out = self.run(f"helm status {name}", ["status", name, "--namespace", namespace, "-o", "json"], timeout)
        except errors.HelmError as err:
            if "release: not found" in err.message:
                return None
            raise
        found: dict[str, Any] = json.loads(out)
        return found

    def is_labelled(self, name: str, namespace: str, selector: str, timeout: float) -> bool:
        """Whether the release's labels match `selector` (Kubernetes label selector syntax, `!key` included)."""
        args = ["list", "--namespace", namespace, "--all", "--filter", f"^{re.escape(name)}$"]
        args += ["--selector", selector, "-o", "json"]
        return bool(json.loads(self.run(f"helm list {name}", args, timeout) or "[]"))

    def releases_in(self, namespace: str, timeout: float) -> list[dict[str, Any]]:
        args = ["list", "--namespace", namespace, "--all", "-o", "json"]
        found: list[dict[str, Any]] = json.loads(self.run(f"helm list -n {namespace}", args, timeout) or "[]")
        return found

    def upgrade_install(
        self,
        chart: ChartSource,
        name: str,
        namespace: str,
        values: Mapping[str, Any],
        *,
        labels: Mapping[str, str],
        wait: bool,
        timeout: float,
    ) -> dict[str, Any]:
        """`helm upgrade --install`, labelled with MARK and `labels`; the release as Helm answers it."""
        marks = ",".join("=".join(pair) for pair in (MARK, *labels.items()))
        args = ["upgrade", name, chart.chart, "--install", "--namespace", namespace]
        args += ["--labels", marks, "--timeout", f"{int(timeout)}s", "-o", "json"]
        if chart.repository:
            args += ["--repo", chart.repository]
        if chart.repository_ca_data:
            ca_file = _write_private(self.home / "repository-ca.crt", loft_api.pem_of(chart.repository_ca_data))
            args += ["--ca-file", str(ca_file)]
        if chart.version:
            args += ["--version", chart.version]
        if wait:
            args += ["--wait"]
        # Values on stdin, never in argv (which every process on the machine may read).
        args += ["--values", "-"]
        stdin = json.dumps(whole_numbers(dict(values)))
        release: dict[str, Any] = json.loads(self.run(f"helm upgrade --install {name}", args, timeout + 60, stdin))
        return release

    def uninstall(self, name: str, namespace: str, timeout: float) -> bool:
        """Uninstall and wait until its objects are gone; False when there was no such release."""
        args = ["uninstall", name, "--namespace", namespace, "--wait", "--timeout", f"{int(timeout)}s"]
        try:
            self.run(f"helm uninstall {name}", args, timeout + 60)
        except errors.HelmError as err:
            if "not found" in err.message:
                return False
            raise
        return True

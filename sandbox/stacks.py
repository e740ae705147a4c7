"""Pulumi stacks run offline with the real engine: a file backend, a passphrase, an isolated PULUMI_HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi import automation as auto
from pulumi.runtime import _grpc_settings

PASSPHRASE = "integration-tests-passphrase"

# An inline program runs in this process and dials each up's engine with a new gRPC channel that the SDK never
# closes. gRPC shares subchannels between channels to the same address, so when an engine picks a port that an
# earlier engine of this process used, the new channel inherits the dead one's reconnect backoff and its first
# RegisterResource fails at once: "Resource monitor has terminated, shutting down" (one CI run in a few hundred
# ups). A subchannel pool per channel removes that; the option list is the SDK's own (3.231 to 3.272 alike).
LOCAL_SUBCHANNEL_POOL = ("grpc.use_local_subchannel_pool", 1)
if LOCAL_SUBCHANNEL_POOL not in _grpc_settings._GRPC_CHANNEL_OPTIONS:
    _grpc_settings._GRPC_CHANNEL_OPTIONS.append(LOCAL_SUBCHANNEL_POOL)


@dataclass
class TestStack:
    """A stack with helpers that return what the engine did, and the exported state as text."""

    __test__ = False  # not a test class, whatever its name

    stack: auto.Stack
    output_lines: list[str] = field(default_factory=list)

    def _collect(self, line: str) -> None:
        self.output_lines.append(line)

    @property
    def output(self) -> str:
        return "\n".join(self.output_lines)

    def up(self, **kwargs: Any) -> auto.UpResult:
        return self.stack.up(on_output=self._collect, color="never", **kwargs)

    def preview(self, **kwargs: Any) -> auto.PreviewResult:
        return self.stack.preview(on_output=self._collect, color="never", **kwargs)

    def refresh(self, **kwargs: Any) -> auto.RefreshResult:
        return self.stack.refresh(on_output=self._collect, color="never", **kwargs)

    def destroy(self, **kwargs: Any) -> auto.DestroyResult:
        return self.stack.destroy(on_output=self._collect, color="never", **kwargs)

    def outputs(self) -> dict[str, Any]:
        return {k: v.value for k, v in self.stack.outputs().items()}

    def state_text(self) -> str:
        """The state as stored, secrets encrypted (the Automation API's export would decrypt them)."""
        workspace = self.stack.workspace
        result = subprocess.run(
            ["pulumi", "stack", "export", "--stack", self.stack.name],
            cwd=workspace.work_dir,
            env={**os.environ, **workspace.env_vars},
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout

    def resources(self, type_suffix: str = "") -> list[dict[str, Any]]:
        deployment = self.stack.export_stack().deployment or {}
        return [r for r in deployment.get("resources", []) if r["type"].endswith(type_suffix)]

    def set_config(self, key: str, value: str, secret: bool = False) -> None:
        self.stack.set_config(key, auto.ConfigValue(value=value, secret=secret))


def engine_env(pulumi_home: Path, backend_dir: Path) -> dict[str, str]:
    return {
        "PULUMI_HOME": str(pulumi_home),
        "PULUMI_BACKEND_URL": backend_dir.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_PYTHON_CMD": sys.executable,
    }


@dataclass
class StackFactory:
    """Makes stacks for inline programs or for Pulumi projects on disk, all in one temporary backend."""

    root: Path
    counter: int = 0

    def _env(self) -> dict[str, str]:
        backend = self.root / "backend"
        backend.mkdir(parents=True, exist_ok=True)
        return engine_env(self.root / "pulumi-home", backend)

    def _options(self, project: str | None) -> auto.LocalWorkspaceOptions:
        env = self._env()
        settings = None
        if project:
            settings = auto.ProjectSettings(
                name=project, runtime="python", backend=auto.ProjectBackend(url=env["PULUMI_BACKEND_URL"])
            )
        return auto.LocalWorkspaceOptions(
            pulumi_home=env["PULUMI_HOME"],
            env_vars=env,
            project_settings=settings,
            secrets_provider="passphrase",
        )

    def inline(self, program: Callable[[], None], project: str = "tests", stack: str | None = None) -> TestStack:
        self.counter += 1
        name = stack or f"s{self.counter}"
        created = auto.create_or_select_stack(
            stack_name=name, project_name=project, program=program, opts=self._options(project)
        )
        return TestStack(created)

    def project(self, work_dir: Path, stack: str | None = None) -> TestStack:
        self.counter += 1
        name = stack or f"s{self.counter}"
        opts = self._options(None)
        opts.work_dir = str(work_dir)
        created = auto.create_or_select_stack(stack_name=name, work_dir=str(work_dir), opts=opts)
        return TestStack(created)

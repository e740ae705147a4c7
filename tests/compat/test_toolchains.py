"""A user's project on each Python toolchain: `pulumi install`, up, an error as the user reads it, destroy.

The project is what a user writes (Pulumi.yaml's runtime options, requirements.txt or pyproject.toml naming our
package and this leg's pulumi SDK), run with the `pulumi` CLI of this leg on a file backend. Nothing of the test's
own environment leaks in: no PULUMI_PYTHON_CMD, no virtualenv on PATH, so the program and the dynamic provider
process (the SDK's `pulumi-resource-pulumi-python`) find our package only in the environment the toolchain made.
uv and poetry are the pinned ones `make` installs in .venv-toolchains.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from pulumi import automation as auto

from pulumi_cluster_connect.sandbox.stacks import PASSPHRASE

from .conftest import Leg

REPO = Path(__file__).resolve().parents[2]
TOOLCHAINS_BIN = REPO / ".venv-toolchains" / "bin"
REGION = "us-west-2"
CLUSTER = "toolchains"
SENTENCE = "read of v1/ConfigMap/default/c failed on https://127.0.0.1:9: Unreachable: ConnectError"
TRACEBACK = "Traceback (most recent call last)"
PROGRAM = textwrap.dedent(
    """\
    import shutil
    import sys

    import pulumi

    from pulumi_cluster_connect.dynamic_providers import FargateProfile, KubernetesManifest

    config = pulumi.Config()
    profile = FargateProfile(
        "apps",
        cluster_name=config.require("cluster"),
        pod_execution_role_arn=config.require("role"),
        selectors=[{"namespace": "apps"}],
    )
    pulumi.export("profile", profile.fargate_profile_name)
    pulumi.export("python", sys.executable)
    pulumi.export("pip", shutil.which("pip"))
    if config.get_bool("fail"):
        unreachable = {
            "apiVersion": "v1", "kind": "Config", "current-context": "c",
            "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
            "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:9"}}],
            "users": [{"name": "u", "user": {"token": "planted-token-0123456789"}}],
        }
        config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
        KubernetesManifest("app", kubeconfig=unreachable, objects=[config_map])
    """
)


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Our package as a user installs it: a wheel, built once per session."""
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", str(REPO), "-w", folder],
        check=True,
        capture_output=True,
    )
    [built] = folder.glob("pulumi_cluster_connect-*.whl")
    return built


def outside_any_virtualenv(path: str) -> list[str]:
    return [entry for entry in path.split(os.pathsep) if entry and not (Path(entry).parent / "pyvenv.cfg").exists()]


@dataclass
class UserCli:
    """The leg's `pulumi` CLI as a user runs it, with the AWS sandbox's endpoint and a file backend."""

    leg: Leg
    env: dict[str, str]
    role: str

    def __call__(self, project: Path, *args: str, ok: bool = True) -> str:
        result = subprocess.run(
            ["pulumi", *args], cwd=project, env=self.env, capture_output=True, text=True, timeout=600, check=False
        )
        shown = result.stdout + result.stderr
        assert (result.returncode == 0) == ok, f"{self.leg}: `pulumi {' '.join(args)}` in {project}:\n{shown[-3000:]}"
        return shown


@pytest.fixture
def cli(leg: Leg, tmp_path: Path, fargate_cluster: Callable[[str], str]) -> UserCli:
    tools = tmp_path / "tools"
    tools.mkdir()
    for tool in ("uv", "poetry"):
        if (TOOLCHAINS_BIN / tool).exists():
            (tools / tool).symlink_to(TOOLCHAINS_BIN / tool)
    env = {k: v for k, v in os.environ.items() if k not in ("PULUMI_PYTHON_CMD", "VIRTUAL_ENV", "PYTHONPATH")}
    env |= {
        "PATH": os.pathsep.join([str(leg.engine_dir), str(tools), *outside_any_virtualenv(env["PATH"])]),
        "PULUMI_HOME": str(tmp_path / "pulumi-home"),
        "PULUMI_BACKEND_URL": (tmp_path / "backend").as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "POETRY_VIRTUALENVS_PATH": str(tmp_path / "poetry-envs"),
        "AWS_DEFAULT_REGION": REGION,
    }
    (tmp_path / "backend").mkdir()
    return UserCli(leg, env, fargate_cluster(CLUSTER))


def pulumi_yaml(name: str, options: dict[str, str]) -> str:
    lines = [f"name: {name}", "runtime:", "  name: python"]
    if options:
        lines += ["  options:", *(f"    {key}: {value}" for key, value in options.items())]
    return "\n".join(lines) + "\n"


def pyproject(name: str, leg: Leg, wheel: Path, extra: str = "") -> str:
    return (
        textwrap.dedent(
            f"""\
        [project]
        name = "{name}"
        version = "0.1.0"
        requires-python = ">=3.11"
        dependencies = ["pulumi=={leg.sdk}", "pulumi-cluster-connect @ {wheel.as_uri()}"]
        """
        )
        + extra
    )


def project_for(toolchain: str, root: Path, leg: Leg, wheel: Path) -> Path:
    """The user's project folder for `toolchain`, its dependencies declared but not installed."""
    project = root / "infra"
    project.mkdir(parents=True)
    (project / "__main__.py").write_text(PROGRAM)
    if toolchain == "pip":
        (project / "Pulumi.yaml").write_text(pulumi_yaml("tc-pip", {"toolchain": "pip", "virtualenv": "venv"}))
        (project / "requirements.txt").write_text(f"pulumi=={leg.sdk}\n{wheel}\n")
    elif toolchain == "uv":
        (project / "Pulumi.yaml").write_text(pulumi_yaml("tc-uv", {"toolchain": "uv"}))
        (project / "pyproject.toml").write_text(pyproject("tc-uv", leg, wheel))
    elif toolchain.startswith("uv-workspace"):
        # A monorepo: the workspace's pyproject.toml and uv.lock at the root, the Pulumi project a member of it.
        (root / "pyproject.toml").write_text(
            pyproject("monorepo", leg, wheel, '\n[tool.uv.workspace]\nmembers = ["infra"]\n').replace(
                f'"pulumi=={leg.sdk}", "pulumi-cluster-connect @ {wheel.as_uri()}"', ""
            )
        )
        # As docs/guides/install.md says (works with upstream's CLI too), or relying on our host's link.
        options = {"toolchain": "uv"} if toolchain.endswith("linked") else {"toolchain": "uv", "virtualenv": "../.venv"}
        (project / "Pulumi.yaml").write_text(pulumi_yaml("tc-uvws", options))
        (project / "pyproject.toml").write_text(pyproject("infra", leg, wheel))
    elif toolchain == "poetry":
        (project / "Pulumi.yaml").write_text(pulumi_yaml("tc-poetry", {"toolchain": "poetry"}))
        (project / "pyproject.toml").write_text(
            pyproject("tc-poetry", leg, wheel, "\n[tool.poetry]\npackage-mode = false\n")
        )
    return project


@pytest.mark.parametrize("toolchain", ["pip", "uv", "uv-workspace", "uv-workspace-linked", "poetry"])
def test_a_project_installs_ups_reads_our_error_and_destroys(
    toolchain: str, leg: Leg, cli: UserCli, wheel: Path, tmp_path: Path
) -> None:
    project = project_for(toolchain, tmp_path / "user", leg, wheel)
    if toolchain.startswith("uv-workspace"):
        subprocess.run(["uv", "lock"], cwd=project.parent, env=cli.env, check=True, capture_output=True)

    cli(project, "install")
    if toolchain.startswith("uv-workspace"):
        linked = (project / ".venv").is_symlink()
        assert linked == toolchain.endswith("linked"), f"{leg}, {toolchain}: project's .venv a link: {linked}"
    cli(project, "stack", "init", "dev")
    cli(project, "config", "set", "cluster", CLUSTER)
    cli(project, "config", "set", "role", cli.role)
    cli(project, "up", "--yes", "--skip-preview")
    eks = boto3.client("eks", region_name=REGION)
    [made] = eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"]
    assert made.startswith("apps-"), f"{leg}, {toolchain}: {made}"

    cli(project, "config", "set", "fail", "true")
    shown = cli(project, "up", "--yes", "--skip-preview", ok=False)
    assert SENTENCE in shown, f"{leg}, {toolchain}: our sentence is not shown:\n{shown[-2000:]}"
    assert TRACEBACK not in shown, f"{leg}, {toolchain}: a traceback is shown:\n{shown[-2000:]}"
    assert "planted-token" not in shown, f"{leg}, {toolchain}: the kubeconfig's token is shown"

    cli(project, "destroy", "--yes", "--skip-preview")
    assert eks.list_fargate_profiles(clusterName=CLUSTER)["fargateProfileNames"] == [], f"{leg}: {toolchain}"


def test_an_automation_api_program_runs_in_the_virtualenv_its_project_settings_name(
    leg: Leg, cli: UserCli, wheel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ProjectSettings naming a `virtualenv`, whose bin is not on PATH: the program and the provider run in it."""
    project = tmp_path / "automation"
    project.mkdir()
    (project / "__main__.py").write_text(PROGRAM)
    subprocess.run([sys.executable, "-m", "venv", project / "venv"], check=True)
    subprocess.run(
        [project / "venv" / "bin" / "pip", "install", "--quiet", f"pulumi=={leg.sdk}", wheel],
        check=True,
        capture_output=True,
    )
    env = cli.env
    for key in ("PULUMI_PYTHON_CMD", "VIRTUAL_ENV"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PATH", env["PATH"])
    settings = auto.ProjectSettings(
        name="automation",
        runtime=auto.ProjectRuntimeInfo(name="python", options={"virtualenv": "venv"}),
        backend=auto.ProjectBackend(url=env["PULUMI_BACKEND_URL"]),
    )
    stack = auto.create_or_select_stack(
        "dev",
        work_dir=str(project),
        opts=auto.LocalWorkspaceOptions(
            work_dir=str(project),
            pulumi_home=env["PULUMI_HOME"],
            env_vars=env,
            project_settings=settings,
            secrets_provider="passphrase",
        ),
    )
    stack.set_config("cluster", auto.ConfigValue(CLUSTER))
    stack.set_config("role", auto.ConfigValue(cli.role))
    outputs = stack.up(color="never").outputs
    venv_bin = project / "venv" / "bin"
    assert Path(outputs["python"].value).parent == venv_bin, f"{leg}: the program ran {outputs['python'].value}"
    assert Path(outputs["pip"].value).parent == venv_bin, (
        f"{leg}: the program's PATH finds pip at {outputs['pip'].value}, not in the environment it runs in"
    )
    stack.set_config("fail", auto.ConfigValue("true"))
    lines: list[str] = []
    with pytest.raises(auto.CommandError) as failed:
        stack.up(on_output=lines.append, color="never")
    shown = "\n".join(lines) + str(failed.value)
    assert SENTENCE in shown, f"{leg}: our sentence is not shown:\n{shown[-2000:]}"
    assert TRACEBACK not in shown, f"{leg}: a traceback is shown:\n{shown[-2000:]}"
    stack.destroy(color="never")

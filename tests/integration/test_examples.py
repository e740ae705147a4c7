"""Every example in examples/ is a Pulumi project that runs on the sandbox: up, preview without changes, destroy."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from pulumi_cluster_connect.sandbox import kubernetes, seed
from pulumi_cluster_connect.sandbox.agent import SimulatedAgent
from pulumi_cluster_connect.sandbox.aws import accounts
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl
from pulumi_cluster_connect.sandbox.kubernetes import ControlPlane
from pulumi_cluster_connect.sandbox.loft import LoftControl, LoftSandbox
from pulumi_cluster_connect.sandbox.stacks import StackFactory, TestStack

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_every_example_folder_is_exercised_here() -> None:
    folders = {p.name for p in EXAMPLES.iterdir() if (p / "Pulumi.yaml").exists()}
    assert folders == {case.split(":")[0] for case in CASES}


def eks_cluster(name: str, version: str) -> None:
    """A cluster beside the seeded one: on the seeded VPC's private subnets, with the seeded cluster role."""
    seeded = seed.seed()
    boto3.client("eks").create_cluster(
        name=name,
        version=version,
        roleArn=seeded["clusterRoleArn"],
        resourcesVpcConfig={"subnetIds": seeded["privateSubnetIds"]},
    )


def configure_eks_connector(stack: TestStack, request: pytest.FixtureRequest) -> Callable[[dict[str, object]], None]:
    kube: ControlPlane = request.getfixturevalue("kube")
    request.getfixturevalue("agent")
    stack.set_config("clusterName", "edge-example")
    stack.set_config("roleArn", seed.seed()["connectorRoleArn"])
    stack.set_config("kubeconfig", kube.kubeconfig_text(), secret=True)

    def verify(outputs: dict[str, object]) -> None:
        assert outputs["status"] == "ACTIVE"
        assert boto3.client("eks").describe_cluster(name="edge-example")["cluster"]["status"] == "ACTIVE"

    return verify


def configure_fargate(stack: TestStack, request: pytest.FixtureRequest) -> Callable[[dict[str, object]], None]:
    eks_cluster("apps-cluster", "1.31")
    stack.set_config("clusterName", "apps-cluster")
    stack.set_config("podExecutionRoleArn", seed.seed()["podExecutionRoleArn"])

    def verify(outputs: dict[str, object]) -> None:
        profiles = boto3.client("eks").list_fargate_profiles(clusterName="apps-cluster")["fargateProfileNames"]
        assert sorted(profiles) == sorted(str(name) for name in dict(outputs["profiles"]).values())  # type: ignore[call-overload]
        assert len(profiles) == 2

    return verify


def configure_upgrade(stack: TestStack, request: pytest.FixtureRequest) -> Callable[[dict[str, object]], None]:
    eks_cluster("old-cluster", "1.29")
    stack.set_config("clusterName", "old-cluster")
    stack.set_config("version", "1.31")

    def verify(outputs: dict[str, object]) -> None:
        assert outputs["version"] == "1.31"
        assert len(outputs["updates"]) == 2  # type: ignore[arg-type]
        assert boto3.client("eks").describe_cluster(name="old-cluster")["cluster"]["version"] == "1.31"

    return verify


def configure_loft(stack: TestStack, request: pytest.FixtureRequest) -> Callable[[dict[str, object]], None]:
    kube: ControlPlane = request.getfixturevalue("kube")
    loft_sandbox: LoftSandbox = request.getfixturevalue("loft_sandbox")
    loft: LoftControl = request.getfixturevalue("loft")
    kubeconfig = Path(request.getfixturevalue("tmp_path")) / "kubeconfig.yaml"
    kubeconfig.write_text(kube.kubeconfig_text())
    stack.set_config("loftUrl", loft_sandbox.url)
    stack.set_config("loftAccessKey", loft_sandbox.access_key, secret=True)
    stack.set_config("loftCaData", loft_sandbox.ca_data)
    stack.set_config("kubeconfigPath", str(kubeconfig))
    stack.set_config("ownerTeam", "platform")

    def verify(outputs: dict[str, object]) -> None:
        assert outputs == {"cluster_name": "dev", "phase": "Initialized", "mode": "cluster-connect"}
        assert loft.state()["clusters"] == ["dev"]

    return verify


def configure_loft_v4(stack: TestStack, request: pytest.FixtureRequest) -> Callable[[dict[str, object]], None]:
    """The same example against vCluster Platform v4: the agent chart from the platform's mirror, by Helm."""
    kube: ControlPlane = request.getfixturevalue("kube")
    request.getfixturevalue("helm_cli")
    platform_sandbox: LoftSandbox = request.getfixturevalue("platform_sandbox")
    platform: LoftControl = request.getfixturevalue("platform")
    kubeconfig = Path(request.getfixturevalue("tmp_path")) / "kubeconfig.yaml"
    kubeconfig.write_text(kube.kubeconfig_text())
    stack.set_config("loftUrl", platform_sandbox.url)
    stack.set_config("loftAccessKey", platform_sandbox.access_key, secret=True)
    stack.set_config("loftCaData", platform_sandbox.ca_data)
    stack.set_config("kubeconfigPath", str(kubeconfig))
    stack.set_config("ownerTeam", "platform")
    stack.set_config("agentChartRepository", platform_sandbox.chart_repository_url)
    stack.set_config("agentChartRepositoryCaData", platform_sandbox.ca_data)

    def verify(outputs: dict[str, object]) -> None:
        assert outputs == {"cluster_name": "dev", "phase": "Initialized", "mode": "agent"}
        # A new agent goes where the vCluster CLI puts it since v0.21 (issue 28).
        assert platform.state()["agents"] == {"dev": "vcluster-platform/loft"}

    return verify


def configure_fleet(stack: TestStack, request: pytest.FixtureRequest) -> Callable[[dict[str, object]], None]:
    """Two external clusters (the session's and one more, each with its simulated agent) and two EKS clusters."""
    kube: ControlPlane = request.getfixturevalue("kube")
    request.getfixturevalue("agent")
    second = kubernetes.start_temporary()
    request.addfinalizer(lambda: kubernetes.stop_temporary(second))
    second_agent = SimulatedAgent(second.kubeconfig_text()).start()
    request.addfinalizer(second_agent.stop)
    folder = Path(request.getfixturevalue("tmp_path"))
    for name, plane in (("edge-a", kube), ("edge-b", second)):
        (folder / f"{name}.kubeconfig").write_text(plane.kubeconfig_text())
    for name in ("apps-a", "apps-b"):
        eks_cluster(name, "1.30")
    clusters = [
        {"name": "edge-a", "connect": {"kubeconfigPath": str(folder / "edge-a.kubeconfig")}},
        {"name": "edge-b", "connect": {"kubeconfigPath": str(folder / "edge-b.kubeconfig"), "provider": "GKE"}},
        {"name": "apps-a", "version": "1.31", "fargateNamespaces": ["apps", "jobs"]},
        {"name": "apps-b", "version": "1.31", "fargateNamespaces": ["apps", "jobs"]},
    ]
    stack.set_config("clusters", json.dumps(clusters))
    stack.set_config("connectorRoleArn", seed.seed()["connectorRoleArn"])
    stack.set_config("podExecutionRoleArn", seed.seed()["podExecutionRoleArn"])

    def verify(outputs: dict[str, object]) -> None:
        fleet: dict[str, dict[str, object]] = outputs["fleet"]  # type: ignore[assignment]
        eks = boto3.client("eks")
        for name in ("edge-a", "edge-b"):
            assert fleet[name] == {"status": "ACTIVE"}
            assert eks.describe_cluster(name=name)["cluster"]["status"] == "ACTIVE"
        for name in ("apps-a", "apps-b"):
            assert fleet[name] == {"version": "1.31", "profiles": [f"{name}-apps", f"{name}-jobs"]}
            assert eks.describe_cluster(name=name)["cluster"]["version"] == "1.31"
            profiles = eks.list_fargate_profiles(clusterName=name)["fargateProfileNames"]
            assert sorted(profiles) == [f"{name}-apps", f"{name}-jobs"]
        assert second.token not in stack.state_text()

    return verify


def configure_accounts(stack: TestStack, request: pytest.FixtureRequest) -> Callable[[dict[str, object]], None]:
    """Hub and spoke: Fargate profiles in two accounts through profiles, a registration in a third through a chain."""
    world = accounts.hub_and_spoke(Path(request.getfixturevalue("tmp_path")))
    request.getfixturevalue("monkeypatch").setenv("AWS_CONFIG_FILE", str(world["config_file"]))
    spokes = [
        {
            "profile": name,
            "clusterName": "apps",
            "namespace": "apps",
            "podExecutionRoleArn": world["seeded"][acct]["podExecutionRoleArn"],
        }
        for name, acct in (("dev", accounts.DEV), ("staging", accounts.STAGING))
    ]
    stack.set_config("fargate", json.dumps(spokes))
    registration = {
        "clusterName": "edge-prod",
        "connectorRoleArn": world["seeded"][accounts.PROD]["connectorRoleArn"],
        "assumeRoles": world["prod_chain"],
    }
    stack.set_config("registration", json.dumps(registration))

    def verify(outputs: dict[str, object]) -> None:
        every = (accounts.HUB_ACCOUNT, accounts.DEV, accounts.STAGING, accounts.PROD)
        for name, account in (("dev", accounts.DEV), ("staging", accounts.STAGING)):
            assert f":{account}:" in str(dict(outputs["profiles"])[name])  # type: ignore[call-overload]
            for elsewhere in every:
                eks = accounts.client("eks", elsewhere)
                found = (
                    eks.list_fargate_profiles(clusterName="apps")["fargateProfileNames"]
                    if elsewhere in (accounts.DEV, accounts.STAGING)
                    else []
                )
                assert (f"{name}-apps" in found) == (elsewhere == account), (name, elsewhere)
        assert f":{accounts.PROD}:" in str(outputs["registration"])
        for elsewhere in every:
            clusters = accounts.client("eks", elsewhere).list_clusters(include=["all"])["clusters"]
            assert ("edge-prod" in clusters) == (elsewhere == accounts.PROD), elsewhere
        assert accounts.EXTERNAL_ID not in stack.output

    return verify


CASES: dict[str, Callable[[TestStack, pytest.FixtureRequest], Callable[[dict[str, object]], None]]] = {
    "eks-connector": configure_eks_connector,
    "fargate": configure_fargate,
    "upgrade": configure_upgrade,
    "loft": configure_loft,
    "loft:v4": configure_loft_v4,
    "fleet": configure_fleet,
    "accounts": configure_accounts,
}


@pytest.mark.parametrize("example", sorted(CASES))
def test_the_example_runs_up_preview_and_destroy_on_the_sandbox(
    example: str, stacks: StackFactory, aws: SandboxControl, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # A copy, so the stack's config file is not written into the repository.
    folder = example.split(":", maxsplit=1)[0]
    project = shutil.copytree(EXAMPLES / folder, tmp_path / folder)
    stack = stacks.project(project)
    verify = CASES[example](stack, request)

    result = stack.up()
    verify({key: output.value for key, output in result.outputs.items()})
    assert set(stack.preview().change_summary) == {"same"}
    kube: ControlPlane = request.getfixturevalue("kube")
    assert kube.token not in stack.state_text()
    assert kube.token not in stack.output
    stack.destroy()
    assert stack.resources() == []

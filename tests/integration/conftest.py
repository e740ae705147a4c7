"""Real peers for the integration tests: the Pulumi engine, a kube-apiserver, the sandbox's AWS endpoint."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pulumi_cluster_connect.cli import engine, helm_binary
from pulumi_cluster_connect.sandbox import kubernetes, seed
from pulumi_cluster_connect.sandbox.agent import SimulatedAgent
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl
from pulumi_cluster_connect.sandbox.aws.server import AwsSandbox
from pulumi_cluster_connect.sandbox.fargate_scheduler import FargateScheduler
from pulumi_cluster_connect.sandbox.loft import LoftControl, LoftSandbox
from pulumi_cluster_connect.sandbox.stacks import StackFactory

REPO = Path(__file__).resolve().parents[2]
REGION = "us-west-2"


@pytest.fixture(scope="session")
def pulumi_engine() -> Path:
    """The pinned engine (built once per machine by tools/pulumi/build.sh), first on PATH."""
    return engine.ensure_on_path()


@pytest.fixture(scope="session")
def kube() -> Iterator[kubernetes.ControlPlane]:
    plane = kubernetes.start_temporary()
    try:
        yield plane
    finally:
        kubernetes.stop_temporary(plane)


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """The sandbox AWS endpoint, reached by every process through the standard variables."""
    sandbox = AwsSandbox().start()
    with pytest.MonkeyPatch.context() as environment:
        for key, value in sandbox.client_environment(REGION).items():
            environment.setenv(key, value)
        environment.delenv("AWS_PROFILE", raising=False)
        try:
            yield sandbox.url
        finally:
            sandbox.stop()


@pytest.fixture
def aws(aws_endpoint: str) -> Iterator[SandboxControl]:
    """The sandbox AWS endpoint, reset before each test."""
    control = SandboxControl(aws_endpoint)
    control.reset()
    yield control
    control.reset()


@pytest.fixture
def fargate_cluster(aws: SandboxControl) -> Callable[[str], str]:
    """Makes an EKS cluster of a given name on the seeded VPC's private subnets and returns the seeded Fargate pod
    execution role's ARN: what a FargateProfile needs. Profile operations take 0.5 s."""
    aws.set_durations(fargate_create=0.5, fargate_delete=0.5)

    def make(name: str) -> str:
        clients = seed.Clients.from_environment()
        seeded = seed.seed(clients)
        clients.eks.create_cluster(
            name=name, roleArn=seeded["clusterRoleArn"], resourcesVpcConfig={"subnetIds": seeded["privateSubnetIds"]}
        )
        return str(seeded["podExecutionRoleArn"])

    return make


@pytest.fixture
def agent(kube: kubernetes.ControlPlane, aws: SandboxControl) -> Iterator[SimulatedAgent]:
    """The simulated EKS Connector agent watching the sandbox cluster (in this process, beside the sandbox)."""
    with SimulatedAgent(kube.kubeconfig_text()) as running:
        yield running


@pytest.fixture(scope="session")
def loft_sandbox() -> Iterator[LoftSandbox]:
    """The Loft double over HTTPS, trusted through ca_data."""
    sandbox = LoftSandbox(tls=True).start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def loft(loft_sandbox: LoftSandbox) -> Iterator[LoftControl]:
    control = LoftControl(loft_sandbox.url)
    control.reset()
    control.set_durations(initialize=1.0, delete=0.5)
    yield control
    control.reset()


@pytest.fixture(scope="session")
def helm_cli(pulumi_engine: Path) -> Path:
    """The pinned Helm CLI (built once per machine by tools/helm/build.sh), first on PATH for the providers."""
    return helm_binary.ensure_on_path()


@pytest.fixture(scope="session")
def platform_sandbox(kube: kubernetes.ControlPlane) -> Iterator[LoftSandbox]:
    """The Loft double as vCluster Platform v4 over HTTPS; agents the chart installs in `kube` connect to it."""
    sandbox = LoftSandbox(version="v4", tls=True, agent_kubeconfig=kube.kubeconfig_text()).start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def platform(platform_sandbox: LoftSandbox) -> Iterator[LoftControl]:
    control = LoftControl(platform_sandbox.url)
    control.reset()
    control.set_durations(initialize=0.5, delete=0.3)
    yield control
    control.reset()


@pytest.fixture
def stacks(pulumi_engine: Path, tmp_path: Path) -> StackFactory:
    return StackFactory(tmp_path)


@pytest.fixture
def fargate_pods(
    kube: kubernetes.ControlPlane, aws: SandboxControl, aws_endpoint: str
) -> Iterator[Callable[..., FargateScheduler]]:
    """Links a sandbox EKS cluster (by name) to `kube` with the Fargate scheduler double; stopped after the test."""
    running: list[FargateScheduler] = []

    def link(cluster: str, start_seconds: float = 0.5) -> FargateScheduler:
        scheduler = FargateScheduler(
            kube.kubeconfig_text(), cluster, REGION, endpoint_url=aws_endpoint, start_seconds=start_seconds
        ).start()
        running.append(scheduler)
        return scheduler

    yield link
    for scheduler in running:
        scheduler.stop()

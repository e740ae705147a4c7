"""The sandbox's EKS add-ons: versions and compatibilities, lifecycle, updates, held to botocore's model."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import botocore.exceptions
import pytest

from pulumi_cluster_connect.sandbox.aws import addon_catalog, messages, versions
from pulumi_cluster_connect.sandbox.aws.control import SandboxControl

from .. import contract
from .test_sandbox_insights import error_of

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

REGION = "us-west-2"
ADDON_SECONDS = 0.3


@pytest.fixture
def control(endpoint: str) -> Iterator[SandboxControl]:
    made = SandboxControl(endpoint)
    made.reset()
    made.set_durations(cluster_update=0.3, addon_update=ADDON_SECONDS)
    yield made
    made.reset()


@pytest.fixture
def eks(endpoint: str, control: SandboxControl) -> Iterator[EKSClient]:
    """A client whose every answer is held to the model; a cluster `prod` at 1.29."""
    session = boto3.session.Session(
        region_name=REGION, aws_access_key_id="sandbox", aws_secret_access_key="sandbox-secret"
    )
    role = session.client("iam", endpoint_url=endpoint).create_role(RoleName="c", AssumeRolePolicyDocument="{}")
    recorder = contract.Recorder()
    client: EKSClient = recorder.attach(session.client("eks", endpoint_url=endpoint))
    client.create_cluster(
        name="prod", version="1.29", roleArn=role["Role"]["Arn"], resourcesVpcConfig={"subnetIds": ["subnet-a"]}
    )
    yield client
    assert recorder.violations(epoch_only=True) == []


def wait_until(describe: Any, done: Any) -> Any:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = describe()
        if done(found):
            return found
        time.sleep(0.05)
    raise AssertionError("still waiting")


def active_addon(eks: EKSClient, name: str) -> dict[str, Any]:
    return dict(
        wait_until(
            lambda: eks.describe_addon(clusterName="prod", addonName=name)["addon"],
            lambda a: a["status"] == "ACTIVE",
        )
    )


def compatible_versions(eks: EKSClient, name: str, kubernetes_version: str) -> tuple[list[str], str]:
    pages = eks.get_paginator("describe_addon_versions").paginate(addonName=name, kubernetesVersion=kubernetes_version)
    infos = [v for page in pages for addon in page["addons"] for v in addon["addonVersions"]]
    compatible = [v["addonVersion"] for v in infos if v["compatibilities"]]
    default = [v["addonVersion"] for v in infos if any(c["defaultVersion"] for c in v["compatibilities"])]
    assert len(default) == 1
    return compatible, default[0]


@pytest.mark.parametrize("name", sorted(addon_catalog.CATALOG))
@pytest.mark.parametrize("kubernetes_version", versions.KUBERNETES_VERSIONS)
def test_every_add_on_has_one_compatible_default_for_every_offered_version(name: str, kubernetes_version: str) -> None:
    addon = addon_catalog.CATALOG[name]
    default = addon.default_for(kubernetes_version)

    assert default is not None
    assert kubernetes_version in default.compatible
    assert sum(kubernetes_version in v.default_for for v in addon.versions) == 1


def test_describe_addon_versions_narrows_compatibilities_to_the_asked_minor(eks: EKSClient) -> None:
    compatible, default = compatible_versions(eks, "kube-proxy", "1.30")

    assert default == "v1.30.0-eksbuild.1"
    assert "v1.29.15-eksbuild.2" in compatible
    assert "v1.27.16-eksbuild.2" in compatible
    assert "v1.26.15-eksbuild.2" not in compatible
    assert "v1.29.0-eksbuild.1" not in compatible
    assert "v1.31.10-eksbuild.2" not in compatible


def test_describe_addon_versions_without_a_minor_lists_every_compatibility(eks: EKSClient) -> None:
    answer = eks.describe_addon_versions(addonName="coredns")
    [addon] = answer["addons"]
    by_version = {v["addonVersion"]: v for v in addon["addonVersions"]}

    assert [c["clusterVersion"] for c in by_version["v1.11.1-eksbuild.13"]["compatibilities"]] == [
        "1.29",
        "1.30",
        "1.31",
    ]
    assert (addon["type"], addon["owner"], addon["publisher"]) == ("networking", "aws", "eks")


def test_describe_addon_versions_pages_through_the_add_ons(eks: EKSClient) -> None:
    first = eks.describe_addon_versions(maxResults=2)
    second = eks.describe_addon_versions(maxResults=2, nextToken=first["nextToken"])

    assert [a["addonName"] for a in first["addons"] + second["addons"]] == ["coredns", "kube-proxy", "vpc-cni"]


def test_create_without_a_version_installs_the_default_of_the_cluster_minor_after_creating(eks: EKSClient) -> None:
    created = eks.create_addon(clusterName="prod", addonName="coredns")["addon"]
    active = active_addon(eks, "coredns")

    assert (created["status"], created["addonVersion"]) == ("CREATING", "v1.11.1-eksbuild.13")
    assert active["addonVersion"] == "v1.11.1-eksbuild.13"
    assert eks.list_addons(clusterName="prod")["addons"] == ["coredns"]


def test_a_version_not_compatible_with_the_cluster_is_refused(eks: EKSClient) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.create_addon(clusterName="prod", addonName="coredns", addonVersion="v1.12.4-eksbuild.1")

    assert error_of(excinfo) == ("InvalidParameterException", messages.UNSUPPORTED_ADDON_VERSION)


def test_an_add_on_eks_does_not_offer_is_refused(eks: EKSClient) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.create_addon(clusterName="prod", addonName="not-an-addon")

    assert error_of(excinfo)[0] == "InvalidParameterException"


def test_a_second_create_of_the_same_add_on_is_refused(eks: EKSClient) -> None:
    eks.create_addon(clusterName="prod", addonName="vpc-cni")

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.create_addon(clusterName="prod", addonName="vpc-cni")

    assert error_of(excinfo) == ("ResourceInUseException", messages.ADDON_EXISTS)


def test_a_missing_add_on_is_not_found(eks: EKSClient) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.describe_addon(clusterName="prod", addonName="coredns")

    assert error_of(excinfo) == ("ResourceNotFoundException", "No addon: coredns found in cluster: prod")


def test_an_update_runs_as_an_addon_update_then_the_add_on_has_the_new_version(eks: EKSClient) -> None:
    eks.create_addon(clusterName="prod", addonName="kube-proxy", addonVersion="v1.29.0-eksbuild.1")
    active_addon(eks, "kube-proxy")

    update = eks.update_addon(
        clusterName="prod", addonName="kube-proxy", addonVersion="v1.29.15-eksbuild.2", resolveConflicts="PRESERVE"
    )["update"]
    during = eks.describe_addon(clusterName="prod", addonName="kube-proxy")["addon"]
    finished = wait_until(
        lambda: eks.describe_update(name="prod", updateId=update["id"], addonName="kube-proxy")["update"],
        lambda u: u["status"] != "InProgress",
    )

    assert (update["type"], update["status"]) == ("AddonUpdate", "InProgress")
    assert {p["type"]: p["value"] for p in update["params"]} == {
        "AddonVersion": "v1.29.15-eksbuild.2",
        "ResolveConflicts": "PRESERVE",
    }
    assert (during["status"], during["addonVersion"]) == ("UPDATING", "v1.29.0-eksbuild.1")
    assert finished["status"] == "Successful"
    assert active_addon(eks, "kube-proxy")["addonVersion"] == "v1.29.15-eksbuild.2"
    assert eks.list_updates(name="prod", addonName="kube-proxy")["updateIds"] == [update["id"]]
    assert eks.list_updates(name="prod")["updateIds"] == []


def test_an_injected_failure_ends_the_add_on_update_failed_with_the_version_unchanged(
    eks: EKSClient, control: SandboxControl
) -> None:
    eks.create_addon(clusterName="prod", addonName="vpc-cni", addonVersion="v1.16.0-eksbuild.1")
    active_addon(eks, "vpc-cni")
    control.inject("addon_update_failed", operation="UpdateAddon", target="vpc-cni")

    update = eks.update_addon(clusterName="prod", addonName="vpc-cni", addonVersion="v1.18.1-eksbuild.3")["update"]
    finished = wait_until(
        lambda: eks.describe_update(name="prod", updateId=update["id"], addonName="vpc-cni")["update"],
        lambda u: u["status"] != "InProgress",
    )

    assert finished["status"] == "Failed"
    assert [e["errorCode"] for e in finished["errors"]] == ["ConfigurationConflict"]
    assert active_addon(eks, "vpc-cni")["addonVersion"] == "v1.16.0-eksbuild.1"


def test_an_add_on_update_while_the_cluster_updates_is_refused(eks: EKSClient) -> None:
    eks.create_addon(clusterName="prod", addonName="coredns")
    active_addon(eks, "coredns")
    running = eks.update_cluster_version(name="prod", version="1.30", force=True)["update"]

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        eks.update_addon(clusterName="prod", addonName="coredns", addonVersion="v1.11.3-eksbuild.2")

    assert error_of(excinfo) == (
        "ResourceInUseException",
        f"Cluster prod currently has update {running['id']} in progress",
    )


def test_a_deleted_add_on_is_deleting_then_gone(eks: EKSClient) -> None:
    eks.create_addon(clusterName="prod", addonName="coredns")
    active_addon(eks, "coredns")

    deleting = eks.delete_addon(clusterName="prod", addonName="coredns")["addon"]
    wait_until(lambda: eks.list_addons(clusterName="prod")["addons"], lambda names: names == [])

    assert deleting["status"] == "DELETING"


def test_a_cluster_created_again_under_the_same_name_has_no_add_ons(eks: EKSClient) -> None:
    eks.create_addon(clusterName="prod", addonName="coredns")
    role = eks.describe_cluster(name="prod")["cluster"]["roleArn"]
    eks.delete_cluster(name="prod")
    eks.create_cluster(name="prod", version="1.29", roleArn=role, resourcesVpcConfig={"subnetIds": ["subnet-a"]})

    assert eks.list_addons(clusterName="prod")["addons"] == []

"""FargateProfile's pod inputs (fargate_pods): checked without quoting a kubeconfig, changed in place."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pulumi.output import Unknown

from pulumi_cluster_connect._plumbing import fargate_pods
from pulumi_cluster_connect.dynamic_providers import cluster_version as cv
from pulumi_cluster_connect.dynamic_providers import fargate_profile as fp

pytestmark = pytest.mark.unit

ROLE = "arn:aws:iam::123456789012:role/pods"
SECRET = "s3cr3t-token-value"
KUBECONFIG = yaml.safe_dump(
    {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "users": [{"name": "u", "user": {"token": SECRET}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
)


def news(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "cluster_name": "apps",
        "fargate_profile_name": "web",
        "pod_execution_role_arn": ROLE,
        "selectors": [{"namespace": "web", "labels": {}}],
    }
    props.update(overrides)
    return {k: v for k, v in props.items() if v is not None}


def failures_of(props: dict[str, Any]) -> dict[str, str]:
    return {f.property: f.reason for f in fp.FargateProfileProvider().check({}, props).failures}


def test_a_kubeconfig_and_drain_on_delete_pass_check_and_are_kept() -> None:
    result = fp.FargateProfileProvider().check({}, news(kubeconfig=KUBECONFIG, drain_on_delete=True))
    assert result.failures == []
    assert result.inputs["kubeconfig"] == KUBECONFIG and result.inputs["drain_on_delete"] is True


def test_a_broken_kubeconfig_is_refused_without_quoting_it() -> None:
    broken = KUBECONFIG.replace("current-context: x", "current-context: nowhere")
    failures = failures_of(news(kubeconfig=broken))
    assert "current-context" in failures["kubeconfig"]
    assert SECRET not in str(failures)


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"kubeconfig": KUBECONFIG, "drain_on_delete": "yes"}, "must be a boolean"),
        ({"drain_on_delete": True}, "needs `kubeconfig`"),
    ],
)
def test_drain_on_delete_is_a_boolean_that_needs_a_kubeconfig(overrides: dict[str, Any], words: str) -> None:
    assert words in failures_of(news(**overrides))["drain_on_delete"]


def test_unknown_pod_inputs_pass_check_in_preview() -> None:
    assert failures_of(news(kubeconfig=Unknown(), drain_on_delete=Unknown())) == {}


def outputs(**extra: Any) -> dict[str, Any]:
    checked = fp.FargateProfileProvider().check({}, news(**extra)).inputs
    return {**checked, "region": "us-west-2", "arn": "arn", "status": "ACTIVE"}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ({}, {"kubeconfig": KUBECONFIG}),
        ({"kubeconfig": KUBECONFIG}, {"kubeconfig": KUBECONFIG.replace("6443", "7443")}),
        ({"kubeconfig": KUBECONFIG}, {"kubeconfig": KUBECONFIG, "drain_on_delete": True}),
        ({"kubeconfig": KUBECONFIG}, {}),
    ],
)
def test_changing_how_pods_are_reached_updates_in_place_and_never_replaces(
    old: dict[str, Any], new: dict[str, Any]
) -> None:
    checked = fp.FargateProfileProvider().check({}, news(**new)).inputs
    result = fp.FargateProfileProvider().diff("apps/web", outputs(**old), checked)
    assert result.changes is True
    assert result.replaces == []


def test_the_same_kubeconfig_is_no_change() -> None:
    checked = fp.FargateProfileProvider().check({}, news(kubeconfig=KUBECONFIG)).inputs
    assert fp.FargateProfileProvider().diff("apps/web", outputs(kubeconfig=KUBECONFIG), checked).changes is False


def test_the_kubeconfig_is_kept_in_outputs_for_the_delete_and_scrubbed_from_errors() -> None:
    profile = {
        "clusterName": "apps",
        "fargateProfileName": "web",
        "podExecutionRoleArn": ROLE,
        "fargateProfileArn": "arn",
        "status": "ACTIVE",
    }
    kept = fp.FargateProfileProvider._outputs(profile, "us-west-2", news(kubeconfig=KUBECONFIG, drain_on_delete=True))
    assert kept["kubeconfig"] == KUBECONFIG and kept["drain_on_delete"] is True
    assert fargate_pods.KUBECONFIG in fp.FargateProfileProvider.secret_keys


def version_news(**overrides: Any) -> dict[str, Any]:
    return {"cluster_name": "apps", "version": "1.32", **overrides}


def test_cluster_version_takes_a_kubeconfig_and_recycle_which_needs_it() -> None:
    provider = cv.ClusterVersionProvider()
    ok = provider.check({}, version_news(kubeconfig=KUBECONFIG, recycle_fargate_pods=True))
    assert ok.failures == []
    refused = provider.check({}, version_news(recycle_fargate_pods=True)).failures
    assert [(f.property, "needs `kubeconfig`" in f.reason) for f in refused] == [("recycle_fargate_pods", True)]


def test_turning_recycle_on_is_an_update_of_the_cluster_version_never_a_replace() -> None:
    olds = {**version_news(), "region": "us-west-2", "platform_version": "eks.1"}
    result = cv.ClusterVersionProvider().diff(
        "us-west-2/apps", olds, version_news(kubeconfig=KUBECONFIG, recycle_fargate_pods=True)
    )
    assert result.changes is True and result.replaces == []


@pytest.mark.parametrize(
    ("kubelet", "minor"), [("v1.31.4-eks-fargate", "1.31"), ("v1.32.0-eks-680e576", "1.32"), ("weird", None)]
)
def test_a_kubelet_version_reads_as_its_minor(kubelet: str, minor: str | None) -> None:
    assert fargate_pods.kubelet_minor(kubelet) == minor

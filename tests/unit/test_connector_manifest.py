"""The connector manifest and console-access RBAC rendered from the pinned templates."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from pulumi_cluster_connect.components import connector_manifest
from pulumi_cluster_connect.sandbox import agent

ACTIVATION_ID = "0f3c9b1e-5a7d-4e2f-9c1b-2d3e4f5a6b7c"
CODE = "A1b2C3d4/e5F6g7H8+i9J0=="


def rendered(**overrides: Any) -> list[dict[str, Any]]:
    args: dict[str, Any] = {"activation_id": ACTIVATION_ID, "activation_code": CODE, "region": "eu-west-1"}
    return connector_manifest.render(**{**args, **overrides})


def by_kind_and_name(objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def test_the_connector_manifest_holds_the_objects_of_the_reference() -> None:
    objects = by_kind_and_name(rendered())
    assert set(objects) == {
        ("Namespace", "eks-connector"),
        ("Secret", "eks-connector-activation-config"),
        ("Role", "eks-connector-secret-access"),
        ("RoleBinding", "eks-connector-secret-access"),
        ("ServiceAccount", "eks-connector"),
        ("Secret", "eks-connector-token"),
        ("ConfigMap", "eks-connector-agent"),
        ("ClusterRole", "eks-connector-cluster-meta-access"),
        ("ClusterRoleBinding", "eks-connector-cluster-meta-access"),
        ("StatefulSet", "eks-connector"),
    }
    namespaced = [o for o in objects.values() if o["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding")]
    assert {o["metadata"]["namespace"] for o in namespaced} == {"eks-connector"}
    assert objects[("ServiceAccount", "eks-connector")]["automountServiceAccountToken"] is False


def test_the_activation_secret_holds_the_base64_code() -> None:
    secret = by_kind_and_name(rendered())[("Secret", "eks-connector-activation-config")]
    assert base64.b64decode(secret["data"]["code"]).decode() == CODE


def test_the_statefulset_carries_the_activation_id_region_and_pinned_images() -> None:
    statefulset = by_kind_and_name(rendered())[("StatefulSet", "eks-connector")]
    spec = statefulset["spec"]["template"]["spec"]
    init = spec["initContainers"][0]
    assert {"name": "EKS_ACTIVATION_ID", "value": ACTIVATION_ID} in init["env"]
    assert "--agent.region=eu-west-1" in init["args"]
    assert init["image"] == connector_manifest.CONNECTOR_IMAGE
    assert {c["name"]: c["image"] for c in spec["containers"]} == {
        "connector-agent": connector_manifest.AGENT_IMAGE,
        "connector-proxy": connector_manifest.CONNECTOR_IMAGE,
    }
    role = by_kind_and_name(rendered())[("Role", "eks-connector-secret-access")]
    assert statefulset["spec"]["replicas"] == len(role["rules"][0]["resourceNames"])


def test_images_can_be_pulled_from_a_mirror() -> None:
    objects = rendered(connector_image="mirror.example/eks-connector:0.0.11", agent_image="mirror.example/ssm:3")
    spec = by_kind_and_name(objects)[("StatefulSet", "eks-connector")]["spec"]["template"]["spec"]
    images = {c["image"] for c in spec["initContainers"] + spec["containers"]}
    assert images == {"mirror.example/eks-connector:0.0.11", "mirror.example/ssm:3"}


def test_placeholders_cannot_inject_yaml() -> None:
    objects = rendered(activation_id="x\nkind: Evil")
    statefulset = by_kind_and_name(objects)[("StatefulSet", "eks-connector")]
    env = statefulset["spec"]["template"]["spec"]["initContainers"][0]["env"]
    assert env[0]["value"] == "x\nkind: Evil"


def test_the_simulated_agent_reads_the_activation_the_manifest_carries() -> None:
    objects = by_kind_and_name(rendered())
    activation = agent.activation_of(
        objects[("StatefulSet", "eks-connector")], objects[("Secret", "eks-connector-activation-config")]
    )
    assert activation == agent.Activation("eu-west-1", ACTIVATION_ID, CODE)


def test_without_console_principals_no_impersonation_is_granted() -> None:
    assert connector_manifest.console_access_objects([]) == []
    assert not [o for o in rendered() if o["metadata"]["name"].startswith("eks-connector-service")]


def test_console_access_impersonates_and_binds_exactly_the_given_principals() -> None:
    arns = ["arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:role/admins"]
    objects = by_kind_and_name(rendered(console_access_arns=arns))
    role = objects[("ClusterRole", "eks-connector-service")]
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"], "resourceNames": sorted(arns)}
    ]
    binding = objects[("ClusterRoleBinding", "eks-connector-service")]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "eks-connector", "namespace": "eks-connector"}]
    dashboard = objects[("ClusterRoleBinding", connector_manifest.DASHBOARD_BINDING)]
    assert [s["name"] for s in dashboard["subjects"]] == sorted(arns)
    assert {s["kind"] for s in dashboard["subjects"]} == {"User"}


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        (
            "arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com",
            "arn:aws:iam::111122223333:role/Admin",
        ),
        ("arn:aws-cn:sts::111122223333:assumed-role/Ops/session", "arn:aws-cn:iam::111122223333:role/Ops"),
        ("arn:aws:iam::111122223333:role/team/Admin", "arn:aws:iam::111122223333:role/Admin"),
        ("arn:aws:iam::111122223333:role/Admin", "arn:aws:iam::111122223333:role/Admin"),
        ("arn:aws:iam::111122223333:user/dev/alice", "arn:aws:iam::111122223333:user/dev/alice"),
    ],
)
def test_principals_are_canonicalised(given: str, canonical: str) -> None:
    assert connector_manifest.canonical_principal(given) == canonical


@pytest.mark.parametrize(
    "bad",
    ["alice", "arn:aws:iam::111122223333:group/devs", "arn:aws:sts::111122223333:federated-user/x", ""],
)
def test_other_principals_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="IAM user or role"):
        connector_manifest.canonical_principal(bad)


def test_duplicate_principals_are_granted_once() -> None:
    arns = ["arn:aws:sts::111122223333:assumed-role/Admin/a", "arn:aws:iam::111122223333:role/Admin"]
    assert connector_manifest.canonical_principals(arns) == ["arn:aws:iam::111122223333:role/Admin"]

"""KubernetesManifest's check and diff, with inputs as the engine sends them."""

from __future__ import annotations

from typing import Any

import yaml
from pulumi.output import Unknown

from pulumi_cluster_connect._plumbing import kube_objects, ownership
from pulumi_cluster_connect.dynamic_providers import kubernetes_manifest as manifest

KUBECONFIG = yaml.safe_dump(
    {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "c",
        "clusters": [{"name": "a", "cluster": {"server": "https://10.0.0.1:6443"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "c", "context": {"cluster": "a", "user": "u"}}],
    }
)
CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "ns"}}
NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}}


def failures(news: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f.property, f.reason) for f in manifest.check({}, news).failures]


def test_a_valid_manifest_passes_check() -> None:
    assert failures({"kubeconfig": KUBECONFIG, "objects": [CONFIGMAP]}) == []


def test_unknown_values_in_preview_pass_check() -> None:
    assert failures({"kubeconfig": Unknown(), "objects": Unknown()}) == []
    assert failures({"kubeconfig": KUBECONFIG, "objects": [Unknown(), CONFIGMAP]}) == []


def test_a_kubeconfig_without_current_context_is_refused_naming_the_property() -> None:
    broken = KUBECONFIG.replace("current-context: c", "current-context: missing")
    assert failures({"kubeconfig": broken, "objects": [CONFIGMAP]})[0][0] == "kubeconfig"


def test_objects_and_yaml_are_mutually_exclusive() -> None:
    assert failures({"kubeconfig": KUBECONFIG, "objects": [CONFIGMAP], "yaml": "kind: x"})[0][0] == "objects"
    assert failures({"kubeconfig": KUBECONFIG})[0][0] == "objects"


def test_an_object_without_kind_or_name_is_refused() -> None:
    problems = failures({"kubeconfig": KUBECONFIG, "objects": [{"apiVersion": "v1", "metadata": {}}]})
    assert problems == [("objects", "object 0 lacks kind, metadata.name (each a non-empty string)")]


def test_yaml_documents_are_checked_too() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"
    assert failures({"kubeconfig": KUBECONFIG, "yaml": text})[0][0] == "yaml"


def test_namespaces_are_applied_first_and_lists_are_expanded() -> None:
    objects = manifest.parse_objects({"yaml": yaml.safe_dump_all([CONFIGMAP, {"kind": "List", "items": [NAMESPACE]}])})
    assert [o["kind"] for o in objects] == ["Namespace", "ConfigMap"]


def test_references_carry_the_namespace_only_for_namespaced_kinds() -> None:
    assert manifest.reference(CONFIGMAP, namespaced=True) == "v1/ConfigMap/ns/a"
    assert manifest.reference(NAMESPACE, namespaced=False) == "v1/Namespace//ns"
    assert manifest.split_reference("rbac.authorization.k8s.io/v1/Role/ns/r") == (
        "rbac.authorization.k8s.io/v1",
        "Role",
        "ns",
        "r",
    )


def test_a_content_change_updates_in_place() -> None:
    olds = {"kubeconfig": KUBECONFIG, "objects": [CONFIGMAP], "applied": ["v1/ConfigMap/ns/a"]}
    changed = {**CONFIGMAP, "data": {"k": "v"}}
    result = manifest.diff(olds, {"kubeconfig": KUBECONFIG, "objects": [changed]})
    assert result.changes is True and result.replaces == []


def test_no_change_is_no_change() -> None:
    olds = {"kubeconfig": KUBECONFIG, "objects": [CONFIGMAP], "applied": ["v1/ConfigMap/ns/a"]}
    assert manifest.diff(olds, {"kubeconfig": KUBECONFIG, "objects": [CONFIGMAP]}).changes is False


def test_check_records_the_default_field_manager_the_program_no_longer_sends_so_older_states_see_no_change() -> None:
    older_state = {"kubeconfig": KUBECONFIG, "objects": [CONFIGMAP], "field_manager": "pulumi-cluster-connect"}
    checked = manifest.check({}, {"kubeconfig": KUBECONFIG, "objects": [CONFIGMAP]}).inputs
    assert checked["field_manager"] == "pulumi-cluster-connect"
    assert manifest.diff(older_state, checked).changes is False
    assert manifest.check({}, {**older_state, "field_manager": "ci"}).inputs["field_manager"] == "ci"


def test_another_api_server_replaces() -> None:
    olds = {"kubeconfig": KUBECONFIG, "objects": [CONFIGMAP]}
    other = KUBECONFIG.replace("10.0.0.1", "10.0.0.2")
    assert manifest.diff(olds, {"kubeconfig": other, "objects": [CONFIGMAP]}).replaces == ["kubeconfig"]


def test_a_rotated_token_for_the_same_server_updates_in_place() -> None:
    olds = {"kubeconfig": KUBECONFIG, "objects": [CONFIGMAP]}
    rotated = KUBECONFIG.replace("token: t", "token: t2")
    result = manifest.diff(olds, {"kubeconfig": rotated, "objects": [CONFIGMAP]})
    assert result.changes is True and result.replaces == []


def test_objects_deleted_out_of_band_are_reapplied() -> None:
    olds = {"kubeconfig": KUBECONFIG, "objects": [CONFIGMAP], "applied": [], "drifted": True}
    assert manifest.diff(olds, {"kubeconfig": KUBECONFIG, "objects": [CONFIGMAP]}).changes is True


def test_the_id_is_the_same_for_the_same_resource_and_server_and_differs_otherwise() -> None:
    props = {"kubeconfig": KUBECONFIG, "objects": [CONFIGMAP], "identity": "proj/dev/Manifest::app"}
    assert manifest.manifest_id(props) == manifest.manifest_id(dict(props))
    assert manifest.manifest_id(props) != manifest.manifest_id({**props, "identity": "proj/dev/Manifest::other"})
    moved = {**props, "kubeconfig": KUBECONFIG.replace("10.0.0.1", "10.0.0.2")}
    assert manifest.manifest_id(props) != manifest.manifest_id(moved), "a replacement gets another id"


def test_applied_objects_carry_the_owner_mark_and_keep_their_annotations() -> None:
    metadata: dict[str, Any] = {"name": "a", "namespace": "ns", "annotations": {"team": "x"}}
    annotated: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}
    marked = kube_objects.marked(annotated, {ownership.OWNER_KEY: "m", manifest.CLAIM_KEY: "c"})
    assert marked["metadata"]["annotations"] == {"team": "x", ownership.OWNER_KEY: "m", manifest.CLAIM_KEY: "c"}
    assert metadata["annotations"] == {"team": "x"}, "the input is not changed"


def with_ca(kubeconfig: str, server: str, ca: str | None) -> str:
    data = yaml.safe_load(kubeconfig)
    data["clusters"][0]["cluster"] = {"server": server, **({"certificate-authority-data": ca} if ca else {})}
    return yaml.safe_dump(data)


CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="
OTHER_CA = "LS0tLS1CRUdJTiBPVEhFUi0tLS0tCg=="


def test_a_moved_endpoint_trusted_through_the_same_ca_updates_in_place() -> None:
    olds = {"kubeconfig": with_ca(KUBECONFIG, "https://10.0.0.1:6443", CA), "objects": [CONFIGMAP]}
    moved = with_ca(KUBECONFIG, "https://new.example:443", CA)
    result = manifest.diff(olds, {"kubeconfig": moved, "objects": [CONFIGMAP]})
    assert result.changes is True and result.replaces == []


def test_a_moved_endpoint_with_another_or_no_ca_replaces() -> None:
    olds = {"kubeconfig": with_ca(KUBECONFIG, "https://10.0.0.1:6443", CA), "objects": [CONFIGMAP]}
    for ca in (OTHER_CA, None):
        moved = with_ca(KUBECONFIG, "https://new.example:443", ca)
        assert manifest.diff(olds, {"kubeconfig": moved, "objects": [CONFIGMAP]}).replaces == ["kubeconfig"]


def test_drift_found_by_refresh_updates_however_many_refreshes_ran() -> None:
    olds = {
        "kubeconfig": KUBECONFIG,
        "objects": [CONFIGMAP],
        "applied": ["v1/ConfigMap/ns/a"],
        manifest.DRIFT: {"v1/ConfigMap/ns/a": "missing"},
    }
    assert manifest.diff(olds, {"kubeconfig": KUBECONFIG, "objects": [CONFIGMAP]}).changes is True


def test_drift_updates_even_when_only_the_timeout_changed_besides() -> None:
    olds = {"kubeconfig": KUBECONFIG, "objects": [CONFIGMAP], manifest.DRIFT: {"v1/ConfigMap/ns/a": "missing"}}
    news = {"kubeconfig": KUBECONFIG, "objects": [CONFIGMAP], "timeout_seconds": 60.0}
    assert manifest.diff(olds, news).changes is True
    assert manifest.diff({k: v for k, v in olds.items() if k != manifest.DRIFT}, news).changes is False

"""What a dry-run apply would change on a live object, named by field path and by who set it."""

from __future__ import annotations

from typing import Any

from pulumi_cluster_connect._plumbing import drift

LIVE: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "StatefulSet",
    "metadata": {
        "name": "s",
        "resourceVersion": "7",
        "generation": 2,
        "labels": {"team": "x"},
        "managedFields": [
            {"manager": "ours", "operation": "Apply", "fieldsV1": {"f:spec": {"f:serviceName": {}}}},
            {"manager": "kubectl", "operation": "Update", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
        ],
    },
    "spec": {"replicas": 0, "serviceName": "s", "template": {"spec": {"containers": [{"name": "a"}]}}},
    "status": {"replicas": 0},
}


def dry_run(**spec: Any) -> dict[str, Any]:
    metadata = {**LIVE["metadata"], "resourceVersion": "8", "generation": 3, "managedFields": []}
    return {**LIVE, "metadata": metadata, "spec": {**LIVE["spec"], **spec}, "status": {"replicas": 1}}


def test_the_same_object_has_no_changed_paths_whatever_the_write_bookkeeping_says() -> None:
    assert drift.changed_paths(LIVE, dry_run()) == []


def test_a_changed_field_is_named_by_its_path() -> None:
    assert drift.changed_paths(LIVE, dry_run(replicas=1)) == [("spec", "replicas")]


def test_a_list_compares_whole() -> None:
    containers = [{"name": "a", "image": "b"}]
    assert drift.changed_paths(LIVE, dry_run(template={"spec": {"containers": containers}})) == [
        ("spec", "template", "spec", "containers")
    ]


def test_a_field_missing_on_either_side_counts() -> None:
    live = {**LIVE, "data": {"a": "1", "gone": "x"}}
    assert drift.changed_paths(live, {**live, "data": {"a": "1", "new": "y"}}) == [("data", "gone"), ("data", "new")]


def test_the_description_names_fields_and_their_other_managers_never_values() -> None:
    paths = drift.changed_paths(LIVE, dry_run(replicas=1, serviceName="t"))
    described = drift.describe(paths, LIVE["metadata"]["managedFields"], "ours")
    assert described == "changed: spec.replicas (set by kubectl), spec.serviceName"


def test_a_long_list_of_paths_is_cut_short() -> None:
    paths = [("data", str(n)) for n in range(8)]
    assert drift.describe(paths, None, "ours") == "changed: data.0, data.1, data.2, data.3, data.4 and 3 more"

"""The world changes under a KubernetesManifest (issue 30): objects deleted or changed out of band, an endpoint that
moved, a token rotated. Refresh says what differs, the next up repairs it, and no stack needs state surgery."""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import lightkube
import pytest
import yaml
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.models.rbac_v1 import RoleRef, Subject
from lightkube.resources.apps_v1 import StatefulSet
from lightkube.resources.core_v1 import ConfigMap, Namespace, Secret, ServiceAccount
from lightkube.resources.rbac_authorization_v1 import ClusterRoleBinding
from pulumi import automation as auto

from pulumi_cluster_connect.dynamic_providers import KubernetesManifest
from pulumi_cluster_connect.sandbox.kubernetes import ControlPlane
from pulumi_cluster_connect.sandbox.stacks import StackFactory, TestStack

ENV = "PULUMI_CLUSTER_CONNECT_DELETE_UNREACHABLE"
CONNECTOR = "apps/v1/StatefulSet/{ns}/eks-connector"


def admin(kube: ControlPlane, manager: str = "out-of-band") -> lightkube.Client:
    return lightkube.Client(lightkube.KubeConfig.from_dict(kube.kubeconfig()), field_manager=manager)


def connector_objects(namespace: str) -> list[dict[str, Any]]:
    labels = {"app": "eks-connector"}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "eks-connector", "namespace": namespace},
            "spec": {
                "replicas": 1,
                "serviceName": "eks-connector",
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "agent", "image": "example.invalid/agent:1"}]},
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": namespace},
            "data": {"mode": "first"},
        },
    ]


def manifest_stack(stacks: StackFactory, kubeconfig: Callable[[], str], namespace: str) -> TestStack:
    def program() -> None:
        KubernetesManifest("connector", kubeconfig=kubeconfig(), objects=connector_objects(namespace))

    return stacks.inline(program)


def cli(stack: TestStack, *args: str) -> subprocess.CompletedProcess[str]:
    """The pulumi CLI on the stack, as a user runs it (the Automation API has no `refresh --diff`)."""
    workspace = stack.stack.workspace
    return subprocess.run(
        ["pulumi", *args, "--stack", stack.stack.name, "--yes", "--color", "never"],
        cwd=workspace.work_dir,
        env={**os.environ, **workspace.env_vars},
        check=False,
        capture_output=True,
        text=True,
    )


def manifest_outputs(stack: TestStack) -> dict[str, Any]:
    [manifest] = [r for r in stack.resources("kubernetes:Manifest") if not r.get("delete")]
    return dict(manifest.get("outputs") or {})


def gone(read: Callable[[], object]) -> bool:
    try:
        read()
    except lightkube.ApiError as err:
        return err.status.code == 404
    return False


def test_an_object_deleted_out_of_band_stays_drift_over_two_refreshes_and_up_restores_it(
    stacks: StackFactory, kube: ControlPlane
) -> None:
    namespace, client = "drift-deleted", admin(kube)
    stack = manifest_stack(stacks, kube.kubeconfig_text, namespace)
    stack.up()
    client.delete(StatefulSet, "eks-connector", namespace=namespace)
    assert gone(lambda: client.get(StatefulSet, "eks-connector", namespace=namespace))

    refreshed = cli(stack, "refresh", "--diff")
    assert refreshed.returncode == 0, refreshed.stderr
    # The refresh diff names the object, not an index into a list.
    assert CONNECTOR.format(ns=namespace) in refreshed.stdout and "missing" in refreshed.stdout, refreshed.stdout
    stack.refresh()
    assert manifest_outputs(stack)["drift"] == {CONNECTOR.format(ns=namespace): "missing"}

    assert stack.preview().change_summary == {auto.OpType.UPDATE: 1, auto.OpType.SAME: 1}
    assert stack.up().summary.resource_changes == {"update": 1, "same": 1}
    assert client.get(StatefulSet, "eks-connector", namespace=namespace).spec.replicas == 1
    assert stack.refresh().summary.resource_changes == {"same": 2}
    assert "drift" not in manifest_outputs(stack)
    stack.destroy()


def test_a_statefulset_scaled_to_zero_is_reported_by_refresh_and_restored_by_up(
    stacks: StackFactory, kube: ControlPlane
) -> None:
    namespace, client = "drift-scaled", admin(kube, "kubectl")
    stack = manifest_stack(stacks, kube.kubeconfig_text, namespace)
    stack.up()
    client.patch(StatefulSet.Scale, "eks-connector", {"spec": {"replicas": 0}}, namespace=namespace)

    assert stack.refresh().summary.resource_changes == {"update": 1, "same": 1}
    drift = manifest_outputs(stack)["drift"]
    assert drift == {CONNECTOR.format(ns=namespace): "changed: spec.replicas"}, drift
    stack.refresh()
    assert manifest_outputs(stack)["drift"] == drift, "a second refresh forgets nothing"

    assert stack.up().summary.resource_changes == {"update": 1, "same": 1}
    assert client.get(StatefulSet, "eks-connector", namespace=namespace).spec.replicas == 1
    assert stack.refresh().summary.resource_changes == {"same": 2}
    stack.destroy()


def test_changed_configmap_data_is_restored_and_fields_only_another_manager_sets_are_left_alone(
    stacks: StackFactory, kube: ControlPlane
) -> None:
    namespace, client = "drift-data", admin(kube, "someone-else")
    stack = manifest_stack(stacks, kube.kubeconfig_text, namespace)
    stack.up()
    changes = {"metadata": {"labels": {"team": "theirs"}}, "data": {"mode": "tampered", "extra": "theirs"}}
    client.patch(ConfigMap, "settings", changes, namespace=namespace)

    stack.refresh()
    assert manifest_outputs(stack)["drift"] == {
        f"v1/ConfigMap/{namespace}/settings": "changed: data.mode (set by someone-else)"
    }
    stack.up()
    restored = client.get(ConfigMap, "settings", namespace=namespace)
    assert restored.data == {"mode": "first", "extra": "theirs"}
    assert restored.metadata is not None and (restored.metadata.labels or {}).get("team") == "theirs"
    assert stack.refresh().summary.resource_changes == {"same": 2}
    stack.destroy()


class Endpoint:
    """A TCP port forwarding to the API server: an endpoint that can go away, as a moved one does."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                incoming, _ = self.listener.accept()
            except OSError:
                return
            outgoing = socket.create_connection(("127.0.0.1", self.target_port))
            self.connections += [incoming, outgoing]
            for source, sink in ((incoming, outgoing), (outgoing, incoming)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Nothing listens on the port afterwards (a close alone leaves a thread's pending accept listening)."""
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for connection in self.connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", self.port), timeout=5).close()


@pytest.fixture
def endpoints(kube: ControlPlane) -> Iterator[Callable[[], Endpoint]]:
    made: list[Endpoint] = []

    def make() -> Endpoint:
        made.append(Endpoint(kube.api_port))
        return made[-1]

    yield make
    for endpoint in made:
        endpoint.close()


def kubeconfig_via(kube: ControlPlane, endpoint: Endpoint, trust_ca: bool) -> str:
    """The admin kubeconfig through `endpoint`, trusting the API server's own CA or skipping verification."""
    data = kube.kubeconfig()
    cluster = data["clusters"][0]["cluster"]
    cluster["server"] = f"https://127.0.0.1:{endpoint.port}"
    if trust_ca:
        del cluster["insecure-skip-tls-verify"]
        certificates = (kube.workdir / "certs" / "apiserver.crt").read_bytes()
        cluster["certificate-authority-data"] = base64.b64encode(certificates).decode()
    return yaml.safe_dump(data)


def test_a_moved_endpoint_of_the_same_cluster_is_an_update_in_place_and_the_stack_goes_on(
    stacks: StackFactory, kube: ControlPlane, endpoints: Callable[[], Endpoint]
) -> None:
    namespace, client = "drift-moved", admin(kube)
    old = endpoints()
    current = {"kubeconfig": kubeconfig_via(kube, old, trust_ca=True)}
    stack = manifest_stack(stacks, lambda: current["kubeconfig"], namespace)
    stack.up()
    old.close()
    new = endpoints()
    current["kubeconfig"] = kubeconfig_via(kube, new, trust_ca=True)

    assert stack.preview().change_summary == {auto.OpType.UPDATE: 1, auto.OpType.SAME: 1}
    stack.up()
    assert f"applying to https://127.0.0.1:{new.port}, the same cluster as https://127.0.0.1:{old.port}" in (
        stack.output
    )
    assert stack.refresh().summary.resource_changes == {"same": 2}
    stack.destroy()
    assert gone(lambda: client.get(ConfigMap, "settings", namespace=namespace))
    assert kube.token not in stack.output and kube.token not in stack.state_text()


def test_the_old_copy_of_a_manifest_replaced_after_its_endpoint_went_away_is_let_go_with_one_documented_setting(
    stacks: StackFactory, kube: ControlPlane, endpoints: Callable[[], Endpoint], monkeypatch: pytest.MonkeyPatch
) -> None:
    namespace, client = "drift-replaced", admin(kube)
    old = endpoints()
    current = {"kubeconfig": kubeconfig_via(kube, old, trust_ca=False)}
    stack = manifest_stack(stacks, lambda: current["kubeconfig"], namespace)
    stack.up()
    old.close()
    current["kubeconfig"] = kubeconfig_via(kube, endpoints(), trust_ca=False)

    with pytest.raises(auto.CommandError) as failed:
        stack.up()
    shown = stack.output + str(failed.value)
    assert f"failed on https://127.0.0.1:{old.port}: Unreachable" in shown
    assert f"{ENV}=true pulumi up" in shown
    assert kube.token not in shown

    monkeypatch.setenv(ENV, "true")
    stack.up()
    assert "is set: letting go of 3 objects, left as they are" in stack.output
    assert [r.get("delete", False) for r in stack.resources("kubernetes:Manifest")] == [False]
    assert client.get(ConfigMap, "settings", namespace=namespace).data == {"mode": "first"}
    monkeypatch.delenv(ENV)
    assert stack.refresh().summary.resource_changes == {"same": 2}
    stack.destroy()
    assert gone(lambda: client.get(ConfigMap, "settings", namespace=namespace))


def test_a_cluster_gone_for_good_is_dropped_by_a_refresh_with_the_setting_leaving_its_objects(
    stacks: StackFactory, kube: ControlPlane, endpoints: Callable[[], Endpoint], monkeypatch: pytest.MonkeyPatch
) -> None:
    namespace, client = "drift-gone", admin(kube)
    old = endpoints()
    stack = manifest_stack(stacks, lambda: kubeconfig_via(kube, old, trust_ca=False), namespace)
    stack.up()
    old.close()
    with pytest.raises(auto.CommandError) as failed:
        stack.refresh()
    assert f"`{ENV}=true pulumi refresh` drops this resource" in stack.output + str(failed.value)

    monkeypatch.setenv(ENV, "true")
    stack.refresh()
    assert stack.resources("kubernetes:Manifest") == []
    assert "dropping this resource from the stack; its objects are left as they are" in stack.output
    assert client.get(ConfigMap, "settings", namespace=namespace).data == {"mode": "first"}
    client.delete(Namespace, namespace)


def service_account_kubeconfig(kube: ControlPlane, account: str, secret: str) -> str:
    """A kubeconfig with the token of a ServiceAccount token Secret (made here; deleting it revokes the token)."""
    client = admin(kube)
    client.create(
        Secret(
            metadata=ObjectMeta(
                name=secret,
                namespace="default",
                annotations={"kubernetes.io/service-account.name": account},
            ),
            type="kubernetes.io/service-account-token",
        )
    )
    deadline = time.monotonic() + 30
    while not (client.get(Secret, secret, namespace="default").data or {}).get("token"):
        assert time.monotonic() < deadline, "the token controller never filled the Secret"
        time.sleep(0.2)
    token = base64.b64decode((client.get(Secret, secret, namespace="default").data or {})["token"]).decode()
    data = kube.kubeconfig(user=account)
    data["users"][0]["user"]["token"] = token
    return yaml.safe_dump(data)


def rejected(kubeconfig: str) -> bool:
    try:
        lightkube.Client(lightkube.KubeConfig.from_dict(yaml.safe_load(kubeconfig))).get(ServiceAccount, "default")
    except lightkube.ApiError as err:
        return err.status.code == 401
    return False


def test_a_rotated_token_needs_no_state_edit_refresh_says_what_to_run_and_up_refresh_destroy_then_work(
    stacks: StackFactory, kube: ControlPlane
) -> None:
    namespace, account, client = "drift-rotated", "deployer", admin(kube)
    client.create(ServiceAccount(metadata=ObjectMeta(name=account, namespace="default")))
    client.create(
        ClusterRoleBinding(
            metadata=ObjectMeta(name=account),
            roleRef=RoleRef(apiGroup="rbac.authorization.k8s.io", kind="ClusterRole", name="cluster-admin"),
            subjects=[Subject(kind="ServiceAccount", name=account, namespace="default")],
        )
    )
    current = {"kubeconfig": service_account_kubeconfig(kube, account, "deployer-1")}
    stack = manifest_stack(stacks, lambda: current["kubeconfig"], namespace)
    stack.up()
    old_token = yaml.safe_load(current["kubeconfig"])["users"][0]["user"]["token"]
    client.delete(Secret, "deployer-1", namespace="default")  # the token is rotated: the old one is revoked
    deadline = time.monotonic() + 30
    while not rejected(current["kubeconfig"]):
        assert time.monotonic() < deadline, "the revoked token still works"
        time.sleep(0.2)

    with pytest.raises(auto.CommandError) as failed:
        stack.refresh()
    shown = stack.output + str(failed.value)
    assert f"failed on {kube.server}: Unauthorized" in shown
    assert "give the program a working kubeconfig and run `pulumi up` (without --refresh)" in shown
    assert old_token not in shown

    current["kubeconfig"] = service_account_kubeconfig(kube, account, "deployer-2")
    assert stack.preview().change_summary == {auto.OpType.UPDATE: 1, auto.OpType.SAME: 1}
    stack.up()
    assert stack.refresh().summary.resource_changes == {"same": 2}
    stack.destroy()
    assert gone(lambda: client.get(ConfigMap, "settings", namespace=namespace))
    client.delete(ClusterRoleBinding, account)
    client.delete(ServiceAccount, account, namespace="default")

"""A preview only checks and diffs: loading our providers for that imports neither boto3 nor lightkube.

The dynamic provider process of a deployment imports the modules of the providers it unpickles; boto3 and
lightkube take 0.1-0.3 s to import, which a preview of 50 resources would feel as several ms per resource.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("boto3", "botocore.session", "lightkube", "httpx2")
CHECK = {
    "fargate_profile": (
        "FargateProfileProvider",
        {"cluster_name": "c", "pod_execution_role_arn": "arn:aws:iam::123456789012:role/r", "selectors": []},
    ),
    "kubernetes_manifest": (
        "KubernetesManifestProvider",
        {"kubeconfig": "current-context: c\ncontexts: [{name: c, context: {}}]\n", "objects": []},
    ),
    "cluster_version": ("ClusterVersionProvider", {"cluster_name": "c", "version": "1.32"}),
    "connection_wait": ("ConnectionWaitProvider", {"cluster_name": "c", "activation_id": "a"}),
    "registered_cluster": (
        "RegisteredClusterProvider",
        {"connector_provider": "OTHER", "role_arn": "arn:aws:iam::123456789012:role/r", "cluster_name": "c"},
    ),
    "service_account_kubeconfig": (
        "ServiceAccountKubeconfigProvider",
        {"admin_kubeconfig": "current-context: c\ncontexts: [{name: c, context: {}}]\n", "namespace": "n"},
    ),
    "loft_cluster_connect": ("LoftClusterConnectProvider", {"cluster_name": "c"}),
}


@pytest.mark.parametrize("module", sorted(CHECK))
def test_checking_a_resource_imports_no_aws_or_kubernetes_client_library(module: str) -> None:
    provider, news = CHECK[module]
    script = (
        "import sys\n"
        f"from pulumi_cluster_connect.dynamic_providers.{module} import {provider}\n"
        f"{provider}().check({{}}, {news!r})\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    imported = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout

    assert imported.strip() == ""


def test_threads_that_first_need_lightkube_at_the_same_moment_do_not_deadlock_importing_it() -> None:
    # lightkube's modules import each other in cycles; kube.load_lightkube lets one thread import them at a time.
    script = """
import threading
from pulumi_cluster_connect._plumbing import kube, kube_objects

KUBECONFIG = '''
current-context: c
contexts: [{name: c, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
'''
together = threading.Barrier(8)
failures = []

def first_use(index):
    together.wait()
    try:
        if index % 2:
            kube.client(KUBECONFIG)
        else:
            kube_objects.is_namespaced(object)
    except Exception as err:
        failures.append(repr(err))

threads = [threading.Thread(target=first_use, args=(i,)) for i in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(failures)
"""
    result = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True, timeout=60)

    assert result.stdout.strip() == "[]"

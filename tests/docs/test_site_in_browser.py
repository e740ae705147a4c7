"""The documentation site as users see it: built with --strict, served on loopback, opened in headless Chromium.

Every reference page renders its example and an input table with a row per public input; the client-side search
finds FargateProfile; screenshots of the FargateProfile page are kept in build/artifacts/ for CI to publish.
"""

from __future__ import annotations

import functools
import http.server
import inspect
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pulumi_cluster_connect import components, dynamic_providers

from .chromium import Chromium, find_or_install

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "build" / "artifacts"
PAGES = {
    "EksConnectedCluster": "reference/eks-connected-cluster/",
    "RegisteredCluster": "reference/registered-cluster/",
    "ConnectionWait": "reference/connection-wait/",
    "KubernetesManifest": "reference/kubernetes-manifest/",
    "FargateProfile": "reference/fargate-profile/",
    "ClusterVersion": "reference/cluster-version/",
    "LoftConnectedCluster": "reference/loft-connected-cluster/",
    "LoftClusterConnect": "reference/loft-cluster-connect/",
    "LoftClusterInitialized": "reference/loft-cluster-initialized/",
    "HelmRelease": "reference/helm-release/",
    "ServiceAccountKubeconfig": "reference/service-account-kubeconfig/",
}


def public_inputs(name: str) -> list[str]:
    if name in components.__all__:
        return list(getattr(components, f"{name}Args").__annotations__)
    parameters = inspect.signature(getattr(dynamic_providers, name).__init__).parameters
    return [p for p in parameters if p not in ("self", "resource_name", "opts")]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The site built from the current sources, served by http.server on 127.0.0.1; yields its URL."""
    folder = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(folder)],
        cwd=ROOT,
        check=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
    )
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    chromium = Chromium(find_or_install(), tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield chromium
    finally:
        chromium.close()


def test_every_public_resource_and_component_has_a_page_here() -> None:
    public = {*dynamic_providers.__all__, *(n for n in components.__all__ if not n.endswith("Args"))}
    assert set(PAGES) == public


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_reference_page_renders_its_example_and_input_table(site: str, browser: Chromium, name: str) -> None:
    browser.open(site + PAGES[name])
    assert browser.evaluate("document.querySelector('h1').firstChild.textContent.trim()") == name
    example = browser.evaluate("document.querySelector('.cc-example pre code')?.textContent || ''")
    assert name in example, f"{name}'s example does not show it"
    assert browser.evaluate("document.querySelector('.cc-example .filename')?.textContent || ''").startswith(
        ("examples/", "components/")
    )
    inputs = browser.evaluate(
        "[...document.querySelectorAll('.cc-inputs table tbody tr')].map(r => r.cells[0].textContent.trim())"
    )
    assert inputs == public_inputs(name)
    headers = browser.evaluate("[...document.querySelectorAll('.cc-inputs table thead th')].map(h => h.textContent)")
    assert headers == ["Input", "Type", "Default", "A change", "Description and rules"]
    assert browser.evaluate("document.querySelectorAll('.cc-outputs table tbody tr').length") > 0
    # Offline: nothing is fetched from another host (no fonts, no CDN).
    foreign = browser.evaluate(
        "performance.getEntriesByType('resource').map(e => e.name).filter(u => !u.startsWith(location.origin))"
    )
    assert foreign == []


def test_the_search_finds_fargate_profile(site: str, browser: Chromium) -> None:
    browser.open(site + "?q=FargateProfile")
    assert browser.wait_for("document.querySelectorAll('.md-search-result__item').length") > 0
    first = browser.evaluate("document.querySelector('.md-search-result__item a').getAttribute('href')")
    assert "reference/fargate-profile/" in first
    meta = browser.evaluate("document.querySelector('.md-search-result__meta').textContent")
    assert "matching document" in meta


def test_a_screenshot_of_the_fargate_profile_page_is_kept(site: str, browser: Chromium) -> None:
    browser.open(site + PAGES["FargateProfile"])
    browser.screenshot(ARTIFACTS / "fargate-profile.png")
    browser.evaluate("window.scrollTo(0, document.getElementById('inputs').offsetTop - 70)")
    browser.wait_for("new Promise(done => setTimeout(() => done(true), 600))")  # the header's title transition
    browser.screenshot(ARTIFACTS / "fargate-profile-inputs.png")
    for shot in ("fargate-profile.png", "fargate-profile-inputs.png"):
        data = (ARTIFACTS / shot).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 20_000, shot

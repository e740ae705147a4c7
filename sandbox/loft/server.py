"""The Loft API double served on loopback: control routes, the chart repository, Bearer authentication, then the
handlers."""

from __future__ import annotations

import datetime
import ipaddress
import json
import secrets
import ssl
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from werkzeug.wrappers import Request, Response

from .. import serving
from . import agent, exceptions, handlers, routes
from .chart_repository import ChartRepository
from .models import CHART_VERSIONS, LoftBackend

CONTROL_PREFIX = "/_sandbox/"
CHARTS_PREFIX = "/charts/"


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


@dataclass
class LoftApp:
    """The WSGI application around one backend."""

    backend: LoftBackend
    charts: ChartRepository

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path.startswith(CONTROL_PREFIX):
            response = self._control(request)
        elif request.path.startswith(CHARTS_PREFIX) and request.method in ("GET", "HEAD"):
            response = self._chart_file(request)
        else:
            response = self._api(request)
        return response(environ, start_response)

    def _chart_file(self, request: Request) -> Response:
        """The chart repository, public like charts.loft.sh (Helm sends no platform key)."""
        found = self.charts.file(request.path[len(CHARTS_PREFIX) :])
        if found is None:
            return Response("404 page not found\n", status=404, content_type="text/plain")
        body, content_type = found
        return Response(body, status=200, content_type=content_type)

    def _api(self, request: Request) -> Response:
        try:
            found = routes.match(request.method, request.path)
            if found is None:
                raise exceptions.NotFoundError(exceptions.NO_RESOURCE)
            route, params = found
            if route.authenticated:
                self.backend.authenticate(request.headers.get("Authorization"))
            call = handlers.Call(self.backend, params, request.get_data(), request.content_type or "")
            status, body = handlers.HANDLERS[route.handler](call)
        except exceptions.LoftStatusError as err:
            return _json(err.code, err.status())
        except Exception as err:
            traceback.print_exc()
            return _json(500, exceptions.InternalServerError(f"sandbox error: {err}").status())
        return _json(status, body)

    def _control(self, request: Request) -> Response:
        action = request.path[len(CONTROL_PREFIX) :].strip("/")
        payload = request.get_json(silent=True) or {}
        try:
            if action == "durations" and request.method == "POST":
                self.backend.set_durations(payload)
            elif action == "faults" and request.method == "POST":
                self.backend.inject_fault(payload)
            elif action == "reset" and request.method == "POST":
                self.backend.reset()
            elif action != "state":
                return _json(404, {"message": f"no control action {action!r}"})
        except (TypeError, ValueError) as err:
            return _json(400, {"message": str(err)})
        return _json(200, self.backend.describe())


def self_signed_certificate(directory: Path) -> tuple[Path, Path, str]:
    """A serving certificate for 127.0.0.1 and localhost: (cert file, key file, PEM text to trust)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "loft-sandbox")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    cert_file, key_file = directory / "loft.crt", directory / "loft.key"
    cert_file.write_text(pem)
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_file.chmod(0o600)
    return cert_file, key_file, pem


@dataclass
class LoftSandbox:
    """The Loft management API served from a thread on loopback.

    `version` "v3" serves ClusterConnect; "v4" (vCluster Platform) answers it with 404 and offers the
    Cluster + accesskey flow. `tls=True` serves HTTPS with a fresh self-signed certificate (`ca_data`).
    Either serves the agent chart at `chart_repository_url`; with `agent_kubeconfig`, agents the chart
    installs in that cluster run and connect (a Cluster of the agent flow initializes only then).
    """

    access_key: str = field(default_factory=lambda: secrets.token_hex(20))
    version: str = "v3"
    tls: bool = False
    host: str = "127.0.0.1"
    port: int = 0
    ca_data: str = ""
    agent_kubeconfig: str | None = None
    backend: LoftBackend | None = None
    _agents: agent.SimulatedPlatformAgents | None = None
    _serving: serving.ThreadedServer | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        assert self._serving is not None, "not started"
        return f"{'https' if self.tls else 'http'}://{self.host}:{self._serving.bound_port}"

    @property
    def chart_repository_url(self) -> str:
        return self.url + CHARTS_PREFIX.rstrip("/")

    @property
    def chart_versions(self) -> tuple[str, ...]:
        """The agent chart versions served, oldest first (the last is the platform's own)."""
        return CHART_VERSIONS[self.version]

    def start(self) -> LoftSandbox:
        if self.version not in ("v3", "v4"):
            raise ValueError(f"version must be 'v3' or 'v4', got {self.version!r}")
        context = None
        if self.tls:
            self._tmp = tempfile.TemporaryDirectory(prefix="loft-sandbox-")
            cert_file, key_file, self.ca_data = self_signed_certificate(Path(self._tmp.name))
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert_file, key_file)
        self.backend = LoftBackend(access_key=self.access_key, version=self.version, ca_cert=self.ca_data)
        charts = ChartRepository(self.chart_versions).build()
        app = LoftApp(self.backend, charts)
        self._serving = serving.ThreadedServer(app, "loft-sandbox", self.host, self.port, context)
        self._serving.start()
        self.backend.host = f"{self.host}:{self._serving.bound_port}"
        if self.agent_kubeconfig is not None:
            self._agents = agent.SimulatedPlatformAgents(self.agent_kubeconfig, self.backend).start()
        return self

    def stop(self) -> None:
        if self._agents is not None:
            self._agents.stop()
            self._agents = None
        if self._serving is not None:
            self._serving.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

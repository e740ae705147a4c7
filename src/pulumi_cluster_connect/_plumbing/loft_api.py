"""The Loft / vCluster Platform management API: one HTTPS call per request, errors as LoftApiError that say what
to do about the common ones."""

from __future__ import annotations

import base64
import binascii
import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi.dynamic import CheckFailure

from pulumi_cluster_connect._plumbing import errors, inputs, kube

API = "/kubernetes/management/apis/management.loft.sh/v1"
API_VERSION = "management.loft.sh/v1"
REQUEST_TIMEOUT = 60.0
# Stack config used when the input is not set.
CONFIG_KEYS = {"loft_url": "loft:url", "access_key": "loft:accessKey"}
CONNECT_ACTION = "Loft ClusterConnect"
NOT_CONNECT_API = (
    "this server has no ClusterConnect API (vCluster Platform v4 removed it): use LoftConnectedCluster, "
    "which installs the agent, or mode='agent' and install the agent with the outputs agent_access_key and loft_host"
)


def pem_of(ca_data: str) -> str:
    """The CA bundle as PEM text, from PEM or from base64 of PEM (as kubeconfigs carry it)."""
    if "-----BEGIN CERTIFICATE-----" in ca_data:
        return ca_data
    try:
        decoded = base64.b64decode(ca_data, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as err:
        raise ValueError("must be PEM certificates or base64 of PEM certificates") from err
    if "-----BEGIN CERTIFICATE-----" not in decoded:
        raise ValueError("must be PEM certificates or base64 of PEM certificates")
    return decoded


def check_ca_data(props: Mapping[str, Any], key: str, failures: list[CheckFailure]) -> None:
    """A CA bundle: PEM certificates, or base64 of them (as kubeconfigs carry it); never quoted."""
    if not inputs.known(props, key):
        return
    try:
        valid = isinstance(props[key], str) and bool(pem_of(props[key]))
    except ValueError:
        valid = False
    if not valid:
        failures.append(
            CheckFailure(key, f"must be PEM certificates or base64 of PEM certificates{inputs.got(props[key])}")
        )


def secrets_in(props: Mapping[str, Any]) -> list[str]:
    """The values no message may show: the access keys and the kubeconfig's credentials."""
    found = [str(props[k]) for k in ("access_key", "agent_access_key") if props.get(k)]
    found += kube.credentials_in(props.get("kubeconfig"))
    return [s for s in found if len(s) >= 4]


@dataclass(frozen=True)
class LoftApi:
    """The Loft management API at `url`, authenticated with `access_key`; trust per `ca_data`/`insecure`."""

    url: str
    access_key: str
    ca_data: str | None = None
    insecure: bool = False
    redact: tuple[str, ...] = ()

    @classmethod
    def from_props(cls, props: Mapping[str, Any], stack_config: Mapping[str, Any]) -> LoftApi:
        url = props.get("loft_url") or stack_config.get(CONFIG_KEYS["loft_url"])
        key = props.get("access_key") or stack_config.get(CONFIG_KEYS["access_key"])
        if not url or not key:
            raise errors.ClusterConnectError(
                "no Loft URL or access key: set loft_url and access_key, "
                "or the loft:url and loft:accessKey stack config"
            )
        return cls(
            str(url).rstrip("/"),
            str(key),
            props.get("ca_data") or None,
            bool(props.get("insecure")),
            tuple(secrets_in({**props, "access_key": key})),
        )

    def _context(self) -> ssl.SSLContext | None:
        if not self.url.startswith("https:"):
            return None
        if self.insecure:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        return ssl.create_default_context(cadata=pem_of(self.ca_data) if self.ca_data else None)

    def clean(self, text: str) -> str:
        for secret in self.redact:
            text = text.replace(secret, "***")
        return text

    def request(self, action: str, method: str, path: str, body: Any = None, auth: bool = True) -> dict[str, Any]:
        """Send one request; a non-2xx answer becomes LoftApiError with the Status's reason and message."""
        headers = {"Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.access_key}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(f"{self.url}{path}", data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT, context=self._context()) as response:
                raw = response.read()
        except urllib.error.HTTPError as err:
            raise self._status_error(action, err) from None
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise errors.LoftApiError(action, "Unreachable", self.clean(f"cannot reach {self.url}: {reason}")) from None
        try:
            result = json.loads(raw or b"{}")
        except ValueError:
            raise errors.LoftApiError(action, "BadResponse", f"{self.url} answered with something not JSON") from None
        return result if isinstance(result, dict) else {}

    def _status_error(self, action: str, err: urllib.error.HTTPError) -> errors.LoftApiError:
        text = err.read().decode("utf-8", errors="replace")
        try:
            status = json.loads(text)
        except ValueError:
            status = {}
        if not isinstance(status, dict) or status.get("kind") != "Status":
            status = {"reason": err.reason or f"HTTP {err.code}", "message": text.strip()[:300]}
        reason, message = errors.status_reason_and_message(status, f"HTTP {err.code}")
        return errors.LoftApiError(action, reason, self.clean(message), err.code)

    # One method per operation.
    def version(self) -> dict[str, Any]:
        return self.request("Loft GET /version", "GET", "/version", auth=False)

    def create_cluster_connect(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._create(CONNECT_ACTION, f"{API}/clusterconnect", body)

    def create_cluster(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._create("Loft create Cluster", f"{API}/clusters", body)

    def _create(self, action: str, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return self.request(action, "POST", path, body)
        except errors.LoftApiError as err:
            raise explained(err) from None

    def get_cluster(self, name: str) -> dict[str, Any]:
        return self.request(f"Loft get Cluster {name}", "GET", f"{API}/clusters/{name}")

    def delete_cluster(self, name: str) -> dict[str, Any]:
        return self.request(f"Loft delete Cluster {name}", "DELETE", f"{API}/clusters/{name}")

    def get_cluster_access_key(self, name: str) -> dict[str, Any]:
        return self.request(f"Loft get Cluster {name} accesskey", "GET", f"{API}/clusters/{name}/accesskey")


def is_not_found(err: BaseException) -> bool:
    return isinstance(err, errors.LoftApiError) and (err.status == 404 or err.reason == "NotFound")


def already_exists(err: BaseException) -> bool:
    return isinstance(err, errors.LoftApiError) and (err.reason == "AlreadyExists" or err.status == 409)


def explained(err: errors.LoftApiError) -> errors.LoftApiError:
    """The API's error, with what to do about the common ones."""
    hint = ""
    if err.status in (401, 403):
        hint = " (check access_key: it must be a valid Loft access key allowed to manage clusters)"
    elif err.status == 404 and err.action == CONNECT_ACTION:
        hint = f" ({NOT_CONNECT_API})"
    return errors.LoftApiError(err.action, err.reason, err.message + hint, err.status)

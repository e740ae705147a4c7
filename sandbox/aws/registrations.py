"""RegisterCluster and DeregisterCluster, and registered clusters in DescribeCluster and ListClusters.

A deregistered cluster stays DELETING for `durations.cluster_deregister` seconds before it is gone; a
clientRequestToken is remembered after its registration is gone, as EKS remembers it.
"""

from __future__ import annotations

import base64
import copy
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from . import exceptions, messages, roles, tokens
from .call import Call
from .settings import SETTINGS

PROVIDERS = ("EKS_ANYWHERE", "ANTHOS", "GKE", "AKS", "OPENSHIFT", "TANZU", "RANCHER", "EC2", "OTHER")
NAME_PATTERN = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]*$")
NAME_MAX, TAGS_MAX, TAG_KEY_MAX, TAG_VALUE_MAX = 100, 50, 128, 256
REGISTRATIONS_PER_REGION = 10
SSM = "ssm.amazonaws.com"
LIST_PAGE_MAX = 100


@dataclass
class Registration:
    """One registered (connected) cluster; its status follows from the timestamps."""

    account_id: str
    region: str
    name: str
    provider: str
    role_arn: str
    tags: dict[str, str]
    created_at: float
    activation_id: str
    activation_code: str
    activation_expiry: float
    client_request_token: str | None = None
    connected_at: float | None = None
    deregister_ends: float | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:eks:{self.region}:{self.account_id}:cluster/{self.name}"

    def status(self, now: float) -> str:
        if self.deregister_ends is not None:
            return "DELETING"
        if self.connected_at is not None:
            return "ACTIVE"
        return "FAILED" if now >= self.activation_expiry else "PENDING"

    def describe(self, now: float, *, with_code: bool = False, status: str | None = None) -> dict[str, Any]:
        connector: dict[str, Any] = {
            "activationId": self.activation_id,
            "activationExpiry": self.activation_expiry,
            "provider": self.provider,
            "roleArn": self.role_arn,
        }
        if with_code:
            connector["activationCode"] = self.activation_code
        cluster: dict[str, Any] = {
            "name": self.name,
            "arn": self.arn,
            "createdAt": self.created_at,
            "status": status or self.status(now),
            "connectorConfig": connector,
            "tags": dict(self.tags),
        }
        if with_code and self.client_request_token:
            cluster["clientRequestToken"] = self.client_request_token
        return cluster


@dataclass
class _Store:
    registrations: dict[tuple[str, str, str], Registration] = field(default_factory=dict)
    request_tokens: tokens.RequestTokens = field(default_factory=tokens.RequestTokens)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def live(self, now: float) -> dict[tuple[str, str, str], Registration]:
        """The registrations, without those whose deregistration has finished (callers hold the lock)."""
        gone = [k for k, r in self.registrations.items() if r.deregister_ends is not None and now >= r.deregister_ends]
        for key in gone:
            del self.registrations[key]
        return self.registrations


_STORE = _Store()


def reset() -> None:
    with _STORE.lock:
        _STORE.registrations.clear()
        _STORE.request_tokens.reset()


def _validate(call: Call) -> tuple[str, str, str, dict[str, str]]:
    body = call.body
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= NAME_MAX or not NAME_PATTERN.match(name):
        raise exceptions.InvalidParameterException(
            messages.BAD_CLUSTER_NAME.format(name=name, limit=NAME_MAX, pattern=NAME_PATTERN.pattern)
        )
    config = body.get("connectorConfig")
    if not isinstance(config, dict):
        raise exceptions.InvalidParameterException(messages.CONNECTOR_CONFIG_REQUIRED)
    provider, role_arn = config.get("provider"), config.get("roleArn")
    if provider not in PROVIDERS:
        raise exceptions.InvalidParameterException(
            messages.BAD_PROVIDER.format(provider=provider, providers=", ".join(PROVIDERS))
        )
    if not roles.is_role_arn(role_arn):
        raise exceptions.InvalidParameterException(messages.BAD_CONNECTOR_ROLE.format(role_arn=role_arn))
    tags = body.get("tags") or {}
    if not isinstance(tags, dict) or len(tags) > TAGS_MAX:
        raise exceptions.InvalidParameterException(messages.TOO_MANY_TAGS.format(limit=TAGS_MAX))
    for key, value in tags.items():
        if not 1 <= len(key) <= TAG_KEY_MAX or not isinstance(value, str) or len(value) > TAG_VALUE_MAX:
            raise exceptions.InvalidParameterException(
                messages.BAD_TAG.format(key=key, key_limit=TAG_KEY_MAX, value_limit=TAG_VALUE_MAX)
            )
    return name, provider, role_arn, tags


def _expire_if_faulted(registration: Registration, operation: str, now: float) -> None:
    if registration.connected_at is None and SETTINGS.take("expire_activation", operation, registration.name):
        registration.activation_expiry = min(registration.activation_expiry, now)


def _check_role(call: Call, name: str, role_arn: str) -> None:
    if call.settings.take("role_propagation", call.operation, name):
        raise exceptions.InvalidRequestException(messages.ROLE_PROPAGATING)
    role = roles.find(role_arn)
    if role is None:
        raise exceptions.InvalidRequestException(messages.NOT_EXISTING_ROLE.format(role_arn=role_arn))
    if not roles.trusts(role, SSM):
        raise exceptions.InvalidRequestException(messages.ROLE_PROPAGATING)


def _replayed(key: tuple[str, str, str], remembered: tokens.Remembered, now: float) -> dict[str, Any]:
    """The answer to a retried registration: as it is now, or the first answer once that one is gone."""
    first = remembered.answer["cluster"]
    live = _STORE.live(now).get(key)
    if live is not None and live.activation_id == first["connectorConfig"]["activationId"]:
        return {"cluster": live.describe(now, with_code=True)}
    return copy.deepcopy(remembered.answer)


def register_cluster(call: Call) -> dict[str, Any]:
    name, provider, role_arn, tags = _validate(call)
    parameters = {"name": name, "provider": provider, "roleArn": role_arn, "tags": dict(tags)}
    key = (call.account_id, call.region, name)
    now = time.time()
    with _STORE.lock:
        remembered = _STORE.request_tokens.recall(call, parameters)
        if remembered is not None:
            return _replayed(key, remembered, now)
        _check_role(call, name, role_arn)
        registered = _STORE.live(now)
        if key in registered or name in call.eks.clusters:
            raise exceptions.ResourceInUseException(messages.CLUSTER_NAME_IN_USE.format(name=name))
        if len([k for k in registered if k[:2] == key[:2]]) >= REGISTRATIONS_PER_REGION:
            raise exceptions.ResourceLimitExceededException(
                messages.REGISTRATION_LIMIT.format(limit=REGISTRATIONS_PER_REGION)
            )
        registration = Registration(
            account_id=call.account_id,
            region=call.region,
            name=name,
            provider=provider,
            role_arn=role_arn,
            tags=dict(tags),
            created_at=now,
            activation_id=str(uuid.uuid4()),
            activation_code=base64.b64encode(secrets.token_bytes(24)).decode(),
            activation_expiry=now + call.settings.durations.activation_lifetime,
            client_request_token=call.body.get("clientRequestToken") or None,
        )
        _expire_if_faulted(registration, call.operation, now)
        registered[key] = registration
        answer = {"cluster": registration.describe(now, with_code=True)}
        _STORE.request_tokens.remember(call, parameters, answer)
        return answer


def deregister_cluster(call: Call) -> dict[str, Any]:
    name = call.path_params["name"]
    now = time.time()
    with _STORE.lock:
        registration = _STORE.live(now).get((call.account_id, call.region, name))
        if registration is None:
            if name in call.eks.clusters:
                raise exceptions.ClientException(messages.NOT_REGISTERED.format(name=name))
            raise exceptions.ResourceNotFoundException(messages.CLUSTER_NOT_FOUND.format(cluster=name))
        if registration.deregister_ends is None:
            registration.deregister_ends = now + call.settings.durations.cluster_deregister
        return {"cluster": registration.describe(now)}


def is_registered(call: Call, name: str) -> bool:
    """Whether that name is a registered cluster (DELETING ones included) in the caller's account and region."""
    with _STORE.lock:
        return (call.account_id, call.region, name) in _STORE.live(time.time())


def describe_cluster(call: Call) -> dict[str, Any] | None:
    # Registered clusters only; handlers.py asks updates.describe_cluster (settle) first, for moto's clusters.
    now = time.time()
    with _STORE.lock:
        registration = _STORE.live(now).get((call.account_id, call.region, call.path_params["name"]))
        if registration is None:
            return None
        _expire_if_faulted(registration, call.operation, now)
        return {"cluster": registration.describe(now)}


def list_clusters(call: Call) -> dict[str, Any] | None:
    if "all" not in call.query.get("include", []):
        return None
    with _STORE.lock:
        registered = sorted(k[2] for k in _STORE.live(time.time()) if k[:2] == (call.account_id, call.region))
    names = sorted(call.eks.clusters) + registered
    try:
        size = int(call.query_one("maxResults") or LIST_PAGE_MAX)
        start = int(base64.b64decode(call.query_one("nextToken") or "MA==").decode())
    except ValueError as err:
        raise exceptions.InvalidParameterException(messages.BAD_PAGE.format(error=err)) from err
    if not 1 <= size <= LIST_PAGE_MAX:
        raise exceptions.InvalidParameterException(messages.PAGE_SIZE_RANGE.format(limit=LIST_PAGE_MAX))
    page: dict[str, Any] = {"clusters": names[start : start + size]}
    if start + size < len(names):
        page["nextToken"] = base64.b64encode(str(start + size).encode()).decode()
    return page


def connect(region: str, name: str | None, activation_id: str, activation_code: str) -> bool:
    """The agent's activation: True when a registration (by name, or by activation id when no name is
    given) with this id and code has not expired and is not being deregistered; it turns ACTIVE."""
    now = time.time()
    with _STORE.lock:
        for (_, reg_region, reg_name), registration in _STORE.live(now).items():
            if reg_region != region or (name is not None and reg_name != name):
                continue
            if registration.activation_id != activation_id:
                continue
            if registration.deregister_ends is not None:
                return False
            if not secrets.compare_digest(registration.activation_code, activation_code):
                return False
            if registration.connected_at is None:
                _expire_if_faulted(registration, "Connect", now)
                if now >= registration.activation_expiry:
                    return False
                registration.connected_at = now
            return True
    return False


def registration(region: str, name: str, account_id: str | None = None) -> Registration | None:
    """The registration of that name, for tests and the agent."""
    with _STORE.lock:
        for (account, reg_region, reg_name), found in _STORE.live(time.time()).items():
            if reg_region == region and reg_name == name and account_id in (None, account):
                return found
    return None

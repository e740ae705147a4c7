"""AWS clients for the providers: region, profile, endpoint and retry settings; every error as AwsApiError.

Clients are built once per process for each set of settings and reused: building one costs 0.4-0.5 s of CPU
(botocore loads and parses the service model), which a deployment of many resources would pay on every call.
boto3 clients are thread-safe; sessions are not, so building happens under a lock. boto3 itself is imported on first
use, so a preview (check and diff only) never pays for it. The cache is keyed by plain
values only: the service, the resource's region, `aws:profile` and `aws:region`, and a digest of every AWS_* and
CLUSTER_CONNECT_AWS_* environment variable (credentials, endpoints, config files), so a changed environment gets
a new client. Nothing of it lives on a provider object, which is pickled into the state.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from . import errors, polling, progress

if TYPE_CHECKING:
    import boto3
    import botocore.config
    from botocore.config import _RetryDict
    from mypy_boto3_eks import EKSClient
    from mypy_boto3_iam import IAMClient

T = TypeVar("T")
RETRY_MODE_ENV = "CLUSTER_CONNECT_AWS_RETRY_MODE"
MAX_ATTEMPTS_ENV = "CLUSTER_CONNECT_AWS_MAX_ATTEMPTS"


CACHE_LIMIT = 64
_built: dict[tuple[str, ...], Any] = {}
_building = threading.Lock()


def _environment_digest() -> str:
    """A digest of the environment boto3 reads (credentials included), never the values themselves."""
    relevant = sorted((k, v) for k, v in os.environ.items() if k.startswith(("AWS_", "CLUSTER_CONNECT_AWS_")))
    return hashlib.sha256(repr(relevant).encode()).hexdigest()


def _cached(key: tuple[str, ...], build: Callable[[], T]) -> T:
    with _building:
        if key not in _built:
            if len(_built) >= CACHE_LIMIT:
                _built.clear()
            _built[key] = build()
        return _built[key]  # type: ignore[no-any-return]


def _session(region: str | None, stack_config: Mapping[str, str], digest: str) -> boto3.session.Session:
    """Region from the resource input, else `aws:region` config, else the standard chain; `aws:profile` too.
    `digest`: `_environment_digest()`, which the caller keys its own cache by as well."""
    profile = stack_config.get("aws:profile") or ""
    configured_region = stack_config.get("aws:region") or ""
    key = ("session", region or "", profile, configured_region, digest)
    if key in _built:
        return _built[key]  # type: ignore[no-any-return]

    def build() -> boto3.session.Session:
        import boto3  # on first use: a preview (check and diff) never needs it, and it takes 0.15 s to import

        session = boto3.session.Session(profile_name=profile or None)
        # boto3 reads AWS_DEFAULT_REGION and the profile; AWS_REGION is what the other AWS SDKs and CLIs read.
        chosen_region = region or configured_region or session.region_name or os.environ.get("AWS_REGION")
        if chosen_region is None:
            raise errors.ClusterConnectError(
                "no AWS region: set the resource's `region`, the `aws:region` stack config or AWS_REGION"
            )
        return boto3.session.Session(profile_name=profile or None, region_name=chosen_region)

    return _cached(key, build)


def _botocore_config() -> botocore.config.Config:
    import botocore.config

    # "standard" retries throttling and 5xx with backoff; "adaptive" adds client-side rate limiting.
    mode = os.environ.get(RETRY_MODE_ENV, "standard")
    attempts = int(os.environ.get(MAX_ATTEMPTS_ENV, "8"))
    retries: _RetryDict = {"mode": mode, "total_max_attempts": attempts}  # type: ignore[typeddict-item]
    return botocore.config.Config(
        retries=retries,
        connect_timeout=10,
        read_timeout=60,
    )


class _Translating:
    """A boto3 client whose operations raise AwsApiError (the service's code and message), never botocore's."""

    def __init__(self, client: Any, label: str) -> None:
        self._client = client
        self._label = label

    def get_paginator(self, name: str) -> Any:
        paginator = self._client.get_paginator(name)
        operation = f"{self._label} {self._client.meta.method_to_api_mapping.get(name, name)}"

        class Pages:
            @staticmethod
            def paginate(**kwargs: Any) -> Iterator[Any]:
                with errors.translated_aws_errors(operation):
                    yield from paginator.paginate(**kwargs)

        return Pages()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        operation = self._client.meta.method_to_api_mapping.get(name)
        if operation is None:
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with errors.translated_aws_errors(f"{self._label} {operation}"):
                return attribute(*args, **kwargs)

        return call


def client(service: str, region: str | None = None, stack_config: Mapping[str, str] | None = None) -> Any:
    """A boto3 client, reused within the process for the same settings; AWS_ENDPOINT_URL and
    AWS_ENDPOINT_URL_<SERVICE> are honoured by botocore itself."""
    config = stack_config or {}
    digest = _environment_digest()
    session = _session(region, config, digest)
    key = ("client", service, str(session.region_name), config.get("aws:profile") or "", digest)

    def build() -> _Translating:
        raw = session.client(service, config=_botocore_config())  # type: ignore[call-overload]
        return _Translating(raw, service.upper())

    return _cached(key, build)


def eks(region: str | None = None, stack_config: Mapping[str, str] | None = None) -> EKSClient:
    return client("eks", region, stack_config)  # type: ignore[no-any-return]


def iam(region: str | None = None, stack_config: Mapping[str, str] | None = None) -> IAMClient:
    return client("iam", region, stack_config)  # type: ignore[no-any-return]


NOT_FOUND_CODES = frozenset({"ResourceNotFoundException", "NoSuchEntity", "NotFoundException"})


def find(describe: Callable[[], T]) -> T | None:
    """What a describe call returns, or None when the service says there is no such resource."""
    try:
        return describe()
    except errors.AwsApiError as err:
        if err.code in NOT_FOUND_CODES:
            return None
        raise


def describe_cluster_or_none(eks_client: EKSClient, name: str) -> dict[str, Any] | None:
    """DescribeCluster's cluster, or None when there is no such cluster (what `read` reports as gone)."""
    return find(lambda: dict(eks_client.describe_cluster(name=name)["cluster"]))


def region_of(region: str | None, stack_config: Mapping[str, str] | None = None) -> str:
    """The region a client built with the same arguments talks to."""
    return str(_session(region, stack_config or {}, _environment_digest()).region_name)


TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServerException",
        "ServiceUnavailableException",
        "ServiceUnavailable",
        "InternalFailure",
        "RequestTimeout",
        "RequestTimeoutException",
        # botocore's own errors when the connection failed or the answer did not come
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
    }
)
PATIENT_RETRY = polling.Backoff(first=1.0, factor=1.5, cap=10.0)


def is_transient(err: errors.AwsApiError) -> bool:
    """Whether asking again later may succeed: throttling, a server fault, a lost connection."""
    return err.code in TRANSIENT_CODES or (err.status is not None and err.status >= 500)


def patiently(
    call: Callable[[], T],
    what: str,
    timeout: float,
    *,
    backoff: polling.Backoff | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`call`, asked again through transient errors beyond botocore's own retries, for up to `timeout` seconds.

    For calls whose answer decides what happens to something already made (a wait after a create): a
    throttling storm must delay them, not fail them.
    """
    deadline = clock() + timeout
    next_interval = (backoff or PATIENT_RETRY).intervals()
    while True:
        try:
            return call()
        except errors.AwsApiError as err:
            remaining = deadline - clock()
            if not is_transient(err) or remaining <= 0:
                raise
            progress.report(f"{what}: {err.code}, asking again ({remaining:.0f}s left)")
            sleep(min(next_interval(), remaining))

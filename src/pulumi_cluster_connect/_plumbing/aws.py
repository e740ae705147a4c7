"""AWS clients for the providers: region, profile, endpoint and retry settings; every error as AwsApiError.

Clients are built once per process for each set of settings and reused: building one costs 0.4-0.5 s of CPU
(botocore loads and parses the service model), which a deployment of many resources would pay on every call.
boto3 clients are thread-safe; sessions are not, so building happens under a lock. boto3 itself is imported on first
use, so a preview (check and diff only) never pays for it. The cache is keyed by plain
values only: the service, the resource's region, its route (`profile`, `assume_roles`: credentials.Route),
`aws:profile` and `aws:region`, and a digest of every AWS_* and CLUSTER_CONNECT_AWS_* environment variable
(credentials, endpoints, config files), so a changed environment gets a new client. Nothing of it lives on a
provider object, which is pickled into the state.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from . import cancellation, credentials, errors, polling, progress

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


def _session(
    region: str | None, stack_config: Mapping[str, str], digest: str, route: credentials.Route | None = None
) -> boto3.session.Session:
    """Region from the resource input, else `aws:region` config, else the standard chain; the resource's `profile`,
    else `aws:profile`; then the route's roles, assumed in order with refreshing credentials.
    `digest`: `_environment_digest()`, which the caller keys its own cache by as well."""
    route = route or credentials.Route(None, ())
    profile = route.profile or stack_config.get("aws:profile") or ""
    configured_region = stack_config.get("aws:region") or ""
    key = ("session", region or "", profile, configured_region, digest, route.key)
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
        chosen = boto3.session.Session(profile_name=profile or None, region_name=chosen_region)
        if route.roles:
            credentials.assume(chosen._session, chosen_region, route)
        return chosen

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


CONNECT_ATTEMPTS = 3
"""Attempts botocore makes at a request whose connection could not be opened (refused, DNS, TLS, proxy), instead
of its 8: nothing was sent, so the endpoint is wrong or out of reach, and 8 attempts with backoff take a minute."""


def _fewer_attempts_when_unreachable(attempts: int, caught_exception: Exception | None = None, **_: Any) -> None:
    """A `needs-retry` handler that runs before botocore's own: after CONNECT_ATTEMPTS attempts whose connection
    could not be opened, the error is raised instead of retried."""
    unreachable = type(caught_exception).__name__ in errors.CONNECTION_NOT_OPENED
    if caught_exception is not None and unreachable and attempts >= CONNECT_ATTEMPTS:
        raise caught_exception


_accounts: dict[tuple[str, ...], str] = {}


def _account_of(session: boto3.session.Session, key: tuple[str, ...]) -> str | None:
    """The account the session's credentials belong to (STS GetCallerIdentity, once per process per settings), or
    None when STS does not say. Asked only to word an error, never on the way to a change."""
    if key not in _accounts:
        import botocore.config

        try:
            sts = session.client(
                "sts",
                config=botocore.config.Config(connect_timeout=3, read_timeout=5, retries={"total_max_attempts": 1}),
            )
            _accounts[key] = str(sts.get_caller_identity()["Account"])
        except Exception:  # the account only adds to a message already on its way
            return None
    return _accounts[key]


class _Translating:
    """A boto3 client whose operations raise AwsApiError (the service's code, message, region and account), never
    botocore's."""

    def __init__(self, client: Any, label: str, where: Callable[[], str] | None = None) -> None:
        self._client = client
        self._label = label
        self._where = where

    def get_paginator(self, name: str) -> Any:
        paginator = self._client.get_paginator(name)
        where = self._where
        operation = f"{self._label} {self._client.meta.method_to_api_mapping.get(name, name)}"

        class Pages:
            @staticmethod
            def paginate(**kwargs: Any) -> Iterator[Any]:
                with errors.translated_aws_errors(operation, where):
                    yield from paginator.paginate(**kwargs)

        return Pages()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        operation = self._client.meta.method_to_api_mapping.get(name)
        if operation is None:
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with errors.translated_aws_errors(f"{self._label} {operation}", self._where):
                return attribute(*args, **kwargs)

        return call


def client(
    service: str,
    region: str | None = None,
    stack_config: Mapping[str, str] | None = None,
    route: credentials.Route | None = None,
) -> Any:
    """A boto3 client, reused within the process for the same settings; AWS_ENDPOINT_URL and
    AWS_ENDPOINT_URL_<SERVICE> are honoured by botocore itself."""
    config = stack_config or {}
    digest = _environment_digest()
    session = _session(region, config, digest, route)
    route_key = route.key if route else ""
    key = ("client", service, str(session.region_name), config.get("aws:profile") or "", digest, route_key)

    def build() -> _Translating:
        raw = session.client(service, config=_botocore_config())  # type: ignore[call-overload]
        raw.meta.events.register_first(
            f"needs-retry.{raw.meta.service_model.service_id.hyphenize()}", _fewer_attempts_when_unreachable
        )
        region = str(session.region_name)
        account_key = (region, config.get("aws:profile") or "", digest, route_key)

        def where() -> str:
            account = _account_of(session, account_key)
            return f"in {region}" + (f" (account {account})" if account else "")

        return _Translating(raw, service.upper(), where)

    return _cached(key, build)


def eks(
    region: str | None = None, stack_config: Mapping[str, str] | None = None, route: credentials.Route | None = None
) -> EKSClient:
    return client("eks", region, stack_config, route)  # type: ignore[no-any-return]


def iam(
    region: str | None = None, stack_config: Mapping[str, str] | None = None, route: credentials.Route | None = None
) -> IAMClient:
    return client("iam", region, stack_config, route)  # type: ignore[no-any-return]


def located(
    region: str | None, stack_config: Mapping[str, str] | None, props: Mapping[str, Any]
) -> tuple[str, EKSClient]:
    """The region and EKS client of a resource whose `props` (its inputs, or its state) carry its route."""
    route = credentials.route_of(props)
    chosen = region_of(region, stack_config, route)
    return chosen, eks(chosen, stack_config, route)


def caller_account(region: str, stack_config: Mapping[str, str] | None, route: credentials.Route) -> str:
    """The account `route` reaches (STS GetCallerIdentity): asked before recording a route whose account the
    inputs do not name, so a resource is never moved to another account's credentials by an update."""
    return str(client("sts", region, stack_config, route).get_caller_identity()["Account"])


def verify_route(
    what: str, olds: Mapping[str, Any], news: Mapping[str, Any], region: str, stack_config: Mapping[str, str] | None
) -> None:
    """Before an update records a new route (`profile`, `assume_roles`) for a resource: the route must reach the
    account the state records, or the update is refused (the old route stays in the state)."""
    if all(news.get(k) == olds.get(k) for k in credentials.ROUTE_KEYS):
        return
    recorded = olds.get(credentials.ACCOUNT)
    how = (
        "name a role in account {reached} as the last of `assume_roles` (a replacement), or run `pulumi up "
        "--replace` on it"
    )
    if not isinstance(recorded, str):  # a state from before the account was recorded
        recorded = caller_account(region, stack_config, credentials.route_of(olds))
        how = "run `pulumi refresh` (it records the account), then " + how
    reached = caller_account(region, stack_config, credentials.route_of(news))
    if reached != recorded:
        raise errors.ClusterConnectError(
            f"{what} lives in account {recorded}, and its new profile/assume_roles reach account {reached}: "
            f"nothing was changed. To move it, {how.format(reached=reached)}"
        )


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


def region_of(
    region: str | None, stack_config: Mapping[str, str] | None = None, route: credentials.Route | None = None
) -> str:
    """The region a client built with the same arguments talks to."""
    return str(_session(region, stack_config or {}, _environment_digest(), route).region_name)


def configured_region(stack_config: Mapping[str, str] | None = None, profile: str | None = None) -> str | None:
    """The region a resource that leaves `region` unset is made in today, without the network: `aws:region`, then
    boto3's chain (AWS_DEFAULT_REGION, the region of the resource's `profile` or `aws:profile`), then AWS_REGION;
    None when nothing says."""
    config = stack_config or {}
    if config.get("aws:region"):
        return config["aws:region"]
    if os.environ.get("AWS_DEFAULT_REGION"):
        return os.environ["AWS_DEFAULT_REGION"]
    try:
        return region_of(None, config, credentials.Route(profile, ()))  # reads the profile's files; no request
    except Exception:  # no region anywhere, an unknown profile: the create will say so, a diff cannot
        return None


def moved_region(
    olds: Mapping[str, Any], news: Mapping[str, Any], key: str, stack_config: Mapping[str, str] | None
) -> str | None:
    """Where a resource whose `key` input is unset would be made now, when configuration resolves another region
    than the one its state records (it was made there): a replacement, as pulumi-aws shows one. None otherwise."""
    recorded = olds.get(key)
    if news.get(key) is not None or not isinstance(recorded, str):
        return None
    profile = news.get(credentials.PROFILE)
    now = configured_region(stack_config, profile if isinstance(profile, str) else None)
    return now if now is not None and now != recorded else None


def moved_message(what: str, recorded: object, now: str) -> str:
    return (
        f"{what} was made in {recorded}; the stack's configuration (aws:region, or the AWS environment) now resolves "
        f"{now}: replacing it there. To keep it where it is, set the resource's `region` to {recorded}"
    )


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


CONNECT_PATIENCE = 20.0
"""Seconds `patiently` asks again, beyond botocore's CONNECT_ATTEMPTS, while no connection can be opened to a call
that AWS has not accepted: a wrong or unreachable endpoint fails within a minute, with nothing made."""


def is_transient(err: errors.AwsApiError) -> bool:
    """Whether asking again later may succeed: throttling, a server fault, a lost connection."""
    return err.code in TRANSIENT_CODES or (err.status is not None and err.status >= 500)


def never_reached(err: errors.AwsApiError) -> bool:
    """Whether the request never reached the service (the connection could not be opened)."""
    return err.code in errors.CONNECTION_NOT_OPENED


def patiently(
    call: Callable[[], T],
    what: str,
    timeout: float,
    *,
    backoff: polling.Backoff | None = None,
    accepted: bool = False,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`call`, asked again through transient errors beyond botocore's own retries, for up to `timeout` seconds.

    For calls whose answer decides what happens to something already made (a wait after a create): a
    throttling storm must delay them, not fail them. A connection that cannot be opened is asked again for
    CONNECT_PATIENCE seconds only, unless the work is `accepted` (AWS took the request this call follows): a
    wrong endpoint fails fast where nothing was made. A cancel (Ctrl-C) ends the asking.
    """
    deadline = clock() + timeout
    unreachable_since: float | None = None
    next_interval = (backoff or PATIENT_RETRY).intervals()
    while True:
        try:
            return call()
        except errors.AwsApiError as err:
            now = clock()
            remaining = deadline - now
            if never_reached(err):
                unreachable_since = now if unreachable_since is None else unreachable_since
                if not accepted and now - unreachable_since >= CONNECT_PATIENCE:
                    raise
            else:
                unreachable_since = None
            if not is_transient(err) or remaining <= 0:
                raise
            cancellation.raise_if_requested(what, err.code)
            progress.report(f"{what}: {err.code}, asking again ({remaining:.0f}s left)")
            sleep(min(next_interval(), remaining))

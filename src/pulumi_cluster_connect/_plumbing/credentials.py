"""Whose credentials a resource uses: its `profile` and `assume_roles` inputs, checked, compared, made into sessions.

Each role is botocore's AssumeRoleCredentialFetcher behind DeferredRefreshableCredentials, chained in order.

A resource's route to its account is recorded in its state with the account its objects live in (`account_id`,
read from the ARNs AWS returns), so `diff` decides identity from the state without the network: the account a
new route reaches is known offline when the last role of `assume_roles` names it; with a profile alone or the
ambient credentials it is not, and `update` asks STS before recording the new route. External ids and session
policies never appear in messages.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

import pulumi
from pulumi.dynamic import CheckFailure

from . import arguments, errors, inputs

if TYPE_CHECKING:
    import botocore.credentials
    import botocore.session

PROFILE, ASSUME_ROLES, ACCOUNT = "profile", "assume_roles", "account_id"
ROUTE_KEYS = (PROFILE, ASSUME_ROLES)
ROLE_ARN = "role_arn"
ROLE_STRINGS = ("session_name", "external_id", "source_identity", "policy")
ROLE_FIELDS = (ROLE_ARN, *ROLE_STRINGS, "duration_seconds", "tags", "transitive_tag_keys", "policy_arns")
SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")
EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}|aws):policy/[\w+=,.@/-]+$")
DURATION_MIN, DURATION_MAX = 900, 43200
MAX_CHAIN = 10
DEFAULT_SESSION_NAME = "pulumi-cluster-connect"
ACCOUNT_ID = re.compile(r"^\d{12}$")


class AssumeRole(TypedDict, total=False):
    """One role of `assume_roles`, as pulumi-aws's `ProviderAssumeRoleArgs` names it in Python; only `role_arn` is
    required."""

    role_arn: pulumi.Input[str]
    session_name: pulumi.Input[str]
    external_id: pulumi.Input[str]
    duration_seconds: pulumi.Input[float]
    source_identity: pulumi.Input[str]
    tags: pulumi.Input[Mapping[str, pulumi.Input[str]]]
    transitive_tag_keys: pulumi.Input[list[pulumi.Input[str]]]
    policy: pulumi.Input[str]
    policy_arns: pulumi.Input[list[pulumi.Input[str]]]


AssumeRoles = pulumi.Input[Sequence[pulumi.Input[AssumeRole]]]


def inputs_of(
    kind: str, name: str, opts: pulumi.ResourceOptions | None, profile: Any, assume_roles: Any
) -> dict[str, Any]:
    """The route inputs a Resource passes, None ones left out (the SDK would make an Output of each), once an
    aws.Provider in its options has been refused (`refuse_aws_provider`)."""
    refuse_aws_provider(kind, name, opts)
    return inputs.without_none({PROFILE: profile, ASSUME_ROLES: assume_roles})


def _aws_providers(opts: pulumi.ResourceOptions | None) -> list[str]:
    if opts is None:
        return []
    found = []
    provider = opts.provider
    if isinstance(provider, pulumi.ProviderResource) and provider.package == "aws":
        found.append("opts.provider")
    providers = opts.providers
    listed = providers.values() if isinstance(providers, Mapping) else providers or []
    if any(isinstance(p, pulumi.ProviderResource) and p.package == "aws" for p in listed):
        found.append("opts.providers")
    return found


def refuse_aws_provider(
    kind: str, name: str, opts: pulumi.ResourceOptions | None, *, allowed: bool = False, component: bool = False
) -> None:
    """An aws.Provider given to our resources is refused before anything is made: a dynamic resource cannot read
    its credentials (pulumi/pulumi-aws#4821), and ignoring it would act in the ambient account. `allowed`: a
    `component` with its own route passes the provider to its pulumi-aws children."""
    found = _aws_providers(opts)
    if not found or allowed:
        return
    what = f"{' and '.join(found)} {'carries' if len(found) == 1 else 'carry'} an aws.Provider"
    if component:
        reason = (
            "its AWS calls cannot take an aws.Provider's credentials (pulumi/pulumi-aws#4821): give it the provider's "
            "`assume_roles` (or `profile`) as well; the provider still serves its pulumi-aws children"
        )
    else:
        reason = (
            "a dynamic resource cannot take an aws.Provider's credentials (pulumi/pulumi-aws#4821): pass the "
            "provider's `assume_roles` (or `profile`) as inputs instead"
        )
    raise arguments.ArgumentsError(
        f"{kind} {name}: {what}, which would be ignored (nothing was created): {reason}",
        [{"property_path": where, "reason": reason} for where in found],
    )


# --- check ----------------------------------------------------------------------------------------


def _check_role(role: Any, where: str, failures: list[CheckFailure]) -> None:
    if inputs.is_unknown(role):
        return
    if not isinstance(role, Mapping):
        failures.append(CheckFailure(ASSUME_ROLES, f"{where} must be a map with role_arn{inputs.got(role)}"))
        return
    unexpected = sorted(str(key)[:64] for key in set(role) - set(ROLE_FIELDS))
    if unexpected:
        failures.append(
            CheckFailure(ASSUME_ROLES, f"{where} has unknown keys {unexpected} (use {', '.join(ROLE_FIELDS)})")
        )
    arn = role.get(ROLE_ARN)
    if arn is None:
        failures.append(CheckFailure(ASSUME_ROLES, f"{where}.role_arn is required: the IAM role to assume"))
    elif not inputs.is_unknown(arn) and (not isinstance(arn, str) or not inputs.IAM_ROLE_ARN.match(arn)):
        failures.append(CheckFailure(ASSUME_ROLES, f"{where}.role_arn must be an IAM role ARN{inputs.got(arn)}"))
    rules = {
        "session_name": (SESSION_NAME, "2-64 characters: letters, digits and +=,.@_-"),
        "external_id": (EXTERNAL_ID, "2-1224 characters: letters, digits and +=,.@:/_-"),
        "source_identity": (SESSION_NAME, "2-64 characters: letters, digits and +=,.@_-"),
        "policy": (re.compile(r"^\{.*\}$", re.S), "a JSON policy document"),
    }
    for key, (pattern, rule) in rules.items():
        value = role.get(key)
        if value is not None and not inputs.is_unknown(value) and not (isinstance(value, str) and pattern.match(value)):
            failures.append(CheckFailure(ASSUME_ROLES, f"{where}.{key} must be {rule}{inputs.got(value)}"))
    duration = role.get("duration_seconds")
    if duration is not None and not inputs.is_unknown(duration):
        whole = isinstance(duration, (int, float)) and not isinstance(duration, bool) and math.isfinite(duration)
        if not whole or int(duration) != duration or not DURATION_MIN <= duration <= DURATION_MAX:
            failures.append(
                CheckFailure(
                    ASSUME_ROLES,
                    f"{where}.duration_seconds must be a whole number of seconds from {DURATION_MIN} to "
                    f"{DURATION_MAX}{inputs.got(duration)}",
                )
            )
    _check_list(role.get("transitive_tag_keys"), f"{where}.transitive_tag_keys", "tag keys", None, failures)
    _check_list(role.get("policy_arns"), f"{where}.policy_arns", "IAM policy ARNs", POLICY_ARN, failures)
    tags = role.get("tags")
    if tags is not None:
        found: list[CheckFailure] = []
        inputs.check_tags({"tags": tags}, "tags", found)
        failures.extend(CheckFailure(ASSUME_ROLES, f"{where}.tags: {f.reason}") for f in found)


def _check_list(
    value: Any, where: str, what: str, pattern: re.Pattern[str] | None, failures: list[CheckFailure]
) -> None:
    if value is None or inputs.is_unknown(value):
        return
    if not isinstance(value, list):
        failures.append(CheckFailure(ASSUME_ROLES, f"{where} must be a list of {what}{inputs.got(value)}"))
        return
    for item in value:
        if inputs.is_unknown(item):
            continue
        if not isinstance(item, str) or not item or (pattern is not None and not pattern.match(item)):
            failures.append(CheckFailure(ASSUME_ROLES, f"{where} must be a list of {what}{inputs.got(item)}"))
            return


def check(props: Mapping[str, Any], failures: list[CheckFailure]) -> None:
    """`profile`: a profile name; `assume_roles`: a list of at most MAX_CHAIN roles, each a map in pulumi-aws's shape.
    No network; unknown values pass; messages never quote an external id or a policy."""
    inputs.check_string(props, PROFILE, failures)
    if not inputs.known(props, ASSUME_ROLES):
        return
    roles = props[ASSUME_ROLES]
    if not isinstance(roles, list):
        failures.append(CheckFailure(ASSUME_ROLES, f"must be a list of roles to assume in order{inputs.got(roles)}"))
        return
    if len(roles) > MAX_CHAIN:
        failures.append(CheckFailure(ASSUME_ROLES, f"at most {MAX_CHAIN} roles can be chained, got {len(roles)}"))
    for index, role in enumerate(roles):
        _check_role(role, f"assume_roles[{index}]", failures)


# --- identity -------------------------------------------------------------------------------------


def account_in_arn(arn: object) -> str | None:
    """The account of an ARN (`arn:partition:service:region:account:...`), None when it names none."""
    if not isinstance(arn, str):
        return None
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and ACCOUNT_ID.match(parts[4]) else None


def _roles(props: Mapping[str, Any]) -> list[Any]:
    roles = props.get(ASSUME_ROLES)
    return roles if isinstance(roles, list) else []


def account_offline(props: Mapping[str, Any]) -> str | None:
    """The account a route reaches, as far as its text says: the account of its last role; None when it does not
    say (a profile alone, the ambient credentials, an unknown value)."""
    roles = _roles(props)
    last = roles[-1] if roles else None
    return account_in_arn(last.get(ROLE_ARN)) if isinstance(last, Mapping) else None


def _route(props: Mapping[str, Any]) -> tuple[Any, Any]:
    return (props.get(PROFILE), props.get(ASSUME_ROLES) or None)


def identity_changes(olds: Mapping[str, Any], news: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(replaces, changes) for the route keys, decided from the state's recorded account without the network.

    Another account (the new route's last role names one that differs from the state's) replaces; a route whose
    last role is still unknown may do so. Another way into the same account, or one whose account only the network
    can tell (a profile, the ambient credentials), is an update that changes nothing in AWS: `update` checks the
    account and records the route, which refresh and destroy then use.
    """
    roles = _roles(news)
    last_unknown = bool(roles) and inputs.contains_unknown(
        roles[-1].get(ROLE_ARN) if isinstance(roles[-1], Mapping) else roles[-1]
    )
    recorded, now = olds.get(ACCOUNT), account_offline(news)
    changed = [key for key in ROUTE_KEYS if inputs.contains_unknown(news.get(key)) or news.get(key) != olds.get(key)]
    if last_unknown or (isinstance(recorded, str) and now is not None and now != recorded):
        return [ASSUME_ROLES], changed or [ASSUME_ROLES]
    return [], changed


def route_message(what: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> str | None:
    """The preview line for a route that changed: a move to another account (a replacement), or another way into
    the account the state records (an update that records it); None when the route is the same."""
    replaces, changes = identity_changes(olds, news)
    recorded, now = olds.get(ACCOUNT), account_offline(news)
    if replaces and now is not None:
        return f"{what} lives in account {recorded}; `assume_roles` now leads to account {now}: replacing it there"
    if changes and not replaces:
        where = f"account {recorded}" if isinstance(recorded, str) else "its account"
        checked = "" if now is not None else ", once STS confirms the new route reaches it"
        return f"{what}: another route into {where}; the update records it and changes nothing in AWS{checked}"
    return None


# --- sessions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """How a resource reaches its account: a profile (else the stack's `aws:profile`, else the ambient chain), then
    each role in order. Plain values only: it is part of cache keys."""

    profile: str | None
    roles: tuple[str, ...]
    """Each role's request as canonical JSON (never shown)."""

    @property
    def key(self) -> str:
        """A digest for cache keys; the external ids and policies stay out of them."""
        return (
            hashlib.sha256(json.dumps([self.profile, self.roles]).encode()).hexdigest()
            if self.roles or self.profile
            else ""
        )

    def role_arns(self) -> list[str]:
        return [str(json.loads(role)["RoleArn"]) for role in self.roles]


def _request(role: Mapping[str, Any]) -> dict[str, Any]:
    """AssumeRole's parameters from one `assume_roles` entry (pulumi-aws's names)."""
    request: dict[str, Any] = {
        "RoleArn": role[ROLE_ARN],
        "RoleSessionName": role.get("session_name") or DEFAULT_SESSION_NAME,
    }
    optional = {
        "ExternalId": role.get("external_id"),
        "SourceIdentity": role.get("source_identity"),
        "Policy": role.get("policy"),
        "DurationSeconds": int(role["duration_seconds"]) if role.get("duration_seconds") is not None else None,
        "Tags": [{"Key": k, "Value": v} for k, v in sorted(role["tags"].items())] if role.get("tags") else None,
        "TransitiveTagKeys": list(role["transitive_tag_keys"]) if role.get("transitive_tag_keys") else None,
        "PolicyArns": [{"arn": arn} for arn in role["policy_arns"]] if role.get("policy_arns") else None,
    }
    request.update(inputs.without_none(optional))
    return request


def route_of(props: Mapping[str, Any]) -> Route:
    """The route recorded in a state or given as inputs (checked: well formed)."""
    profile = props.get(PROFILE)
    roles = tuple(json.dumps(_request(role), sort_keys=True) for role in _roles(props) if isinstance(role, Mapping))
    return Route(profile if isinstance(profile, str) and profile else None, roles)


class RoleNotAssumed(errors.ClusterConnectError):
    """STS refused to let the route's credentials assume one of its roles."""


def _said(message: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return message


def _fetcher(
    create_client: Callable[..., Any], source: botocore.credentials.Credentials, request: dict[str, Any], step: str
) -> Callable[[], dict[str, Any]]:
    """A refresh function for botocore's DeferredRefreshableCredentials: AssumeRole through `source` (itself
    refreshed by botocore when it is a role's), errors as RoleNotAssumed naming only the role."""
    from botocore.credentials import AssumeRoleCredentialFetcher
    from botocore.exceptions import BotoCoreError, ClientError

    extra = {k: v for k, v in request.items() if k != "RoleArn"}
    fetcher = AssumeRoleCredentialFetcher(create_client, source, request["RoleArn"], extra_args=extra)
    hidden = [str(request.get("ExternalId") or ""), str(request.get("Policy") or "")]

    def fetch() -> dict[str, Any]:
        try:
            return fetcher.fetch_credentials()
        except ClientError as err:
            error = err.response.get("Error", {})
            code = str(error.get("Code", "Unknown"))
            said = f": {_said(str(error.get('Message', '')), hidden)}" if code == "AccessDenied" else ""
            raise RoleNotAssumed(
                f"could not assume role {request['RoleArn']} ({step}): STS answered {code}{said}"
            ) from None
        except BotoCoreError as err:
            raise RoleNotAssumed(
                f"could not assume role {request['RoleArn']} ({step}): {type(err).__name__}: {_said(str(err), hidden)}"
            ) from None

    return fetch


def assume(session: botocore.session.Session, region: str, route: Route) -> None:
    """Give `session` the credentials of the route's last role: each role assumed with the previous one's
    credentials, every one refreshed by botocore before it expires (role-chained sessions last at most an hour,
    waits longer). Nothing is asked until the first request."""
    from botocore.credentials import DeferredRefreshableCredentials

    create_client = functools.partial(session.create_client, region_name=region)
    credentials = session.get_credentials()
    if credentials is None:
        raise errors.ClusterConnectError(
            f"no AWS credentials to assume {json.loads(route.roles[0])['RoleArn']} with; {errors.CREDENTIAL_HINT}"
        )
    for index, role in enumerate(route.roles):
        step = f"role {index + 1} of {len(route.roles)} in assume_roles"
        credentials = DeferredRefreshableCredentials(
            _fetcher(create_client, credentials, json.loads(role), step), method="assume-role"
        )
    # botocore's public `set_credentials` makes static credentials only; its own assume-role profiles end the same
    # way, as the session's refreshable credentials.
    session._credentials = credentials  # type: ignore[attr-defined]


def with_route(outputs: Mapping[str, Any], source: Mapping[str, Any], arn: object = None) -> dict[str, Any]:
    """`outputs` with the route of `source` (its `profile` and `assume_roles`, absent ones dropped) and, when `arn`
    names one, the account the resource lives in."""
    result = {k: v for k, v in outputs.items() if k not in ROUTE_KEYS}
    result.update({k: source[k] for k in ROUTE_KEYS if source.get(k) is not None})
    account = account_in_arn(arn) or source.get(ACCOUNT)
    if account is not None:
        result[ACCOUNT] = account
    return result

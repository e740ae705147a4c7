"""The AWS endpoint: control routes, injected transport faults, the EKS handlers (handlers.py), then moto for the
rest."""

from __future__ import annotations

import io
import json
import os
import re
import traceback
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import parse_qs

from moto.server import DomainDispatcherApplication, create_backend_app  # type: ignore[attr-defined]
from werkzeug.wrappers import Request, Response

from .. import serving
from . import (
    addons,
    exceptions,
    fargate,
    handlers,
    insights,
    messages,
    registrations,
    rollbacks,
    routes,
    sessions,
    updates,
)
from .call import Call
from .settings import SETTINGS, Fault

# The models that keep state of their own, forgotten on reset (the others read moto's or these).
STATEFUL_MODELS = (rollbacks, fargate, addons, insights, updates, registrations)
CONTROL_PREFIX = "/_sandbox/"
TRANSPORT_FAULTS: dict[str, type[exceptions.EksError]] = {
    "throttle": exceptions.ThrottlingException,
    "server_error": exceptions.ServerException,
    "unavailable": exceptions.ServiceUnavailableException,
    "access_denied": exceptions.AccessDeniedException,
}
DEFAULT_REGION = "us-west-2"
# The sandbox accepts any credentials; boto3 needs some to sign its requests.
DUMMY_ACCESS_KEY_ID = "sandbox"
DUMMY_SECRET_ACCESS_KEY = "sandbox-secret-key"
_SCOPE = re.compile(r"Credential=(?P<access_key>[^/]+)/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request")


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, default=str), status=status, headers=headers, content_type="application/json")


def _error(err: exceptions.EksError, call: Call | None = None) -> Response:
    if call is not None:
        for name, value in call.context().items():
            err.context.setdefault(name, value)
    return _json(err.status, err.body(), {"x-amzn-ErrorType": err.code})


def _account_of(request: Request, access_key: str | None) -> str:
    """The account a request acts in, found as moto finds it, so that our handlers and moto's agree: the
    MOTO_ACCOUNT_ID variable, moto's account header, else the account of the signing key (an assumed role's
    keys belong to the role's account), else moto's default account."""
    from moto.core import DEFAULT_ACCOUNT_ID  # type: ignore[attr-defined]
    from moto.iam.models import get_account_id_from

    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    header = request.headers.get("x-moto-account-id")
    if header:
        return header
    return get_account_id_from(access_key) if access_key else str(DEFAULT_ACCOUNT_ID)


# IAM and STS speak the query protocol: errors are XML, with their own codes for the same faults.
QUERY_FAULT_CODES = {
    "throttle": "Throttling",
    "server_error": "ServiceFailure",
    "unavailable": "ServiceUnavailable",
    "access_denied": "AccessDenied",
}


def _query_error(kind: str, status: int, message: str, code: str | None = None) -> Response:
    side = "Sender" if status < 500 else "Receiver"
    body = (
        f"<ErrorResponse><Error><Type>{side}</Type><Code>{code or QUERY_FAULT_CODES[kind]}</Code>"
        f"<Message>{escape(message)}</Message></Error><RequestId>sandbox</RequestId></ErrorResponse>"
    )
    return Response(body, status=status, content_type="text/xml")


def _sessions(
    service: str, operation: str | None, access_key: str | None, account: str, body: bytes
) -> Response | None:
    """STS's rules moto lacks (sessions.py): an expired session key refused, an AssumeRole checked against the role's
    trust policy and limits. None: go on."""
    if sessions.expired(access_key):
        if service == "eks":
            return _error(exceptions.ExpiredTokenException(messages.EXPIRED_TOKEN))
        return _query_error("", 403, messages.EXPIRED_TOKEN, "ExpiredToken")
    if service == "sts" and operation == "AssumeRole":
        params = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        refused = sessions.refusal(params, access_key, account)
        if refused is not None:
            return _query_error("", refused[0], refused[2], refused[1])
    return None


def _eks_call(request: Request, route: tuple[str, dict[str, str]], region: str, account_id: str, body: bytes) -> Call:
    try:
        payload = json.loads(body) if body else {}
    except ValueError:
        payload = {}
    query = parse_qs(request.query_string.decode())
    return Call(route[0], region, route[1], query, payload or {}, account_id=account_id)


@dataclass
class Dispatcher:
    moto: Any = field(default_factory=lambda: DomainDispatcherApplication(create_backend_app))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        # Read the body once and put it back, so moto can read it again when the request falls through.
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        request = Request(environ)
        if request.path.startswith(CONTROL_PREFIX):
            return self._control(request)(environ, start_response)
        scope = _SCOPE.search(request.headers.get("Authorization", ""))
        service, region = (scope["service"], scope["region"]) if scope else ("", "us-east-1")
        access_key = scope["access_key"] if scope else None
        account_id = _account_of(request, access_key)
        operation, path_params = self._operation(request, service, body)
        refused = _sessions(service, operation, access_key, account_id, body)
        if refused is not None:
            return refused(environ, start_response)
        if service == "sts" and operation == "AssumeRole":
            body = sessions.shortened(body)
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        if operation:
            SETTINGS.count(operation)
            fault = SETTINGS.take_any(tuple(TRANSPORT_FAULTS), operation)
            if fault:
                error = TRANSPORT_FAULTS[fault.kind](
                    messages.INJECTED_FAULT.format(kind=fault.kind, operation=operation)
                )
                if service != "eks":
                    return _query_error(fault.kind, error.status, error.message)(environ, start_response)
                return _error(error)(environ, start_response)
        if service == "eks" and operation in handlers.HANDLERS:
            response = self._handle(_eks_call(request, (operation, path_params), region, account_id, body))
            if response is not None:
                return response(environ, start_response)
        return self.moto(environ, start_response)

    @staticmethod
    def _operation(request: Request, service: str, body: bytes) -> tuple[str | None, dict[str, str]]:
        """The operation and its path parameters: EKS by the model's routes, IAM/STS by the query Action."""
        if service == "eks":
            found = routes.match(request.method, request.path)
            return found if found else (None, {})
        action = request.args.get("Action") or parse_qs(body.decode()).get("Action", [None])[0]
        return action, {}

    @staticmethod
    def _handle(call: Call) -> Response | None:
        try:
            result = handlers.answer(call)
        except exceptions.EksError as err:
            return _error(err, call)
        except Exception as err:
            traceback.print_exc()
            return _error(exceptions.ServerException(messages.SANDBOX_ERROR.format(error=err)), call)
        return None if result is None else _json(200, result)

    def _control(self, request: Request) -> Response:
        action = request.path[len(CONTROL_PREFIX) :].strip("/")
        payload = request.get_json(silent=True) or {}
        try:
            if action == "durations" and request.method == "POST":
                SETTINGS.durations.update(payload)
            elif action == "faults" and request.method == "POST":
                SETTINGS.inject(Fault(**payload))
            elif action == "insights" and request.method == "POST":
                insights.set_findings(payload)
            elif action == "clock" and request.method == "POST":
                updates.advance_clock(float(payload["advance"]))
            elif action == "reset" and request.method == "POST":
                reset()
            elif action == "calls/reset" and request.method == "POST":
                with SETTINGS.lock:
                    SETTINGS.calls.clear()
            elif action != "state":
                return _json(404, {"message": f"no control action {action!r}"})
        except (TypeError, ValueError, KeyError) as err:
            return _json(400, {"message": str(err)})
        return _json(200, SETTINGS.describe())


def reset() -> None:
    """Forget every resource and fault: moto's backends (every account's) and ours."""
    from moto.backends import get_backend

    for name in ("eks", "iam", "sts", "ec2"):
        get_backend(name).reset()
    for model in STATEFUL_MODELS:
        model.reset()
    SETTINGS.reset()


@dataclass
class AwsSandbox:
    """The AWS endpoint served from a thread on loopback."""

    host: str = "127.0.0.1"
    port: int = 0
    _serving: serving.ThreadedServer | None = None

    @property
    def url(self) -> str:
        assert self._serving is not None, "not started"
        return f"http://{self.host}:{self._serving.bound_port}"

    def client_environment(self, region: str = DEFAULT_REGION) -> dict[str, str]:
        """What an unmodified AWS SDK or CLI needs to reach the sandbox: its endpoint, dummy keys, a region."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_ACCESS_KEY,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,  # the variable boto3 reads; AWS_REGION is the other SDKs' and CLIs'
        }

    def start(self) -> AwsSandbox:
        self._serving = serving.ThreadedServer(Dispatcher(), "aws-sandbox", self.host, self.port).start()
        return self

    def stop(self) -> None:
        if self._serving is not None:
            self._serving.stop()

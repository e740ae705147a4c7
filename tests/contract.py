"""Holds the sandbox's EKS answers to botocore's model: bodies to their output shapes, errors to the modelled ones."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import botocore.model
import botocore.session

EKS = botocore.session.get_session().get_service_model("eks")


def shape_problems(
    shape: botocore.model.Shape, value: Any, path: str = "$", *, epoch_only: bool = False, nulls: bool = False
) -> list[str]:
    """Where a JSON value departs from a botocore shape: unknown or missing members, types, enums (empty when it fits).

    Timestamps may be epoch seconds or a string, as botocore's parser takes both; `epoch_only` accepts
    only epoch seconds, which is what EKS itself sends. `nulls` accepts null for a member that is not
    required, as EKS's error bodies carry every member of the exception, null where it has no value.
    """

    def problems(shape: botocore.model.Shape, value: Any, path: str) -> list[str]:
        kind = shape.type_name
        if kind == "structure":
            assert isinstance(shape, botocore.model.StructureShape)
            if not isinstance(value, dict):
                return [f"{path}: expected an object, got {value!r}"]
            wire = {member.serialization.get("name", name): member for name, member in shape.members.items()}
            found = [f"{path}.{key}: not a member of {shape.name}" for key in value if key not in wire]
            found += [f"{path}.{key}: required by {shape.name}" for key in shape.required_members if key not in value]
            for key, member in wire.items():
                if key in value and not (nulls and value[key] is None and key not in shape.required_members):
                    found += problems(member, value[key], f"{path}.{key}")
            return found
        if kind == "list":
            assert isinstance(shape, botocore.model.ListShape)
            if not isinstance(value, list):
                return [f"{path}: expected a list, got {value!r}"]
            return [p for i, item in enumerate(value) for p in problems(shape.member, item, f"{path}[{i}]")]
        if kind == "map":
            assert isinstance(shape, botocore.model.MapShape)
            if not isinstance(value, dict):
                return [f"{path}: expected a map, got {value!r}"]
            return [
                p
                for key, item in value.items()
                for p in problems(shape.key, key, f"{path}<key>") + problems(shape.value, item, f"{path}[{key!r}]")
            ]
        if kind == "string":
            if not isinstance(value, str):
                return [f"{path}: expected a string, got {value!r}"]
            enum = getattr(shape, "enum", None)
            return [f"{path}: {value!r} is not one of {enum}"] if enum and value not in enum else []
        if kind == "timestamp":
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            ok = number or (isinstance(value, str) and not epoch_only)
            return [] if ok else [f"{path}: expected {'epoch seconds' if epoch_only else 'a time'}, got {value!r}"]
        if kind in ("integer", "long"):
            ok = isinstance(value, int) and not isinstance(value, bool)
            return [] if ok else [f"{path}: expected an integer, got {value!r}"]
        if kind in ("float", "double"):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            return [] if ok else [f"{path}: expected a number, got {value!r}"]
        if kind == "boolean":
            return [] if isinstance(value, bool) else [f"{path}: expected a boolean, got {value!r}"]
        return [f"{path}: unchecked shape type {kind}"]

    return problems(shape, value, path)


def output_problems(operation: str, body: Any, *, epoch_only: bool = False) -> list[str]:
    """Where the JSON body of an answer to `operation` departs from the operation's output shape."""
    output = EKS.operation_model(operation).output_shape
    assert output is not None, f"{operation} has no output shape"
    # As the wire carries it: a handler's answer may hold tuples, or values JSON cannot carry at all.
    return shape_problems(output, json.loads(json.dumps(body)), operation, epoch_only=epoch_only)


def error_problems(code: str, status: int, operation: str | None = None, body: Any = None) -> list[str]:
    """Where an error answer departs from the model: not a modelled exception, another HTTP status, not among
    the errors `operation` declares (when given), or a `body` that does not fit the exception's shape (when given).
    """
    where = f"{operation or 'EKS'}: error {code!r}"
    if code not in EKS.shape_names or not EKS.shape_for(code).metadata.get("exception"):
        return [f"{where} is not an exception of the model"]
    shape = EKS.shape_for(code)
    found = []
    if shape.metadata.get("error", {}).get("httpStatusCode") != status:
        found.append(f"{where}: HTTP status {status}, the model says {shape.metadata.get('error')}")
    if operation is not None:
        declared = sorted(e.name for e in EKS.operation_model(operation).error_shapes)
        if code not in declared:
            found.append(f"{where} is not among the model's {declared}")
    if body is not None:
        found += shape_problems(shape, body, f"{operation or 'EKS'}.{code}", nulls=True)
    return found


@dataclass
class Exchange:
    operation: str
    status: int
    headers: dict[str, str]
    """Names in lower case."""
    body: bytes


@dataclass
class Recorder:
    """Every raw EKS answer a boto3 client received, as the wire carried it, for `violations` to check."""

    operations: frozenset[str] | None = None
    exchanges: list[Exchange] = field(default_factory=list)

    def __call__(self, http_response: Any, model: botocore.model.OperationModel, **_: Any) -> None:
        if self.operations is None or model.name in self.operations:
            self.exchanges.append(
                Exchange(
                    model.name,
                    http_response.status_code,
                    {k.lower(): v for k, v in http_response.headers.items()},
                    http_response.content,
                )
            )

    def attach(self, client: Any) -> Any:
        client.meta.events.register("after-call.eks", self)
        return client

    def violations(self, *, declared: bool = True, epoch_only: bool = False) -> list[str]:
        """Where a recorded answer departs from the model. `declared` also requires an error to be among those
        its operation declares (real EKS sends some others, e.g. ResourceInUseException on Fargate profiles)."""
        found = []
        for exchange in self.exchanges:
            body = json.loads(exchange.body) if exchange.body else {}
            if exchange.status >= 300:
                code = exchange.headers.get("x-amzn-errortype", "").split(":")[0]
                found += error_problems(code, exchange.status, exchange.operation if declared else None, body)
            else:
                found += output_problems(exchange.operation, body, epoch_only=epoch_only)
        return found

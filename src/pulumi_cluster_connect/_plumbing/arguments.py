"""Component arguments checked before any child is registered, with the rules the providers' checks use."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure
from pulumi.output import UNKNOWN


class ArgumentsError(pulumi.InputPropertiesError, pulumi.RunError):
    """Bad arguments of a component: the SDK's InputPropertiesError with one entry per property in `errors`.

    Also a RunError, which the Python language host reports as its message alone, without a traceback.
    """


def as_checked(value: Any) -> Any:
    """The argument as a provider's check sees it in preview: what is not known yet (an Output or an
    awaitable, at any depth) becomes Unknown."""
    if isinstance(value, pulumi.Output) or inspect.isawaitable(value):
        return UNKNOWN
    if isinstance(value, Mapping):
        return {key: as_checked(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_checked(item) for item in value]
    return value


class Arguments:
    """Collects every problem of a component's arguments; `raise_if_any` reports them all at once."""

    def __init__(self, component: str, name: str, args: Mapping[str, Any], allowed: Sequence[str]) -> None:
        self.label = f"{component} {name}"
        self.values = {key: as_checked(value) for key, value in args.items() if value is not None}
        self.failures: list[CheckFailure] = []
        for key in sorted(set(args) - set(allowed)):
            self.fail(key, "is not an argument of this component")

    def fail(self, key: str, reason: str) -> None:
        self.failures.append(CheckFailure(key, reason))

    def check(self, rule: Callable[[Mapping[str, Any], list[CheckFailure]], None], only: Sequence[str] = ()) -> None:
        """Apply a provider's rule to the arguments; with `only`, keep its failures about those properties."""
        found: list[CheckFailure] = []
        rule(self.values, found)
        self.failures += [f for f in found if not only or f.property.split("[")[0].split(".")[0] in only]

    def raise_if_any(self) -> None:
        if not self.failures:
            return
        details = "; ".join(f"{f.property}: {f.reason}" for f in self.failures)
        raise ArgumentsError(
            f"{self.label}: bad arguments (nothing was created): {details}",
            [{"property_path": f.property, "reason": f.reason} for f in self.failures],
        )

"""A dynamic resource that does nothing: the yardstick for what one resource costs the engine and the SDK."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, ResourceProvider


class TrivialProvider(ResourceProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("trivial", props)


class Trivial(pulumi.dynamic.Resource, module="bench", name="Trivial"):
    """Carries whatever inputs it is given (a name and a value for the yardstick)."""

    def __init__(
        self, resource_name: str, opts: pulumi.ResourceOptions | None = None, **props: pulumi.Input[Any]
    ) -> None:
        super().__init__(TrivialProvider(), resource_name, props, opts)

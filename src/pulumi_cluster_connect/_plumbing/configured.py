"""The providers' common base: stack config from `configure`, an empty instance `__dict__`, a wider serving pool."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

from pulumi.dynamic import ConfigureRequest

from . import reporting, serving


class ConfiguredProvider(reporting.ReportingProvider):
    """A provider that keeps the `config_keys` of the stack config that are set, as strings.

    Only those keys are kept, so nothing else of the stack config (secrets included) reaches the provider.

    A new instance has no attributes of its own (the config arrives later, in the provider process): the SDK's
    serialize_provider wraps the pure-Python pickler's `_batch_setitems` once more on every resource it constructs
    and never unwraps it, so pickling an instance `__dict__` walks every wrapper so far and overflows the stack
    after about 490 resources (pulumi/pulumi#17803). An empty `__dict__` pickles as no state, without a dict.
    """

    config_keys: ClassVar[tuple[str, ...]] = ("aws:region", "aws:profile")
    _stack_config: Mapping[str, str] = MappingProxyType({})

    def configure(self, req: ConfigureRequest) -> None:
        serving.widen()
        self._stack_config = {key: str(value) for key in self.config_keys if (value := req.config.get(key)) is not None}

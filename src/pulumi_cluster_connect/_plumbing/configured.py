"""The providers' common base: keeps the stack config given to `configure` in `self._stack_config`."""

from __future__ import annotations

from typing import ClassVar

from pulumi.dynamic import ConfigureRequest

from . import reporting


class ConfiguredProvider(reporting.ReportingProvider):
    """A provider that keeps the `config_keys` of the stack config that are set, as strings.

    Only those keys are kept, so nothing else of the stack config (secrets included) reaches the provider.
    """

    config_keys: ClassVar[tuple[str, ...]] = ("aws:region", "aws:profile")
    _stack_config: dict[str, str]

    def __init__(self) -> None:
        super().__init__()
        self._stack_config = {}

    def configure(self, req: ConfigureRequest) -> None:
        self._stack_config = {key: str(value) for key in self.config_keys if (value := req.config.get(key)) is not None}

"""clientRequestToken memory: a create retried with its token gets its first answer; other parameters are refused."""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any

from . import exceptions, messages
from .call import Call


@dataclass
class Remembered:
    parameters: dict[str, Any]
    answer: dict[str, Any]


@dataclass
class RequestTokens:
    """The tokens one create operation has seen, per account and region, until the sandbox is reset."""

    _seen: dict[tuple[str, str, str], Remembered] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def _key(call: Call) -> tuple[str, str, str] | None:
        token = call.body.get("clientRequestToken")
        return (call.account_id, call.region, str(token)) if token else None

    def recall(self, call: Call, parameters: dict[str, Any]) -> Remembered | None:
        """The first request with this call's token; raises when that request asked for something else."""
        key = self._key(call)
        if key is None:
            return None
        with self._lock:
            seen = self._seen.get(key)
        if seen is None:
            return None
        if seen.parameters != parameters:
            raise exceptions.InvalidParameterException(messages.TOKEN_REUSED.format(token=key[2]))
        return seen

    def remember(self, call: Call, parameters: dict[str, Any], answer: dict[str, Any]) -> None:
        key = self._key(call)
        if key is not None:
            with self._lock:
                self._seen.setdefault(key, Remembered(copy.deepcopy(parameters), copy.deepcopy(answer)))

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()

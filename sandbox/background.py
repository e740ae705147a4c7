"""A sandbox double's polling thread: start it, stop it, or use the double as a context manager."""

from __future__ import annotations

import threading
from typing import ClassVar, Self


class BackgroundLoop:
    """`_run` on a daemon thread until `_stop` is set; the subclass (a dataclass) declares `_stop` and `_thread`."""

    thread_name: ClassVar[str]
    _stop: threading.Event
    _thread: threading.Thread | None

    def _run(self) -> None:
        raise NotImplementedError

    def start(self) -> Self:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

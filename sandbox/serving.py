"""Serves a WSGI application from a daemon thread on loopback, for the sandbox's endpoints."""

from __future__ import annotations

import logging
import ssl
import threading
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


@dataclass
class ThreadedServer:
    """A threaded werkzeug server for `app` on `host`:`port` (0 picks a free port), started and stopped."""

    app: Any
    name: str
    host: str = "127.0.0.1"
    port: int = 0
    ssl_context: ssl.SSLContext | None = None
    _server: BaseWSGIServer | None = None
    _thread: threading.Thread | None = None

    @property
    def bound_port(self) -> int:
        assert self._server is not None, "not started"
        return int(self._server.server_port)

    def start(self) -> ThreadedServer:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = make_server(self.host, self.port, self.app, threaded=True, ssl_context=self.ssl_context)
        self._thread = threading.Thread(target=self._server.serve_forever, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

"""Run an ASGI app as a real HTTP server on 127.0.0.1 in a background thread.

Fakes of platforms are real servers so that adapters are proven over real sockets,
with real timeouts and dropped connections, not against mocks.
"""

from __future__ import annotations

import asyncio
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn


class LiveServer:
    """`with LiveServer(app) as server: server.url` — a uvicorn server on a free port."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="off",
            timeout_keep_alive=30, access_log=False,
        )
        self._server = uvicorn.Server(self._config)
        self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.host = host
        self.port = 0

    def _run(self) -> None:
        asyncio.run(self._server.serve())

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 120   # a net against a hang on a busy machine
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        sockets = self._server.servers[0].sockets
        self.port = sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

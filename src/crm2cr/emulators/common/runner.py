"""Run an emulator (or any ASGI app) under uvicorn on 127.0.0.1."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from crm2cr.emulators.common.faults import DroppedConnection

LOOPBACK = "127.0.0.1"
START_TIMEOUT = 15.0


class _QuietDrops(logging.Filter):
    """Injected dropped connections are intended; keep their tracebacks out of the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


def _install_filter() -> None:
    for name in ("uvicorn.error", "uvicorn"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _QuietDrops) for f in logger.filters):
            logger.addFilter(_QuietDrops())


class BackgroundServer:
    """uvicorn in a daemon thread; `url` is known once it is listening."""

    def __init__(self, app: Any, *, port: int = 0, log_level: str = "warning") -> None:
        _install_filter()
        config = uvicorn.Config(
            app,
            host=LOOPBACK,
            port=port,
            log_level=log_level,
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="emulator", daemon=True)
        self.url = ""

    def start(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start on {LOOPBACK}")
            time.sleep(0.01)
        sockets = self.server.servers[0].sockets
        port = sockets[0].getsockname()[1]
        self.url = f"http://{LOOPBACK}:{port}"
        return self.url

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@contextmanager
def serve(app: Any, *, port: int = 0) -> Iterator[str]:
    """Serve app on 127.0.0.1 (port 0 = any free port) and yield its base URL."""
    server = BackgroundServer(app, port=port)
    try:
        yield server.start()
    finally:
        server.stop()


def run_foreground(app: Any, *, port: int, announce: Callable[[str], None]) -> None:
    """Serve until interrupted; announce(base_url) once listening."""
    server = BackgroundServer(app, port=port, log_level="warning")
    announce(server.start())
    try:
        while server.thread.is_alive():
            server.thread.join(timeout=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()

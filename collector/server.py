"""Running the app on uvicorn with the edge bounded: header size, idle
connections, concurrency, listen backlog, and malformed HTTP answered as
JSON like every other refusal.

    serve(app, host="0.0.0.0", port=8090)          # foreground, until SIGTERM
    with BackgroundServer(app) as server:          # tests, benchmarks
        httpx.get(f"{server.url}/healthz")
"""
from __future__ import annotations

import socket
import threading
from typing import Any

import uvicorn

from .edge import HEADER_SECONDS, MAX_HEADER_BYTES, PROTOCOLS

IDLE_SECONDS = 5               # a kept-alive connection with nothing to say is closed
MAX_CONNECTIONS = 4096         # beyond this uvicorn answers 503 at once instead of queueing
BACKLOG = 4096                 # a fleet reconnecting together is queued, not reset


def config(app, *, host: str = "127.0.0.1", port: int = 8090, log_level: str = "warning",
           header_seconds: float = HEADER_SECONDS, http: str = "httptools", **overrides) -> uvicorn.Config:
    """uvicorn's settings with our bounds; ``http`` is "httptools" (C, the
    default) or "h11" (pure Python). The event loop is uvloop when installed."""
    protocol = type(PROTOCOLS[http].__name__, (PROTOCOLS[http],), {"header_seconds": header_seconds})
    options: dict[str, Any] = dict(host=host, port=port, http=protocol, lifespan="on",
                   h11_max_incomplete_event_size=MAX_HEADER_BYTES, timeout_keep_alive=IDLE_SECONDS,
                   limit_concurrency=MAX_CONNECTIONS, backlog=BACKLOG, server_header=False,
                   proxy_headers=False, access_log=False, log_level=log_level,
                   timeout_graceful_shutdown=10)
    options.update(overrides)
    return uvicorn.Config(app, **options)


def serve(app, *, reuse_port: bool = False, **options) -> int:
    """Foreground until SIGTERM/SIGINT (uvicorn finishes requests in flight).
    ``reuse_port``: several processes listen on one port and the kernel
    spreads connections over them (the service is stateless), one per core."""
    server = uvicorn.Server(config(app, **options))
    sockets = None
    if reuse_port:
        sock = socket.socket(socket.AF_INET6 if ":" in server.config.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((server.config.host, server.config.port))
        sock.listen(server.config.backlog)
        sockets = [sock]
    server.run(sockets=sockets)
    return 0 if server.started else 1


class BackgroundServer:
    """The app on a loopback port on a thread; ``.url`` once started."""

    def __init__(self, app, *, host: str = "127.0.0.1", port: int = 0, **options):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.url = f"http://{host}:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(config(app, host=host, port=port, **options))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       name="collector", daemon=True)

    def start(self) -> "BackgroundServer":
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("collector did not start (see its log)")
            self.thread.join(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

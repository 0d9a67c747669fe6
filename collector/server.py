"""Running the app on uvicorn with the edge bounded: header size, idle
connections, concurrency, listen backlog, and malformed HTTP answered as
JSON like every other refusal.

    serve(app, host="0.0.0.0", port=8090)          # foreground, until SIGTERM
    with BackgroundServer(app) as server:          # tests, benchmarks
        httpx.get(f"{server.url}/healthz")
"""
from __future__ import annotations

import json
import socket
import threading
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_HEADER_BYTES = 16 * 1024   # request line + headers; h11 refuses more
IDLE_SECONDS = 5               # a kept-alive connection with nothing to say is closed
HEADER_SECONDS = 10            # a new request's headers must be complete by then
MAX_CONNECTIONS = 4096         # beyond this uvicorn answers 503 at once instead of queueing
BACKLOG = 4096                 # a fleet reconnecting together is queued, not reset


class JsonH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, but a request it cannot parse (bad headers,
    headers over MAX_HEADER_BYTES) gets a JSON reason like any other 4xx,
    and headers must be complete within ``header_seconds``: uvicorn times out
    only idle kept-alive connections, not a fresh one that says nothing or
    drips its headers a byte at a time (slowloris)."""

    header_seconds = HEADER_SECONDS
    _header_timer = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._watch_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_headers()

    def connection_lost(self, exc) -> None:
        self._stop_watching()
        super().connection_lost(exc)

    def _watch_headers(self) -> None:
        import h11
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(self.header_seconds, self._headers_late)
        else:
            self._stop_watching()

    def _stop_watching(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        import h11
        self._header_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.conn.trailing_data[0]:  # part of a request: say why it is cut off
            self._send_json(408, b"Request Timeout", f"headers not complete within {self.header_seconds:g} s")
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        self._send_json(400, b"Bad Request", f"malformed HTTP request: {msg}")
        self.transport.close()

    def _send_json(self, status: int, reason: bytes, error: str) -> None:
        # Raw bytes: h11 may be in a state where it refuses to send a response.
        body = json.dumps({"error": error}).encode()
        self.transport.write(b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\n"
                             b"connection: close\r\ncontent-length: %d\r\n\r\n%s"
                             % (status, reason, len(body), body))


def config(app, *, host: str = "127.0.0.1", port: int = 8090, log_level: str = "warning",
           header_seconds: float = HEADER_SECONDS, **overrides) -> uvicorn.Config:
    protocol = type("JsonH11Protocol", (JsonH11Protocol,), {"header_seconds": header_seconds})
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

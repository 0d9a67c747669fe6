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
from typing import Optional

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_HEADER_BYTES = 16 * 1024   # request line + headers; h11 refuses more
IDLE_SECONDS = 5               # a kept-alive connection with nothing to say is closed
MAX_CONNECTIONS = 4096         # beyond this uvicorn answers 503 at once instead of queueing
BACKLOG = 4096                 # a fleet reconnecting together is queued, not reset


class JsonH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, but a request it cannot parse (bad headers,
    headers over MAX_HEADER_BYTES) gets a JSON reason like any other 4xx."""

    def send_400_response(self, msg: str) -> None:
        import h11
        body = json.dumps({"error": f"malformed HTTP request: {msg}"}).encode()
        headers = [(b"content-type", b"application/json"), (b"connection", b"close"),
                   (b"content-length", str(len(body)).encode())]
        try:
            self.transport.write(self.conn.send(h11.Response(status_code=400, headers=headers,
                                                             reason=b"Bad Request")))
            self.transport.write(self.conn.send(h11.Data(data=body)))
            self.transport.write(self.conn.send(h11.EndOfMessage()))
        except h11.LocalProtocolError:  # h11 cannot answer in its state: raw bytes then
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\n" + b"".join(
                name + b": " + value + b"\r\n" for name, value in headers) + b"\r\n" + body)
        self.transport.close()


def config(app, *, host: str = "127.0.0.1", port: int = 8090, sock: Optional[socket.socket] = None,
           log_level: str = "warning", **overrides) -> uvicorn.Config:
    options = dict(host=host, port=port, http=JsonH11Protocol, lifespan="on",
                   h11_max_incomplete_event_size=MAX_HEADER_BYTES, timeout_keep_alive=IDLE_SECONDS,
                   limit_concurrency=MAX_CONNECTIONS, backlog=BACKLOG, server_header=False,
                   proxy_headers=False, access_log=False, log_level=log_level,
                   timeout_graceful_shutdown=10)
    options.update(overrides)
    return uvicorn.Config(app, **options)


def serve(app, **options) -> int:
    """Foreground until SIGTERM/SIGINT (uvicorn finishes requests in flight)."""
    server = uvicorn.Server(config(app, **options))
    server.run()
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

"""The reference status server's HTTP plumbing (and the tests' fault proxy in
front of the collector): a threaded HTTP server on a background thread, JSON
answers, and a foreground ``serve`` for a command line. Standard library
only. The collector itself is a separate service (collector/, ASGI).

    >>> class Hello(JsonHandler):
    ...     def do_POST(self):
    ...         self.answer(200, {"hello": "world"})
    >>> with BackgroundServer(Hello) as server:       # doctest: +SKIP
    ...     server.url
"""
from __future__ import annotations

import json
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real service
    # Headers and body go out as two writes; with Nagle on, the body waits
    # for the client's delayed ACK (40 ms) on a kept-alive connection.
    disable_nagle_algorithm = True

    @property
    def owner(self):
        return self.server.owner

    def log_message(self, fmt, *args):  # the default log would show numbers in paths/bodies
        pass

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def answer(self, code: int, data: Optional[dict] = None, *, raw: Optional[bytes] = None,
               drip: float = 0.0) -> None:
        """Send JSON (or ``raw`` bytes), one byte per ``drip`` seconds if asked."""
        body = raw if raw is not None else json.dumps(data, ensure_ascii=False).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            if drip:
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    threading.Event().wait(drip)
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its deadline): nothing to answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class BackgroundServer:
    """A handler class served on a daemon thread; subclasses add state."""

    name = "httpd"

    def __init__(self, handler, *, host: str = "127.0.0.1", port: int = 0):
        self._httpd = _Server((host, port), handler)
        self._httpd.owner = self  # type: ignore[attr-defined]  # the handlers' way back
        self._thread: Optional[threading.Thread] = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}" if isinstance(host, str) else f"http://{host.decode()}:{port}"

    def start(self):
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=self.name,
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def serve(server: BackgroundServer, banner: str) -> int:
    """Run until SIGTERM or Ctrl-C, for the servers' command lines."""
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    server.start()
    print(banner, flush=True)
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    server.stop()
    return 0

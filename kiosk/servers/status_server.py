"""The reference status service: the Ashyq-compatible contract on the
standard library's HTTP server, for demos, tests and venue trials.

    ashyq-kiosk status-server --people people.csv --port 8080 --token-file token

It can be told to misbehave, at start (``--fault``) or at run time
(``server.fault = ...``), for every request or, through an optional fourth
``fault`` column of the people file, for one person:

    delay:SECONDS   wait, then answer normally
    error:CODE      answer with that HTTP status (500, 503, 429...)
    not-json        answer 200 with a body that is not JSON
    unknown-status  answer 200 with Status "purple"
    no-pass         answer the person's colour with "Pass": false
    bomb            a gzip body of a few kilobytes that inflates to 64 MB
    drop            close the connection without answering
    slow-drip       send the headers, then the body one byte per 0.5 s

Answers can be shaped as real services send them: ``--compress auto``
compresses with the first encoding the client accepts (gzip or deflate), as
a reverse proxy with compression on does (or ``gzip``, ``deflate``,
``deflate-raw`` always); ``--style`` is ``ashyq`` (every field the real
service sends, extra ones too), ``minimal`` (IIN and Status only) or
``other-case`` (lower-case field names, "Green").

Its log shows only the last four digits of a number (the standard access log,
which would print request lines, is silenced).
"""
from __future__ import annotations

import argparse
import hmac
import json
import socket
import sys
import threading
import time
from collections import deque
from typing import Optional

from kiosk.servers.httpd import BackgroundServer, JsonHandler, serve
from kiosk.servers.people import DEMO_PEOPLE, DEMO_TOKEN, check_fault, load_people  # noqa: F401 - the server's names
from kiosk.services.status import PATH
from kiosk.core.model import COLOURS, mask
from kiosk.servers.status_shapes import COMPRESSIONS, STYLES, compress_body, gzip_bomb, shape_answer

DRIP_SECONDS = 0.5
MAX_REQUEST = 64 * 1024
IDLE_SECONDS = 120  # a kept-alive connection left idle this long is closed, as real servers do


class _Handler(JsonHandler):
    timeout = IDLE_SECONDS

    def setup(self):
        super().setup()
        self.owner._opened(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.owner._closed(self.connection)

    def do_POST(self):
        started = time.perf_counter()
        try:
            self._handle(started)
        except OSError:  # the client gave up (its deadline) or the server is stopping
            self.close_connection = True

    def _handle(self, started: float):
        owner = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST:
            self.close_connection = True
            return self._answer(413, {"error": "request too large"}, started)
        raw = self.rfile.read(length)
        if self.path != PATH:
            return self._answer(404, {"error": "no such endpoint"}, started)
        if not hmac.compare_digest(self.headers.get("Authorization", "").encode(),
                                   f"Bearer {owner.token}".encode()):
            return self._answer(401, {"error": "bad token"}, started)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self._answer(400, {"error": "body is not a JSON object"}, started)
        number = str(body.get("IIN") or body.get("Passport") or "").strip().upper()
        person = owner.people.get(number)
        fault = owner.fault or (person or {}).get("fault", "")
        if fault.startswith("delay:"):
            if owner.stopping.wait(float(fault[6:])):
                self.close_connection = True
                return
        if fault == "drop":
            self.close_connection = True
            return owner.log(f"drop {mask(number) if number else '-'}")
        if fault.startswith("error:"):
            return self._answer(int(fault[6:]), {"error": "fault"}, started, number)
        if fault == "not-json":
            return self._answer(200, {}, started, number, raw=b"<html>not json</html>")
        if fault == "bomb":
            return self._answer(200, {}, started, number, raw=owner.bomb(), encoding="gzip")
        if person is None:
            return self._answer(404, {"error": "unknown person"}, started, number)
        colour = "purple" if fault == "unknown-status" else person["colour"]
        answer = shape_answer(owner.style, number, colour, person, body,
                              passes=colour in ("green", "blue") and fault != "no-pass")
        self._answer(200, answer, started, number, drip=fault == "slow-drip")

    def _answer(self, code: int, data: dict, started: float, number: str = "", *,
                raw: Optional[bytes] = None, drip: bool = False, encoding: str = ""):
        body = raw if raw is not None else json.dumps(data, ensure_ascii=False).encode()
        if not encoding:
            encoding, body = self._compressed(body)
        self._send(code, body, encoding, drip)
        self.owner.handling_times.append(time.perf_counter() - started)
        self.owner.log(f"{code} {mask(number) if number else '-'}")

    def _compressed(self, body: bytes) -> tuple[str, bytes]:
        """(Content-Encoding, body) as the server's ``compress`` says."""
        how = self.owner.compress
        if how == "auto":
            accepted = [part.split(";")[0].strip().lower()
                        for part in self.headers.get("Accept-Encoding", "").split(",")]
            how = next((name for name in accepted if name in ("gzip", "deflate")), "")
        if not how:
            return "", body
        return compress_body(how, body)

    def _send(self, code: int, body: bytes, encoding: str, drip: bool):
        """Headers at once, then the body: whole, or a byte at a time
        (stopping with the server)."""
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not drip:
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its deadline): nothing to answer
            return
        for byte in body:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            if self.owner.stopping.wait(DRIP_SECONDS):
                self.close_connection = True
                return


class StatusServer(BackgroundServer):
    """The reference status service on a background thread.

    ``fault`` may be changed while it runs; ``handling_times`` holds the
    seconds each answer took inside the server, for benchmarks to subtract.

    >>> with StatusServer({"871008401427": {"colour": "green", "name": ""}}, token="t") as s:
    ...     s.url.startswith("http://127.0.0.1:")
    True
    """

    name = "status-server"

    def __init__(self, people: Optional[dict] = None, *, token: str = "", host: str = "127.0.0.1",
                 port: int = 0, fault: str = "", verbose: bool = False, compress: str = "",
                 style: str = "ashyq"):
        if compress not in COMPRESSIONS:
            raise ValueError(f"compress must be one of {', '.join(map(repr, COMPRESSIONS))}")
        if style not in STYLES:
            raise ValueError(f"style must be one of {', '.join(STYLES)}")
        self.people = {str(n).upper(): {"fault": "", **p} for n, p in (people or {}).items()}
        self.token = token
        self.compress, self.style = compress, style
        self._bomb: Optional[bytes] = None
        self.fault = fault
        self.verbose = verbose
        self.handling_times: deque = deque(maxlen=100_000)
        self.stopping = threading.Event()
        self._connections: set = set()
        self._lock = threading.Lock()
        super().__init__(_Handler, host=host, port=port)

    @property
    def fault(self) -> str:
        return self._fault

    @fault.setter
    def fault(self, value: str) -> None:
        self._fault = check_fault(value or "")

    def bomb(self) -> bytes:
        if self._bomb is None:  # made once: compressing 64 MB takes a moment
            self._bomb = gzip_bomb()
        return self._bomb

    def set_colour(self, number: str, colour: str) -> None:
        if colour not in COLOURS:
            raise ValueError(f"colour must be one of {', '.join(COLOURS)}")
        self.people[number.upper()] = {**self.people.get(number.upper(), {"name": "", "fault": ""}),
                                       "colour": colour}

    def start(self):
        self.stopping.clear()
        return super().start()

    def stop(self) -> None:
        """Stop listening and cut open connections, so "stopped" means down
        for a client holding a kept-alive connection too."""
        self.stopping.set()
        super().stop()
        with self._lock:
            open_now = list(self._connections)
        for connection in open_now:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def log(self, line: str) -> None:
        if self.verbose:
            print(f"status-server: {line}", file=sys.stderr, flush=True)

    def _opened(self, connection) -> None:
        with self._lock:
            self._connections.add(connection)

    def _closed(self, connection) -> None:
        with self._lock:
            self._connections.discard(connection)


def main(argv: Optional[list] = None) -> int:
    """``ashyq-kiosk status-server``: serve until SIGTERM or Ctrl-C; exit 2
    with one line on stderr for a bad people file, token file or fault."""
    parser = argparse.ArgumentParser(prog="ashyq-kiosk status-server",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--people", help="CSV: number,colour,name[,fault] (default: the demo people)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--token-file", help=f"file holding the bearer token (default: {DEMO_TOKEN!r})")
    parser.add_argument("--fault", default="", help="delay:S, error:CODE, not-json, unknown-status, "
                                                    "no-pass, bomb, drop or slow-drip")
    parser.add_argument("--compress", default="", choices=COMPRESSIONS,
                        help="compress answers: auto (as the client accepts), gzip, deflate, "
                             "deflate-raw")
    parser.add_argument("--style", default="ashyq", choices=STYLES,
                        help="answer fields: ashyq (all), minimal, other-case")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)
    try:
        if args.people:
            people = load_people(args.people)
        else:
            from importlib import resources
            people = load_people(str(resources.files("kiosk").joinpath("demo/people.csv")))
        token = DEMO_TOKEN
        if args.token_file:
            with open(args.token_file, encoding="utf-8") as handle:
                token = handle.read().strip()
            if not token:
                raise ValueError(f"{args.token_file}: the token file is empty")
        server = StatusServer(people, token=token, host=args.host, port=args.port,
                              fault=args.fault, verbose=not args.quiet, compress=args.compress,
                              style=args.style)
    except (OSError, ValueError) as exc:
        print(f"status-server: {exc}", file=sys.stderr)
        return 2
    return serve(server, f"status-server: {server.url} ({len(people)} people)")

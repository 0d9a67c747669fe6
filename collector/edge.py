"""The HTTP edge's own bounds, for both of uvicorn's HTTP parsers: headers
bounded while they arrive, headers complete within ``header_seconds``
(slowloris), and a request that cannot be parsed answered with a JSON 400
like every other refusal, never uvicorn's plain text or a dropped connection.

uvicorn times out only idle kept-alive connections, not a fresh one that says
nothing or drips its headers a byte at a time, and neither parser bounds a
header block that never ends: httptools buffers it, h11 bounds it only when
told. The app's HeaderLimit still checks a complete header block (431).

httptools (C) is the default: with uvloop it answers a heartbeat on a fresh
connection for about half the CPU of h11 (pure Python), which is what lets
one process keep up with 10,000 kiosks (bench/RESULTS.md).
"""
from __future__ import annotations

import json
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEADER_BYTES = 16 * 1024   # request line + headers
HEADER_SECONDS = 10            # a new request's headers must be complete by then
LINGER_SECONDS = 2             # a refused client's answer has this long to be read before we close


class EdgeBounds:
    """The header timer and the JSON refusals, shared by both parsers. A
    protocol says whether it is between requests (``_awaiting_headers``) and
    whether part of a request has arrived (``_partial``)."""

    header_seconds = HEADER_SECONDS
    _header_timer = None
    _discarding = False  # refused: what still arrives is dropped unread

    # Both parsers' protocols come after this class in the MRO.
    def connection_made(self, transport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._watch_headers()

    def connection_lost(self, exc) -> None:
        self._stop_watching()
        super().connection_lost(exc)  # type: ignore[misc]

    def _awaiting_headers(self) -> bool:
        raise NotImplementedError

    def _partial(self) -> bool:
        raise NotImplementedError

    def _watch_headers(self) -> None:
        if self._awaiting_headers() and not self.transport.is_closing():  # type: ignore[attr-defined]
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(  # type: ignore[attr-defined]
                    self.header_seconds, self._headers_late)
        else:
            self._stop_watching()

    def _stop_watching(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or not self._awaiting_headers():  # type: ignore[attr-defined]
            return
        if self._partial():  # part of a request: say why it is cut off
            self._refuse(408, b"Request Timeout", f"headers not complete within {self.header_seconds:g} s")
        else:
            self.transport.close()  # type: ignore[attr-defined]

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, b"Bad Request", f"malformed HTTP request: {msg}")

    def _refuse(self, status: int, reason: bytes, error: str) -> None:
        """Answer with a JSON reason, then hang up without losing it: closing
        a socket with unread bytes sends a reset, and a client still sending
        would never read the answer. So: our side shut, what still comes is
        read and dropped, and the connection closed LINGER_SECONDS later."""
        # Raw bytes: the parser may be in a state where it refuses to send a response.
        body = json.dumps({"error": error}).encode()
        transport: Any = self.transport  # type: ignore[attr-defined]
        transport.write(b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\n"
                        b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (status, reason, len(body), body))
        self._discarding = True
        self._stop_watching()
        if transport.can_write_eof():
            transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, transport.close)  # type: ignore[attr-defined]


class JsonH11Protocol(EdgeBounds, H11Protocol):
    """h11 (pure Python): bounds incomplete headers itself
    (``h11_max_incomplete_event_size``)."""

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            return
        super().data_received(data)
        if not self._discarding:
            self._watch_headers()

    def _awaiting_headers(self) -> bool:
        return self.conn.their_state is h11.IDLE

    def _partial(self) -> bool:
        return bool(self.conn.trailing_data[0])


class JsonHttpToolsProtocol(EdgeBounds, HttpToolsProtocol):
    """httptools (C): the bytes of a header block still arriving are counted
    here, since the parser would buffer them without end."""

    max_header_bytes = MAX_HEADER_BYTES
    _between_requests = True
    _pending = 0

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            return
        if self._between_requests:
            # Counted before parsing; headers completed in this read reset it
            # (the read may carry body too, and the app checks whole headers).
            self._pending += len(data)
        super().data_received(data)
        if self._discarding or self.transport.is_closing():
            return
        if self._between_requests and self._pending > self.max_header_bytes:
            self._refuse(431, b"Request Header Fields Too Large", f"headers over {self.max_header_bytes} bytes")
            return
        self._watch_headers()

    def on_headers_complete(self) -> None:
        self._between_requests, self._pending = False, 0
        self._stop_watching()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        # Not at the request's end: a slow answer must not start the header clock.
        self._between_requests = True
        super().on_response_complete()

    def _awaiting_headers(self) -> bool:
        return self._between_requests

    def _partial(self) -> bool:
        return self._pending > 0


PROTOCOLS = {"h11": JsonH11Protocol, "httptools": JsonHttpToolsProtocol}

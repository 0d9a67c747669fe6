"""Framing scanner bytes into payloads: pure, fed bytes and told the time.

Serial and keyboard-wedge scanners send a code then a terminator (CR, LF or
CRLF), or nothing at all; some split one code across reads. The framer cuts
on the terminator and, in every mode, on silence: a code still pending
``idle_timeout`` seconds after its last byte is flushed, so a half-sent code
never lingers and scanners without a terminator work.

    >>> framer = Framer("CR")
    >>> framer.feed(b"8710084014", now=0.0) + framer.feed(b"27\\r\\n", now=0.01)
    [b'871008401427']

Empty payloads are never emitted. A payload longer than ``max_length`` is
emitted once, cut at the limit, so the parser refuses it with a reason
instead of it vanishing; the rest up to the next terminator is discarded.
MRZ lines (30, 36 or 44 characters of A-Z, 0-9 and "<") are held and
joined with a newline until the document is complete (three TD1 lines, two
TD2 or TD3 lines), so an ID card read line by line is one scan. With
``multiline`` every line is joined until silence, for scanners that send
other multi-line codes.
"""
from __future__ import annotations

import re

MRZ_LINE = re.compile(rb"^[A-Z0-9<]+$")
MRZ_LINES = {30: 3, 36: 2, 44: 2}  # line length -> lines in the document

TERMINATORS = {"CR": b"\r", "LF": b"\n", "CRLF": b"\r\n", "none": b""}


class Framer:
    def __init__(self, terminator: str = "CR", *, idle_timeout: float = 0.15,
                 max_length: int = 512, multiline: bool = False):
        if terminator not in TERMINATORS:
            raise ValueError(f"terminator must be one of {', '.join(TERMINATORS)}")
        self.terminator = terminator
        self.idle_timeout = idle_timeout
        self.max_length = max_length
        self.multiline = multiline
        self._buffer = bytearray()
        self._lines: list[bytes] = []
        self._last = 0.0
        self._discarding = False

    def feed(self, data: bytes, now: float) -> list[bytes]:
        """Complete payloads in ``data`` (plus any that went idle before it)."""
        out = self.poll(now) if data else []
        self._last = now
        for byte in data:
            if byte in (0x0D, 0x0A) and self.terminator != "none":
                # Any CR or LF ends a line: CRLF's second half finds an empty
                # buffer and is dropped, and a scanner set to LF where we
                # expect CR still frames.
                self._end_line(out)
            elif self._discarding:
                continue
            else:
                self._buffer.append(byte)
                if len(self._buffer) > self.max_length:
                    out.append(bytes(self._buffer))  # over-long: once, for the parser to refuse
                    self._buffer.clear()
                    self._discarding = True
        return out

    def _end_line(self, out: list) -> None:
        self._discarding = False
        if not self._buffer:
            return
        line, self._buffer = bytes(self._buffer), bytearray()
        if self.multiline:
            self._lines.append(line)
            return
        wanted = MRZ_LINES.get(len(line)) if MRZ_LINE.match(line) else None
        if self._lines and (wanted is None or len(line) != len(self._lines[0])):
            out.append(b"\n".join(self._lines))  # an MRZ cut short: let the parser say why
            self._lines = []
        if wanted is None:
            out.append(line)
            return
        self._lines.append(line)
        if len(self._lines) == wanted:
            out.append(b"\n".join(self._lines))
            self._lines = []

    def poll(self, now: float) -> list[bytes]:
        """A payload pending for longer than ``idle_timeout``, if any."""
        if now - self._last < self.idle_timeout:
            return []
        out: list[bytes] = []
        if self._buffer and not self._discarding:
            self._end_line(out)
        self._buffer.clear()
        self._discarding = False
        if self._lines:
            out.append(b"\n".join(self._lines))
            self._lines = []
        return out

    @property
    def is_pending(self) -> bool:
        return bool(self._buffer or self._lines)

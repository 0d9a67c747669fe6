"""Framing scanner bytes into payloads: pure, fed bytes and told the time.

Serial and keyboard-wedge scanners send a code then a terminator (CR, LF or
CRLF), or nothing at all; some split one code across reads. The framer cuts
on the terminator and, in every mode, on silence: a code still pending
``idle_timeout`` seconds after its last byte is flushed, so a half-sent code
never lingers and scanners without a terminator work.

    >>> framer = Framer("CR")
    >>> framer.feed(b"8710084014", now=0.0) + framer.feed(b"27\\r\\n", now=0.01)
    [b'871008401427']

Rules, in the order a reader would ask:

- With CR, LF or CRLF configured, *any* CR or LF ends a line. CRLF split
  across reads, or a scanner sending CRLF where CR was configured, leaves an
  empty line that is dropped: empty payloads are never emitted.
- With ``"none"`` CR and LF are data, so a 2-D code holding line breaks
  arrives whole; only silence ends a payload.
- A payload longer than ``max_length`` is emitted once, as its first
  ``max_length + 1`` bytes (so the parser can see it is too long and refuse
  it with a reason instead of it vanishing); the rest up to the next
  terminator, or to silence, is discarded.
- MRZ lines (30, 36 or 44 characters of A-Z, 0-9 and "<") are held and
  joined with "\\n" until the document is complete (three TD1 lines, two TD2
  or TD3 lines), so an ID card read line by line is one scan; a document cut
  short is flushed on silence for the parser to refuse.
- With ``multiline`` every line is joined with "\\n" until silence, for
  scanners that send other multi-line codes; ``max_length`` applies to the
  joined payload.

AIM symbology prefixes (``]C0``) and anything else inside a line pass
through untouched: parsing is not framing.
"""
from __future__ import annotations

import re

from kiosk.core.mrz import LINES

MRZ_LINE = re.compile(rb"^[A-Z0-9<]+$")
MRZ_LINES = LINES  # line length -> lines in the document

TERMINATORS = ("CR", "LF", "CRLF", "none")
_EOL = (0x0D, 0x0A)


class Framer:
    """Bytes in, payloads out; see the module docstring for the rules.

    ``feed(data, now)`` returns the payloads ``data`` completes (and any that
    went idle before it); ``poll(now)`` returns a payload pending longer than
    ``idle_timeout``; ``flush()`` returns whatever is pending, now. ``now`` is
    any monotonic clock in seconds: the framer never reads one itself.
    """

    def __init__(self, terminator: str = "CR", *, idle_timeout: float = 0.15,
                 max_length: int = 512, multiline: bool = False):
        if terminator not in TERMINATORS:
            raise ValueError(f"terminator must be one of {', '.join(TERMINATORS)}")
        if max_length < 1 or idle_timeout <= 0:
            raise ValueError("max_length and idle_timeout must be positive")
        self.terminator = terminator
        self.idle_timeout = idle_timeout
        self.max_length = max_length
        self.multiline = multiline
        self._buffer = bytearray()
        self._mrz: list[bytes] = []  # MRZ lines waiting for the rest of their document
        self._last = 0.0
        self._discarding = False

    @property
    def is_pending(self) -> bool:
        return bool(self._buffer or self._mrz)

    def feed(self, data: bytes, now: float) -> list[bytes]:
        """Complete payloads in ``data`` (plus any that went idle before it)."""
        out = self.poll(now)
        if not data:
            return out  # an empty read is silence, not a byte: the idle clock runs on
        self._last = now
        cuts = self.terminator != "none"
        for byte in data:
            if cuts and byte in _EOL:
                self._end_line(out)
            elif self._discarding:
                continue
            else:
                self._buffer.append(byte)
                if len(self._buffer) > self.max_length:
                    self._emit_mrz(out)  # keep the order the bytes came in
                    out.append(bytes(self._buffer))
                    self._buffer.clear()
                    self._discarding = True
        return out

    def poll(self, now: float) -> list[bytes]:
        """A payload pending for at least ``idle_timeout``, if any."""
        if now - self._last < self.idle_timeout:
            return []
        return self.flush()

    def flush(self) -> list[bytes]:
        """Whatever is pending, regardless of time (a lost device, a close)."""
        out: list[bytes] = []
        if self.multiline:
            line = bytes(self._buffer).rstrip(b"\n")
            if line and not self._discarding:
                out.append(line)
        elif self._buffer and not self._discarding:
            self._end_line(out)
        self._emit_mrz(out)
        self._buffer.clear()
        self._discarding = False
        return out

    # ---- lines --------------------------------------------------------------

    def _end_line(self, out: list) -> None:
        self._discarding = False
        if not self._buffer:
            return  # the second half of CRLF, or a blank line
        if self.multiline:
            if self._buffer[-1] != 0x0A:
                # The newline joins lines and counts towards max_length; the
                # next byte past the limit makes the payload over-long.
                self._buffer.append(0x0A)
            return
        line, self._buffer = bytes(self._buffer), bytearray()
        wanted = self._mrz_lines(line)
        if self._mrz and (wanted is None or len(line) != len(self._mrz[0])):
            self._emit_mrz(out)  # an MRZ cut short: let the parser say why
        if wanted is None:
            out.append(line)
            return
        self._mrz.append(line)
        if len(self._mrz) == wanted:
            self._emit_mrz(out)

    def _mrz_lines(self, line: bytes):
        """Lines in the MRZ document ``line`` starts or continues, or None.
        A document that would not fit max_length is not joined: its lines
        pass one by one, so no payload ever exceeds the limit by joining."""
        wanted = MRZ_LINES.get(len(line))
        if wanted is None or not MRZ_LINE.match(line):
            return None
        if wanted * (len(line) + 1) - 1 > self.max_length:
            return None
        return wanted

    def _emit_mrz(self, out: list) -> None:
        if self._mrz:
            out.append(b"\n".join(self._mrz))
            self._mrz = []

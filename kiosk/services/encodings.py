"""HTTP body decoding with a cap on the decoded size.

A status service behind a common reverse proxy (nginx ``gzip on``) answers
compressed. The kiosk advertises exactly the encodings decoded here
(:data:`ACCEPT_ENCODING`) and decodes them itself from the raw stream, so
the size limit holds for what comes out, not for what goes in: a small
compressed body that would expand to gigabytes stops at the limit with the
decoder never holding more than the limit in memory.

    >>> import gzip
    >>> decoder = BoundedDecoder("gzip", limit=100)
    >>> decoder.feed(gzip.compress(b'{"Status": "green"}'))
    >>> decoder.finish()
    b'{"Status": "green"}'
"""
from __future__ import annotations

import zlib
from typing import Optional

from kiosk.core.errors import LookupFailed

ACCEPT_ENCODING = "gzip, deflate"
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class BoundedDecoder:
    """Feed raw chunks of a body sent with ``Content-Encoding: encoding``;
    ``finish`` returns the decoded body. Raises LookupFailed("bad-body") for
    an encoding not advertised, a corrupt or cut-short stream, or a decoded
    body over ``limit`` bytes."""

    def __init__(self, encoding: Optional[str], limit: int):
        name = (encoding or "").strip().lower()
        if name not in ("", "identity") and name not in _WBITS:
            raise LookupFailed("bad-body", f"answer is encoded as {name[:20]!r}, "
                                           f"which was not asked for")
        self.name = name if name in _WBITS else ""
        self.limit = limit
        self.chunks: list[bytes] = []
        self.size = 0
        self._inflater = zlib.decompressobj(_WBITS[self.name]) if self.name else None
        self._first = b""  # deflate: kept until we know zlib-wrapped or raw
        self._raw_size = 0

    def feed(self, raw: bytes) -> None:
        if not raw:
            return
        self._raw_size += len(raw)
        if self._raw_size > self.limit + 1024:  # compressed JSON is never larger than plain
            self._too_large()
        if self._inflater is None:
            return self._keep(raw)
        try:
            out = self._inflater.decompress(raw, self.limit - self.size + 1)
        except zlib.error:
            out = self._raw_deflate(raw)
        self._keep(out)
        if self._inflater.unconsumed_tail:
            self._too_large()
        if self.name == "deflate" and not self.size:
            self._first += raw

    def finish(self) -> bytes:
        if self._inflater is not None:
            try:
                self._keep(self._inflater.flush())
            except zlib.error:
                raise LookupFailed("bad-body", "compressed answer is corrupt") from None
            if not self._inflater.eof and self.size:
                raise LookupFailed("bad-body", "compressed answer was cut short")
        return b"".join(self.chunks)

    def _raw_deflate(self, raw: bytes) -> bytes:
        # "deflate" means zlib-wrapped (RFC 9110), but some servers send bare
        # deflate; retry as that only at the very start, as browsers do.
        if self.name != "deflate" or self.size:
            raise LookupFailed("bad-body", "compressed answer is corrupt")
        self.name = "deflate-raw"
        self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            return self._inflater.decompress(self._first + raw, self.limit - self.size + 1)
        except zlib.error:
            raise LookupFailed("bad-body", "compressed answer is corrupt") from None

    def _keep(self, out: bytes) -> None:
        self.size += len(out)
        if self.size > self.limit:
            self._too_large()
        self.chunks.append(out)

    def _too_large(self):
        raise LookupFailed("bad-body", f"answer is larger than {self.limit} bytes once decoded")

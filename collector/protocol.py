"""The sync protocol's rules as pure functions: what a request body must be,
how an event becomes a stored row, how tokens are kept, what state a kiosk is
in. No I/O here; ``app`` does the talking. docs/sync-protocol.md is the spec.

    >>> rows = event_rows("door-1", {"events": [{"id": "a1", "decision": "admit"}]}, NOW)
    >>> rows[0][:2], rows[0][9]
    (('door-1', 'a1'), 'admit')
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math
import re
import secrets
from typing import Optional

KIOSK_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
MAX_EVENTS = 10_000   # the kiosk's largest sync.batch_size
MAX_DEPTH = 16        # nesting allowed in a body (events sit at depth 3)
MAX_TEXT = 512        # one text field; a sealed 12-digit number is ~80 characters
MAX_EXTRA = 8192      # one event's `extra`, as JSON text
NOW = dt.datetime(2026, 11, 18, 14, 30, tzinfo=dt.timezone.utc)  # for the examples

TEXT_FIELDS = ("kind", "person", "masked", "sealed", "colour", "decision", "reason", "staff_id",
               "reference")


class BadRequest(ValueError):
    """The request is refused; ``status`` and the reason go back as JSON."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.status = status

    def __reduce__(self):
        # Raised in an ingest worker process, it crosses back pickled: keep the status.
        return BadRequest, (str(self), self.status)


# ---- tokens -------------------------------------------------------------------

def new_token() -> str:
    """256 random bits: too many to guess, so a fast hash is enough to store it."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(authorization: Optional[str], stored_hash: Optional[str]) -> bool:
    """``Authorization: Bearer <token>`` against the stored hash, in constant time."""
    if not stored_hash or not authorization or not authorization.startswith("Bearer "):
        return False
    return hmac.compare_digest(hash_token(authorization[7:].strip()), stored_hash)


# ---- bodies -------------------------------------------------------------------

def content_length(header: Optional[str], limit: int) -> Optional[int]:
    """The declared body size, refused before a byte is read when it is
    malformed (``-1``, ``1e9``, two values) or over ``limit``."""
    if header is None:
        return None
    if not header.isdigit() or len(header) > 18:
        raise BadRequest("Content-Length must be a non-negative integer")
    if int(header) > limit:
        raise BadRequest(f"body over {limit} bytes", 413)
    return int(header)


def depth(value, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of parsed JSON, a level at a time, stopping as soon as it
    passes ``limit``. Only containers are carried to the next level: a batch's
    17,000 strings are looked at once, not queued (it was a third of ingest).

    >>> depth("a"), depth([]), depth([1]), depth({"a": [{"b": 1}]})
    (1, 1, 2, 4)
    """
    level, frontier = 1, [value]
    while frontier and level <= limit:
        inner: list = []
        deeper = False
        for item in frontier:
            children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
            if children:
                deeper = True
                inner.extend([child for child in children if isinstance(child, (dict, list))])
        if not deeper:
            return level
        level, frontier = level + 1, inner
    return level


# PostgreSQL keeps neither NUL in text nor a lone surrogate, and JSON carries
# both as \u escapes (UTF-8 itself cannot). Heartbeats of many kiosks, and
# under load their batches too, are written together: one such string would
# fail everyone's write. Both databases get U+FFFD in its place instead.
UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value):
    r"""``value`` with NUL and lone surrogates replaced by U+FFFD in every
    string and key (a pair of surrogates arrives already joined).

    >>> print(ascii(storable({"a\x00": ["b\ud800", 1]})))
    {'a\ufffd': ['b\ufffd', 1]}
    """
    if isinstance(value, str):
        return UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, list):
        return [storable(item) for item in value]
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    return value


def _not_a_number(name: str):
    raise BadRequest(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    """A JSON number with a fraction or exponent; ``1e999`` is refused, not
    read as infinity. (Called for each such number: 0.2 ms a 500-event
    batch, where searching the raw body for long exponents cost 5 ms.)"""
    value = float(text)
    if value in (math.inf, -math.inf):
        raise BadRequest("a number in the body is too large to keep")
    return value


def parse_json(raw: bytes, *, max_depth: int = MAX_DEPTH):
    """JSON, or BadRequest: malformed, not UTF-8 (JSON on the wire is; a
    UTF-16 body would also hide its escapes from the search below), nested
    past ``max_depth`` (the C parser recurses, so a 100,000-deep body would
    otherwise crash it), or holding NaN or an infinity, which PostgreSQL's
    jsonb refuses and one kiosk's batch would fail a write it shares. Text no
    database here can keep is made storable (``storable``)."""
    try:
        value = json.loads(raw.decode("utf-8-sig"), parse_constant=_not_a_number, parse_float=_finite)
    except RecursionError:
        raise BadRequest(f"JSON nested deeper than {max_depth}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"body is not JSON: {str(exc)[:80]}") from None
    if depth(value, max_depth) > max_depth:
        raise BadRequest(f"JSON nested deeper than {max_depth}")
    return storable(value) if UNSTORABLE_ESCAPE.search(raw) else value


def _text(value) -> Optional[str]:
    if value is None:
        return None
    return (value if isinstance(value, str) else json.dumps(value))[:MAX_TEXT]


def _number(value) -> Optional[float]:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    try:
        return float(value)
    except OverflowError:  # a 400-digit integer: no double holds it
        return None


def _flag(value) -> Optional[int]:
    return int(bool(value)) if isinstance(value, (bool, int)) else None


def parse_time(value) -> Optional[dt.datetime]:
    """The kiosk's ``at`` as an aware UTC datetime; None if absent or unreadable
    (the protocol says: never refuse an event for a field other than ``id``)."""
    if not isinstance(value, str):
        return None
    try:
        at = dt.datetime.fromisoformat(value)
        return (at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc)
    except (ValueError, OverflowError):  # "0001-01-01T00:00+05:00" is before year 1 in UTC
        return None


def event_row(kiosk_id: str, event: dict, received: dt.datetime) -> tuple:
    """One event as a row in ``storage.EVENT_COLUMNS`` order. Unknown fields
    are dropped, so a clear number a buggy kiosk might add is never stored."""
    extra = event.get("extra")
    extra_text = json.dumps(extra, sort_keys=True) if extra and isinstance(extra, dict) else "{}"
    if len(extra_text) > MAX_EXTRA:
        extra_text = json.dumps({"dropped": f"extra over {MAX_EXTRA} bytes"})
    texts = [value[:MAX_TEXT] if type(value) is str else _text(value) for value in map(event.get, TEXT_FIELDS)]
    return (kiosk_id, event["id"], parse_time(event.get("at")), received, *texts[:8],
            _number(event.get("latency_ms")), texts[8], _flag(event.get("cached")),
            _flag(event.get("clock_synced")), _number(event.get("mono")), extra_text)


def event_rows(kiosk_id: str, body, received: dt.datetime, *, max_events: int = MAX_EVENTS) -> list[tuple]:
    """``{"events": [{"id": ...}, ...]}`` as rows, or BadRequest naming the fault.
    An id repeated inside one batch is stored once."""
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise BadRequest('body must be {"events": [{"id": ...}, ...]}')
    events = body["events"]
    if len(events) > max_events:
        raise BadRequest(f"at most {max_events} events in a batch", 413)
    rows, seen = [], set()
    for number, event in enumerate(events):
        if not isinstance(event, dict):
            raise BadRequest(f"event {number} is not an object")
        ident = event.get("id")
        if not isinstance(ident, str) or not 0 < len(ident) <= 64:
            raise BadRequest(f"event {number} has no id (a string of 1-64 characters)")
        if "\ufffd" in ident:  # storable() put it there: two ids could have become one
            raise BadRequest(f"event {number}'s id holds NUL, a lone surrogate or U+FFFD")
        if ident not in seen:
            seen.add(ident)
            rows.append(event_row(kiosk_id, event, received))
    return rows

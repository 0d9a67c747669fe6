"""Contact tracing: the one place numbers are unsealed, and never silently.

An officer runs ``ashyq-collector trace --venue V --since T --until T
--operator NAME --reason TEXT`` and types (or pipes) the private key. The
trace is written to the audit log and committed *before* the first box is
opened, so a trace that crashes or is interrupted is still on record; the
number of numbers it opened is added when it finishes.
"""
from __future__ import annotations

import datetime as dt
from .sealing import opener, unseal
from .storage import Storage
from .storage.base import utc_now


class TraceRefused(ValueError):
    """The request is incomplete: no operator, reason or window, or a bad key."""


def trace(storage: Storage, *, venue: str, since: dt.datetime, until: dt.datetime, operator: str,
          reason: str, private_key_b64: str) -> list[dict]:
    """The venue's events in [since, until) with ``number`` unsealed where the
    key opens the box (None where it was sealed to another key or not at all).
    Nothing is opened until the audit row is committed."""
    if not operator.strip() or not reason.strip():
        raise TraceRefused("a trace needs --operator and --reason: both go to the audit log")
    if since.tzinfo is None or until.tzinfo is None or since >= until:
        raise TraceRefused("the window needs --since before --until, with a time zone")
    box = opener(private_key_b64)  # a bad key is refused before anything is logged or read
    trace_id = storage.record_trace(operator=operator.strip(), reason=reason.strip(), venue=venue,
                                    since=since, until=until, at=utc_now())
    found, opened = [], 0
    try:
        for row in storage.sealed_events(venue, since, until):
            number = None
            if row.get("sealed"):
                try:
                    number = unseal(row["sealed"], "", box)
                    opened += 1
                except ValueError:
                    pass  # sealed to another collector's key: it stays sealed
            found.append({**{k: v for k, v in row.items() if k != "sealed"}, "number": number})
    finally:
        storage.finish_trace(trace_id, opened)
    return found

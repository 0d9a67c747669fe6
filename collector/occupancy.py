"""Venue occupancy at the centre, as pure functions: what a heartbeat's
``occupancy`` object must be, and the venue's figure from its doors' counts.

Each door reports its own counts, cumulative for the period (the business
day that ends at the venue's closing time)::

    {"door": "entry", "limit": 120, "period": "2026-11-18",
     "entries": 40, "exits": 12, "adjust": 0, "changes": 52}

and hears back the venue's total over every door for that period::

    {"period": "2026-11-18", "total": 61, "limit": 120, "doors": 3}

``limit`` is the one a venue manager set here (None: each door keeps its
configured one); ``doors`` counts the doors that let people in, which the
doors use near the limit (see kiosk/core/occupancy.py for the overshoot bound).

    >>> venue_figure([{"door": "entry", "entries": 5, "exits": 0, "adjust": 0},
    ...               {"door": "exit", "entries": 0, "exits": 7, "adjust": 0}])
    (0, 1)
"""
from __future__ import annotations

import re
from typing import Optional

from .protocol import BadRequest

DOOR_KINDS = ("entry", "exit", "both")  # as the kiosk's [door] kind
PERIOD = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_COUNT = 10 ** 9


def _count(value, name: str, *, signed: bool = False) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or abs(value) > MAX_COUNT or \
            (value < 0 and not signed):
        raise BadRequest(f"occupancy.{name} must be a{'n' if signed else ' non-negative'} "
                         f"integer, got {value!r}")
    return value


def report_of(beat: dict) -> Optional[dict]:
    """The heartbeat's occupancy counts, checked; None when it has none."""
    occupancy = beat.get("occupancy")
    if occupancy is None:
        return None
    if not isinstance(occupancy, dict):
        raise BadRequest("occupancy must be an object")
    period, door = occupancy.get("period"), occupancy.get("door")
    if not isinstance(period, str) or not PERIOD.match(period):
        raise BadRequest(f"occupancy.period must be a date like 2026-11-18, got {period!r}")
    if door not in DOOR_KINDS:
        raise BadRequest(f"occupancy.door must be one of {', '.join(DOOR_KINDS)}, got {door!r}")
    return {"period": period, "door": door,
            "entries": _count(occupancy.get("entries"), "entries"),
            "exits": _count(occupancy.get("exits"), "exits"),
            "adjust": _count(occupancy.get("adjust", 0), "adjust", signed=True),
            "changes": _count(occupancy.get("changes"), "changes")}


def venue_figure(doors: list[dict]) -> tuple[int, int]:
    """(occupancy never below zero, doors that count people in)."""
    total = sum(d["entries"] - d["exits"] + d["adjust"] for d in doors)
    return max(0, total), sum(1 for d in doors if d["door"] != "exit")


def venue_limit(row: Optional[dict]) -> Optional[int]:
    """The limit a venue manager set, in people: "120", or "40%" of the
    capacity (rounded down, at least one). None: unset or unusable (the
    doors keep their own). The collector imports nothing from the kiosk, so
    this reads the same two forms as the kiosk's ``parse_limit`` on its own.

    >>> venue_limit({"limit_text": "40%", "capacity": 300}), venue_limit({"limit_text": "x", "capacity": 0})
    (120, None)
    """
    text = str((row or {}).get("limit_text") or "").strip()
    capacity = (row or {}).get("capacity") or 0
    try:
        if not text.endswith("%"):
            return int(text) if text and 0 < int(text) <= MAX_COUNT else None
        share = float(text[:-1])
    except ValueError:
        return None
    return max(1, int(capacity * share / 100)) if 0 < share <= 100 and capacity > 0 else None

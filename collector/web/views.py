"""What each fleet page shows, as pure functions of what storage returns:
who may see what, the fleet list in the order a technician needs it, hours
of decisions by outcome, totals, the CSV. No I/O here; ``pages`` does it.

    >>> now = dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.timezone.utc)
    >>> [r["kiosk_id"] for r in fleet_rows([
    ...     {"kiosk_id": "a", "venue": "v", "name": "", "maintenance": False,
    ...      "last_seen": now, "last_heartbeat": {"version": "1"}},
    ...     {"kiosk_id": "b", "venue": "v", "name": "", "maintenance": False,
    ...      "last_seen": now - dt.timedelta(minutes=5), "last_heartbeat": {}}], now, 30)]
    ['b', 'a']
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Iterable, Optional

from ..health import RANK, STATES, kiosk_state, problems
from ..protocol import parse_time

ROLES = {"admin": "everything, and maintenance", "technician": "every kiosk, and maintenance",
         "manager": "only their venues' kiosks and dashboards"}
OUTCOMES = ("admit", "deny", "staff")
UTC = dt.timezone.utc
PAGE = 100  # kiosks per screen of the fleet list


class BadQuery(ValueError):
    """A query parameter the page cannot use; the text says which and why."""


# ---- who sees what ------------------------------------------------------------

def sees_venue(user: dict, venue: str) -> bool:
    return user["role"] in ("admin", "technician") or venue in (user.get("venues") or [])


def may_maintain(user: dict) -> bool:
    return user["role"] in ("admin", "technician")


def may_set_limit(user: dict, venue: str) -> bool:
    """A venue's manager sets its limit (and an admin); a technician does not."""
    return user["role"] == "admin" or (user["role"] == "manager" and venue in (user.get("venues") or []))


def venues_of(user: dict, kiosks: Iterable[dict]) -> list[str]:
    return sorted({k["venue"] for k in kiosks if sees_venue(user, k["venue"])})


# ---- the fleet list ----------------------------------------------------------

def visible_venues(user: dict) -> Optional[list[str]]:
    """The venues whose kiosks the user may list; None for all of them."""
    return None if user["role"] in ("admin", "technician") else list(user.get("venues") or [])


def fleet_row(kiosk: dict, now: dt.datetime, interval: float, min_version: str = "") -> dict:
    """A kiosk as the list shows it: state, last seen, version, backlog,
    last sync and problems."""
    beat = kiosk.get("last_heartbeat") or {}
    return {"kiosk_id": kiosk["kiosk_id"], "name": kiosk.get("name") or "", "venue": kiosk.get("venue") or "",
            "state": kiosk_state(kiosk.get("last_seen"), kiosk.get("maintenance", False), now, interval),
            "problems": problems(kiosk.get("last_heartbeat"), min_version=min_version, now=now),
            "last_seen": kiosk.get("last_seen"),
            "version": beat.get("version"), "backlog": beat.get("backlog"),
            "last_sync": parse_time(beat.get("last_sync")), "today": beat.get("today") or {}}


def rank_of(row: dict) -> int:
    return RANK["troubled"] if row["state"] == "online" and row["problems"] else RANK[row["state"]]


def fleet_rows(kiosks: Iterable[dict], now: dt.datetime, interval: float,
               min_version: str = "") -> list[dict]:
    """A few kiosks' rows (a venue's), offline and troubled first; the whole
    fleet is ranked by the database instead (storage/fleet.py)."""
    rows = [fleet_row(kiosk, now, interval, min_version) for kiosk in kiosks]
    return sorted(rows, key=lambda r: (rank_of(r), r["venue"], r["kiosk_id"]))


def fleet_query(page: Optional[str], state: Optional[str]) -> tuple[int, Optional[str]]:
    """The list's ``page`` and ``state`` parameters, checked: (number, state)."""
    if state and state not in STATES:
        raise BadQuery(f"state is one of {', '.join(STATES)}")
    try:
        number = int(page or 1)
    except ValueError:
        raise BadQuery("page is a number") from None
    return number, state or None


def page_of(number: int, count: int, state: Optional[str] = None) -> dict:
    """Where screen ``number`` of a list of ``count`` kiosks starts: a list of
    10,000 kiosks is read a screen at a time, problems on the first."""
    pages = max((count + PAGE - 1) // PAGE, 1)
    if not 1 <= number <= pages:
        raise BadQuery(f"page is between 1 and {pages}")
    return {"number": number, "pages": pages, "first": (number - 1) * PAGE + 1, "count": count,
            "offset": (number - 1) * PAGE, "state": state or ""}


def health_rows(beats: Iterable[dict], min_version: str = "") -> list[dict]:
    """A kiosk's heartbeats, newest first, as the kiosk page lists them."""
    return [{"received_at": b["received_at"], "version": (b["data"] or {}).get("version"),
             "uptime_s": (b["data"] or {}).get("uptime_s"), "backlog": (b["data"] or {}).get("backlog"),
             "last_sync": parse_time((b["data"] or {}).get("last_sync")),
             "problems": problems(b["data"], min_version=min_version, now=b["received_at"])}
            for b in beats]


# ---- decisions per hour -------------------------------------------------------

def day_window(text: Optional[str], now: dt.datetime) -> tuple[dt.date, dt.datetime, dt.datetime]:
    """The UTC day ``YYYY-MM-DD`` (today when absent): (day, since, until)."""
    try:
        day = dt.date.fromisoformat(text) if text else now.astimezone(UTC).date()
    except ValueError:
        raise BadQuery(f"day must look like 2026-11-18, not {(text or '')[:20]!r}") from None
    if not dt.date.min < day < dt.date.max:  # the page links the day before and after
        raise BadQuery("day must be after 0001-01-01 and before 9999-12-31")
    since = dt.datetime.combine(day, dt.time(), UTC)
    return day, since, since + dt.timedelta(days=1)


def hourly_series(counts: Iterable[dict], since: dt.datetime, until: dt.datetime) -> list[dict]:
    """Every hour in [since, until), zeros included: {"hour", "admit", "deny", "staff"}."""
    hours, at = {}, since
    while at < until:
        hours[at] = {"hour": at, **{o: 0 for o in OUTCOMES}}
        at += dt.timedelta(hours=1)
    for row in counts:
        slot = hours.get(row["hour"].astimezone(UTC))
        if slot is not None and row["decision"] in OUTCOMES:
            slot[row["decision"]] += row["n"]
    return list(hours.values())


def totals(counts: Iterable[dict]) -> dict:
    """What an inspector asks for: decisions by outcome, by reason, and the
    staff overrides (staff-admit, staff-deny) on their own."""
    by_outcome: dict[str, int] = {o: 0 for o in OUTCOMES}
    by_reason: dict[tuple[str, str], int] = {}
    overrides: dict[str, int] = {}
    for row in counts:
        by_outcome[row["decision"]] = by_outcome.get(row["decision"], 0) + row["n"]
        key = (row["decision"], row["reason"])
        by_reason[key] = by_reason.get(key, 0) + row["n"]
        if row["reason"].startswith("staff-"):
            overrides[row["reason"]] = overrides.get(row["reason"], 0) + row["n"]
    return {"by_outcome": by_outcome, "by_reason": sorted(by_reason.items()),
            "overrides": dict(sorted(overrides.items())), "all": sum(by_outcome.values())}


def counts_csv(counts: Iterable[dict]) -> str:
    """hour_utc, kiosk_id, decision, reason, n: counts only, no person."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["hour_utc", "kiosk_id", "decision", "reason", "n"])
    for row in counts:
        writer.writerow([row["hour"].astimezone(UTC).isoformat(), _cell(row["kiosk_id"]),
                         _cell(row["decision"]), _cell(row["reason"]), row["n"]])
    return out.getvalue()


def _cell(text: str) -> str:
    """A spreadsheet runs a cell starting with = + - @ as a formula; a kiosk
    sends the reason, so it is neutralised."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

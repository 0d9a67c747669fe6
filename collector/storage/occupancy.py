"""Occupancy storage, written once for both backends: a mixin over the small
adapters each backend provides (storage/adapters.py). SQL is written with
``?`` placeholders; PostgreSQL's adapter turns them into ``%s``. Times come
back as aware datetimes from both.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from .adapters import Adapters
from ..occupancy import MAX_COUNT, venue_figure, venue_limit

UPSERT = (
    "INSERT INTO occupancy (kiosk_id, period, venue, door, entries, exits, adjust, changes, "
    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kiosk_id, period) DO UPDATE SET "
    "venue = excluded.venue, door = excluded.door, entries = excluded.entries, "
    "exits = excluded.exits, adjust = excluded.adjust, changes = excluded.changes, "
    "updated_at = excluded.updated_at WHERE excluded.changes > occupancy.changes")
DOORS = ("SELECT kiosk_id, door, entries, exits, adjust, changes, updated_at FROM occupancy "
         "WHERE venue = ? AND period = ? ORDER BY kiosk_id")
LIMIT = "SELECT capacity, limit_text, updated_at, updated_by FROM venue_limits WHERE venue = ?"


class OccupancyStore(Adapters):
    """Venue occupancy: per door per period, the venue's limit, the day's curve."""


    def record_occupancy(self, kiosk_id: str, report: dict, received_at: dt.datetime) -> dict:
        """Keep a door's counts (if newer than those kept) and answer with the
        venue's figure for that period: {period, total, limit, doors}."""
        def work(conn):
            kiosk = self._all(conn, "SELECT venue FROM kiosks WHERE kiosk_id = ?", (kiosk_id,))
            venue = kiosk[0]["venue"] if kiosk else ""
            changed = self._exec(conn, UPSERT, (
                kiosk_id, report["period"], venue, report["door"], report["entries"],
                report["exits"], report["adjust"], report["changes"], self._stamp(received_at)))
            doors = self._all(conn, DOORS, (venue, report["period"]))
            total, entry_doors = venue_figure(doors)
            if changed:
                self._exec(conn, "INSERT INTO occupancy_log (venue, period, at, total) "
                           "VALUES (?, ?, ?, ?)", (venue, report["period"],
                                                   self._stamp(received_at), total))
            limit = venue_limit(next(iter(self._all(conn, LIMIT, (venue,))), None))
            return {"period": report["period"], "total": total, "limit": limit,
                    "doors": entry_doors}
        return self._tx(work)

    def venue_occupancy(self, venue: str, period: Optional[str] = None) -> dict:
        """The venue's figure for ``period`` (default: the latest any door
        reported): venue, period, total, limit, capacity, limit_text, doors
        (kiosk_id, door, entries, exits, adjust, updated_at each)."""
        def work(conn):
            chosen = period
            if chosen is None:
                latest = self._all(conn, "SELECT max(period) AS p FROM occupancy WHERE venue = ?",
                                   (venue,))
                chosen = latest[0]["p"] if latest and latest[0]["p"] else None
            doors = self._all(conn, DOORS, (venue, chosen)) if chosen else []
            setting = next(iter(self._all(conn, LIMIT, (venue,))), None)
            return chosen, doors, setting
        chosen, doors, setting = self._tx(work)
        total, _ = venue_figure(doors)
        for door in doors:
            door["updated_at"] = self._time(door["updated_at"])
        return {"venue": venue, "period": chosen, "total": total, "limit": venue_limit(setting),
                "capacity": setting["capacity"] if setting else 0,
                "limit_text": setting["limit_text"] if setting else "", "doors": doors}

    def set_venue_limit(self, venue: str, *, limit: str = "", capacity: int = 0,
                        by: str = "", at: Optional[dt.datetime] = None) -> None:
        """A venue manager's limit ("" none, "120", "40%" of ``capacity``);
        ValueError for anything else. It goes to the doors with their next
        heartbeat answer."""
        if not 0 <= capacity <= MAX_COUNT:  # the column is a 64-bit integer; a venue is far smaller
            raise ValueError(f"capacity must be between 0 and {MAX_COUNT:,} people")
        if str(limit).strip() and venue_limit({"limit_text": limit, "capacity": capacity}) is None:
            raise ValueError(f"{limit!r} is not a limit like 120 or \"40%\" (with a capacity)")
        at = at or dt.datetime.now(dt.timezone.utc)
        self._tx(lambda conn: self._exec(conn, (
            "INSERT INTO venue_limits (venue, capacity, limit_text, updated_at, updated_by) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (venue) DO UPDATE SET capacity = excluded.capacity, "
            "limit_text = excluded.limit_text, updated_at = excluded.updated_at, "
            "updated_by = excluded.updated_by"), (venue, capacity, str(limit), self._stamp(at), by)))

    def occupancy_history(self, venue: str, period: str) -> list[dict]:
        """The venue's total over the period, oldest first: at, total."""
        rows = self._tx(lambda conn: self._all(
            conn, "SELECT at, total FROM occupancy_log WHERE venue = ? AND period = ? ORDER BY at",
            (venue, period)))
        return [{"at": self._time(r["at"]), "total": r["total"]} for r in rows]

    @staticmethod
    def _time(value):
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else value

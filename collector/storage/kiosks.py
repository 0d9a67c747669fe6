"""Which venue a kiosk stands at, and stood at: written once for both
backends (storage/adapters.py).

A kiosk moved from one venue to another keeps its id and its past. The
kiosks table says where it is now; ``kiosk_venues`` (migration 5) keeps
each venue from the moment it was given, so a trace of a venue unseals the
numbers of visitors *at that venue*, never those its door saw somewhere
else before it was moved there.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from .adapters import Adapters

# A kiosk journals before it is registered (its token comes later), so its
# first venue holds from the beginning of time as far as its events go.
FIRST = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

# An event's time: the kiosk's own, else its arrival (as the hourly counts
# take it, storage/base.py hour_of), so an unreadable ``at`` hides nothing.
EVENT_TIME = "coalesce(e.at, e.received_at)"
# Whether event ``e`` was at venue ``?``: the venue given last before its time.
AT_VENUE = ("EXISTS (SELECT 1 FROM kiosk_venues v WHERE v.kiosk_id = e.kiosk_id AND v.venue = ? "
            f"AND v.since <= {EVENT_TIME} AND NOT EXISTS (SELECT 1 FROM kiosk_venues w "
            f"WHERE w.kiosk_id = v.kiosk_id AND w.since > v.since AND w.since <= {EVENT_TIME}))")


class KioskStore(Adapters):
    """Kiosks as the command line registers and moves them."""

    def put_kiosk(self, kiosk_id: str, token_hash: str, *, venue: Optional[str] = None,
                  name: Optional[str] = None) -> None:
        """Add a kiosk or replace its token; ``venue`` and ``name`` when
        given (None keeps them; a new kiosk's are empty). A new venue is
        recorded from now on, the old one kept for the kiosk's past."""
        now = dt.datetime.now(dt.timezone.utc)

        def work(db):
            old = self._all(db, "SELECT venue, name FROM kiosks WHERE kiosk_id = ?", (kiosk_id,))
            was = old[0] if old else {"venue": "", "name": ""}
            place = was["venue"] if venue is None else venue
            self._exec(db, "INSERT INTO kiosks (kiosk_id, token_hash, venue, name, created_at) "
                       "VALUES (?, ?, ?, ?, ?) ON CONFLICT (kiosk_id) DO UPDATE SET "
                       "token_hash = excluded.token_hash, venue = excluded.venue, name = excluded.name",
                       (kiosk_id, token_hash, place, was["name"] if name is None else name, self._stamp(now)))
            if old and place == was["venue"]:
                return
            # A kiosk registered with no venue that now gets its first one
            # was there all along: its journal from before counts as there.
            if old and self._exec(db, "UPDATE kiosk_venues SET venue = ? WHERE kiosk_id = ? AND venue = '' "
                                  "AND since = ? AND NOT EXISTS (SELECT 1 FROM kiosk_venues w WHERE "
                                  "w.kiosk_id = kiosk_venues.kiosk_id AND w.since > kiosk_venues.since)",
                                  (place, kiosk_id, self._stamp(FIRST))):
                return
            self._exec(db, "INSERT INTO kiosk_venues (kiosk_id, venue, since) VALUES (?, ?, ?) "
                       "ON CONFLICT (kiosk_id, since) DO UPDATE SET venue = excluded.venue",
                       (kiosk_id, place, self._stamp(now if old else FIRST)))
        self._tx(work)

    def sealed_events(self, venue: str, since: dt.datetime, until: dt.datetime) -> list[dict]:
        """The events at the venue in [since, until), by the kiosk's own
        time (its arrival where it has none), with their sealed numbers, for
        the trace command only."""
        rows = self._read(
            # Written out rather than on EVENT_TIME, so both halves use the index on ``at``
            # (an unreadable time is NULL there).
            (f"SELECT e.kiosk_id, e.id, {EVENT_TIME} AS at, e.decision, e.reason, e.masked, e.sealed "
             "FROM events e WHERE ((e.at >= ? AND e.at < ?) OR (e.at IS NULL AND e.received_at >= ? "
             f"AND e.received_at < ?)) AND {AT_VENUE} ORDER BY 3, e.kiosk_id, e.id").replace("?", self.param),
            (*[self._stamp(since), self._stamp(until)] * 2, venue))
        for row in rows:
            row["at"] = self._unstamp(row["at"])
        return rows

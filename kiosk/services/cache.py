"""The offline cache: last known colour per person (keyed hash), for venues
whose rule is ``admit-if-cached``. Off by default.

Each colour has its own maximum age, and green is never served older than
72 hours (a PCR result's validity); a colour whose age is 0 is never served.
It lives in the journal's SQLite file (table ``statuses``, created by the
journal's migration 2), on its own connection, and holds no numbers: only the
hash, the colour and when it was checked (UTC epoch seconds).

    >>> cache = StatusCache(journal, max_age_hours={"green": 72, "blue": 24})  # doctest: +SKIP
    >>> cache.remember(person, "green", at)                                   # doctest: +SKIP
    >>> cache.recall(person, at + dt.timedelta(hours=5))                      # doctest: +SKIP
    'green'

The cache is an optional part: it never raises. A failure to remember is
logged and forgotten; a failure to recall is a miss, and a miss means a
failed lookup, which never opens the turnstile.
"""
from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
import time
from typing import Callable, Optional, Union

from kiosk.services.journal_schema import connect, migrate
from kiosk.core.model import COLOURS

log = logging.getLogger("ashyq.cache")

GREEN_LIMIT_HOURS = 72.0
PRUNE_EVERY_SECONDS = 3600.0

When = Union[dt.datetime, float, None]


class StatusCache:
    """``source``: a :class:`kiosk.services.journal.Journal` (its file is used) or a
    path to a SQLite file (migrated to the journal's schema if needed).
    ``clock`` gives UTC epoch seconds when ``at``/``now`` are not passed."""

    def __init__(self, source, *, max_age_hours: dict, clock: Callable[[], float] = time.time):
        self.path = getattr(source, "path", source)
        self.max_age = {colour: _limit(colour, max_age_hours.get(colour, 0)) for colour in COLOURS}
        self.clock = clock
        self.lock = threading.Lock()
        self.db = connect(self.path)
        migrate(self.db)  # a no-op on a journal's file; creates the table on a bare one
        self._pruned = float("-inf")

    def _seconds(self, when: When) -> float:
        if when is None:
            return self.clock()
        if isinstance(when, dt.datetime):
            return when.timestamp()
        return float(when)

    def remember(self, person: str, colour: str, at: When = None) -> None:
        """Keep the newest colour for ``person``: an answer that arrives late
        (checked earlier than the stored one) does not replace it."""
        if colour not in COLOURS:
            return
        checked = self._seconds(at)
        try:
            with self.lock:
                self.db.execute(
                    "INSERT INTO statuses (person, colour, checked_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (person) DO UPDATE SET colour = excluded.colour, "
                    "checked_at = excluded.checked_at WHERE excluded.checked_at >= checked_at",
                    (person, colour, checked))
                if checked - self._pruned >= PRUNE_EVERY_SECONDS:
                    self._prune(checked)
                    self._pruned = checked
        except sqlite3.Error as exc:
            log.error("offline cache: cannot remember a colour: %s", exc)

    def recall(self, person: str, now: When = None) -> Optional[str]:
        """The cached colour if it is still young enough for its colour."""
        try:
            with self.lock:
                row = self.db.execute("SELECT colour, checked_at FROM statuses WHERE person = ?",
                                      (person,)).fetchone()
        except sqlite3.Error as exc:
            log.error("offline cache: cannot recall: %s", exc)
            return None
        if row is None:
            return None
        colour, checked_at = row
        age = self._seconds(now) - checked_at
        hours = self.max_age.get(colour, 0)
        # A negative age means the clock went back: the true age is unknown,
        # so the entry is not trusted.
        if hours <= 0 or age < 0 or age > hours * 3600:
            return None
        return colour

    def prune(self, now: When = None) -> int:
        """Forget every entry too old to be served: less kept, less to leak."""
        try:
            with self.lock:
                return self._prune(self._seconds(now))
        except sqlite3.Error as exc:
            log.error("offline cache: cannot prune: %s", exc)
            return 0

    def _prune(self, now: float) -> int:
        oldest = max(self.max_age.values()) * 3600
        return self.db.execute("DELETE FROM statuses WHERE checked_at < ?", (now - oldest,)).rowcount

    def close(self) -> None:
        with self.lock:
            self.db.close()


def _limit(colour: str, hours: float) -> float:
    hours = max(0.0, float(hours))
    return min(hours, GREEN_LIMIT_HOURS) if colour == "green" else hours

"""The offline cache: last known colour per person (keyed hash), for venues
whose rule is ``admit-if-cached``. Off by default.

Each colour has its own maximum age, and green is never served older than
72 hours (a PCR result's validity); a colour whose age is 0 is never served.
It lives in the journal's file (table ``statuses``, migration 2), on its own
connection, and holds no numbers: only the hash, the colour and when.

    >>> cache = StatusCache("journal.sqlite", max_age_hours={"green": 72})  # doctest: +SKIP
    >>> cache.remember(person, "green"); cache.recall(person)               # doctest: +SKIP
    'green'
"""
from __future__ import annotations

import sqlite3
import threading
import time
from typing import Callable, Optional

GREEN_LIMIT_HOURS = 72.0


class StatusCache:
    def __init__(self, path: str, *, max_age_hours: dict, clock: Callable[[], float] = time.time):
        self.max_age = {colour: min(hours, GREEN_LIMIT_HOURS) if colour == "green" else hours
                        for colour, hours in max_age_hours.items()}
        self.clock = clock
        self.lock = threading.Lock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA busy_timeout = 2000")

    def remember(self, person: str, colour: str) -> None:
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO statuses (person, colour, checked_at) "
                            "VALUES (?, ?, ?)", (person, colour, self.clock()))

    def recall(self, person: str) -> Optional[str]:
        """The cached colour if it is still young enough for its colour."""
        with self.lock:
            row = self.db.execute("SELECT colour, checked_at FROM statuses WHERE person = ?",
                                  (person,)).fetchone()
        if row is None:
            return None
        colour, checked_at = row
        hours = self.max_age.get(colour, 0)
        if hours <= 0 or self.clock() - checked_at > hours * 3600:
            return None
        return colour

    def close(self) -> None:
        with self.lock:
            self.db.close()

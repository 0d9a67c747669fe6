"""The journal: every decision, durable before it is shown, in SQLite (WAL,
synchronous=FULL) through sqlite-utils.

A row holds no number in clear: ``person`` is a keyed hash (same person,
same hash, on this kiosk only), ``masked`` the last four digits, ``sealed``
the number in a box only the collector's private key opens.

    >>> journal = Journal("/tmp/j.sqlite", person_key=b"k")   # doctest: +SKIP
    >>> journal.append(decision); journal.backlog()            # doctest: +SKIP
    1

The schema changes only through MIGRATIONS, applied in order at open and
counted in ``PRAGMA user_version``. Sync reads and marks from its own thread;
one lock serialises the connection.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from typing import Iterable, Optional

import sqlite_utils

from .errors import JournalError
from .model import Decision
from .sealing import person_hash, seal

EVENT_FIELDS = ("id", "at", "kind", "person", "masked", "sealed", "colour", "decision", "reason",
                "staff_id", "latency_ms", "reference", "cached", "clock_synced", "mono", "extra")


def _v1(db: sqlite_utils.Database) -> None:
    db["decisions"].create({
        "id": str, "at": str, "kind": str, "person": str, "masked": str, "sealed": str,
        "colour": str, "decision": str, "reason": str, "staff_id": str, "latency_ms": float,
        "reference": str, "cached": int, "clock_synced": int, "mono": float, "extra": str,
        "synced_at": str}, pk="id", not_null={"at", "kind", "colour", "decision", "reason"})
    db["decisions"].create_index(["synced_at", "at"])


def _v2(db: sqlite_utils.Database) -> None:
    # The offline cache of last known colours (kiosk/cache.py).
    db["statuses"].create({"person": str, "colour": str, "checked_at": float}, pk="person")


MIGRATIONS = (_v1, _v2)


def utc_iso(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")


class Journal:
    def __init__(self, path: str, *, person_key: bytes, collector_public_key: str = ""):
        self.path = path
        self.person_key = person_key
        self.public_key = collector_public_key
        self.lock = threading.Lock()
        try:
            self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.db = sqlite_utils.Database(self.conn)
            self.migrate()
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open journal {path}: {exc}") from None

    def migrate(self) -> int:
        """Bring the file to the newest schema; returns the version."""
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.lock, self.conn:
                self.conn.execute("BEGIN IMMEDIATE")
                migration(self.db)
                self.conn.execute(f"PRAGMA user_version = {number}")
        return len(MIGRATIONS)

    def row(self, decision: Decision) -> dict:
        identity = decision.identity
        return {
            "id": decision.id, "at": utc_iso(decision.at), "kind": decision.kind,
            "person": person_hash(identity.number, self.person_key) if identity else None,
            "masked": decision.masked,
            "sealed": seal(identity.number, self.public_key) if identity and self.public_key else None,
            "colour": decision.colour, "decision": decision.decision, "reason": decision.reason,
            "staff_id": decision.staff_id, "latency_ms": decision.latency_ms,
            "reference": decision.reference, "cached": int(decision.cached),
            "clock_synced": int(decision.clock_synced), "mono": decision.mono,
            "extra": json.dumps(decision.extra, sort_keys=True) if decision.extra else None,
            "synced_at": None,
        }

    def append(self, decision: Decision) -> None:
        """Durable on return: one committed transaction, fsynced (FULL)."""
        row = self.row(decision)
        self._write(lambda: self.db["decisions"].insert(row))

    def _write(self, work):
        try:
            with self.lock, self.conn:
                self.conn.execute("BEGIN IMMEDIATE")
                return work()
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path}: {exc}") from None

    def _read(self, sql: str, params: Iterable = ()) -> list:
        try:
            with self.lock:
                cursor = self.conn.execute(sql, tuple(params))
                names = [c[0] for c in cursor.description]
                return [dict(zip(names, values)) for values in cursor.fetchall()]
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path}: {exc}") from None

    def unsynced(self, limit: int) -> list[dict]:
        """The oldest rows the collector has not confirmed, as events."""
        rows = self._read(f"SELECT {', '.join(EVENT_FIELDS)} FROM decisions WHERE synced_at IS NULL "
                          "ORDER BY at, rowid LIMIT ?", (limit,))
        for row in rows:
            row["extra"] = json.loads(row["extra"]) if row["extra"] else {}
        return rows

    def mark_synced(self, ids: list[str], at: Optional[dt.datetime] = None) -> None:
        stamp = utc_iso(at or dt.datetime.now(dt.timezone.utc))
        marks = [(stamp, i) for i in ids]
        self._write(lambda: self.conn.executemany(
            "UPDATE decisions SET synced_at = ? WHERE id = ? AND synced_at IS NULL", marks))

    def backlog(self) -> int:
        return self._read("SELECT count(*) AS n FROM decisions WHERE synced_at IS NULL")[0]["n"]

    def purge(self, older_than_days: int, now: Optional[dt.datetime] = None) -> int:
        """Drop synced rows past retention; an unsynced row is never dropped."""
        cutoff = utc_iso((now or dt.datetime.now(dt.timezone.utc)) - dt.timedelta(days=older_than_days))
        return self._write(lambda: self.conn.execute(
            "DELETE FROM decisions WHERE synced_at IS NOT NULL AND at < ?", (cutoff,)).rowcount)

    def recent(self, count: int = 20) -> list[dict]:
        return self._read("SELECT * FROM decisions ORDER BY at DESC, rowid DESC LIMIT ?", (count,))

    def integrity_check(self) -> str:
        return self._read("PRAGMA integrity_check")[0]["integrity_check"]

    def close(self) -> None:
        with self.lock:
            self.conn.close()

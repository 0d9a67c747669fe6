"""The journal: every decision, durable before it is shown, in SQLite (WAL,
synchronous=FULL) through sqlite-utils.

A row holds no number in clear: ``person`` is a keyed hash (same person,
same hash, on this kiosk only), ``masked`` the last four digits, ``sealed``
the number in a box only the collector's private key opens.

    >>> journal = Journal("/tmp/j.sqlite", person_key=b"k")   # doctest: +SKIP
    >>> journal.append(decision); journal.backlog()            # doctest: +SKIP
    1

The schema changes only through MIGRATIONS, applied in order at open, each
in its own transaction, counted in ``PRAGMA user_version``: a file written
by older code is upgraded in place, one from newer code is refused.

Threads: the daemon appends from its main thread, the sync worker reads and
marks from its own. Each thread gets its own connection, so a read (the
worker's next batch, a backlog count) never holds up an append: WAL lets
readers and the writer overlap. Writers in this process take turns on one
lock; another process (``ashyq-kiosk sync``, doctor) waits on SQLite's busy
timeout.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import threading
from typing import Callable, Iterable, Optional

import sqlite_utils

from kiosk.core.errors import JournalError
from kiosk.core.model import Decision, mask
from kiosk.services.journal_schema import connect, migrate, transaction
from kiosk.services.sealing import person_hash, seal

EVENT_FIELDS = ("id", "at", "kind", "person", "masked", "sealed", "colour", "decision", "reason",
                "staff_id", "latency_ms", "reference", "cached", "clock_synced", "mono", "extra")
COLUMNS = EVENT_FIELDS + ("synced_at",)
# Space the daemon must be able to write before it says READY: a few hundred
# rows, the WAL's growth between checkpoints and SQLite's own scratch.
MIN_FREE_BYTES = 1 << 20
PROBE_BYTES = 64 << 10


def utc_iso(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")


class Journal:
    """The decisions table of one SQLite file; see the module docstring."""

    def __init__(self, path: str, *, person_key: bytes, collector_public_key: str = ""):
        self.path = path
        self.person_key = person_key
        self.public_key = collector_public_key
        self.lock = threading.Lock()  # one writer at a time in this process
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._closed = False
        try:
            self.conn = connect(path)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open journal {path}: {exc}") from None
        self._local.conn = self.conn
        self._connections.append(self.conn)
        self.inode = _inode(path)
        try:
            self.db = sqlite_utils.Database(self.conn, recursive_triggers=False,
                                            execute_plugins=False)
            with self.lock:
                self.version = migrate(self.conn)
        except (sqlite3.Error, sqlite_utils.db.TransactionError, JournalError) as exc:
            self.conn.close()
            raise JournalError(f"cannot migrate journal {path}: {exc}") from None

    # ---- connections ----------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            with self.lock:
                if self._closed:
                    raise JournalError(f"journal {self.path} is closed")
                conn = connect(self.path)
                self._connections.append(conn)
            self._local.conn = conn
        return conn

    def check_file(self) -> None:
        """JournalError if the file we hold open is no longer the one at our
        path (deleted, or replaced by another): writing on would put rows in
        a ghost that nobody will ever read or sync."""
        now = _inode(self.path)
        if now != self.inode:
            what = "deleted" if now is None else "replaced by another file"
            raise JournalError(f"journal {self.path} was {what} while the kiosk ran")

    def _write(self, work: Callable[[sqlite3.Connection], object]):
        """``work`` in one committed IMMEDIATE transaction; durable on return."""
        self.check_file()
        try:
            conn = self._conn()
            with self.lock:
                return transaction(conn, work)
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path}: {exc}") from None

    def _read(self, sql: str, params: Iterable = ()) -> list[dict]:
        try:
            cursor = self._conn().execute(sql, tuple(params))
            names = [c[0] for c in cursor.description]
            return [dict(zip(names, values)) for values in cursor.fetchall()]
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path}: {exc}") from None

    # ---- writing --------------------------------------------------------------

    def row(self, decision: Decision) -> dict:
        """The stored form of a decision: hashed, masked, sealed."""
        identity = decision.identity
        number = identity.number if identity else None
        extra = json.dumps(decision.extra, sort_keys=True, default=str) if decision.extra else None
        reason = decision.reason
        if number:
            # Free text is the one place a number could slip in by accident.
            extra = extra.replace(number, mask(number)) if extra else extra
            reason = reason.replace(number, mask(number))
        return {
            "id": decision.id, "at": utc_iso(decision.at), "kind": decision.kind,
            "person": person_hash(number, self.person_key) if number else None,
            "masked": decision.masked,
            "sealed": seal(number, self.public_key) if number and self.public_key else None,
            "colour": decision.colour, "decision": decision.decision, "reason": reason,
            "staff_id": decision.staff_id, "latency_ms": decision.latency_ms,
            "reference": decision.reference, "cached": int(decision.cached),
            "clock_synced": int(decision.clock_synced), "mono": decision.mono,
            "extra": extra, "synced_at": None,
        }

    _INSERT = f"INSERT INTO decisions ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"

    def append(self, decision: Decision) -> None:
        """Durable on return: one committed transaction, fsynced (FULL)."""
        self.append_all([decision])

    def append_all(self, decisions: Iterable[Decision]) -> None:
        """Several decisions (a group admitted at once) in one transaction.
        Plain SQL, not table.insert(): sqlite-utils introspects the table on
        every insert, which costs more than the fsync on a Pi."""
        rows = [tuple(row[c] for c in COLUMNS) for row in map(self.row, decisions)]
        self._write(lambda conn: conn.executemany(self._INSERT, rows))

    def mark_synced(self, ids: Iterable[str], at: Optional[dt.datetime] = None) -> int:
        """Record that the collector holds these rows; returns how many changed."""
        stamp = utc_iso(at or dt.datetime.now(dt.timezone.utc))
        marks = [(stamp, i) for i in ids]
        return self._write(lambda conn: conn.executemany(
            "UPDATE decisions SET synced_at = ? WHERE id = ? AND synced_at IS NULL", marks).rowcount)

    def purge(self, older_than_days: int, now: Optional[dt.datetime] = None) -> int:
        """Drop synced rows past retention; an unsynced row is never dropped."""
        cutoff = utc_iso((now or dt.datetime.now(dt.timezone.utc)) - dt.timedelta(days=older_than_days))
        return self._write(lambda conn: conn.execute(
            "DELETE FROM decisions WHERE synced_at IS NOT NULL AND at < ?", (cutoff,)).rowcount)

    # ---- reading --------------------------------------------------------------

    def unsynced(self, limit: int) -> list[dict]:
        """The oldest rows the collector has not confirmed, as protocol events
        (docs/sync-protocol.md): no clear numbers, ``extra`` as an object."""
        rows = self._read(f"SELECT {', '.join(EVENT_FIELDS)} FROM decisions "
                          "WHERE synced_at IS NULL ORDER BY at, rowid LIMIT ?", (limit,))
        for row in rows:
            row["extra"] = json.loads(row["extra"]) if row["extra"] else {}
        return rows

    def backlog(self) -> int:
        return self._read("SELECT count(*) AS n FROM decisions WHERE synced_at IS NULL")[0]["n"]

    def last_synced(self) -> Optional[str]:
        """When the collector last confirmed a row (UTC ISO-8601), or None."""
        return self._read("SELECT max(synced_at) AS at FROM decisions")[0]["at"]

    def recent(self, count: int = 20) -> list[dict]:
        """The newest rows, newest first, for the technician."""
        return self._read("SELECT * FROM decisions ORDER BY at DESC, rowid DESC LIMIT ?", (count,))

    def lookups_since(self, since: dt.datetime) -> list[str]:
        """When each decision that needed a status lookup was made, oldest
        first, since ``since``: the anti-probing limit's memory across a
        restart. A lookup's row has the answer's colour, or a lookup-* reason
        when it failed; exemptions, staff rows and rate-limited scans asked
        nobody."""
        rows = self._read("SELECT at FROM decisions WHERE at >= ? AND kind != 'none' AND "
                          "(colour != 'unknown' OR reason LIKE 'lookup-%') ORDER BY at",
                          (utc_iso(since),))
        return [row["at"] for row in rows]

    def counted_since(self, since: dt.datetime) -> list[dict]:
        """The ``extra`` of every row that counted people in or out (or
        corrected the count) since ``since``, oldest first: the occupancy
        counts' memory across a restart (kiosk.core.door.counts_from_rows)."""
        rows = self._read("SELECT extra FROM decisions WHERE at >= ? AND extra LIKE '%\"count\"%' "
                          "ORDER BY at, rowid", (utc_iso(since),))
        return [json.loads(row["extra"]) for row in rows]

    def quick_check(self) -> str:
        """SQLite's quick structural check: ``"ok"`` or the problems found."""
        rows = self._read("PRAGMA quick_check")
        return "\n".join(str(next(iter(r.values()))) for r in rows)

    def integrity_check(self) -> str:
        """SQLite's own verdict on the file: ``"ok"`` or the problems found."""
        rows = self._read("PRAGMA integrity_check")
        return "\n".join(str(next(iter(r.values()))) for r in rows)

    def close(self) -> None:
        """Close every thread's connection; the last one checkpoints the WAL."""
        with self.lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for conn in reversed(connections):  # the opening thread's last
            try:
                conn.close()
            except sqlite3.Error:
                pass


def _inode(path: str) -> Optional[tuple[int, int]]:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def preflight(folder: str, min_free: int = MIN_FREE_BYTES) -> None:
    """JournalError unless ``folder`` can take writes now: it exists, a probe
    file can be written and fsynced (a read-only mount or a full disk fails
    here, even for root), and ``min_free`` bytes are left. The daemon runs
    this before READY: a kiosk that cannot record must not serve."""
    probe = os.path.join(folder, f".write-probe-{os.getpid()}")
    try:
        os.makedirs(folder, exist_ok=True)
        with open(probe, "wb") as handle:
            handle.write(b"\0" * PROBE_BYTES)
            handle.flush()
            os.fsync(handle.fileno())
        stat = os.statvfs(folder)
    except OSError as exc:
        raise JournalError(f"state folder {folder} cannot be written: "
                           f"{exc.strerror or exc}") from None
    finally:
        try:
            os.unlink(probe)
        except OSError:
            pass
    free = stat.f_bavail * stat.f_frsize
    if free < min_free:
        raise JournalError(f"state folder {folder} has only {free // 1024} KiB free "
                           f"(at least {min_free // 1024} KiB needed)")

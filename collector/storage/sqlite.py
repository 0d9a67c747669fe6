"""SQLite storage: the embedded default for the demo and a single venue.

One connection behind a lock (SQLite has one writer anyway), WAL with
synchronous=FULL so a commit survives a power cut before the kiosk hears 200.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from typing import Any, Optional, Sequence

from .base import EVENT_COLUMNS, Storage, StorageError, decision_sums, hourly, latest_per_kiosk
from .fleet import heartbeat_columns
from .occupancy import OccupancyStore

CHUNK = 1000  # rows per INSERT: 18 parameters each, under SQLite's 32,766


def _ts(value: Optional[dt.datetime]) -> Optional[str]:
    """Fixed-width UTC text, so comparing text compares time."""
    if value is None:
        return None
    return value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def _time(text: Any) -> Optional[dt.datetime]:
    return dt.datetime.fromisoformat(text) if text else None


def _json(text: Any) -> Any:
    return json.loads(text) if text else None


class SqliteStorage(OccupancyStore, Storage):
    dialect = "sqlite"

    def __init__(self, path: str):
        self.path = path
        self.lock = threading.Lock()
        try:
            self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA busy_timeout=10000")
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open {path}: {exc}") from None

    def _write(self, work):
        with self.lock:
            try:
                self.db.execute("BEGIN IMMEDIATE")
                try:
                    result = work(self.db)
                    self.db.execute("COMMIT")
                    return result
                except BaseException:
                    self.db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise StorageError(f"sqlite: {exc}") from None

    def _read(self, sql: str, args: Sequence = ()) -> list[dict]:
        with self.lock:
            try:
                cursor = self.db.execute(sql, args)
                names = [c[0] for c in cursor.description]
                return [dict(zip(names, row)) for row in cursor.fetchall()]
            except sqlite3.Error as exc:
                raise StorageError(f"sqlite: {exc}") from None

    # ---- adapters for OccupancyStore ----------------------------------------------

    def _tx(self, work):
        return self._write(work)

    @staticmethod
    def _all(db, sql: str, args=()) -> list[dict]:
        cursor = db.execute(sql, args)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    @staticmethod
    def _exec(db, sql: str, args=()) -> int:
        return db.execute(sql, args).rowcount

    _stamp = staticmethod(_ts)
    _unstamp = staticmethod(_time)
    _unjson = staticmethod(_json)

    def _migrate(self, pending, latest: int) -> int:
        def work(db):
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = db.execute("SELECT max(version) FROM schema_version").fetchone()
            current = row[0] or 0
            for version, step in pending(current):
                for sql in step:
                    db.execute(sql)
                db.execute("INSERT INTO schema_version VALUES (?)", (version,))
            return max(current, latest)
        return self._write(work)

    def close(self) -> None:
        with self.lock:
            self.db.close()

    # ---- kiosks ----------------------------------------------------------------

    def set_maintenance(self, kiosk_id, on):
        return self._write(lambda db: db.execute(
            "UPDATE kiosks SET maintenance = ? WHERE kiosk_id = ?", (int(on), kiosk_id)).rowcount) > 0

    # ---- events ----------------------------------------------------------------

    def ingest(self, rows):
        given = rows
        rows = [tuple(_ts(v) if isinstance(v, dt.datetime) else v for v in row) for row in rows]

        def work(db):
            new: set[str] = set()
            for start in range(0, len(rows), CHUNK):
                chunk = rows[start:start + CHUNK]
                marks = ", ".join([f"({', '.join('?' * len(EVENT_COLUMNS))})"] * len(chunk))
                cursor = db.execute(
                    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES {marks} "
                    "ON CONFLICT (kiosk_id, id) DO NOTHING RETURNING id",
                    [v for row in chunk for v in row])
                new.update(r[0] for r in cursor.fetchall())
            stored = [r for r in given if r[1] in new]
            counted = hourly(stored)
            db.executemany(
                "INSERT INTO counts (kiosk_id, hour, decision, reason, n) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (kiosk_id, hour, decision, reason) DO UPDATE SET n = n + excluded.n",
                [(k, _ts(h), d, r, n) for k, h, d, r, n in counted])
            db.executemany(
                "INSERT INTO decision_totals (shard, decision, n) VALUES (0, ?, ?) "
                "ON CONFLICT (shard, decision) DO UPDATE SET n = n + excluded.n",
                decision_sums(counted))
            return [r[1] for r in stored]
        return self._write(work)

    def event_ids(self, kiosk_id=None):
        where, args = (" WHERE kiosk_id = ?", (kiosk_id,)) if kiosk_id else ("", ())
        return [r["id"] for r in self._read(f"SELECT id FROM events{where} ORDER BY rowid", args)]

    def events(self, kiosk_id=None, limit=1000):
        where, args = (" WHERE kiosk_id = ?", (kiosk_id,)) if kiosk_id else ("", ())
        rows = self._read(f"SELECT * FROM events{where} ORDER BY rowid LIMIT ?", (*args, limit))
        for row in rows:
            row["at"], row["received_at"] = _time(row["at"]), _time(row["received_at"])
            row["extra"] = _json(row["extra"])
        return rows

    def counts(self, *, since, until, venue=None, kiosk_id=None):
        sql = ("SELECT c.kiosk_id, c.hour, c.decision, c.reason, c.n FROM counts c "
               "JOIN kiosks k ON k.kiosk_id = c.kiosk_id WHERE c.hour >= ? AND c.hour < ?")
        args: list = [_ts(since), _ts(until)]
        if venue is not None:
            sql, args = sql + " AND k.venue = ?", args + [venue]
        if kiosk_id is not None:
            sql, args = sql + " AND c.kiosk_id = ?", args + [kiosk_id]
        rows = self._read(sql + " ORDER BY c.hour, c.kiosk_id, c.decision, c.reason", args)
        for row in rows:
            row["hour"] = _time(row["hour"])
        return rows

    def purge(self, before):
        cutoff = _ts(before)
        return self._write(lambda db: {
            "events": db.execute("DELETE FROM events WHERE received_at < ?", (cutoff,)).rowcount,
            "heartbeats": db.execute("DELETE FROM heartbeats WHERE received_at < ?", (cutoff,)).rowcount})

    # ---- heartbeats ------------------------------------------------------------

    def record_heartbeats(self, beats):
        rows = [(k, _ts(at), json.dumps(data, sort_keys=True)) for k, data, at in beats]
        latest = []
        for kiosk_id, data, at in latest_per_kiosk(beats):
            troubled, last_sync, order, backlog = heartbeat_columns(data)
            latest.append((_ts(at), json.dumps(data, sort_keys=True), troubled, _ts(last_sync), order, backlog,
                           kiosk_id))

        def work(db):
            db.executemany("INSERT INTO heartbeats (kiosk_id, received_at, data) VALUES (?, ?, ?)", rows)
            db.executemany("UPDATE kiosks SET last_seen = ?, last_heartbeat = ?, troubled = ?, last_sync = ?, "
                           "version_order = ?, backlog = ? WHERE kiosk_id = ?", latest)
        self._write(work)

    def heartbeats(self, kiosk_id, since=None, limit=1000):
        sql, args = "SELECT received_at, data FROM heartbeats WHERE kiosk_id = ?", [kiosk_id]
        if since is not None:
            sql, args = sql + " AND received_at >= ?", args + [_ts(since)]
        rows = self._read(sql + " ORDER BY received_at DESC LIMIT ?", (*args, limit))
        return [{"received_at": _time(r["received_at"]), "data": _json(r["data"])} for r in rows]

    # ---- audit -----------------------------------------------------------------

    def record_trace(self, *, operator, reason, venue, since, until, at):
        return self._write(lambda db: db.execute(
            "INSERT INTO trace_log (at, operator, reason, venue, since, until) VALUES (?, ?, ?, ?, ?, ?)",
            (_ts(at), operator, reason, venue, _ts(since), _ts(until))).lastrowid)

    def finish_trace(self, trace_id, rows):
        self._write(lambda db: db.execute("UPDATE trace_log SET rows = ? WHERE id = ?", (rows, trace_id)))

    def trace_log(self):
        rows = self._read("SELECT * FROM trace_log ORDER BY id")
        for row in rows:
            for key in ("at", "since", "until"):
                row[key] = _time(row[key])
        return rows

    # ---- fleet page (appended by collector/web) --------------------------------

    def put_user(self, username, password_hash, role, venues=()):
        self._write(lambda db: db.execute(
            "INSERT INTO users (username, password_hash, role, venues, created_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, "
            "role = excluded.role, venues = excluded.venues",
            (username, password_hash, role, json.dumps(list(venues)), _ts(dt.datetime.now(dt.timezone.utc)))))

    def user(self, username):
        rows = self._read("SELECT * FROM users WHERE username = ?", (username,))
        for row in rows:
            row["venues"], row["created_at"] = _json(row["venues"]), _time(row["created_at"])
        return rows[0] if rows else None

    def users(self):
        rows = self._read("SELECT username, role, venues, created_at FROM users ORDER BY username")
        for row in rows:
            row["venues"], row["created_at"] = _json(row["venues"]), _time(row["created_at"])
        return rows

    def delete_user(self, username):
        return self._write(lambda db: db.execute(
            "DELETE FROM users WHERE username = ?", (username,)).rowcount) > 0

    def web_secret(self, name, make):
        def work(db):
            db.execute("INSERT INTO web_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                       (name, make()))
            return db.execute("SELECT value FROM web_secrets WHERE name = ?", (name,)).fetchone()[0]
        return self._write(work)

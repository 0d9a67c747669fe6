"""PostgreSQL storage (psycopg 3) for fleets: several collector instances can
serve one database, since each request is one short transaction (ingest:
collector/storage/pg_ingest.py).
"""
from __future__ import annotations

import json

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from . import pg_ingest
from .base import Storage, StorageError, latest_per_kiosk
from .fleet import heartbeat_columns
from .occupancy import OccupancyStore

MIGRATION_LOCK = 0x4153_4859  # "ASHY": one instance migrates, the others wait


class PostgresStorage(OccupancyStore, Storage):
    dialect = "postgres"
    param = "%s"

    def __init__(self, conninfo: str, *, min_size: int = 1, max_size: int = 10, timeout: float = 10):
        self.conninfo = conninfo  # ingest workers open their own pools on it (collector/ingest.py)
        try:
            self.pool = ConnectionPool(conninfo, min_size=min_size, max_size=max_size, timeout=timeout,
                                       kwargs={"row_factory": dict_row}, open=True)
            self.pool.wait(timeout=timeout)
        except (psycopg.Error, PoolTimeout) as exc:
            raise StorageError(f"cannot reach PostgreSQL: {exc}") from None

    def _run(self, work):
        """``work(conn)`` in one transaction, committed on return."""
        try:
            with self.pool.connection() as conn:
                with conn.transaction():
                    return work(conn)
        except (psycopg.Error, PoolTimeout) as exc:
            raise StorageError(f"postgres: {type(exc).__name__}: {exc}") from None

    def _read(self, sql: str, args=()) -> list[dict]:
        return self._run(lambda conn: conn.execute(sql, args).fetchall())

    # ---- adapters for OccupancyStore ----------------------------------------------

    def _tx(self, work):
        return self._run(work)

    @staticmethod
    def _all(conn, sql: str, args=()) -> list[dict]:
        return conn.execute(sql.replace("?", "%s"), args).fetchall()

    @staticmethod
    def _exec(conn, sql: str, args=()) -> int:
        return conn.execute(sql.replace("?", "%s"), args).rowcount

    @staticmethod
    def _stamp(value):
        return value

    _unstamp = _unjson = _stamp  # psycopg already gives datetimes and dicts

    def _migrate(self, pending, latest: int) -> int:
        def work(conn):
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            current = conn.execute("SELECT max(version) AS v FROM schema_version").fetchone()["v"] or 0
            for version, step in pending(current):
                for sql in step:
                    conn.execute(sql)
                conn.execute("INSERT INTO schema_version VALUES (%s)", (version,))
            return max(current, latest)
        return self._run(work)

    def close(self) -> None:
        self.pool.close()

    # ---- kiosks ----------------------------------------------------------------

    def set_maintenance(self, kiosk_id, on):
        return self._run(lambda conn: conn.execute(
            "UPDATE kiosks SET maintenance = %s WHERE kiosk_id = %s", (int(on), kiosk_id)).rowcount) > 0

    # ---- events ----------------------------------------------------------------

    def ingest(self, rows):
        return [ident for _, ident in self.ingest_pairs(rows)]

    def ingest_pairs(self, rows):
        if not rows:
            return []
        if len(rows) <= pg_ingest.SMALL:
            return self._alone(lambda conn: pg_ingest.store_small(conn, rows))
        return self._run(lambda conn: pg_ingest.store_staged(conn, rows))

    def _alone(self, work):
        """``work(conn)`` as one statement in its own implicit transaction:
        no BEGIN and COMMIT round trips."""
        try:
            with self.pool.connection() as conn:
                conn.autocommit = True
                try:
                    return work(conn)
                finally:
                    conn.autocommit = False
        except (psycopg.Error, PoolTimeout) as exc:
            raise StorageError(f"postgres: {type(exc).__name__}: {exc}") from None

    def event_ids(self, kiosk_id=None):
        where, args = (" WHERE kiosk_id = %s", (kiosk_id,)) if kiosk_id else ("", ())
        return [r["id"] for r in self._read(f"SELECT id FROM events{where} ORDER BY received_at, id", args)]

    def events(self, kiosk_id=None, limit=1000):
        where, args = (" WHERE kiosk_id = %s", (kiosk_id,)) if kiosk_id else ("", ())
        return self._read(f"SELECT * FROM events{where} ORDER BY received_at, at LIMIT %s", (*args, limit))

    def counts(self, *, since, until, venue=None, kiosk_id=None):
        sql = ("SELECT c.kiosk_id, c.hour, c.decision, c.reason, c.n FROM counts c "
               "JOIN kiosks k ON k.kiosk_id = c.kiosk_id WHERE c.hour >= %s AND c.hour < %s")
        args: list = [since, until]
        if venue is not None:
            sql, args = sql + " AND k.venue = %s", args + [venue]
        if kiosk_id is not None:
            sql, args = sql + " AND c.kiosk_id = %s", args + [kiosk_id]
        return self._read(sql + " ORDER BY c.hour, c.kiosk_id, c.decision, c.reason", args)

    def purge(self, before):
        return self._run(lambda conn: {
            "events": conn.execute("DELETE FROM events WHERE received_at < %s", (before,)).rowcount,
            "heartbeats": conn.execute("DELETE FROM heartbeats WHERE received_at < %s", (before,)).rowcount})

    # ---- heartbeats ------------------------------------------------------------

    def record_heartbeats(self, beats):
        if not beats:
            return
        latest = latest_per_kiosk(beats)
        summaries = [heartbeat_columns(b[1]) for b in latest]

        def work(conn):
            # A heartbeat lost in a crash is replaced 30 s later: not worth an fsync wait.
            conn.execute("SET LOCAL synchronous_commit = off")
            conn.execute("INSERT INTO heartbeats (kiosk_id, received_at, data) "
                         "SELECT * FROM unnest(%s::text[], %s::timestamptz[], %s::jsonb[])",
                         ([b[0] for b in beats], [b[2] for b in beats], [json.dumps(b[1]) for b in beats]))
            conn.execute("UPDATE kiosks SET last_seen = b.at, last_heartbeat = b.data, troubled = b.troubled, "
                         "last_sync = b.last_sync, version_order = b.version_order, backlog = b.backlog FROM "
                         "unnest(%s::text[], %s::timestamptz[], %s::jsonb[], %s::int[], %s::timestamptz[], "
                         "%s::text[], %s::bigint[]) AS b(kiosk_id, at, data, troubled, last_sync, version_order, "
                         "backlog) WHERE kiosks.kiosk_id = b.kiosk_id",
                         ([b[0] for b in latest], [b[2] for b in latest], [json.dumps(b[1]) for b in latest],
                          *[list(column) for column in zip(*summaries)]))
        self._run(work)

    def heartbeats(self, kiosk_id, since=None, limit=1000):
        sql, args = "SELECT received_at, data FROM heartbeats WHERE kiosk_id = %s", [kiosk_id]
        if since is not None:
            sql, args = sql + " AND received_at >= %s", args + [since]
        return self._read(sql + " ORDER BY received_at DESC LIMIT %s", (*args, limit))

    # ---- audit -----------------------------------------------------------------

    def record_trace(self, *, operator, reason, venue, since, until, at):
        return self._run(lambda conn: conn.execute(
            "INSERT INTO trace_log (at, operator, reason, venue, since, until) "
            "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (at, operator, reason, venue, since, until)).fetchone()["id"])

    def finish_trace(self, trace_id, rows):
        self._run(lambda conn: conn.execute("UPDATE trace_log SET rows = %s WHERE id = %s", (rows, trace_id)))

    def trace_log(self):
        return self._read("SELECT * FROM trace_log ORDER BY id")

    # ---- fleet page (appended by collector/web) --------------------------------

    def put_user(self, username, password_hash, role, venues=()):
        self._run(lambda conn: conn.execute(
            "INSERT INTO users (username, password_hash, role, venues, created_at) "
            "VALUES (%s, %s, %s, %s, now()) ON CONFLICT (username) DO UPDATE SET "
            "password_hash = excluded.password_hash, role = excluded.role, venues = excluded.venues",
            (username, password_hash, role, Jsonb(list(venues)))))

    def user(self, username):
        rows = self._read("SELECT * FROM users WHERE username = %s", (username,))
        return rows[0] if rows else None

    def users(self):
        return self._read("SELECT username, role, venues, created_at FROM users ORDER BY username")

    def delete_user(self, username):
        return self._run(lambda conn: conn.execute(
            "DELETE FROM users WHERE username = %s", (username,)).rowcount) > 0

    def web_secret(self, name, make):
        def work(conn):
            conn.execute("INSERT INTO web_secrets (name, value) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
                         (name, make()))
            return conn.execute("SELECT value FROM web_secrets WHERE name = %s", (name,)).fetchone()["value"]
        return self._run(work)

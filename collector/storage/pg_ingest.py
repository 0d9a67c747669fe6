"""A batch of events into PostgreSQL in as few round trips and as little
Python as it can: the events and their hourly counts in one statement.

- A kiosk's usual sync (a few events every 30 s) is one statement with the
  rows as arrays, in its own implicit transaction: one round trip. A fleet
  sends 10,000 of these a minute, so BEGIN, a temporary table and COMMIT
  each cost more than the rows.
- A backlog's batch (hundreds to 10,000 events) goes by binary COPY into a
  per-connection staging table, then the same statement reads it: psycopg
  encodes COPY rows in C, where arrays were built in Python and held the
  GIL for most of a batch (bench/RESULTS.md, "Collector ingest").

Either way the statement inserts what is new, counts only what it inserted
(so a resent batch counts nothing twice) and returns the new ids. Each row
arrives with its hour, computed by ``base.hour_of``, the one home of that rule.
"""
from __future__ import annotations

import json

from psycopg.types.json import set_json_dumps

from .base import EVENT_COLUMNS, hour_of

SMALL = 64  # rows; above this COPY's fixed cost is worth paying
SHARDS = 64  # rows of decision totals per decision, one per connection
COLUMNS = (*EVENT_COLUMNS, "hour")
TYPES = {"at": "timestamptz", "received_at": "timestamptz", "latency_ms": "float8", "mono": "float8",
         "cached": "int4", "clock_synced": "int4", "extra": "jsonb", "hour": "timestamptz"}
STAGING = ("CREATE TEMPORARY TABLE IF NOT EXISTS staging_events (LIKE events, hour timestamptz) "
           "ON COMMIT DELETE ROWS")
COPY = f"COPY staging_events ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
_ALL = ", ".join(EVENT_COLUMNS)


def _statement(source: str) -> str:
    # Counts are upserted in key order so two batches cannot deadlock.
    return (f"WITH input AS ({source}), "
            f"new AS (INSERT INTO events ({_ALL}) SELECT {_ALL} FROM input "
            "ON CONFLICT (kiosk_id, id) DO NOTHING RETURNING kiosk_id, id), "
            "counted AS (INSERT INTO counts (kiosk_id, hour, decision, reason, n) "
            "SELECT i.kiosk_id, i.hour, coalesce(i.decision, ''), coalesce(i.reason, ''), count(*) "
            "FROM input i JOIN new USING (kiosk_id, id) GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4 "
            "ON CONFLICT (kiosk_id, hour, decision, reason) DO UPDATE SET n = counts.n + excluded.n), "
            # Each connection adds to its own shard of the totals, so two
            # ingests never queue for one row (migrations.py, step 4).
            "totalled AS (INSERT INTO decision_totals (shard, decision, n) "
            f"SELECT mod(pg_backend_pid(), {SHARDS}), coalesce(i.decision, ''), count(*) "
            "FROM input i JOIN new USING (kiosk_id, id) GROUP BY 1, 2 ORDER BY 1, 2 "
            "ON CONFLICT (shard, decision) DO UPDATE SET n = decision_totals.n + excluded.n) "
            "SELECT kiosk_id, id FROM new")


ARRAYS = _statement("SELECT * FROM unnest(" + ", ".join(f"%s::{TYPES.get(c, 'text')}[]" for c in COLUMNS)
                    + f") AS i({', '.join(COLUMNS)})")
STAGED = _statement("SELECT * FROM staging_events")


def _json_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def with_hours(rows) -> list[tuple]:
    return [(*row, hour_of(row[2], row[3])) for row in rows]


def store_small(conn, rows) -> list[tuple[str, str]]:
    """Rows as arrays, one statement; ``conn`` in autocommit. Returns the
    (kiosk_id, id) newly stored."""
    columns = [list(column) for column in zip(*with_hours(rows))]
    return [(r["kiosk_id"], r["id"]) for r in conn.execute(ARRAYS, columns).fetchall()]


def store_staged(conn, rows) -> list[tuple[str, str]]:
    """Rows by COPY, then one statement; ``conn`` inside a transaction. The
    staging table lives as long as the pooled connection; a commit empties
    it, a rollback discards what this batch put in."""
    conn.execute(STAGING)
    cursor = conn.cursor()
    set_json_dumps(_json_text, context=cursor)  # `extra` is already JSON text
    with cursor.copy(COPY) as copy:
        copy.set_types([TYPES.get(c, "text") for c in COLUMNS])
        for row in with_hours(rows):
            copy.write_row(row)
    return [(r["kiosk_id"], r["id"]) for r in conn.execute(STAGED).fetchall()]

"""Schema versions for both databases, applied in order by ``Storage.migrate``.

One text per step, written once with type placeholders so SQLite and
PostgreSQL cannot drift apart. Times are TIMESTAMPTZ in PostgreSQL and UTC
ISO-8601 text (same width, so text order is time order) in SQLite. A new step
is appended, never edited: a deployed database has already run the old ones.
"""
from __future__ import annotations

TYPES = {
    "sqlite": {"TS": "TEXT", "JSON": "TEXT", "REAL": "REAL", "SERIAL": "INTEGER PRIMARY KEY AUTOINCREMENT",
               "BIGINT": "INTEGER", "FIRST": "'1970-01-01T00:00:00.000000+00:00'"},
    "postgres": {"TS": "TIMESTAMPTZ", "JSON": "JSONB", "REAL": "DOUBLE PRECISION",
                 "SERIAL": "BIGSERIAL PRIMARY KEY", "BIGINT": "BIGINT",
                 "FIRST": "TIMESTAMPTZ '1970-01-01 00:00:00+00'"},
}

# (version, why, statements)
STEPS: list[tuple[int, str, list[str]]] = [
    (1, "kiosks, events idempotent on (kiosk, id), counts per hour, heartbeats, trace audit", [
        """CREATE TABLE kiosks (
            kiosk_id TEXT PRIMARY KEY,
            token_hash TEXT NOT NULL,
            venue TEXT NOT NULL DEFAULT '',
            name TEXT NOT NULL DEFAULT '',
            maintenance INTEGER NOT NULL DEFAULT 0,
            created_at {TS} NOT NULL,
            last_seen {TS},
            last_heartbeat {JSON})""",
        # No clear number anywhere: `sealed` is the kiosk's sealed box, opened
        # only by the audited trace command with a key given at that moment.
        """CREATE TABLE events (
            kiosk_id TEXT NOT NULL,
            id TEXT NOT NULL,
            at {TS},
            received_at {TS} NOT NULL,
            kind TEXT, person TEXT, masked TEXT, sealed TEXT, colour TEXT,
            decision TEXT, reason TEXT, staff_id TEXT, latency_ms {REAL},
            reference TEXT, cached INTEGER, clock_synced INTEGER, mono {REAL},
            extra {JSON},
            PRIMARY KEY (kiosk_id, id))""",
        "CREATE INDEX events_at ON events (at)",
        "CREATE INDEX events_kiosk_at ON events (kiosk_id, at)",
        # Kept past the events' retention: totals for inspectors hold no person.
        """CREATE TABLE counts (
            kiosk_id TEXT NOT NULL,
            hour {TS} NOT NULL,
            decision TEXT NOT NULL,
            reason TEXT NOT NULL,
            n {BIGINT} NOT NULL,
            PRIMARY KEY (kiosk_id, hour, decision, reason))""",
        "CREATE INDEX counts_hour ON counts (hour)",
        """CREATE TABLE heartbeats (
            kiosk_id TEXT NOT NULL,
            received_at {TS} NOT NULL,
            data {JSON} NOT NULL)""",
        "CREATE INDEX heartbeats_kiosk ON heartbeats (kiosk_id, received_at)",
        """CREATE TABLE trace_log (
            id {SERIAL},
            at {TS} NOT NULL,
            operator TEXT NOT NULL,
            reason TEXT NOT NULL,
            venue TEXT NOT NULL,
            since {TS} NOT NULL,
            until {TS} NOT NULL,
            rows {BIGINT})""",
    ]),
    # Appended by the fleet page (collector/web).
    (2, "fleet page: users with scrypt password hashes and roles; secrets every instance shares", [
        """CREATE TABLE users (
            username TEXT PRIMARY KEY,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL,
            venues {JSON} NOT NULL,
            created_at {TS} NOT NULL)""",
        # The session cookie's signing key lives here, made once by whichever
        # instance asks first, so every instance behind a balancer accepts it.
        """CREATE TABLE web_secrets (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL)""",
    ]),
    (3, "venue occupancy: each door's cumulative counts per period, the venue's limit, its history", [
        # One row per door and business day; a heartbeat replaces it only with
        # newer counts (more `changes`), so a repeated or late beat is harmless.
        """CREATE TABLE occupancy (
            kiosk_id TEXT NOT NULL,
            period TEXT NOT NULL,
            venue TEXT NOT NULL,
            door TEXT NOT NULL,
            entries {BIGINT} NOT NULL,
            exits {BIGINT} NOT NULL,
            adjust {BIGINT} NOT NULL,
            changes {BIGINT} NOT NULL,
            updated_at {TS} NOT NULL,
            PRIMARY KEY (kiosk_id, period))""",
        "CREATE INDEX occupancy_venue ON occupancy (venue, period)",
        """CREATE TABLE venue_limits (
            venue TEXT PRIMARY KEY,
            capacity {BIGINT} NOT NULL DEFAULT 0,
            limit_text TEXT NOT NULL DEFAULT '',
            updated_at {TS} NOT NULL,
            updated_by TEXT NOT NULL DEFAULT '')""",
        # The venue's total each time a door's counts moved: the day's curve.
        """CREATE TABLE occupancy_log (
            venue TEXT NOT NULL,
            period TEXT NOT NULL,
            at {TS} NOT NULL,
            total {BIGINT} NOT NULL)""",
        "CREATE INDEX occupancy_log_venue ON occupancy_log (venue, period, at)",
    ]),
    (4, "fleet list ranked in SQL: each kiosk's health summary beside its latest heartbeat; "
        "decision totals kept as they are counted", [
        # Written with every heartbeat (health.summary). NULL version_order
        # marks a kiosk whose heartbeat predates this step: Storage.migrate
        # fills those in once, without overwriting a newer heartbeat's.
        "ALTER TABLE kiosks ADD COLUMN troubled INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE kiosks ADD COLUMN last_sync {TS}",
        "ALTER TABLE kiosks ADD COLUMN version_order TEXT",
        "ALTER TABLE kiosks ADD COLUMN backlog {BIGINT}",
        "CREATE INDEX kiosks_venue ON kiosks (venue)",
        # /metrics' decision counters without summing millions of hourly
        # counts per scrape. Each writer adds to its own shard (PostgreSQL:
        # its backend), so concurrent ingests never wait on one row.
        """CREATE TABLE decision_totals (
            shard INTEGER NOT NULL,
            decision TEXT NOT NULL,
            n {BIGINT} NOT NULL,
            PRIMARY KEY (shard, decision))""",
        "INSERT INTO decision_totals (shard, decision, n) SELECT 0, decision, sum(n) FROM counts "
        "GROUP BY decision",
    ]),
    (5, "each kiosk's venues over time, so a trace of a venue opens only what happened there", [
        # storage/kiosks.py: a row when a kiosk is added ({FIRST}: its
        # events from before it was registered are its first venue's) and
        # one each time it is moved. Today's kiosks start where they are.
        """CREATE TABLE kiosk_venues (
            kiosk_id TEXT NOT NULL,
            venue TEXT NOT NULL,
            since {TS} NOT NULL,
            PRIMARY KEY (kiosk_id, since))""",
        "CREATE INDEX kiosk_venues_venue ON kiosk_venues (venue)",
        "INSERT INTO kiosk_venues (kiosk_id, venue, since) SELECT kiosk_id, venue, {FIRST} FROM kiosks",
    ]),
    (6, "fleet page: logging out ends the user's sessions on the server too", [
        # Part of the session's fingerprint (web/auth.py); logout replaces it.
        "ALTER TABLE users ADD COLUMN session_key TEXT NOT NULL DEFAULT ''",
    ]),
]

LATEST = STEPS[-1][0]


def statements(dialect: str, after: int) -> list[tuple[int, list[str]]]:
    """The steps a database at version ``after`` still needs, in ``dialect``."""
    types = TYPES[dialect]
    return [(version, [s.format(**types) for s in step]) for version, _, step in STEPS if version > after]

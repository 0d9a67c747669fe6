"""The one storage interface both databases implement, and what they share.

The web app and the command line see only this. Methods take and return
plain values (str, int, dict, aware datetimes in UTC) so a backend is a
translation of SQL, nothing more. Add methods; do not change these.
"""
from __future__ import annotations

import datetime as dt
import secrets
from abc import ABC, abstractmethod
from collections import Counter
from typing import Optional, Sequence

from .fleet import FleetStore
from .kiosks import KioskStore
from .migrations import LATEST, statements

# The columns of an event as ``protocol.event_row`` produces them, in order.
EVENT_COLUMNS = ("kiosk_id", "id", "at", "received_at", "kind", "person", "masked", "sealed",
                 "colour", "decision", "reason", "staff_id", "latency_ms", "reference", "cached",
                 "clock_synced", "mono", "extra")


class StorageError(Exception):
    """The database failed or is unreachable; the request may be retried."""


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def hour_of(at: Optional[dt.datetime], received: dt.datetime) -> dt.datetime:
    """The UTC hour an event is counted in (its own time, else its arrival)."""
    return (at or received).astimezone(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)


def latest_per_kiosk(beats: Sequence[tuple]) -> list[tuple]:
    """(kiosk_id, data, received_at) keeping each kiosk's newest, sorted by kiosk
    so concurrent writers update rows in one order."""
    newest: dict = {}
    for beat in beats:
        if beat[0] not in newest or beat[2] >= newest[beat[0]][2]:
            newest[beat[0]] = beat
    return [newest[k] for k in sorted(newest)]


def hourly(rows: Sequence[tuple]) -> list[tuple]:
    """(kiosk_id, hour, decision, reason, n) for newly stored event rows,
    sorted so two writers upsert in one order and cannot deadlock."""
    index = {name: i for i, name in enumerate(EVENT_COLUMNS)}
    tally = Counter((r[index["kiosk_id"]], hour_of(r[index["at"]], r[index["received_at"]]),
                     r[index["decision"]] or "", r[index["reason"]] or "") for r in rows)
    return sorted((*key, n) for key, n in tally.items())


def decision_sums(counted: Sequence[tuple]) -> list[tuple[str, int]]:
    """(decision, n) summed over ``hourly``'s rows, in decision order."""
    sums: Counter = Counter()
    for _, _, decision, _, n in counted:
        sums[decision] += n
    return sorted(sums.items())


class Storage(KioskStore, FleetStore, ABC):
    """What the collector keeps. Every write commits before it returns."""

    dialect = ""
    param = "?"  # the driver's placeholder in SQL written here once for both

    # ---- schema ----------------------------------------------------------------

    def migrate(self) -> int:
        """Bring the schema to the latest version; returns the version.
        Safe when several instances start at once (each backend locks)."""
        version = self._migrate(lambda current: statements(self.dialect, current), LATEST)
        self._summarise_old_heartbeats()
        return version

    @abstractmethod
    def _migrate(self, pending, latest: int) -> int: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- kiosks ----------------------------------------------------------------

    def token_hash(self, kiosk_id: str) -> Optional[str]:
        """The stored hash of the kiosk's token, None for an unknown kiosk."""
        rows = self._read(f"SELECT token_hash FROM kiosks WHERE kiosk_id = {self.param}", (kiosk_id,))
        return rows[0]["token_hash"] if rows else None

    def token_hashes(self) -> dict[str, str]:
        """Every kiosk's token hash, to warm the app's token cache at start."""
        return {r["kiosk_id"]: r["token_hash"] for r in self._read("SELECT kiosk_id, token_hash FROM kiosks")}

    @abstractmethod
    def _read(self, sql: str, args: Sequence = ()) -> list[dict]:
        """Rows of one query as dicts, ``self.param`` standing for each argument."""

    @abstractmethod
    def set_maintenance(self, kiosk_id: str, on: bool) -> bool:
        """Mark a kiosk in (or out of) maintenance; False for an unknown kiosk."""

    # ---- events ----------------------------------------------------------------

    @abstractmethod
    def ingest(self, rows: Sequence[tuple]) -> list[str]:
        """Store event rows (EVENT_COLUMNS order, all from one kiosk) in one
        committed transaction; returns the ids newly stored. A row whose
        (kiosk_id, id) is already there is left as it was."""

    def ingest_pairs(self, rows: Sequence[tuple]) -> list[tuple[str, str]]:
        """Rows of several kiosks (no (kiosk_id, id) twice) in one committed
        transaction where the backend can; the (kiosk_id, id) newly stored."""
        by_kiosk: dict[str, list[tuple]] = {}
        for row in rows:
            by_kiosk.setdefault(row[0], []).append(row)
        return [(kiosk, ident) for kiosk, mine in by_kiosk.items() for ident in self.ingest(mine)]

    @abstractmethod
    def event_ids(self, kiosk_id: Optional[str] = None) -> list[str]: ...

    @abstractmethod
    def events(self, kiosk_id: Optional[str] = None, limit: int = 1000) -> list[dict]:
        """Stored rows, oldest first (sealed numbers stay sealed)."""

    @abstractmethod
    def counts(self, *, since: dt.datetime, until: dt.datetime, venue: Optional[str] = None,
               kiosk_id: Optional[str] = None) -> list[dict]:
        """Decisions per hour: kiosk_id, hour, decision, reason, n; hours in
        [since, until). Kept after the events themselves are purged."""

    @abstractmethod
    def purge(self, before: dt.datetime) -> dict:
        """Delete events and heartbeats older than ``before``; {"events": n, "heartbeats": n}."""

    # ---- heartbeats ------------------------------------------------------------

    def record_heartbeat(self, kiosk_id: str, data: dict, received_at: dt.datetime) -> None:
        """Keep the heartbeat in the history and as the kiosk's latest."""
        self.record_heartbeats([(kiosk_id, data, received_at)])

    @abstractmethod
    def record_heartbeats(self, beats: Sequence[tuple[str, dict, dt.datetime]]) -> None:
        """Several (kiosk_id, data, received_at) in one transaction; the
        latest per kiosk becomes its last heartbeat, with its summary
        (storage/fleet.py) beside it."""

    @abstractmethod
    def heartbeats(self, kiosk_id: str, since: Optional[dt.datetime] = None,
                   limit: int = 1000) -> list[dict]:
        """The kiosk's heartbeats, newest first: received_at, data."""

    # ---- audit -----------------------------------------------------------------

    @abstractmethod
    def record_trace(self, *, operator: str, reason: str, venue: str, since: dt.datetime,
                     until: dt.datetime, at: dt.datetime) -> int:
        """Log a trace before anything is unsealed; returns its id."""

    @abstractmethod
    def finish_trace(self, trace_id: int, rows: int) -> None:
        """Record how many numbers the trace unsealed."""

    @abstractmethod
    def trace_log(self) -> list[dict]:
        """Every trace ever run, oldest first."""

    # ---- fleet page (appended by collector/web) --------------------------------

    @abstractmethod
    def put_user(self, username: str, password_hash: str, role: str, venues: Sequence[str] = ()) -> None:
        """Add a fleet page user or replace their password, role and venues."""

    @abstractmethod
    def user(self, username: str) -> Optional[dict]:
        """username, password_hash, role, venues (list), created_at,
        session_key; None if unknown."""

    @abstractmethod
    def users(self) -> list[dict]:
        """Every user, by name, without password hashes."""

    @abstractmethod
    def delete_user(self, username: str) -> bool:
        """Remove a user; False if there was none."""

    def end_sessions(self, username: str) -> None:
        """Every session of the user ends, on any instance (logging out):
        their session key, part of each session's fingerprint, is replaced."""
        self._tx(lambda db: self._exec(db, "UPDATE users SET session_key = ? WHERE username = ?",
                                       (secrets.token_urlsafe(16), username)))

    @abstractmethod
    def web_secret(self, name: str, make) -> str:
        """The secret called ``name``; the first caller stores ``make()``,
        everyone after (any instance) gets that same value."""

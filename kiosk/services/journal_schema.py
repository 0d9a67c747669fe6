"""The journal's file: its connections, its one kind of transaction and its
schema, which changes only through MIGRATIONS (append only; never edit one
that has shipped), applied in order at open, each in its own transaction and
counted in ``PRAGMA user_version``."""
from __future__ import annotations

import sqlite3
from typing import Callable, TypeVar

import sqlite_utils

from kiosk.core.errors import JournalError

T = TypeVar("T")
BUSY_SECONDS = 10.0  # another process's write (a technician's sync) is short


# ---- migrations: append only; never edit one that has shipped ---------------

def _v1(db: sqlite_utils.Database) -> None:
    db.table("decisions").create({
        "id": str, "at": str, "kind": str, "person": str, "masked": str, "sealed": str,
        "colour": str, "decision": str, "reason": str, "staff_id": str, "latency_ms": float,
        "reference": str, "cached": int, "clock_synced": int, "mono": float, "extra": str,
        "synced_at": str}, pk="id", not_null={"at", "kind", "colour", "decision", "reason"})
    # Serves "unsynced, oldest first" and the backlog count from the index alone.
    db.table("decisions").create_index(["synced_at", "at"])


def _v2(db: sqlite_utils.Database) -> None:
    # The offline cache of last known colours (kiosk/cache.py).
    db.table("statuses").create({"person": str, "colour": str, "checked_at": float}, pk="person")


def _v3(db: sqlite_utils.Database) -> None:
    # recent() and purge() by time: without it both sort or scan every row.
    db.table("decisions").create_index(["at"], index_name="decisions_at")
    db.table("statuses").create_index(["checked_at"], index_name="statuses_checked_at")


MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (_v1, _v2, _v3)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring a file to the newest schema, one transaction per step; returns
    the version. A file from newer code is refused, not downgraded."""
    db = sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise JournalError(f"journal schema v{version} is newer than this code (v{len(MIGRATIONS)})")
    for number in range(version + 1, len(MIGRATIONS) + 1):
        def step(conn: sqlite3.Connection, number: int = number) -> None:
            # Another process may have migrated while we waited for the lock.
            if conn.execute("PRAGMA user_version").fetchone()[0] < number:
                MIGRATIONS[number - 1](db)
                conn.execute(f"PRAGMA user_version = {number}")
        transaction(conn, step)
    return len(MIGRATIONS)


def transaction(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """``work`` in one IMMEDIATE transaction, committed (durable: WAL with
    synchronous=FULL) on return, rolled back on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
        conn.execute("COMMIT")
    except BaseException:
        _rollback(conn)
        raise
    return result


def _rollback(conn: sqlite3.Connection) -> None:
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except sqlite3.Error:
        pass  # the connection is gone; the transaction went with it


def connect(path: str) -> sqlite3.Connection:
    """A connection as every journal user needs it: autocommit (we BEGIN
    ourselves), WAL, synchronous=FULL (a per-connection setting), busy wait."""
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None,
                           timeout=BUSY_SECONDS)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
    except sqlite3.Error:
        conn.close()
        raise
    return conn

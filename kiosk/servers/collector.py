"""The reference collector: receives kiosks' journals (docs/sync-protocol.md),
stores each event once, and is the only place numbers are unsealed.

    ashyq-kiosk collector --db collector.sqlite --tokens tokens.toml \\
        --private-key-file collector.key
    ashyq-kiosk collector --keygen        # a keypair: private for here, public for kiosks

    >>> with Collector("c.sqlite", tokens={"door-1": "tok"}) as c:   # doctest: +SKIP
    ...     httpx.post(f"{c.url}/v1/kiosks/door-1/events", json={"events": []},
    ...                headers={"Authorization": "Bearer tok"}).json()
    {'stored': [], 'duplicates': []}

It commits before it answers, so an event it acknowledges is durable; an
event id it already has is a duplicate, never a second row. ``fault`` makes it
misbehave for tests: ``"error:503"`` answers that status, ``"drop"`` hangs up
without storing, ``"store-drop"`` stores, commits, then hangs up (a kiosk
that never heard the answer).
"""
from __future__ import annotations

import argparse
import datetime as dt
import hmac
import json
import os
import re
import sqlite3
import stat
import sys
import threading
import tomllib
from typing import Optional

from kiosk.servers.httpd import BackgroundServer, JsonHandler, serve
from kiosk.services.sealing import generate_keypair, unseal

ENDPOINT = re.compile(r"^/v1/kiosks/([A-Za-z0-9_.\-]{1,64})/events$")
MAX_BODY = 64 * 1024 * 1024  # 10,000 events (the largest batch_size) fit many times over
COLUMNS = {"at": "TEXT", "kind": "TEXT", "person": "TEXT", "masked": "TEXT", "sealed": "TEXT",
           "colour": "TEXT", "decision": "TEXT", "reason": "TEXT", "staff_id": "TEXT",
           "latency_ms": "REAL", "reference": "TEXT", "cached": "INTEGER",
           "clock_synced": "INTEGER", "mono": "REAL", "extra": "TEXT"}
SCHEMA = f"""CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY, kiosk_id TEXT NOT NULL, received_at TEXT NOT NULL, number TEXT,
    {', '.join(f'{name} {kind}' for name, kind in COLUMNS.items())})"""
INSERT = (f"INSERT OR IGNORE INTO events (id, kiosk_id, received_at, number, {', '.join(COLUMNS)}) "
          f"VALUES ({', '.join('?' * (len(COLUMNS) + 4))})")


def _valid(event) -> bool:
    return isinstance(event, dict) and isinstance(event.get("id"), str) and 0 < len(event["id"]) <= 64


class _Handler(JsonHandler):
    def do_POST(self):
        owner = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            return self.answer(413, {"error": f"body over {MAX_BODY} bytes"})
        raw = self.body()
        if owner.fault == "drop":
            self.close_connection = True
            return
        if owner.fault.startswith("error:"):
            return self.answer(int(owner.fault[6:]), {"error": "fault"})
        match = ENDPOINT.match(self.path)
        if not match:
            return self.answer(404, {"error": "no such endpoint"})
        kiosk_id = match.group(1)
        token = owner.tokens.get(kiosk_id, "")
        offered = self.headers.get("Authorization", "")
        if not token or not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
            return self.answer(401, {"error": "bad token"})
        try:
            events = json.loads(raw)["events"]
            if not isinstance(events, list) or not all(_valid(e) for e in events):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return self.answer(400, {"error": "body must be {\"events\": [{\"id\": ...}]}"})
        try:
            stored, duplicates = owner.store(kiosk_id, events)
        except sqlite3.Error:
            return self.answer(500, {"error": "storage failed; send again"})
        if owner.fault == "store-drop":
            self.close_connection = True
            return
        self.answer(200, {"stored": stored, "duplicates": duplicates})


class Collector(BackgroundServer):
    """The reference collector on a background thread; ``.url`` once built."""

    name = "collector"

    def __init__(self, db_path: str, *, tokens: dict, private_key_b64: str = "",
                 host: str = "127.0.0.1", port: int = 0, fault: str = ""):
        self.tokens = {str(k): str(v) for k, v in tokens.items()}
        self.private_key = private_key_b64
        self.fault = fault
        self.lock = threading.Lock()
        self.db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute(SCHEMA)
        super().__init__(_Handler, host=host, port=port)

    def _number(self, event: dict) -> Optional[str]:
        if not (self.private_key and isinstance(event.get("sealed"), str)):
            return None
        try:
            return unseal(event["sealed"], self.private_key)
        except ValueError:
            return None  # sealed to another collector's key: it stays sealed

    def _row(self, kiosk_id: str, received: str, event: dict) -> tuple:
        values = []
        for name in COLUMNS:
            value = event.get(name)
            if name == "extra" or isinstance(value, (dict, list)):
                value = json.dumps(value if value is not None else {}, sort_keys=True)
            values.append(value)
        return (event["id"], kiosk_id, received, self._number(event), *values)

    def store(self, kiosk_id: str, events: list[dict]) -> tuple[list, list]:
        """Insert what is new in one committed transaction; (stored, duplicates)."""
        received = dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")
        rows = [self._row(kiosk_id, received, e) for e in events]  # unseal outside the lock
        stored, duplicates = [], []
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for row in rows:
                    cursor = self.db.execute(INSERT, row)
                    (stored if cursor.rowcount else duplicates).append(row[0])
                self.db.execute("COMMIT")
            except sqlite3.Error:
                self.db.execute("ROLLBACK")
                raise
        return stored, duplicates

    def event_ids(self) -> list[str]:
        with self.lock:
            return [r[0] for r in self.db.execute("SELECT id FROM events ORDER BY rowid")]

    def events(self) -> list[dict]:
        """Every stored row (with the unsealed ``number`` where it could)."""
        with self.lock:
            cursor = self.db.execute("SELECT * FROM events ORDER BY rowid")
            names = [c[0] for c in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

    def stop(self) -> None:
        super().stop()
        with self.lock:
            self.db.close()


def keygen(out=None) -> int:
    """Print a new keypair: the private key stays at the collector, the public
    key goes into every kiosk's ``sync.collector_public_key``."""
    private, public = generate_keypair()
    print(f"private (collector only: save to a 0600 file for --private-key-file): {private}\n"
          f"public (kiosks: sync.collector_public_key): {public}", file=out or sys.stdout)
    return 0


def _read_private_key(path: str) -> str:
    if os.stat(path).st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        print(f"collector: warning: {path} is readable by others; run: chmod 600 {path}",
              file=sys.stderr)
    with open(path, encoding="ascii") as handle:
        return handle.read().strip()


def main(argv: Optional[list] = None) -> int:
    """``ashyq-kiosk collector``: serve until SIGTERM, or ``--keygen``."""
    parser = argparse.ArgumentParser(prog="ashyq-kiosk collector", description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="collector.sqlite")
    parser.add_argument("--tokens", help='TOML file: kiosk_id = "token"')
    parser.add_argument("--private-key-file", help="base64 private key (from --keygen)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--keygen", action="store_true", help="print a new keypair and exit")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--"]:  # `ashyq-kiosk collector -- --keygen` through a passthrough parser
        argv = argv[1:]
    args = parser.parse_args(argv)
    if args.keygen:
        return keygen()
    try:
        tokens = {}
        if args.tokens:
            with open(args.tokens, "rb") as handle:
                tokens = tomllib.load(handle)
        private = _read_private_key(args.private_key_file) if args.private_key_file else ""
        collector = Collector(args.db, tokens=tokens, private_key_b64=private, host=args.host,
                              port=args.port)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, sqlite3.Error) as exc:
        print(f"collector: {exc}", file=sys.stderr)
        return 2
    if not tokens:
        print("collector: warning: no --tokens: every kiosk will get 401", file=sys.stderr)
    return serve(collector, f"collector: {collector.url} ({len(tokens)} kiosks)")

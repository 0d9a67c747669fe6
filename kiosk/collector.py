"""The reference collector: receives kiosks' journals (docs/sync-protocol.md),
stores each event once, and is the only place numbers are unsealed.

    ashyq-kiosk collector --db collector.sqlite --tokens tokens.toml \\
        --private-key-file collector.key
    ashyq-kiosk collector --keygen        # a keypair: private for here, public for kiosks

It commits before it answers, so an event it acknowledges is durable; an
event id it already has is a duplicate, never a second row.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sqlite3
import sys
import threading
import tomllib
from typing import Optional

from .httpd import BackgroundServer, JsonHandler, serve
from .sealing import generate_keypair, unseal

ENDPOINT = re.compile(r"^/v1/kiosks/([A-Za-z0-9_.\-]{1,64})/events$")
FIELDS = ("id", "at", "kind", "person", "masked", "colour", "decision", "reason", "staff_id",
          "latency_ms", "reference", "cached", "clock_synced", "mono", "extra")
SCHEMA = f"""CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY, kiosk_id TEXT NOT NULL, received_at TEXT NOT NULL, number TEXT,
    {', '.join(f'{f} TEXT' for f in FIELDS[1:])})"""


class _Handler(JsonHandler):
    def do_POST(self):
        owner = self.owner
        match = ENDPOINT.match(self.path)
        raw = self.body()
        if owner.fault == "drop":
            self.close_connection = True
            return
        if owner.fault.startswith("error:"):
            return self.answer(int(owner.fault[6:]), {"error": "fault"})
        if not match:
            return self.answer(404, {"error": "no such endpoint"})
        kiosk_id = match.group(1)
        token = owner.tokens.get(kiosk_id)
        if not token or self.headers.get("Authorization") != f"Bearer {token}":
            return self.answer(401, {"error": "bad token"})
        try:
            events = json.loads(raw)["events"]
            if not isinstance(events, list) or not all(isinstance(e, dict) and e.get("id")
                                                       for e in events):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return self.answer(400, {"error": "body must be {\"events\": [{\"id\": ...}]}"})
        stored, duplicates = owner.store(kiosk_id, events)
        self.answer(200, {"stored": stored, "duplicates": duplicates})


class Collector(BackgroundServer):
    name = "collector"

    def __init__(self, db_path: str, *, tokens: dict, private_key_b64: str = "",
                 host: str = "127.0.0.1", port: int = 0, fault: str = ""):
        self.tokens = dict(tokens)
        self.private_key = private_key_b64
        self.fault = fault
        self.lock = threading.Lock()
        self.db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute(SCHEMA)
        super().__init__(_Handler, host=host, port=port)

    def _number(self, event: dict) -> Optional[str]:
        if not (self.private_key and event.get("sealed")):
            return None
        try:
            return unseal(event["sealed"], self.private_key)
        except Exception:  # noqa: BLE001 - a row sealed to another key stays sealed
            return None

    def store(self, kiosk_id: str, events: list[dict]) -> tuple[list, list]:
        received = dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")
        rows = []
        for e in events:
            values = [json.dumps(e.get(f)) if f == "extra" else e.get(f) for f in FIELDS]
            rows.append((e["id"], kiosk_id, received, self._number(e), *values[1:]))
        stored, duplicates = [], []
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for row in rows:
                    cursor = self.db.execute(
                        f"INSERT OR IGNORE INTO events (id, kiosk_id, received_at, number, "
                        f"{', '.join(FIELDS[1:])}) VALUES ({', '.join('?' * (len(FIELDS) + 3))})", row)
                    (stored if cursor.rowcount else duplicates).append(row[0])
                self.db.execute("COMMIT")
            except sqlite3.Error:
                self.db.execute("ROLLBACK")
                raise
        return stored, duplicates

    def event_ids(self) -> list[str]:
        with self.lock:
            return [r[0] for r in self.db.execute("SELECT id FROM events")]

    def stop(self) -> None:
        super().stop()
        with self.lock:
            self.db.close()


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="ashyq-kiosk collector", description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="collector.sqlite")
    parser.add_argument("--tokens", help='TOML file: kiosk_id = "token"')
    parser.add_argument("--private-key-file", help="base64 private key (from --keygen)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--keygen", action="store_true", help="print a new keypair and exit")
    args = parser.parse_args(argv)
    if args.keygen:
        private, public = generate_keypair()
        print(f"private (collector only, keep secret): {private}\npublic (sync.collector_public_key): {public}")
        return 0
    try:
        tokens = tomllib.load(open(args.tokens, "rb")) if args.tokens else {}
        private = open(args.private_key_file).read().strip() if args.private_key_file else ""
        collector = Collector(args.db, tokens=tokens, private_key_b64=private, host=args.host,
                              port=args.port)
    except (OSError, tomllib.TOMLDecodeError, sqlite3.Error) as exc:
        print(f"collector: {exc}", file=sys.stderr)
        return 2
    return serve(collector, f"collector: {collector.url} ({len(tokens)} kiosks)")

"""``ashyq-collector``: the service and its chores.

    ashyq-collector serve --db postgresql:///ashyq --port 8090
    ashyq-collector kiosk add door-1 --venue cafe-12     # prints door-1's token, once
    ashyq-collector keygen                               # the sealing keypair
    ashyq-collector trace --venue cafe-12 --since 2026-11-18T18:00+05:00 \\
        --until 2026-11-18T22:00+05:00 --operator "A. Nurlanov" --reason "case 4471" < key
    ashyq-collector purge --days 30

``--db`` (or ASHYQ_COLLECTOR_DB) is a SQLite path (the default,
collector.sqlite) or a postgresql:// URL.
"""
from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import sys
from typing import Optional

from .protocol import KIOSK_ID, hash_token, new_token
from .storage import StorageError, open_storage
from .storage.base import utc_now


def _serve(args) -> int:
    from .app import Settings, build_app
    from .server import serve
    metrics_token = ""
    if args.metrics_token_file:
        try:
            metrics_token = _secret_file(args.metrics_token_file)
        except (OSError, UnicodeDecodeError) as exc:
            print(f"collector: --metrics-token-file: {exc}", file=sys.stderr)
            return 2
        if not metrics_token:
            print(f"collector: --metrics-token-file: {args.metrics_token_file} is empty", file=sys.stderr)
            return 2
    storage = open_storage(args.db)
    settings = Settings(heartbeat_interval=args.interval, min_version=args.min_version,
                        retention_days=args.retention_days, metrics_token_hash=hash_token(metrics_token)
                        if metrics_token else "",
                        **({"ingest_workers": args.ingest_workers} if args.ingest_workers is not None else {}))
    routes = []
    try:
        from . import web  # the fleet page, when installed beside the API
        routes = list(web.routes(storage, settings))
    except ImportError:
        pass
    app = build_app(storage, settings, routes=routes)
    print(f"collector: http://{args.host}:{args.port}/ ({storage.dialect})", file=sys.stderr, flush=True)
    try:
        options: dict = {"http": args.http} if args.http else {}
        if args.trusted_proxy:  # the client's address from X-Forwarded-For, only from these
            options.update(proxy_headers=True, forwarded_allow_ips=",".join(args.trusted_proxy))
        return serve(app, host=args.host, port=args.port, reuse_port=args.reuse_port, **options)
    finally:
        storage.close()


def _kiosk(args) -> int:
    with open_storage(args.db) as storage:
        if args.action == "add":
            if not KIOSK_ID.match(args.kiosk_id):
                print("collector: a kiosk id is 1-64 of A-Z a-z 0-9 _ . -", file=sys.stderr)
                return 2
            token = args.token or new_token()
            storage.put_kiosk(args.kiosk_id, hash_token(token), venue=args.venue, name=args.name)
            if not args.token:
                print(f"{args.kiosk_id} token (put it in the kiosk's secrets as sync_token; "
                      f"it is stored only hashed): {token}")
        elif args.action == "list":
            for kiosk in storage.kiosks(args.venue):
                flag = "maintenance" if kiosk["maintenance"] else ""
                print("\t".join([kiosk["kiosk_id"], kiosk["venue"], str(kiosk["last_seen"] or "never"), flag]))
        else:
            if not storage.set_maintenance(args.kiosk_id, args.action == "maintenance"):
                print(f"collector: no kiosk {args.kiosk_id}", file=sys.stderr)
                return 1
    return 0


def _keygen(args) -> int:
    from .sealing import generate_keypair
    private, public = generate_keypair()
    print(f"private (keep offline; give it to `trace` only): {private}\n"
          f"public (kiosks: sync.collector_public_key): {public}")
    return 0


def _when(text: str) -> dt.datetime:
    at = dt.datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text}: give a time zone, e.g. +05:00")
    return at


def _secret_file(path: str) -> str:
    """A secret kept in a file only the service user reads: its text, stripped."""
    with open(path, encoding="utf-8") as handle:
        return handle.read().strip()


def _read_key(args) -> str:
    if args.private_key_file:
        return _secret_file(args.private_key_file)
    if sys.stdin.isatty():
        return getpass.getpass("private key: ").strip()
    return sys.stdin.readline().strip()


def _trace(args) -> int:
    from .trace import TraceRefused, trace
    try:
        key = _read_key(args)
        with open_storage(args.db) as storage:
            rows = trace(storage, venue=args.venue, since=args.since, until=args.until,
                         operator=args.operator, reason=args.reason, private_key_b64=key)
    except (TraceRefused, ValueError, OSError) as exc:
        print(f"trace: {exc}", file=sys.stderr)
        return 2
    for row in rows:
        print(f"{row['at'].isoformat() if row['at'] else '?'}\t{row['kiosk_id']}\t{row['decision']}\t"
              f"{row['number'] or row['masked'] or '(none)'}")
    print(f"trace: {len(rows)} decisions; this trace is in the audit log", file=sys.stderr)
    return 0


def _audit(args) -> int:
    with open_storage(args.db) as storage:
        for entry in storage.trace_log():
            print(f"{entry['at'].isoformat()}\t{entry['operator']}\t{entry['venue']}\t"
                  f"{entry['since'].isoformat()}..{entry['until'].isoformat()}\t"
                  f"{entry['rows'] if entry['rows'] is not None else 'unfinished'}\t{entry['reason']}")
    return 0


def _purge(args) -> int:
    with open_storage(args.db) as storage:
        purged = storage.purge(utc_now() - dt.timedelta(days=args.days))
    print(f"purged {purged['events']} events and {purged['heartbeats']} heartbeats "
          f"older than {args.days} days")
    return 0


def _migrate(args) -> int:
    with open_storage(args.db) as storage:
        print(f"schema up to date ({storage.dialect})")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="ashyq-collector", description=__doc__.splitlines()[0])
    top.add_argument("--db", default=os.environ.get("ASHYQ_COLLECTOR_DB", "collector.sqlite"),
                     help="SQLite path or postgresql:// URL (env ASHYQ_COLLECTOR_DB)")
    sub = top.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="serve the API (and the fleet page) until SIGTERM")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8090)
    p.add_argument("--interval", type=float, default=30, help="heartbeat interval told to kiosks")
    p.add_argument("--min-version", default="", help="kiosks below it are warned")
    p.add_argument("--retention-days", type=int, default=0, help="purge events older (0: keep)")
    p.add_argument("--http", choices=["httptools", "h11"],
                   help="HTTP parser: httptools (C, the default) or h11 (pure Python); both bounded")
    p.add_argument("--ingest-workers", type=int, metavar="N",
                   help="processes parsing and storing batches on PostgreSQL (default: one per core; 0: threads)")
    p.add_argument("--reuse-port", action="store_true",
                   help="share the port with other instances (one per core)")
    p.add_argument("--trusted-proxy", action="append", default=[], metavar="ADDR",
                   help="a reverse proxy whose X-Forwarded-For names the client (repeat for more)")
    p.add_argument("--metrics-token-file", metavar="FILE",
                   help="/metrics asks for this bearer token (Prometheus: authorization.credentials_file)")
    p.set_defaults(run=_serve)
    p = sub.add_parser("kiosk", help="add a kiosk (prints its token), list, maintenance on/off")
    p.add_argument("action", choices=["add", "list", "maintenance", "active"])
    p.add_argument("kiosk_id", nargs="?", default="")
    p.add_argument("--venue", default=None,
                   help="add: the kiosk's venue (a move from now on; omitted, an existing kiosk keeps its own)")
    p.add_argument("--name", default=None, help="add: a name for the fleet page (omitted: kept)")
    p.add_argument("--token", help="use this token instead of a new one (tests, migration)")
    p.set_defaults(run=_kiosk)
    sub.add_parser("keygen", help="print a sealing keypair").set_defaults(run=_keygen)
    p = sub.add_parser("trace", help="unseal a venue's numbers in a window (audited)")
    p.add_argument("--venue", required=True)
    p.add_argument("--since", type=_when, required=True)
    p.add_argument("--until", type=_when, required=True)
    p.add_argument("--operator", required=True)
    p.add_argument("--reason", required=True)
    p.add_argument("--private-key-file", help="else read from the terminal or stdin")
    p.set_defaults(run=_trace)
    sub.add_parser("audit", help="list every trace ever run").set_defaults(run=_audit)
    p = sub.add_parser("purge", help="delete events and heartbeats older than --days")
    p.add_argument("--days", type=int, required=True)
    p.set_defaults(run=_purge)
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(run=_migrate)
    _user_commands(sub)
    return top


def _user_commands(sub) -> None:
    """add-user / remove-user for the fleet page (collector/web/users.py)."""
    from .web.users import add_user, remove_user, ROLES
    p = sub.add_parser("add-user", help="add a fleet page user (or set their password, role, venues)")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=sorted(ROLES))
    p.add_argument("--venue", action="append", default=[], help="a manager's venue (repeat for more)")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the password from stdin (else asked twice on the terminal)")
    p.set_defaults(run=add_user)
    p = sub.add_parser("remove-user", help="remove a fleet page user (their sessions end)")
    p.add_argument("username")
    p.set_defaults(run=remove_user)


def main(argv: Optional[list] = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "kiosk" and args.action != "list" and not args.kiosk_id:
        print("collector: which kiosk?", file=sys.stderr)
        return 2
    try:
        return args.run(args)
    except StorageError as exc:
        print(f"collector: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""Journal and sync figures: durable appends per second (WAL, synchronous=FULL,
one committed transaction each) and the time to sync a 100,000-event backlog
to the collector service (SQLite, in-process uvicorn) over loopback.

    python -m bench.bench_sync [--appends 3000] [--backlog 100000]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import uuid

from bench.results import record

NUMBER = "871008401427"


def decision(identity, at):
    from kiosk.core.model import Decision
    return Decision(id=str(uuid.uuid4()), at=at, kind="iin", identity=identity, colour="green",
                    decision="admit", reason="green", latency_ms=2.0, mono=1.0)


def backlog_rows(journal, count: int, chunk: int = 5000) -> None:
    """Fill the journal fast (5,000 rows a transaction): the backlog, not the
    append rate, is measured here."""
    from kiosk.core.documents import parse
    identity = parse(NUMBER.encode(), today=dt.date.today())
    at = dt.datetime.now(dt.timezone.utc)
    for start in range(0, count, chunk):
        journal.append_all(decision(identity, at + dt.timedelta(milliseconds=i))
                           for i in range(start, min(count, start + chunk)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=3000)
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--profile", action="store_true", help="cProfile the sync (client side)")
    parser.add_argument("--no-record", action="store_true", help="print only, do not append")
    args = parser.parse_args(argv)
    from collector.app import build_app
    from collector.protocol import hash_token
    from collector.server import BackgroundServer
    from collector.storage import open_storage
    from kiosk.core.documents import parse
    from kiosk.services.journal import Journal
    from kiosk.services.sealing import generate_keypair
    from kiosk.services.sync import Syncer

    folder = tempfile.mkdtemp(prefix="bench-sync-")
    _, public = generate_keypair()  # the collector never holds the private half
    journal = Journal(os.path.join(folder, "journal.sqlite"), person_key=b"bench",
                      collector_public_key=public)
    identity = parse(NUMBER.encode(), today=dt.date.today())
    now = dt.datetime.now(dt.timezone.utc)
    start = time.perf_counter()
    for _ in range(args.appends):
        journal.append(decision(identity, now))
    appends = args.appends / (time.perf_counter() - start)

    journal.purge(0, now=now + dt.timedelta(days=1))  # nothing synced yet: nothing goes
    journal.mark_synced(e["id"] for e in journal.unsynced(args.appends))
    journal.purge(0, now=now + dt.timedelta(days=1))
    backlog_rows(journal, args.backlog)
    storage = open_storage(os.path.join(folder, "collector.sqlite"))
    storage.put_kiosk("bench", hash_token("tok"))
    with BackgroundServer(build_app(storage)) as collector:
        syncer = Syncer(journal, collector.url, "bench", "tok", batch_size=args.batch)
        start = time.perf_counter()
        if args.profile:
            import cProfile
            import pstats
            profiler = cProfile.Profile()
            profiler.enable()
        sent, stored, duplicates = syncer.sync_once()
        seconds = time.perf_counter() - start
        if args.profile:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        syncer.client.close()
        at_collector = len(storage.event_ids())
    storage.close()
    left = journal.backlog()
    journal.close()
    verdict = lambda ok: "met" if ok else "MISSED"
    report = print_only if args.no_record else record
    report("Journal appends and sync of a backlog (bench/bench_sync.py)", [
        f"- Durable journal appends (WAL, synchronous=FULL, sealed number, one transaction each): "
        f"**{appends:.0f}/s** over {args.appends} (target >= 500/s: {verdict(appends >= 500)}).",
        f"- Sync of a {args.backlog:,}-event backlog to the collector service (SQLite) on loopback, "
        f"batches of {args.batch}: **{seconds:.1f} s** ({sent / seconds:,.0f} events/s; "
        f"{stored:,} stored, {duplicates} duplicates, {at_collector:,} at the collector, "
        f"{left} left on the kiosk) "
        f"(target <= 30 s: {verdict(seconds <= 30)}).",
    ])
    return 0 if appends >= 500 and seconds <= 30 and left == 0 else 1


def print_only(title: str, lines: list[str]) -> None:
    print("\n".join([title, ""] + lines))


if __name__ == "__main__":
    sys.exit(main())

"""Fleet page latency with a large fleet, on SQLite and on PostgreSQL (from
Debian's package, as the tests start it): the fleet list cold (its cached
rows dropped before each request) and warm, a kiosk's page, a venue's
dashboard and /metrics, each over loopback through a logged-in session.

    python -m bench.bench_fleet [--kiosks 10000] [--requests 40] [--no-record]

The pages read kiosks, heartbeats and hourly counts, never the events table,
so the number of stored events does not enter these figures; the counts of
a whole day (24 hours x 4 outcomes per kiosk) are loaded.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time

from bench.results import percentile, record

UTC = dt.timezone.utc


def fill(storage, kiosks: int) -> None:
    from collector.protocol import event_rows
    now = dt.datetime.now(UTC)
    for i in range(kiosks):
        storage.put_kiosk(f"k{i:05d}", "h", venue=f"venue-{i // 4:04d}")
        storage.record_heartbeat(f"k{i:05d}", {"version": "0.2.0", "backlog": i % 7, "uptime_s": 3600,
                                               "devices": {"scanner": i % 50 != 0}}, now)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    outcomes = [("admit", "green"), ("deny", "red"), ("staff", "session-start")]
    for i in range(0, kiosks, max(kiosks // 400, 1)):  # a day of decisions at a sample of kiosks
        events = [{"id": f"{hour}-{n}", "at": (day + dt.timedelta(hours=hour, minutes=n)).isoformat(),
                   "decision": decision, "reason": reason}
                  for hour in range(24) for n, (decision, reason) in enumerate(outcomes)]
        storage.ingest(event_rows(f"k{i:05d}", {"events": events}, now))


def timed(client, path: str, count: int, before=None) -> list[float]:
    took = []
    for _ in range(count):
        if before:
            before()
        start = time.perf_counter()
        answer = client.get(path)
        took.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    return took


def run(url: str, label: str, kiosks: int, requests: int) -> list[str]:
    from starlette.routing import Mount
    from tests.fleet_site import FleetSite
    started = time.perf_counter()
    site = FleetSite(url)
    if hasattr(site.storage, "db"):  # SQLite: seeding need not survive a power cut
        site.storage.db.execute("PRAGMA synchronous=OFF")
    fill(site.storage, kiosks)
    seeded = time.perf_counter() - started
    with site:
        pages = [r for r in site.server.server.config.app.routes if isinstance(r, Mount)][0].app
        client = site.login("tech")
        figures = {
            "fleet list, first look (rows rebuilt)": timed(client, "/fleet/", requests, pages.state.fleet_cache.drop),
            "fleet list, kept warm": timed(client, "/fleet/", requests),
            "fleet list, last page": timed(client, f"/fleet/?page={max((kiosks + 99) // 100, 1)}", requests),
            "kiosk page": timed(client, "/fleet/kiosks/k00000", requests),
            "venue dashboard": timed(client, "/fleet/venues/venue-0000", requests),
            "/metrics": timed(client, "/metrics", max(requests // 4, 3)),
        }
    lines = [f"{label}, {kiosks} kiosks (seeded in {seeded:.0f} s), {requests} requests each:", "",
             "| page | p50 ms | p95 ms | max ms |", "|---|---|---|---|"]
    lines += [f"| {name} | {percentile(v, 50):.0f} | {percentile(v, 95):.0f} | {max(v):.0f} |"
              for name, v in figures.items()]
    return lines + [""]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiosks", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--no-record", action="store_true", help="print only, do not append")
    args = parser.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from tests.pg import PostgresServer
    lines = []
    with tempfile.TemporaryDirectory() as folder:
        lines += run(os.path.join(folder, "fleet.sqlite"), "SQLite", args.kiosks, args.requests)
    with PostgresServer() as pg:  # no fsync: the pages only read
        lines += run(pg.create_database(), "PostgreSQL", args.kiosks, args.requests)
    lines.append("Target (issue 16): fleet page p95 at most 300 ms with 10,000 kiosks.")
    if args.no_record:
        print("\n".join(lines))
    else:
        record("Fleet page latency (bench/bench_fleet.py)", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())

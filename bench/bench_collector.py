"""The collector under a fleet's load, on loopback against a real PostgreSQL
(Debian's package, started in a temporary folder, fsync on):

- ``--kiosks`` simulated kiosks (default 10,000) each heartbeat every
  ``--interval`` seconds (default 30), each on a new connection, as a kiosk does;
- ``--senders`` concurrent syncs post batches of ``--batch`` new events for a
  kiosk at a time, retrying a batch until it is acknowledged (as kiosk/sync.py);
- halfway through, the collector is SIGKILLed and started again;
- at the end every generated event id must be in PostgreSQL exactly once.

The collector runs as its own process(es) (``ashyq-collector serve``), the
simulated kiosks as two more (bench/collector_load.py); all share the
machine's cores with PostgreSQL.

    python -m bench.bench_collector [--seconds 120] [--kiosks 10000] [--kiosk-events 5]
                                    [--senders 4] [--batch 500] [--instances 1] [--no-record]
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

from bench import collector_load
from bench.results import percentile, record

EXTRA = os.environ.get("BENCH_COLLECTOR_ARGS", "").split()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listeners(port: int) -> int:
    """Sockets listening on ``port`` (one per instance with SO_REUSEPORT)."""
    with open("/proc/net/tcp", encoding="ascii") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return sum(1 for row in rows if row[1].endswith(f":{port:04X}") and row[3] == "0A")


def cpu_seconds(pid: int) -> float:
    """User + system CPU a live process and its live children have used
    (the collector's ingest workers are its children)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(entry) == pid or int(fields[1]) == pid:
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def start_collector(url: str, port: int, log) -> subprocess.Popen:
    script = os.path.join(os.path.dirname(sys.executable), "ashyq-collector")
    before = listeners(port)
    process = subprocess.Popen([script, "--db", url, "serve", "--port", str(port), "--reuse-port", *EXTRA],
                               stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if listeners(port) > before:
            return process
        if process.poll() is not None:
            raise RuntimeError("collector exited at start")
        time.sleep(0.05)
    raise RuntimeError("collector did not start")


def register(url: str, kiosks: list[str]) -> None:
    import psycopg

    from collector.protocol import hash_token
    from collector.storage import open_storage
    open_storage(url).close()  # migrations
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        cursor.executemany("INSERT INTO kiosks (kiosk_id, token_hash, venue, created_at) "
                           "VALUES (%s, %s, %s, now())",
                           [(k, hash_token(f"tok-{k}"), f"venue-{n // 3}") for n, k in enumerate(kiosks)])


def count_rows(url: str) -> tuple[int, int, tuple[int, int]]:
    """Rows, distinct ids, and what the hourly counts and the decision
    totals add up to (each must equal the rows: nothing counted twice)."""
    import psycopg
    with psycopg.connect(url) as conn:
        total = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        distinct = conn.execute("SELECT count(DISTINCT id) FROM events").fetchone()[0]
        counted = conn.execute("SELECT coalesce(sum(n), 0) FROM counts").fetchone()[0]
        totalled = conn.execute("SELECT coalesce(sum(n), 0) FROM decision_totals").fetchone()[0]
    return total, distinct, (int(counted), int(totalled))


def run(args, port: int, url: str, log) -> tuple[dict, float, float, tuple[float, float]]:
    """The collector(s) under the load processes; SIGKILLed and restarted
    at half time. Returns the load's figures merged, start, end, outage."""
    collectors = [start_collector(url, port, log) for _ in range(args.instances)]
    context = multiprocessing.get_context("spawn")
    stop, results = context.Event(), context.Queue()
    options = dict(port=port, kiosks=[f"k{n:05d}" for n in range(args.kiosks)], interval=args.interval,
                   kiosk_events=args.kiosk_events, senders=args.senders, batch=args.batch)
    roles = ["fleet"] + (["senders"] if args.senders else [])
    start = time.monotonic() + 1.0  # the children's interpreters start meanwhile
    children = [context.Process(target=collector_load.run, args=(role, options, start, stop, results))
                for role in roles]
    for child in children:
        child.start()
    time.sleep(max(0.0, start - time.monotonic()) + args.seconds / 2)
    cpu = sum(cpu_seconds(collector.pid) for collector in collectors)
    for collector in collectors:
        collector.send_signal(signal.SIGKILL)  # the harshest restart: no graceful drain
        collector.wait()
    killed = time.monotonic()
    collectors = [start_collector(url, port, log) for _ in range(args.instances)]
    back = time.monotonic()
    time.sleep(args.seconds / 2)
    stop.set()
    figures = [results.get(timeout=600)[1] for _ in children]
    end = time.monotonic()
    for child in children:
        child.join()
    cpu += sum(cpu_seconds(collector.pid) for collector in collectors)
    for collector in collectors:
        collector.send_signal(signal.SIGTERM)
        collector.wait(timeout=30)
    merged: dict = {}
    for part in figures:
        for key, value in part.items():
            if isinstance(value, dict):
                for kind, n in value.items():
                    merged.setdefault(key, {})[kind] = merged.get(key, {}).get(kind, 0) + n
            else:
                merged[key] = merged[key] + value if key in merged else value
    merged["collector_cpu"] = cpu
    return merged, start, end, (killed, back)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--kiosks", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=30)
    parser.add_argument("--senders", type=int, default=4, help="syncs pushing big batches flat out")
    parser.add_argument("--kiosk-events", type=int, default=5,
                        help="each kiosk also syncs this many new events every interval")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--instances", type=int, default=1, help="collector processes on one port")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    from tests.pg import PostgresServer
    with PostgresServer(fsync=True) as pg:
        url = pg.create_database("bench")
        register(url, [f"k{n:05d}" for n in range(args.kiosks)])
        log_path = os.path.join(tempfile.gettempdir(), f"bench-collector-{os.getpid()}.log")
        with open(log_path, "ab") as log:
            load, start, end, (killed, back) = run(args, free_port(), url, log)
        total, distinct, sums = count_rows(url)
    lines = report(args, load, end - start, (killed, back), total, distinct, pg.bin, log_path, sums)
    (print if args.no_record else lambda *_: None)("\n".join(lines))
    if not args.no_record:
        record("Collector under a fleet's load (bench/bench_collector.py)", lines)
    lost = len(set(load["generated"]) - set(load["acknowledged"]))
    return 0 if lost == 0 and total == distinct == sums[0] == sums[1] else 1


def report(args, load: dict, seconds: float, outage: tuple[float, float], total: int, distinct: int,
           pg_bin: str, log_path: str, sums: tuple[int, int]) -> list[str]:
    generated, acknowledged = set(load["generated"]), set(load["acknowledged"])
    lost = len(generated - acknowledged)
    rate = sum(n for _, n in load["acked"]) / seconds
    beats = load["beat_latency"]
    killed, back = outage  # steady state: leave out the restart and 5 s of catching up
    steady = [lat for lat, at in zip(beats, load["beat_times"]) if not killed <= at <= back + 5]
    steady_p50, steady_p99 = percentile(steady, 50) * 1000, percentile(steady, 99) * 1000
    syncs = load["sync_latency"]
    ok = lambda good: "met" if good else "MISSED"
    return [
        f"- Setup: {args.kiosks:,} simulated kiosks heartbeating every {args.interval:g} s (a new "
        f"connection each) and each syncing {args.kiosk_events} new events as often; "
        f"{args.senders} further syncs pushing {args.batch}-event batches flat out; "
        f"{seconds:.0f} s; {args.instances} `ashyq-collector serve --reuse-port {' '.join(EXTRA)}` "
        f"process(es) on one port (PostgreSQL {os.path.basename(os.path.dirname(pg_bin))}, fsync on, "
        f"unix socket); collector SIGKILLed and restarted at half time (down {back - killed:.1f} s). "
        f"The fleet and the senders are separate processes. Load average at the end "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.",
        f"- CPU: collector {load['collector_cpu'] / seconds:.2f} cores, load generator "
        f"{load['cpu_seconds'] / seconds:.2f} cores (the rest of the machine's two went to PostgreSQL).",
        f"- Ingest (new events acknowledged per second, whole run incl. the restart): "
        f"**{rate:,.0f} events/s** (target >= 20,000: {ok(rate >= 20_000)}).",
        f"- Heartbeats: {len(beats):,} answered ({len(beats) / seconds:,.0f}/s); outside the restart "
        f"and the 5 s after it p50 {steady_p50:.1f} ms, **p99 {steady_p99:.1f} ms** (target <= 50 ms: "
        f"{ok(steady_p99 <= 50)}); over the whole run p99 {percentile(beats, 99) * 1000:.1f} ms; "
        f"{load['beat_failures']} failed (refused while the collector was down)."
        + (f" Syncs: p50 {percentile(syncs, 50) * 1000:.1f} ms, p99 {percentile(syncs, 99) * 1000:.1f} ms."
           if syncs else ""),
        f"- Across the restart: {len(generated):,} events generated, {total:,} rows in "
        f"PostgreSQL ({distinct:,} distinct ids), **{lost} lost, {total - distinct} duplicated**; "
        f"{load['sync_failures']} batch attempts failed and were resent, {load['duplicates']} "
        f"events answered as duplicates on resend, {distinct - len(acknowledged)} stored but never acknowledged; "
        f"the hourly counts add up to {sums[0]:,} and the decision totals to {sums[1]:,} "
        f"({'both' if sums[0] == sums[1] == total else 'NOT both'} the rows stored).",
        f"- Failures by kind: {dict(sorted(load['failures'].items())) or 'none'}; collector log {log_path}.",
    ]


if __name__ == "__main__":
    sys.exit(main())

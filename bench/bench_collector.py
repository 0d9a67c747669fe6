"""The collector under a fleet's load, on loopback against a real PostgreSQL
(Debian's package, started in a temporary folder, fsync on):

- ``--kiosks`` simulated kiosks (default 10,000) each heartbeat every
  ``--interval`` seconds (default 30), each on a new connection, as a kiosk does;
- ``--senders`` concurrent syncs post batches of ``--batch`` new events for a
  kiosk at a time, retrying a batch until it is acknowledged (as kiosk/sync.py);
- halfway through, the collector is SIGKILLed and started again;
- at the end every generated event id must be in PostgreSQL exactly once.

The collector runs as its own process (``ashyq-collector serve``), the load
generator as this one; both share the machine's cores.

    python -m bench.bench_collector [--seconds 60] [--kiosks 10000] [--no-record]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

from bench.results import percentile, record

EXTRA = os.environ.get("BENCH_COLLECTOR_ARGS", "").split()
SEALED = "q" * 80  # the size of a sealed 12-digit number, base64


def event(kiosk: str, ident: str, at: str) -> dict:
    return {"id": ident, "at": at, "kind": "iin", "person": "f" * 32, "masked": "••••1427",
            "sealed": SEALED, "colour": "green", "decision": "admit", "reason": "green",
            "staff_id": None, "latency_ms": 41.5, "reference": None, "cached": 0,
            "clock_synced": 1, "mono": 1234.5, "extra": {}}


async def post(host: str, port: int, path: str, token: str, body: bytes,
               conn=None, timeout: float = 30) -> tuple[int, bytes, object]:
    """One HTTP/1.1 POST on ``conn`` (reader, writer) or a new connection;
    returns (status, body, conn). Hand-rolled: a Python HTTP client would be
    the bottleneck here, not the collector."""
    if conn is None:
        conn = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    reader, writer = conn
    writer.write(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
                 f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    answer = await asyncio.wait_for(reader.readexactly(length), timeout)
    return int(head.split()[1]), answer, conn


def close(conn) -> None:
    if conn is not None:
        conn[1].close()


class Load:
    def __init__(self, args, port: int):
        self.args, self.port = args, port
        self.kiosks = [f"k{n:05d}" for n in range(args.kiosks)]
        self.generated: set[str] = set()
        self.acknowledged: set[str] = set()
        self.duplicates_answered = 0
        self.beat_latency: list[float] = []
        self.sync_latency: list[float] = []
        self.beat_times: list[float] = []
        self.failure_kinds: dict[str, int] = {}
        self.beat_failures = 0
        self.sync_failures = 0
        self.acked_times: list[tuple[float, int]] = []
        self.stop = asyncio.Event()

    async def heartbeats(self, start: float) -> None:
        """Each kiosk at its own phase, every interval, a new connection each."""
        interval, rng = self.args.interval, random.Random(1)
        schedule = sorted((start + rng.uniform(0, interval), k) for k in self.kiosks)
        tasks = set()
        round_ = 0
        while not self.stop.is_set():
            for due, kiosk in schedule:
                due += round_ * interval
                delay = due - time.monotonic()
                if delay > 0:
                    try:
                        await asyncio.wait_for(self.stop.wait(), delay)
                        break
                    except TimeoutError:
                        pass
                for job in (self.beat(kiosk), self.kiosk_sync(kiosk)) if self.args.kiosk_events \
                        else (self.beat(kiosk),):
                    task = asyncio.create_task(job)
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
            round_ += 1
        await asyncio.gather(*tasks, return_exceptions=True)

    async def beat(self, kiosk: str) -> None:
        body = json.dumps({"version": "0.1.0", "uptime_s": 100, "backlog": 0, "devices": {"scanner": True},
                           "clock_synced": True, "journal_ok": True, "today": {"admit": 3}}).encode()
        begun = time.perf_counter()
        try:
            status, _, conn = await post("127.0.0.1", self.port, f"/v1/kiosks/{kiosk}/heartbeat",
                                         f"tok-{kiosk}", body, timeout=10)
            close(conn)
            if status == 200:
                self.beat_latency.append(time.perf_counter() - begun)
                self.beat_times.append(time.monotonic())
                return
            kind = f"heartbeat {status}"
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
            kind = f"heartbeat {type(exc).__name__}"
        self.failure_kinds[kind] = self.failure_kinds.get(kind, 0) + 1
        self.beat_failures += 1

    async def kiosk_sync(self, kiosk: str) -> None:
        """A kiosk's own sync of the few decisions since its last one."""
        at = time.strftime("%Y-%m-%dT%H:%M:%S.000+00:00", time.gmtime())
        ids = [uuid.uuid4().hex for _ in range(self.args.kiosk_events)]
        self.generated.update(ids)
        body = json.dumps({"events": [event(kiosk, i, at) for i in ids]}).encode()
        for attempt in range(100):
            begun = time.perf_counter()
            try:
                status, answer, conn = await post("127.0.0.1", self.port, f"/v1/kiosks/{kiosk}/events",
                                                  f"tok-{kiosk}", body, timeout=30)
                close(conn)
                if status == 200:
                    got = json.loads(answer)
                    self.acknowledged.update(got["stored"] + got["duplicates"])
                    self.sync_latency.append(time.perf_counter() - begun)
                    self.acked_times.append((time.monotonic(), len(ids)))
                    return
                self.failure_kinds[f"sync {status}"] = self.failure_kinds.get(f"sync {status}", 0) + 1
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                kind = f"sync {type(exc).__name__}"
                self.failure_kinds[kind] = self.failure_kinds.get(kind, 0) + 1
            self.sync_failures += 1
            # kiosk/sync.py's full-jitter backoff (capped lower for a short run)
            await asyncio.sleep(random.uniform(0, min(30, 2 ** min(attempt + 1, 10))))

    async def sender(self, number: int) -> None:
        """Batches for kiosks in turn; a batch is resent until acknowledged."""
        rng, conn = random.Random(number), None
        while not self.stop.is_set():
            kiosk = rng.choice(self.kiosks)
            at = time.strftime("%Y-%m-%dT%H:%M:%S.000+00:00", time.gmtime())
            ids = [uuid.uuid4().hex for _ in range(self.args.batch)]
            self.generated.update(ids)
            body = json.dumps({"events": [event(kiosk, i, at) for i in ids]}).encode()
            while True:
                try:
                    status, answer, conn = await post("127.0.0.1", self.port, f"/v1/kiosks/{kiosk}/events",
                                                      f"tok-{kiosk}", body, conn)
                    if status == 200:
                        got = json.loads(answer)
                        self.acknowledged.update(got["stored"] + got["duplicates"])
                        self.duplicates_answered += len(got["duplicates"])
                        self.acked_times.append((time.monotonic(), len(ids)))
                        break
                except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                    pass
                self.sync_failures += 1
                close(conn)
                conn = None
                await asyncio.sleep(0.2)  # the kiosk's backoff, shortened
        close(conn)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listeners(port: int) -> int:
    """Sockets listening on ``port`` (one per instance with SO_REUSEPORT)."""
    with open("/proc/net/tcp", encoding="ascii") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return sum(1 for row in rows if row[1].endswith(f":{port:04X}") and row[3] == "0A")


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


def count_rows(url: str) -> tuple[int, int]:
    import psycopg
    with psycopg.connect(url) as conn:
        total = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        distinct = conn.execute("SELECT count(DISTINCT id) FROM events").fetchone()[0]
    return total, distinct


async def run(args, port: int, url: str, log) -> tuple[Load, float, float, float]:
    load = Load(args, port)
    collectors = [start_collector(url, port, log) for _ in range(args.instances)]
    start = time.monotonic()
    tasks = [asyncio.create_task(load.heartbeats(start))]
    tasks += [asyncio.create_task(load.sender(n)) for n in range(args.senders)]
    await asyncio.sleep(args.seconds / 2)
    for collector in collectors:
        collector.send_signal(signal.SIGKILL)  # the harshest restart: no graceful drain
        collector.wait()
    killed = time.monotonic()
    collectors = [await asyncio.to_thread(start_collector, url, port, log) for _ in range(args.instances)]
    back = time.monotonic()
    await asyncio.sleep(args.seconds / 2)
    load.stop.set()
    await asyncio.gather(*tasks)
    end = time.monotonic()
    for collector in collectors:
        collector.send_signal(signal.SIGTERM)
        collector.wait(timeout=30)
    load.outage = (killed, back)
    return load, start, end, back - killed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--kiosks", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=30)
    parser.add_argument("--senders", type=int, default=8, help="syncs pushing big batches flat out")
    parser.add_argument("--kiosk-events", type=int, default=0,
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
            load, start, end, outage = asyncio.run(run(args, free_port(), url, log))
        total, distinct = count_rows(url)
    lost = len(load.generated - load.acknowledged)
    stored_not_acked = distinct - len(load.acknowledged)
    seconds = end - start
    rate = sum(n for _, n in load.acked_times) / seconds
    p50 = percentile(load.beat_latency, 50) * 1000
    p99 = percentile(load.beat_latency, 99) * 1000
    killed, back = load.outage  # steady state: leave out the restart and 5 s of catching up
    steady = [lat for lat, at in zip(load.beat_latency, load.beat_times) if not killed <= at <= back + 5]
    steady_p99 = percentile(steady, 99) * 1000
    beats_per_s = len(load.beat_latency) / seconds
    ok = lambda good: "met" if good else "MISSED"
    lines = [
        f"- Setup: {args.kiosks:,} simulated kiosks heartbeating every {args.interval:g} s (a new "
        f"connection each) and each syncing {args.kiosk_events} new events as often; "
        f"{args.senders} further syncs pushing {args.batch}-event batches flat out; "
        f"{seconds:.0f} s; {args.instances} `ashyq-collector serve --reuse-port {' '.join(EXTRA)}` "
        f"process(es) on one port (PostgreSQL "
        f"{os.path.basename(os.path.dirname(pg.bin))}, fsync on, unix socket); "
        f"collector SIGKILLed and restarted at half time (down {outage:.1f} s). "
        f"Load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine).",
        f"- Ingest (new events acknowledged per second, whole run incl. the restart): "
        f"**{rate:,.0f} events/s** (target >= 20,000: {ok(rate >= 20_000)}).",
        f"- Heartbeats: {len(load.beat_latency):,} answered ({beats_per_s:,.0f}/s), "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms over the whole run, **p99 {steady_p99:.1f} ms** "
        f"outside the restart and the 5 s after it (target <= 50 ms: {ok(steady_p99 <= 50)}); "
        f"{load.beat_failures} failed (refused while the collector was down)."
        + (f" Kiosks' own syncs: p99 {percentile(load.sync_latency, 99) * 1000:.1f} ms." if load.sync_latency else ""),
        f"- Across the restart: {len(load.generated):,} events generated, {total:,} rows in "
        f"PostgreSQL ({distinct:,} distinct ids), **{lost} lost, {total - distinct} duplicated**; "
        f"{load.sync_failures} batch attempts failed and were resent, {load.duplicates_answered} "
        f"events answered as duplicates on resend, {stored_not_acked} stored but never acknowledged.",
        f"- Failures by kind: {dict(sorted(load.failure_kinds.items())) or 'none'}; collector log {log_path}.",
    ]
    (print if args.no_record else lambda *_: None)("\n".join(lines))
    if not args.no_record:
        record("Collector under a fleet's load (bench/bench_collector.py)", lines)
    return 0 if lost == 0 and total == distinct else 1


if __name__ == "__main__":
    sys.exit(main())

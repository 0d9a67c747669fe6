"""The simulated kiosks of bench/bench_collector.py, each kind in its own
process so that the load generator's own work never stands in a heartbeat's
measured latency (one asyncio loop building 1,000-event bodies delayed the
heartbeats it was timing by tens of milliseconds):

- ``fleet``: every kiosk heartbeats every interval on a new connection, at its
  own phase, and (``kiosk_events`` > 0) syncs that many new events as often;
- ``senders``: syncs pushing big batches flat out on kept-alive connections,
  as kiosks catching up after an outage do; a batch is resent until acknowledged.

A process returns its figures as a dict through a queue when ``stop`` is set.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import time

SEALED = "q" * 80  # the size of a sealed 12-digit number, base64
HEARTBEAT = json.dumps({"version": "0.1.0", "uptime_s": 100, "backlog": 0, "devices": {"scanner": True},
                        "clock_synced": True, "journal_ok": True, "today": {"admit": 3}}).encode()


def event(ident: str, at: str) -> dict:
    return {"id": ident, "at": at, "kind": "iin", "person": "f" * 32, "masked": "••••1427",
            "sealed": SEALED, "colour": "green", "decision": "admit", "reason": "green",
            "staff_id": None, "latency_ms": 41.5, "reference": None, "cached": 0,
            "clock_synced": 1, "mono": 1234.5, "extra": {}}


class Bodies:
    """Event batches with ids unique across processes, built from a template
    (json.dumps of 1,000 dicts per batch cost the generator more than the
    collector spent storing them)."""

    def __init__(self):
        self.prefix = os.urandom(6).hex()
        self.serial = itertools.count()
        head, _, tail = json.dumps(event("\0", "\1")).partition('"\\u0000"')
        self.head, self.tail = head + '"', '"' + tail

    def batch(self, size: int) -> tuple[list[str], bytes]:
        at = time.strftime("%Y-%m-%dT%H:%M:%S.000+00:00", time.gmtime())
        ids = [f"{self.prefix}{next(self.serial):020x}" for _ in range(size)]
        tail = self.tail.replace('"\\u0001"', f'"{at}"')
        return ids, ('{"events": [' + ",".join(self.head + i + tail for i in ids) + "]}").encode()


async def post(port: int, path: str, token: str, body: bytes, conn=None,
               timeout: float = 30) -> tuple[int, bytes, object]:
    """One HTTP/1.1 POST on ``conn`` (reader, writer) or a new connection;
    returns (status, body, conn). Hand-rolled: a Python HTTP client would be
    the bottleneck here, not the collector."""
    if conn is None:
        conn = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    reader, writer = conn
    writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
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
    """One process's share of the load, and what it saw."""

    def __init__(self, options: dict, stop):
        self.options, self.stop = options, stop
        self.bodies = Bodies()
        self.figures: dict = {"generated": [], "acknowledged": [], "duplicates": 0, "beat_latency": [],
                              "beat_times": [], "sync_latency": [], "acked": [], "failures": {},
                              "beat_failures": 0, "sync_failures": 0}

    def failed(self, kind: str) -> None:
        self.figures["failures"][kind] = self.figures["failures"].get(kind, 0) + 1

    async def stopped(self, delay: float) -> bool:
        """Sleep ``delay`` seconds; True once the run is over."""
        end = time.monotonic() + delay
        while not self.stop.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return False
            await asyncio.sleep(min(left, 0.1))
        return True

    async def fleet(self, start: float) -> None:
        interval, kiosks = self.options["interval"], self.options["kiosks"]
        rng = random.Random(1)
        schedule = sorted((start + rng.uniform(0, interval), k) for k in kiosks)
        tasks: set = set()
        for round_ in itertools.count():
            for due, kiosk in schedule:
                if await self.stopped(due + round_ * interval - time.monotonic()):
                    await asyncio.gather(*tasks, return_exceptions=True)
                    return
                jobs = [self.beat(kiosk)] + ([self.sync(kiosk)] if self.options["kiosk_events"] else [])
                for job in jobs:
                    task = asyncio.create_task(job)
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)

    async def beat(self, kiosk: str) -> None:
        begun = time.perf_counter()
        try:
            status, _, conn = await post(self.options["port"], f"/v1/kiosks/{kiosk}/heartbeat",
                                         f"tok-{kiosk}", HEARTBEAT, timeout=10)
            close(conn)
            if status == 200:
                self.figures["beat_latency"].append(time.perf_counter() - begun)
                self.figures["beat_times"].append(time.monotonic())
                return
            self.failed(f"heartbeat {status}")
        except (OSError, asyncio.IncompleteReadError, TimeoutError, RuntimeError) as exc:
            # RuntimeError: uvloop refuses a write on a connection the collector's death closed.
            self.failed(f"heartbeat {type(exc).__name__}")
        self.figures["beat_failures"] += 1

    async def sync(self, kiosk: str, size: int = 0, conn=None) -> object:
        """One batch for ``kiosk``, resent until acknowledged (kiosk/sync.py's
        full-jitter backoff, capped lower for a short run); returns the
        connection to keep, or None."""
        ids, body = self.bodies.batch(size or self.options["kiosk_events"])
        self.figures["generated"].extend(ids)
        for attempt in itertools.count():
            begun = time.perf_counter()
            try:
                status, answer, conn = await post(self.options["port"], f"/v1/kiosks/{kiosk}/events",
                                                  f"tok-{kiosk}", body, conn)
                if status == 200:
                    got = json.loads(answer)
                    self.figures["acknowledged"].extend(got["stored"] + got["duplicates"])
                    self.figures["duplicates"] += len(got["duplicates"])
                    self.figures["sync_latency"].append(time.perf_counter() - begun)
                    self.figures["acked"].append((time.monotonic(), len(ids)))
                    return conn if size else close(conn)
                self.failed(f"sync {status}")
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError, RuntimeError) as exc:
                self.failed(f"sync {type(exc).__name__}")
            self.figures["sync_failures"] += 1
            close(conn)
            conn = None
            await asyncio.sleep(random.uniform(0, min(5.0, 0.1 * 2 ** min(attempt, 10))))
        return None

    async def sender(self, number: int) -> None:
        rng, conn = random.Random(number), None
        while not self.stop.is_set():
            conn = await self.sync(rng.choice(self.options["kiosks"]), self.options["batch"], conn)
        close(conn)


def run(role: str, options: dict, start: float, stop, results) -> None:
    """A child process's entry: ``role`` is "fleet" or "senders"."""
    load = Load(options, stop)

    async def main() -> None:
        if role == "fleet":
            await load.fleet(start)
        else:
            await asyncio.gather(*(load.sender(n) for n in range(options["senders"])))
    try:
        import uvloop  # the collector's own extra: a cheaper client loop, less noise in its timings
        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
    load.figures["cpu_seconds"] = time.process_time()
    results.put((role, load.figures))

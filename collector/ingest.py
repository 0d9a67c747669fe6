"""Where batches of events are parsed and stored: in worker processes beside
the server's event loop when the database can be shared (PostgreSQL), on
threads when it cannot (SQLite, the embedded default).

Parsing 1,000 events and encoding them for COPY is Python work that holds
the GIL for milliseconds at a time. On a thread of the server's own process
it starved the event loop: at 21,000 events/s a heartbeat waited 0.5-3 s for
its answer (bench/RESULTS.md). In a worker process it waits for nobody, and
ingest uses every core.

Batches are handed to a free worker; those arriving while every worker is
busy wait and go together to the next free one (collector/batches.py), so a
quiet fleet waits for nothing and a busy one needs fewer commits.

    ingester = Ingester(storage, workers=2)
    await ingester.start()
    answer = await ingester.ingest("door-1", raw_body)   # {"stored": [...], "duplicates": [...]}
    ingester.close()
"""
from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Optional

from .batches import answer_batches
from .protocol import MAX_DEPTH, BadRequest
from .storage import Storage, StorageError

log = logging.getLogger("ashyq.collector.ingest")
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WORKER_NICENESS = 5
THREADS = 4                      # SQLite: one writer at a time anyway
GATHER_BYTES = 4 * 1024 * 1024   # at most this much body in one worker's job (one big batch may exceed it)
_worker_storage: Optional[Storage] = None  # a worker process's own connection pool


def _answer_in_worker(batches: list[tuple[str, bytes]], max_depth: int) -> list:
    assert _worker_storage is not None, "not in an ingest worker"
    return answer_batches(batches, _worker_storage, max_depth)


def _start_worker(conninfo: str, server: int) -> None:
    """A worker's own pool on the same database. It ignores SIGTERM and
    SIGINT (systemd and a terminal signal the whole group) so the server's
    graceful shutdown can finish the batches in flight, then ends them."""
    global _worker_storage
    _die_with_parent(server)
    # Under full load a heartbeat's answer (the server's loop) goes first: a
    # batch waiting a little longer costs nothing, the kiosk keeps its rows.
    try:
        os.nice(WORKER_NICENESS)
    except OSError as exc:  # a seccomp filter without setpriority: equal priority, still correct
        log.warning("ingest worker keeps the server's priority: %s", exc)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from .storage.postgres import PostgresStorage
    _worker_storage = PostgresStorage(conninfo, min_size=1, max_size=2)


def _die_with_parent(server: int) -> None:
    """A worker outliving a SIGKILLed server would hold database connections
    and retry them for ever: the kernel kills it with its parent (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        log.warning("this platform cannot tie ingest workers to the server's life")
    if os.getppid() != server:  # it died before prctl took hold
        os._exit(1)


def _ready() -> int:
    return os.getpid()


class Ingester:
    """Batches in worker processes (``workers`` > 0 and a shareable database)
    or on threads of this process; at most ``slots`` jobs at a time."""

    def __init__(self, storage: Storage, *, workers: int = 0, max_depth: int = MAX_DEPTH):
        self.storage, self.max_depth = storage, max_depth
        self.conninfo: Optional[str] = getattr(storage, "conninfo", None)
        self.workers = workers if self.conninfo else 0
        self.slots = self.workers or THREADS
        self.pool: Optional[Executor] = None
        self.waiting: list[tuple[str, bytes, asyncio.Future]] = []
        self.busy = 0

    @property
    def in_processes(self) -> bool:
        return self.workers > 0

    def _new_pool(self) -> Executor:
        if not self.in_processes:
            return ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="ingest")
        # spawn, not fork: the server has threads (psycopg's pool, anyio's)
        # and a forked child would inherit their locks mid-use.
        initializer: Any = _start_worker  # typeshed wants initargs=() here
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=initializer, initargs=(self.conninfo, os.getpid()))

    async def start(self) -> None:
        """Start the workers now, so the first batches after a restart (a
        whole fleet's backlog) do not wait for interpreters to start."""
        self.pool = self._new_pool()
        if self.in_processes:
            loop = asyncio.get_running_loop()
            await asyncio.gather(*(loop.run_in_executor(self.pool, _ready) for _ in range(self.workers)))

    async def ingest(self, kiosk_id: str, raw: bytes) -> dict:
        """The kiosk's answer once its batch is committed; raises BadRequest
        for its batch alone, StorageError when it was not stored."""
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((kiosk_id, raw, future))
        self._pump()
        answer = await future
        if isinstance(answer, BadRequest):
            raise answer
        return answer

    def _pump(self) -> None:
        while self.waiting and self.busy < self.slots:
            taken, size = 0, 0
            while taken < len(self.waiting) and (taken == 0 or size + len(self.waiting[taken][1]) <= GATHER_BYTES):
                size += len(self.waiting[taken][1])
                taken += 1
            job, self.waiting = self.waiting[:taken], self.waiting[taken:]
            self.busy += 1
            asyncio.get_running_loop().create_task(self._store(job))

    async def _store(self, job: list[tuple[str, bytes, asyncio.Future]]) -> None:
        try:
            answers = await self._run([(kiosk_id, raw) for kiosk_id, raw, _ in job])
            for (_, _, future), answer in zip(job, answers):
                if not future.done():
                    future.set_result(answer)
        except Exception as exc:  # noqa: BLE001 - every waiting request hears it (503 or 500)
            for _, _, future in job:
                if not future.done():
                    future.set_exception(exc)
        finally:
            self.busy -= 1
            self._pump()

    async def _run(self, batches: list[tuple[str, bytes]]) -> list:
        if self.pool is None:
            self.pool = self._new_pool()
        loop, pool = asyncio.get_running_loop(), self.pool
        if not self.in_processes:
            return await loop.run_in_executor(pool, answer_batches, batches, self.storage, self.max_depth)
        try:
            return await loop.run_in_executor(pool, _answer_in_worker, batches, self.max_depth)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): its batches may or may
            # not be committed, which a resend settles; new workers take over.
            log.error("an ingest worker died; starting new ones")
            if self.pool is pool:
                self.pool = self._new_pool()
                pool.shutdown(wait=False)
            raise StorageError("ingest worker died; send again") from None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)
            self.pool = None

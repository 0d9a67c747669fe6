"""Where a batch of events is parsed and stored: in worker processes beside
the server's event loop when the database can be shared (PostgreSQL), on a
thread when it cannot (SQLite, the embedded default).

Parsing 1,000 events and encoding them for COPY is Python work that holds
the GIL for milliseconds at a time. On a thread of the server's own process
it starved the event loop: at 21,000 events/s a heartbeat waited 0.5-3 s for
its answer (bench/RESULTS.md). In a worker process it waits for nobody, and
ingest uses every core.

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

from .protocol import MAX_DEPTH, event_rows, parse_json
from .storage import Storage, StorageError
from .storage.base import utc_now

log = logging.getLogger("ashyq.collector.ingest")
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_worker_storage: Optional[Storage] = None  # a worker process's own connection pool


def ingest_batch(kiosk_id: str, raw: bytes, max_depth: int = MAX_DEPTH,
                 storage: Optional[Storage] = None) -> dict:
    """Parse, check and store one batch; the answer the kiosk gets. Raises
    protocol.BadRequest for a bad body, StorageError when it was not stored."""
    storage = storage or _worker_storage
    assert storage is not None, "ingest_batch outside a worker needs a storage"
    rows = event_rows(kiosk_id, parse_json(raw, max_depth=max_depth), utc_now())
    # Committed before we answer: a 200 means durable (docs/sync-protocol.md).
    stored = storage.ingest(rows) if rows else []
    new = set(stored)
    return {"stored": stored, "duplicates": [r[1] for r in rows if r[1] not in new]}


def _start_worker(conninfo: str, server: int) -> None:
    """A worker's own pool on the same database. It ignores SIGTERM and
    SIGINT (systemd and a terminal signal the whole group) so the server's
    graceful shutdown can finish the batches in flight, then ends them."""
    global _worker_storage
    _die_with_parent(server)
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
    or on threads of this process."""

    def __init__(self, storage: Storage, *, workers: int = 0, max_depth: int = MAX_DEPTH):
        self.storage, self.max_depth = storage, max_depth
        self.conninfo: Optional[str] = getattr(storage, "conninfo", None)
        self.workers = workers if self.conninfo else 0
        self.pool: Optional[Executor] = None

    @property
    def in_processes(self) -> bool:
        return self.workers > 0

    def _new_pool(self) -> Executor:
        if not self.in_processes:
            return ThreadPoolExecutor(max_workers=8, thread_name_prefix="ingest")
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
        if self.pool is None:
            self.pool = self._new_pool()
        loop, pool = asyncio.get_running_loop(), self.pool
        if not self.in_processes:
            return await loop.run_in_executor(pool, ingest_batch, kiosk_id, raw, self.max_depth, self.storage)
        try:
            return await loop.run_in_executor(pool, ingest_batch, kiosk_id, raw, self.max_depth)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): its batch may or may not
            # be committed, which a resend settles; new workers take over.
            log.error("an ingest worker died; starting new ones")
            if self.pool is pool:
                self.pool = self._new_pool()
                pool.shutdown(wait=False)
            raise StorageError("ingest worker died; send again") from None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)
            self.pool = None

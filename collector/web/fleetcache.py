"""The fleet list's rows kept warm while anyone is looking.

With 10,000 kiosks, reading and sorting them all costs most of a second on a
busy two-core machine, and every reload of the list needs it. So an instance
rebuilds the sorted rows in the background every ``fresh`` seconds (at most
a third of the heartbeat interval, a state only changes after three), while
the list has been asked for within ``idle`` seconds; a request gets the
latest rows at once. Rows older than three times ``fresh`` (nobody looked
for a while) are rebuilt before answering, so the page is never stale by
more than that.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable, Optional

from starlette.concurrency import run_in_threadpool

from ..storage import StorageError

log = logging.getLogger("ashyq.collector.fleet")
FRESH = 5.0     # seconds between rebuilds (capped at a third of the heartbeat interval)
IDLE = 300.0    # stop rebuilding this long after the last request


class FleetCache:
    def __init__(self, build: Callable[[], list], interval: float, *, fresh: float = FRESH,
                 idle: float = IDLE):
        self.build, self.fresh, self.idle = build, min(fresh, interval / 3), idle
        self.value: Optional[list] = None
        self.built = 0.0
        self.wanted = 0.0
        self.task: Optional[asyncio.Task] = None
        self.lock = asyncio.Lock()

    async def rows(self) -> list:
        self.wanted = time.monotonic()
        if self.value is None or time.monotonic() - self.built > 3 * self.fresh:
            await self._rebuild()
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._keep_warm())
        return self.value if self.value is not None else []

    def drop(self) -> None:
        """Forget the rows (a maintenance switch should show at once)."""
        self.value = None

    async def _rebuild(self) -> None:
        asked = time.monotonic()
        async with self.lock:
            if self.value is not None and self.built >= asked:
                return  # another request rebuilt it while this one waited
            started = time.monotonic()
            self.value = await run_in_threadpool(self.build)
            self.built = started

    async def _keep_warm(self) -> None:
        while time.monotonic() - self.wanted < self.idle:
            await asyncio.sleep(self.fresh)
            try:
                await self._rebuild()
            except StorageError as exc:
                log.warning("fleet list not refreshed: %s", exc)

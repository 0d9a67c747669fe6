"""How many failed logins a client address may have, for one user name,
before it must wait; and how many logins may wait their turn at all.

Each try costs scrypt (16 MiB, tens of milliseconds of a core), so a guesser
is slowed twice: past ``limit`` failures within ``window`` seconds a key
(address and name) is refused before any hashing, until its oldest failure
ages out. Kept in memory by each instance: a few instances allow a few times
the limit, still far too few for guessing a 10-character password.

    >>> now = [0.0]
    >>> throttle = LoginThrottle(limit=2, window=60, clock=lambda: now[0])
    >>> throttle.failed("10.0.0.7"); throttle.failed("10.0.0.7"); throttle.wait("10.0.0.7")
    60.0
    >>> now[0] = 61.0; throttle.wait("10.0.0.7")
    0.0
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from typing import AsyncIterator, Callable


class Busy(Exception):
    """More logins wait for their turn than ``MAX_QUEUED``."""


class LoginThrottle:
    MAX_KEYS = 100_000  # past this, keys with no recent failure are forgotten
    MAX_QUEUED = 64     # logins waiting for the one scrypt at a time; more are refused at once

    def __init__(self, limit: int = 10, window: float = 900.0,
                 clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[str, deque] = {}  # key -> times of its recent failures
        self._queued = 0  # logins in or waiting for their turn (the event loop's; no lock needed)
        # One scrypt at a time per instance: a burst of logins must not take
        # the threads and cores heartbeats are answered with.
        self._turn = asyncio.Semaphore(1)

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait for this login's turn to hash a password (read ``wait`` in
        it, so a parallel burst cannot pass the limit); Busy if too many
        already wait."""
        if self._queued >= self.MAX_QUEUED:
            raise Busy
        self._queued += 1
        try:
            async with self._turn:
                yield
        finally:
            self._queued -= 1

    def _recent(self, key: str) -> deque:
        times = self._failures.get(key, deque())
        while times and self.clock() - times[0] >= self.window:
            times.popleft()
        return times

    def wait(self, key: str) -> float:
        """Seconds before ``key`` may try again; 0.0: now."""
        times = self._recent(key)
        if len(times) < self.limit:
            return 0.0
        return max(times[-self.limit] + self.window - self.clock(), 0.0)

    def failed(self, key: str) -> None:
        if len(self._failures) >= self.MAX_KEYS:
            self._failures = {k: t for k in list(self._failures) if (t := self._recent(k))}
        times = self._failures.setdefault(key, self._recent(key))
        times.append(self.clock())

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

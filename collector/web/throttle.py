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

import time
from collections import deque
from typing import Callable


class LoginThrottle:
    MAX_ADDRESSES = 100_000  # past this, keys with no recent failure are forgotten
    MAX_QUEUED = 64          # logins waiting for the one scrypt at a time; more are refused at once

    def __init__(self, limit: int = 10, window: float = 900.0,
                 clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[str, deque] = {}  # key -> times of its recent failures
        self.queued = 0  # logins in or waiting for their turn (the event loop's; no lock needed)

    def _recent(self, address: str) -> deque:
        times = self._failures.get(address, deque())
        while times and self.clock() - times[0] >= self.window:
            times.popleft()
        return times

    def wait(self, address: str) -> float:
        """Seconds before ``address`` (a key) may try again; 0.0: now."""
        times = self._recent(address)
        if len(times) < self.limit:
            return 0.0
        return max(times[-self.limit] + self.window - self.clock(), 0.0)

    def failed(self, address: str) -> None:
        if len(self._failures) >= self.MAX_ADDRESSES:
            self._failures = {a: t for a in list(self._failures) if (t := self._recent(a))}
        times = self._failures.setdefault(address, self._recent(address))
        times.append(self.clock())

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)

"""Kiosk tokens as the edge checks them: each kiosk's stored hash, cached
for a short while so a fleet's heartbeats do not each start with a database
round trip. The cache is the only state the API keeps between requests, and
a replaced token keeps working here for at most ``seconds``.
"""
from __future__ import annotations

import logging
import time
from typing import Optional

from starlette.concurrency import run_in_threadpool

from .storage import Storage, StorageError

log = logging.getLogger("ashyq.collector")


class TokenCache:
    """kiosk id -> token hash for a few seconds, so 10,000 kiosks' heartbeats
    do not each cost a database round trip before the real work."""

    def __init__(self, storage: Storage, seconds: float, size: int = 100_000):
        self.storage, self.seconds, self.size = storage, seconds, size
        self.entries: dict[str, tuple[float, Optional[str]]] = {}
        # Ids no kiosk has, kept apart: a flood of made-up ids must not push
        # the fleet's own hashes out (and every heartbeat onto the database).
        self.unknown: dict[str, tuple[float, Optional[str]]] = {}

    async def warm(self) -> None:
        """Every kiosk's hash at start: a fleet's first round of heartbeats
        after a restart would otherwise be 10,000 database lookups at once."""
        until = time.monotonic() + self.seconds
        try:
            hashes = await run_in_threadpool(self.storage.token_hashes)
        except StorageError as exc:
            log.error("token cache not warmed: %s", exc)
            return
        self.entries.update((kiosk, (until, stored)) for kiosk, stored in list(hashes.items())[:self.size])

    async def get(self, kiosk_id: str) -> Optional[str]:
        now = time.monotonic()
        for kept in (self.entries, self.unknown):
            entry = kept.get(kiosk_id)
            if entry and entry[0] > now:
                return entry[1]
        stored = await run_in_threadpool(self.storage.token_hash, kiosk_id)
        kept, other = (self.entries, self.unknown) if stored is not None else (self.unknown, self.entries)
        if len(kept) >= (self.size if stored is not None else self.size // 10):
            kept.clear()
        other.pop(kiosk_id, None)
        kept[kiosk_id] = (now + self.seconds, stored)
        return stored

"""Uploading the journal to the collector, from the journal only.

The protocol (docs/sync-protocol.md): ``POST {url}/v1/kiosks/{kiosk_id}/events``
with ``{"events": [...]}``; the collector answers which it ``stored`` and
which were ``duplicates``, and only then are those rows marked synced. A kiosk
that dies between the collector's commit and its own mark sends the rows
again, and the collector's idempotence on the event id makes that harmless:
exactly once in effect.

The background worker never touches the scan path: it reads and marks the
journal under its lock, between the main thread's appends, and after a
failure waits an exponentially growing, fully jittered delay.

    >>> syncer = Syncer(journal, "https://collector", "door-1", "token")   # doctest: +SKIP
    >>> syncer.sync_once()                                                  # doctest: +SKIP
    (120, 120, 0)
"""
from __future__ import annotations

import datetime as dt
import logging
import random
import sys
import threading
from typing import Callable, Optional

import httpx

from .errors import JournalError, SyncError

log = logging.getLogger("ashyq.sync")


def backoff_delay(failures: int, rng: random.Random, *, base: float = 1.0, cap: float = 300.0) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**failures)]."""
    return rng.uniform(0, min(cap, base * 2 ** min(failures, 30)))


class Syncer:
    def __init__(self, journal, url: str, kiosk_id: str, token: str, *, batch_size: int = 500,
                 interval: float = 30, timeout: float = 10, rng: Optional[random.Random] = None):
        self.journal = journal
        self.endpoint = f"{url.rstrip('/')}/v1/kiosks/{kiosk_id}/events"
        self.batch_size = batch_size
        self.interval = interval
        self.client = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
        self.rng = rng or random.Random()
        self.failures = 0
        self.last_success: Optional[dt.datetime] = None
        self.last_error = ""
        self.when_synced: Optional[Callable[[int], None]] = None
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def send(self, events: list[dict]) -> list[str]:
        """One batch; returns the ids the collector now holds."""
        try:
            response = self.client.post(self.endpoint, json={"events": events})
        except httpx.HTTPError as exc:
            raise SyncError(f"collector unreachable: {type(exc).__name__}: {exc}") from None
        if response.status_code != 200:
            raise SyncError(f"collector answered {response.status_code}")
        try:
            answer = response.json()
            held = list(answer["stored"]) + list(answer["duplicates"])
        except (ValueError, KeyError, TypeError):
            raise SyncError("collector's answer is not {stored, duplicates}") from None
        sent = {e["id"] for e in events}
        return [i for i in held if i in sent]

    def sync_once(self, progress: Optional[Callable[[int, int], None]] = None) -> tuple[int, int, int]:
        """Upload the whole backlog; returns (sent, held by the collector, batches)."""
        try:
            total = self.journal.backlog()
            sent = held = batches = 0
            while True:
                events = self.journal.unsynced(self.batch_size)
                if not events:
                    break
                ids = self.send(events)
                if not ids:
                    raise SyncError("collector held none of the batch")
                self.journal.mark_synced(ids)
                sent, held, batches = sent + len(events), held + len(ids), batches + 1
                if progress:
                    progress(held, total)
        except JournalError as exc:
            raise SyncError(f"journal: {exc}") from None
        self.failures, self.last_error = 0, ""
        self.last_success = dt.datetime.now(dt.timezone.utc)
        if held and self.when_synced:
            self.when_synced(held)
        return sent, held, batches

    def status(self) -> dict:
        return {"backlog": self.journal.backlog(), "last_success": self.last_success,
                "last_error": self.last_error, "failures": self.failures}

    # ---- the background worker ----------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sync", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync_once()
                wait = self.interval
            except SyncError as exc:
                self.failures += 1
                self.last_error = str(exc)
                wait = backoff_delay(self.failures, self.rng, cap=max(self.interval * 10, 30))
                log.warning("sync failed (%d in a row): %s; next try in %.1f s",
                            self.failures, exc, wait)
            self._stop.wait(wait)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
        self.client.close()


def _bar(done: int, total: int, out=sys.stderr) -> None:
    width = 30
    filled = width * done // max(total, 1)
    print(f"\rsynced {done}/{total} [{'=' * filled}{' ' * (width - filled)}]", end="", file=out,
          flush=True)


def main_sync(cfg, secrets, *, status_only: bool = False) -> int:
    """``ashyq-kiosk sync [--status]``."""
    from .wiring import build_journal
    journal, _ = build_journal(cfg, secrets)
    try:
        if status_only or not cfg.sync.url:
            print(f"backlog: {journal.backlog()} decisions not yet at the collector")
            if not cfg.sync.url:
                print("sync.url is not set: nothing to sync to", file=sys.stderr)
                return 0 if status_only else 1
            return 0
        syncer = Syncer(journal, cfg.sync.url, cfg.kiosk.id, secrets.sync_token,
                        batch_size=cfg.sync.batch_size)
        try:
            sent, held, batches = syncer.sync_once(progress=_bar)
        finally:
            syncer.client.close()
        print(f"\nsynced {held} decisions in {batches} batches; backlog {journal.backlog()}",
              file=sys.stderr)
        return 0
    finally:
        journal.close()

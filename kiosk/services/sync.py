"""Uploading the journal to the collector, from the journal only.

The protocol (docs/sync-protocol.md): ``POST {url}/v1/kiosks/{kiosk_id}/events``
with ``{"events": [...]}``; the collector answers which it ``stored`` and
which were ``duplicates``, and only then are those rows marked synced. A kiosk
that dies between the collector's commit and its own mark sends the rows
again, and the collector's idempotence on the event id makes that harmless:
exactly once in effect.

The background worker never touches the scan path: it reads the journal on
its own connection (WAL: reads never wait for appends, appends never wait for
reads), marks rows in short transactions, and after a failure waits an
exponentially growing, fully jittered delay.

    >>> syncer = Syncer(journal, "https://collector", "door-1", "token")   # doctest: +SKIP
    >>> syncer.sync_once()                                                  # doctest: +SKIP
    (120, 118, 2)
"""
from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from typing import Callable, Optional

import httpx

from kiosk.core.errors import JournalError, SyncError

log = logging.getLogger("ashyq.sync")

MAX_BACKOFF = 300.0


def backoff_delay(failures: int, rng: random.Random, *, base: float = 1.0,
                  cap: float = MAX_BACKOFF) -> float:
    """Seconds to wait after ``failures`` failures in a row: full jitter,
    uniform in [0, min(cap, base * 2**failures)], so a fleet of kiosks that
    lost the collector together does not come back in step.

        >>> 0 <= backoff_delay(3, random.Random(1)) <= 8
        True
    """
    return rng.uniform(0, min(cap, base * 2 ** min(max(failures, 0), 30)))


class Syncer:
    """Uploads ``journal``'s backlog to one collector; ``start()`` keeps doing
    it every ``interval`` seconds on a daemon thread. ``when_synced(count)``
    is called (on that thread) after a sync that moved rows."""

    def __init__(self, journal, url: str, kiosk_id: str, token: str, *, batch_size: int = 500,
                 interval: float = 30, timeout: float = 10, max_backoff: float = MAX_BACKOFF,
                 rng: Optional[random.Random] = None):
        self.journal = journal
        self.endpoint = f"{url.rstrip('/')}/v1/kiosks/{kiosk_id}/events"
        self.batch_size = batch_size
        self.interval = interval
        self.max_backoff = max_backoff
        self.client = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
        self.rng = rng or random.Random()
        self.failures = 0
        self.last_success: Optional[dt.datetime] = None
        self.last_error = ""
        self.next_attempt: Optional[float] = None  # seconds from the last failure
        self.when_synced: Optional[Callable[[int], None]] = None
        self.heartbeat = None  # kiosk.services.heartbeat.Heartbeat: same collector, started and stopped with us
        self._once = threading.Lock()  # a manual sync and the worker never overlap
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def send(self, events: list[dict]) -> tuple[list[str], list[str]]:
        """One batch; returns (stored, duplicates) as the collector answered,
        restricted to ids that were in the batch."""
        try:
            response = self.client.post(self.endpoint, json={"events": events})
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise SyncError(f"collector unreachable: {type(exc).__name__}: {exc}") from None
        if response.status_code == 401:
            raise SyncError("collector refused the token (401): check sync_token")
        if response.status_code != 200:
            raise SyncError(f"collector answered {response.status_code}")
        try:
            answer = response.json()
            stored, duplicates = list(answer["stored"]), list(answer["duplicates"])
        except (ValueError, KeyError, TypeError):
            raise SyncError("collector's answer is not {stored, duplicates}") from None
        sent = {e["id"] for e in events}
        return [i for i in stored if i in sent], [i for i in duplicates if i in sent]

    def sync_once(self, progress: Optional[Callable[[int, int], None]] = None) -> tuple[int, int, int]:
        """Upload the whole backlog in batches; returns (sent, stored, duplicates).
        ``progress(done, total)`` after each batch. SyncError on any failure:
        rows already acknowledged stay marked, the rest wait for next time."""
        with self._once:
            try:
                sent, stored, duplicates = self._drain(progress)
            except SyncError as exc:
                self.failures, self.last_error = self.failures + 1, str(exc)
                raise
            except JournalError as exc:
                self.failures, self.last_error = self.failures + 1, f"journal: {exc}"
                raise SyncError(self.last_error) from None
            self.failures, self.last_error = 0, ""
            self.last_success = dt.datetime.now(dt.timezone.utc)
        if stored + duplicates and self.when_synced:
            try:
                self.when_synced(stored + duplicates)
            except Exception:
                log.exception("when_synced callback raised")
        return sent, stored, duplicates

    def _drain(self, progress) -> tuple[int, int, int]:
        total = self.journal.backlog()
        sent = stored = duplicates = 0
        while not self._stop.is_set():
            events = self.journal.unsynced(self.batch_size)
            if not events:
                break
            new, again = self.send(events)
            if not new and not again:
                # Resending a batch the collector will not take would loop forever.
                raise SyncError(f"collector held none of a batch of {len(events)}")
            # Only now, after the collector's 200: exactly once in effect.
            self.journal.mark_synced(new + again)
            sent, stored, duplicates = sent + len(events), stored + len(new), duplicates + len(again)
            if progress:
                progress(stored + duplicates, max(total, stored + duplicates))
        return sent, stored, duplicates

    def status(self) -> dict:
        """For doctor and the technician: backlog, last success, last error."""
        try:
            backlog: Optional[int] = self.journal.backlog()
        except JournalError:
            backlog = None
        return {"backlog": backlog,
                "last_success": self.last_success.isoformat() if self.last_success else None,
                "last_error": self.last_error, "failures": self.failures,
                "next_attempt_seconds": self.next_attempt,
                "running": self._thread is not None and self._thread.is_alive()}

    # ---- the background worker ----------------------------------------------

    def start(self) -> None:
        """Sync now and every ``interval`` seconds on a daemon thread; returns at once."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sync", daemon=True)
        self._thread.start()
        if self.heartbeat is not None:
            self.heartbeat.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync_once()
                wait = self.interval
            except SyncError as exc:
                wait = backoff_delay(self.failures, self.rng, cap=self.max_backoff)
                log.warning("sync failed (%d in a row): %s; next try in %.1f s",
                            self.failures, exc, wait)
            except Exception:
                self.failures += 1
                self.last_error = "internal error (see log)"
                wait = backoff_delay(self.failures, self.rng, cap=self.max_backoff)
                log.exception("sync round failed")
            self.next_attempt = wait
            self._stop.wait(wait)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the worker (it finishes the batch in flight) and close the client."""
        self._stop.set()
        if self.heartbeat is not None:
            self.heartbeat.stop()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            if self._thread.is_alive():
                log.warning("sync worker still busy after %.0f s; leaving it", timeout)
        self.client.close()

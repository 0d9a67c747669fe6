"""The lookup worker: asks the status service off the main thread and posts
the answer back as a :class:`~kiosk.core.model.LookupDone` event.

It is the only place that knows about the offline cache: a successful answer
is remembered (keyed hash -> colour), and when the venue's rule is
``admit-if-cached`` a failed lookup is answered from the cache if a fresh
enough colour is there, marked ``cached`` so the screen and journal say so.
It also tells the machine when the service goes down or comes back, for the
idle screen's banner.

A lookup that outlives its deadline (an adapter that does not enforce it, a
server that sends one byte and then nothing) must not hold up the next
visitor's: when every worker is busy, another is started, up to MAX_WORKERS;
extra workers end once they find nothing to do.
"""
from __future__ import annotations

import logging
import queue
import threading
from typing import Callable, Optional

from kiosk.core.errors import LookupFailed
from kiosk.core.model import Failure, Lookup, LookupDone, ServiceHealth, Status

log = logging.getLogger("ashyq.lookup")

# Causes that say "we could not reach the service", as opposed to an answer
# we did not like; only these raise the offline banner.
OFFLINE_CAUSES = {"timeout", "refused", "network", "tls"}
MAX_WORKERS = 4
IDLE_EXIT = 30.0  # seconds an extra worker waits for work before it ends


class LookupWorker:
    def __init__(self, status, post: Callable, *, cache=None,
                 person_hash: Optional[Callable[[str], str]] = None, use_cache: bool = False):
        self.status = status
        self.post = post
        self.cache = cache
        self.person_hash = person_hash
        self.use_cache = use_cache and cache is not None and person_hash is not None
        self.requests: queue.Queue = queue.Queue()
        self.online = True
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._running: set[int] = set()  # workers inside a lookup right now
        self._closed = False

    def start(self) -> None:
        self._spawn(first=True)

    def _spawn(self, first: bool = False) -> None:
        thread = threading.Thread(target=self._work, args=(first,), name="lookup", daemon=True)
        self._threads.append(thread)
        thread.start()

    def submit(self, lookup: Lookup) -> None:
        with self._lock:
            alive = self._threads = [t for t in self._threads if t.is_alive()]
            busy = alive and all(t.ident in self._running for t in alive)
            if busy and not self._closed and len(alive) < MAX_WORKERS:
                log.warning("a lookup is still running past its deadline; starting another worker")
                self._spawn()
        self.requests.put(lookup)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        for _ in threads:
            self.requests.put(None)
        for thread in threads:
            thread.join(timeout=5)
        close = getattr(self.status, "close", None)
        if close:
            close()

    def answer(self, lookup: Lookup):
        """The outcome for one lookup; never raises."""
        try:
            status = self.status.lookup(lookup.identity)
        except LookupFailed as exc:
            log.warning("lookup failed: %s (%s)", exc.cause, lookup.identity.masked)
            self._health(exc.cause not in OFFLINE_CAUSES)
            return self._from_cache(lookup) or Failure(exc.cause)
        except Exception:
            log.exception("status adapter raised")
            return Failure("adapter-error")
        self._health(True)
        if self.cache is not None and self.person_hash is not None:
            # Someone the service refused ("Pass": false) is remembered as
            # refused, so an older green in the cache cannot admit them offline.
            colour = "red" if status.passes is False else status.colour
            self.cache.remember(self.person_hash(lookup.identity.number), colour)
        return status

    def _from_cache(self, lookup: Lookup) -> Optional[Status]:
        if not self.use_cache or self.person_hash is None:
            return None
        colour = self.cache.recall(self.person_hash(lookup.identity.number))
        return Status(colour, cached=True) if colour else None

    def _health(self, online: bool) -> None:
        if online != self.online:
            self.online = online
            self.post(ServiceHealth(online))

    def _work(self, first: bool) -> None:
        me = threading.get_ident()
        while True:
            try:
                lookup = self.requests.get(timeout=None if first else IDLE_EXIT)
            except queue.Empty:
                return
            if lookup is None:
                return
            with self._lock:
                self._running.add(me)
            try:
                outcome = self.answer(lookup)
            finally:
                with self._lock:  # free before the answer goes out: the next Lookup finds us
                    self._running.discard(me)
            self.post(LookupDone(lookup.request, outcome))

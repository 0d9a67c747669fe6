"""The application: one event loop on the main thread, fed by drivers through
a queue, turning the machine's actions back into hardware.

Threads: each scanner and keypad driver reads on its own thread and only
posts events; the lookup worker asks the status service and posts the answer;
the sync worker reads the journal. Only the main thread touches the machine,
the relay, the journal writer and the screen, so no state is shared.

Start order is safety order: the relay is driven off before anything else,
and on the way out it is driven off first, whatever went wrong.
"""
from __future__ import annotations

import datetime as dt
import logging
import queue
import signal as signals_module
import threading
import time
from typing import Callable, Optional
from zoneinfo import ZoneInfo

from .errors import JournalError, KioskError
from .lookups import LookupWorker
from .machine import Kiosk
from .model import (Journal, KeyPressed, Lookup, Now, PulseRelay, Scanned, Show, Shutdown,
                    Signal, Tick)

log = logging.getLogger("ashyq.app")

TICK = 0.1  # timers (deadline backstop, result screen) resolve to this
IDLE_WAIT = 0.5  # nothing pending: wake twice a second for the clock and watchdog
# Most lookups answer well inside this; drawing "checking" meanwhile would
# only hold the GIL while the answer that opens the door comes in.
RENDER_HOLD = 0.25
SOURCE_OPEN_WAIT = 1.0
PURGE_EVERY = 3600.0  # retention is in days; hourly is plenty


class App:
    """Wire parts around a :class:`Kiosk` and run until stopped.

    parts: ``signals`` (relay, lights, buzzer), ``display`` (optional),
    ``journal``, ``status`` (a client with ``lookup``), ``sources`` (drivers
    with ``start``/``close`` that post events), ``notifier``, ``cache``,
    ``syncer`` (optional), ``clock_synced`` (a callable).
    """

    def __init__(self, cfg, *, kiosk: Kiosk, signals, journal, status, display=None,
                 sources=(), notifier=None, cache=None, syncer=None, person_hash=None,
                 clock_synced: Callable[[], Optional[bool]] = lambda: True,
                 when_decided: Optional[Callable] = None):
        self.cfg = cfg
        self.kiosk = kiosk
        self.signals = signals
        self.journal = journal
        self.display = display
        self.sources = list(sources)
        self.notifier = notifier
        self.syncer = syncer
        self.cache = cache
        self.events: queue.Queue = queue.Queue()
        self.lookups = LookupWorker(status, self.post, cache=cache, person_hash=person_hash,
                                    use_cache=cfg.policy.on_failure == "admit-if-cached")
        self.clock_synced = clock_synced
        self.zone = ZoneInfo(cfg.kiosk.timezone)
        self.when_decided = when_decided
        self.after_step: Optional[Callable[[], None]] = None  # the demo draws mock pins
        self.is_running = False
        self.is_healthy = True
        self._stop = threading.Event()
        self._synced_cache = (0.0, True)
        self._next_purge = 0.0
        self._screenshot_wanted = False

    # ---- feeding ------------------------------------------------------------

    def post(self, event) -> None:
        """Thread-safe: drivers and workers call this."""
        self.events.put(event)

    def scanned(self, payload: bytes, source: str = "scanner") -> None:
        self.post(Scanned(payload, source))

    def key(self, key: str, source: str = "keypad") -> None:
        self.post(KeyPressed(key, source))

    def request_screenshot(self) -> None:
        self._screenshot_wanted = True
        self.post(Tick())  # wake the loop

    def stop(self) -> None:
        self._stop.set()
        self.post(Shutdown())

    # ---- time -------------------------------------------------------------

    def now(self) -> Now:
        mono = time.monotonic()
        checked, synced = self._synced_cache
        if mono - checked > 30:  # asking the kernel each event is wasted work
            synced = self.clock_synced() is not False
            self._synced_cache = (mono, synced)
        return Now(mono=mono, wall=dt.datetime.now(self.zone), synced=synced)

    # ---- actions ------------------------------------------------------------

    def execute(self, actions) -> None:
        for action in actions:
            if isinstance(action, PulseRelay):
                self.signals.pulse_relay(action.seconds, passages=action.passages)
            elif isinstance(action, Signal):
                self.signals.signal(action.pattern)
            elif isinstance(action, Journal):
                self._journal(action.decision)
            elif isinstance(action, Show):
                self._show(action.screen)
            elif isinstance(action, Lookup):
                self.lookups.submit(action)

    def _journal(self, decision) -> None:
        try:
            self.journal.append(decision)
        except JournalError as exc:
            # The door already acted; shout so the technician sees it, keep serving.
            log.error("journal append failed for decision %s: %s", decision.id, exc)
            self.is_healthy = False
            return
        log.info("decision %s %s colour=%s reason=%s number=%s latency=%sms", decision.id[:8],
                 decision.decision, decision.colour, decision.reason, decision.masked,
                 decision.latency_ms)
        if self.when_decided:
            self.when_decided(decision)

    def _show(self, screen) -> None:
        if self.display is not None:
            self.display.show(screen)

    # ---- the loop -----------------------------------------------------------

    def purge(self) -> None:
        """Drop synced rows past retention (unsynced rows are never dropped)."""
        self._next_purge = time.monotonic() + PURGE_EVERY
        try:
            dropped = self.journal.purge(self.cfg.journal.retention_days)
        except JournalError as exc:
            log.error("journal purge failed: %s", exc)
            return
        if dropped:
            log.info("purged %d synced decisions older than %d days", dropped,
                     self.cfg.journal.retention_days)

    def start(self) -> None:
        """Start workers and sources (the relay is already off: signals exist)."""
        self.signals.relay_off()
        self.purge()
        self.lookups.start()
        for source in self.sources:
            try:
                source.start()
            except KioskError as exc:
                # An optional part that fails is reported and disabled, not fatal.
                log.error("%s disabled: %s", type(source).__name__, exc)
        for source in self.sources:
            # READY should mean "scans are read": give ports a moment to open,
            # but an unplugged scanner must not keep the kiosk from coming up.
            wait = getattr(source, "wait_connected", None)
            if wait is not None and not wait(SOURCE_OPEN_WAIT):
                log.warning("%s not connected yet; retrying in the background",
                            type(source).__name__)
        if self.syncer is not None:
            self.syncer.start()
        self.execute([self.kiosk.idle_screen()])
        self.is_running = True

    def step(self, wait: float) -> None:
        """Handle one event (or a tick after ``wait`` seconds), then draw."""
        try:
            event = self.events.get(timeout=wait)
        except queue.Empty:
            event = Tick()
        now = self.now()
        self.execute(self.kiosk.handle(event, now))
        if not isinstance(event, Tick):
            self.execute(self.kiosk.handle(Tick(), now))
        if self.after_step is not None:
            self.after_step()
        if self.display is not None:
            pending = self.kiosk.pending
            if pending is None or now.mono - pending.started >= RENDER_HOLD:
                self.display.render()
            for kind, value in self.display.poll_events():
                self._window_event(kind, value)
            if self._screenshot_wanted:
                self._screenshot_wanted = False
                try:
                    log.info("screenshot saved to %s", self.display.screenshot())
                except Exception as exc:  # noqa: BLE001 - a screenshot is never worth the door
                    log.error("screenshot failed: %s", exc)

    def _window_event(self, kind: str, value) -> None:
        if kind == "quit":
            self.stop()
        elif kind == "key":
            self.key(value, "window")
        elif kind == "scan":
            self.scanned(value, "window")

    def run(self) -> int:
        """Run until SIGTERM/SIGINT or stop(); the relay is off on every way out."""
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signals_module.SIGTERM, signals_module.SIGINT):
                previous[signum] = signals_module.signal(signum, lambda *_: self.stop())
            # `kill -USR1 <pid>` (or systemctl kill -s USR1 ashyq-kiosk): a screenshot.
            previous[signals_module.SIGUSR1] = signals_module.signal(
                signals_module.SIGUSR1, lambda *_: self.request_screenshot())
        try:
            self.start()
            if self.notifier:
                self.notifier.ready()
            interval = self.notifier.watchdog_interval() if self.notifier else None
            last_ping = 0.0
            while not self._stop.is_set():
                busy = self.kiosk.state != "idle" or not self.events.empty()
                self.step(TICK if busy else IDLE_WAIT)
                if self.kiosk.state == "idle" and time.monotonic() >= self._next_purge:
                    self.purge()
                if interval and self.is_healthy and time.monotonic() - last_ping >= interval:
                    self.notifier.watchdog()
                    last_ping = time.monotonic()
            return 0
        finally:
            self.close()
            for signum, handler in previous.items():
                signals_module.signal(signum, handler)

    def close(self) -> None:
        """Reverse order of start; the relay first, because it guards a door."""
        self.is_running = False
        _quietly(self.signals.relay_off)
        if self.notifier:
            _quietly(self.notifier.stopping)
        for source in reversed(self.sources):
            _quietly(source.close)
        _quietly(self.lookups.close)
        if self.cache is not None:
            _quietly(self.cache.close)
        if self.syncer is not None:
            _quietly(self.syncer.stop)
        if self.display is not None:
            _quietly(self.display.close)
        _quietly(self.journal.close)
        _quietly(self.signals.close)


def _quietly(close: Callable) -> None:
    try:
        close()
    except Exception:  # noqa: BLE001 - one broken part must not keep the rest open
        log.exception("while closing %r", close)

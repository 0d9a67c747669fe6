"""The application: one event loop on the main thread, fed by drivers through
a queue, turning the machine's actions back into hardware.

Threads: each scanner and keypad driver reads on its own thread and only
posts events; the lookup worker asks the status service and posts the answer;
the sync worker reads the journal. Only the main thread touches the machine,
the journal writer and the screen, so their state is not shared. The relay is
the one exception, and :class:`drivers.signals.Signals` owns it under a lock:
the main thread opens and closes it, and the driver's own timer (end of a
pulse) and gpiozero's callback thread (the passage sensor) close it too.

Start order is safety order: the relay is driven off before anything else,
and on the way out it is driven off first, whatever went wrong. Actions are
carried out by :class:`~kiosk.app.actuator.Actuator`: journal first, then relay.

Signal handlers do no locking work: they set a flag and put a wake-up on a
``queue.SimpleQueue``, whose ``put`` is reentrant (a handler may run while
the main thread is inside ``get``; ``queue.Queue`` would deadlock there).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import queue
import signal as signals_module
import threading
import time
from typing import Callable, Optional
from zoneinfo import ZoneInfo

from kiosk.app import housekeeping
from kiosk.app.actuator import Actuator
from kiosk.core.errors import KioskError
from kiosk.services.health import Health
from kiosk.services.lookups import LookupWorker
from kiosk.core.machine import Kiosk
from kiosk.core.model import KeyPressed, Now, Scanned, Shutdown, Tick

log = logging.getLogger("ashyq.app")

TICK = 0.1  # timers (deadline backstop, result screen) resolve to this
IDLE_WAIT = 0.5  # nothing pending: wake twice a second for the clock and watchdog
# Most lookups answer well inside this; drawing "checking" meanwhile would
# only hold the GIL while the answer that opens the door comes in.
RENDER_HOLD = 0.25
SOURCE_OPEN_WAIT = 1.0
PURGE_EVERY = 3600.0  # retention is in days; hourly is plenty
# Events taken per step: a flood (one code holding 1,400 line breaks) is decided
# in bounded slices, each drawn once; the next visitor waits for a slice at most.
MAX_BATCH = 256
RATE_WINDOW = 60.0  # the anti-probing limit counts lookups over this window
# Faults that must not stop the watchdog pings: a notify socket that fails
# is only ever found healthy again by pinging it.
PINGS_DESPITE = {"notify"}


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
                 when_decided: Optional[Callable] = None, health: Optional[Health] = None):
        self.cfg = cfg
        self.kiosk = kiosk
        self.signals = signals
        self.journal = journal
        self.display = display
        self.sources = list(sources)
        self.notifier = notifier
        self.syncer = syncer
        self.cache = cache
        self.events: queue.SimpleQueue = queue.SimpleQueue()
        self.lookups = LookupWorker(status, self.post, cache=cache, person_hash=person_hash,
                                    use_cache=cfg.policy.on_failure == "admit-if-cached")
        self.clock_synced = clock_synced
        self.zone = ZoneInfo(cfg.kiosk.timezone)
        self.health = health if health is not None else Health()
        self.actuator = Actuator(
            signals=signals, journal=journal, display=display, lookups=self.lookups,
            health=self.health, when_decided=when_decided,
            out_of_service_screen=lambda reason: kiosk.screen("out-of-service", reason=reason),
            prepare_screen=self._prepare_screen, local_now=lambda: dt.datetime.now(self.zone))
        if notifier is not None:
            notifier.when_error = self._notify_error
        self.after_step: Optional[Callable[[], None]] = None  # the demo draws mock pins
        self.is_running = False
        self._stopping = False  # a plain flag: set from signal handlers
        self._synced_cache = (float("-inf"), True)  # asked at once: the first frame is right
        self._next_purge = 0.0
        self._screenshot_wanted = False
        self._counted_changes = 0  # occupancy changes already told to the heartbeat

    # ---- feeding ------------------------------------------------------------

    @property
    def is_healthy(self) -> bool:
        return self.health.ok

    def post(self, event) -> None:
        """Thread-safe and reentrant: drivers, workers and signal handlers call this."""
        self.events.put(event)

    def scanned(self, payload: bytes, source: str = "scanner") -> None:
        """Called on the driver's thread as the bytes arrive: stamped now, so
        latency counts any wait behind a flood."""
        self.post(Scanned(payload, source, arrived=time.monotonic()))

    def key(self, key: str, source: str = "keypad") -> None:
        self.post(KeyPressed(key, source))

    def request_screenshot(self) -> None:
        self._screenshot_wanted = True
        self.post(Tick())  # wake the loop

    def stop(self) -> None:
        """Safe from a signal handler: a flag and a reentrant put, no lock."""
        self._stopping = True
        self.post(Shutdown())

    def _notify_error(self, error: Optional[str]) -> None:
        if error:
            self.health.fault("notify", error)
        else:
            self.health.clear("notify")

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
        self.actuator.execute(actions)

    def _prepare_screen(self, screen):
        """What only the application knows: when a locked keypad reopens."""
        if screen.kind == "locked" and screen.until is None:  # for the countdown
            left = self.kiosk.desk.locked_until - time.monotonic()
            screen = dataclasses.replace(screen, until=dt.datetime.now(self.zone) +
                                         dt.timedelta(seconds=max(0.0, left)))
        return screen

    def _back_in_service(self) -> None:
        if self.kiosk.state == "idle":
            self.execute([self.kiosk.idle_screen()])

    # ---- the loop -----------------------------------------------------------

    def purge(self) -> None:
        self._next_purge = time.monotonic() + PURGE_EVERY
        housekeeping.purge(self.journal, self.cfg.journal.retention_days)

    def start(self) -> None:
        """Start workers and sources (the relay is already off: signals exist)."""
        self.signals.relay_off()
        self.purge()
        housekeeping.restore_rate_window(self.journal, self.kiosk.lookups, self.now(), RATE_WINDOW)
        housekeeping.restore_occupancy(self.journal, self.kiosk.door.occupancy, self.now())
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
        self.kiosk.clock_synced = self.now().synced  # the first frame's banner is right
        self.execute([self.kiosk.idle_screen()])
        self.is_running = True

    def _take(self, wait: float) -> list:
        """The next event (waiting up to ``wait``) and whatever else is already
        queued, up to MAX_BATCH."""
        try:
            batch = [self.events.get(timeout=wait)]
        except queue.Empty:
            return []
        while len(batch) < MAX_BATCH:
            try:
                batch.append(self.events.get_nowait())
            except queue.Empty:
                break
        return batch

    def step(self, wait: float) -> None:
        """Handle the waiting events (or a tick after ``wait`` seconds) as one
        step: one journal commit, then the relay, then one drawing."""
        events = self._take(wait)
        now = self.now()
        actions: list = []
        for event in events:
            if not isinstance(event, Tick):
                actions += self.kiosk.handle(event, now)
        actions += self.kiosk.handle(Tick(), now)
        self.execute(actions)
        self._counted_changes = housekeeping.share_counts(
            self.kiosk, getattr(self.syncer, "heartbeat", None), self._counted_changes)
        self.actuator.probe(self._back_in_service)
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
            while not self._stopping:
                busy = self.kiosk.state != "idle" or not self.events.empty()
                self.step(TICK if busy else IDLE_WAIT)
                if self.kiosk.state == "idle" and time.monotonic() >= self._next_purge:
                    self.purge()
                pingable = not set(self.health.faults) - PINGS_DESPITE
                if interval and pingable and time.monotonic() - last_ping >= interval:
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
            _quietly(self.notifier.close)
        for source in reversed(self.sources):
            _quietly(source.close)
        _quietly(self.lookups.close)
        if self.cache is not None:
            _quietly(self.cache.close)
        if self.syncer is not None:
            _quietly(self.syncer.stop)
        if self.display is not None:
            _quietly(self.display.close)
        if self.actuator.sound is not None:
            _quietly(self.actuator.sound.close)
        _quietly(self.journal.close)
        _quietly(self.signals.close)


def _quietly(close: Callable) -> None:
    try:
        close()
    except Exception:
        log.exception("while closing %r", close)

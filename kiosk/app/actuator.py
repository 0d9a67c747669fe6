"""Turning the machine's actions into hardware, record before acting.

One call of :meth:`Actuator.execute` takes every action of one step of the
loop (a burst of events may give hundreds) and carries them out in the only
safe order:

1. every decision is committed to the journal, all in one transaction;
2. the relay follows, and only while the journal is healthy: a decision that
   could not be recorded never opens the door;
3. lights, buzzer and screen take the *last* pattern and screen of the step:
   a flood of refusals costs one drawing, not one each.

When the journal cannot commit (disk full, the file deleted or replaced,
the folder gone read-only) the kiosk goes out of service: the relay is
driven off, the lights blink for staff, every screen becomes
``Screen(kind="out-of-service")``, the health fault stops the watchdog pings
and the log says why. A probe every few seconds (or the next commit that
succeeds) brings it back when the folder can take writes again; a journal
file replaced under us never comes back without a restart.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import time
from typing import Callable, Optional

from kiosk.core.errors import JournalError
from kiosk.services.health import Health
from kiosk.services.journal import preflight
from kiosk.core.model import Journal, Lookup, PulseRelay, RelayOff, Show, Signal

log = logging.getLogger("ashyq.app")

PROBE_EVERY = 2.0  # seconds between checks of the journal file and folder
FAULT = "journal"


class Actuator:
    """``execute(actions)`` for the main thread; see the module docstring."""

    def __init__(self, *, signals, journal, display, lookups, health: Health,
                 out_of_service_screen: Callable[[str], Show],
                 when_decided: Optional[Callable] = None,
                 prepare_screen: Callable = lambda screen: screen,
                 local_now: Callable[[], dt.datetime] = dt.datetime.now):
        self.signals = signals
        self.journal = journal
        self.display = display
        self.lookups = lookups
        self.health = health
        self.out_of_service_screen = out_of_service_screen
        self.when_decided = when_decided
        self.prepare_screen = prepare_screen
        self.local_now = local_now
        self.sound = None  # drivers.sound.Sound (wiring): tones as well as the buzzer
        self._next_probe = 0.0
        self._file_lost = False

    @property
    def in_service(self) -> bool:
        return FAULT not in self.health.faults

    # ---- one step's actions -----------------------------------------------------

    def execute(self, actions) -> None:
        actions = list(actions)
        decisions = [a.decision for a in actions if isinstance(a, Journal)]
        failed = bool(decisions) and not self._record(decisions)
        signal: Optional[Signal] = None
        show: Optional[Show] = None
        for action in actions:
            if isinstance(action, Journal):
                continue
            if isinstance(action, PulseRelay):
                if action.seconds <= 0 or self.in_service:
                    self.signals.pulse_relay(action.seconds, passages=action.passages)
            elif isinstance(action, RelayOff):
                self.signals.relay_off()
            elif isinstance(action, Signal):
                signal = action
            elif isinstance(action, Show):
                show = action
            elif isinstance(action, Lookup):
                self.lookups.submit(action)
            else:
                # A bug, but never a silent one: the doctor and the watchdog see it.
                self.health.fault("actions", f"unknown action {type(action).__name__} dropped")
        if not self.in_service:
            if failed or signal is not None or show is not None:
                self._show_out_of_service(
                    beep=failed or (signal is not None and signal.pattern != "off"))
            return
        if signal is not None:
            self.signals.signal(signal.pattern)
            if self.sound is not None:
                self.sound.play(signal.pattern, self.local_now())
        if show is not None and self.display is not None:
            self.display.show(self.prepare_screen(show.screen))

    def _record(self, decisions) -> bool:
        try:
            self.journal.append_all(decisions)
        except JournalError as exc:
            self._fault(str(exc), lost=decisions)
            return False
        if not self.in_service and not self._file_lost:
            self.health.clear(FAULT)  # the folder takes writes again
        for decision in decisions:
            log.info("decision %s %s colour=%s reason=%s number=%s latency=%sms",
                     decision.id[:8], decision.decision, decision.colour, decision.reason,
                     decision.masked, decision.latency_ms)
            if self.when_decided:
                self.when_decided(decision)
        return True

    def _fault(self, why: str, lost=()) -> None:
        self._file_lost = self._file_lost or "deleted" in why or "replaced" in why
        self.health.fault(FAULT, why)
        for decision in lost:
            log.error("decision %s (%s, reason=%s) not recorded: the door stays shut",
                      decision.id[:8], decision.decision, decision.reason)

    def _show_out_of_service(self, beep: bool) -> None:
        self.signals.relay_off()
        if beep:
            self.signals.signal("staff")
        if self.display is not None:
            self.display.show(self.out_of_service_screen("journal").screen)

    # ---- between steps -------------------------------------------------------

    def probe(self, back_in_service: Callable[[], None]) -> None:
        """Every PROBE_EVERY seconds: is the journal file still ours, and
        (when out of service) can its folder take writes again?"""
        now = time.monotonic()
        if now < self._next_probe:
            return
        self._next_probe = now + PROBE_EVERY
        try:
            self.journal.check_file()
        except JournalError as exc:
            if not self._file_lost:
                self._fault(str(exc))
                self._show_out_of_service(beep=True)
            return
        if self.in_service or self._file_lost:
            return
        try:
            preflight(os.path.dirname(os.path.abspath(self.journal.path)))
        except JournalError:
            return
        self.health.clear(FAULT)
        back_in_service()

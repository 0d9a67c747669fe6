"""The kiosk's state machine: events in, actions out, no I/O, no clock of its
own (every call is told :class:`~kiosk.model.Now`).

One visitor at a time::

    idle --scan--> checking --LookupDone / deadline--> showing --timer--> idle

A scan during a lookup is queued (the screen says "please wait") and taken
as soon as that lookup is decided; a full queue is refused on screen, never
dropped silently. The re-scan guard is keyed on the person, not the raw code, so the
same card read by a camera thirty times, or scanned again by a friend, does
not open the door twice. Staff keys go to :class:`~kiosk.staff.StaffDesk`;
group mode is in :mod:`kiosk.core.group`.

Action order on a decision is deliberate: the journal first (record before
acting: a decision that cannot be committed must never open the door), then
the relay, lights and screen. Anything but an admit ends a running pulse at
once, so the relay always reflects the latest decision.
"""
from __future__ import annotations

import base64
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Callable, Optional

from kiosk.core import documents
from kiosk.core import door as door_rules

from kiosk.core.errors import DocumentError
from kiosk.core.group import Group
from kiosk.core.occupancy import Heard
from kiosk.core.model import (Decision, Failure, Identity, Journal, KeyPressed, Lookup, LookupDone,
                    Now, Passed, PulseRelay, RelayOff, Scanned, Screen, ServiceHealth, Show, Shutdown,
                    Signal, Status, Tick)
from kiosk.core.policy import Verdict, before_lookup, decide
from kiosk.core.staff import StaffDesk
from kiosk.core.staff_actions import run_command

# Scans waiting for a lookup to finish. Generous on purpose: a scanner
# emptying its buffer after a network hiccup must lose nothing; at 512 bytes
# a payload this is half a megabyte at most.
MAX_QUEUE = 1024
# The status client enforces the deadline itself; this backstop only fires if
# an answer never comes back at all, and lets the client's cause win the race.
DEADLINE_SLACK = 0.2


def reference_code(decision_id: str) -> str:
    """A short refund reference carried by the journal row: 8 base32 letters."""
    raw = base64.b32encode(uuid.UUID(decision_id).bytes[:5]).decode()
    return f"{raw[:4]}-{raw[4:]}"


@dataclass
class Pending:
    request: str
    identity: Identity
    started: float  # when the lookup began: the deadline runs from here
    staff_id: Optional[str] = None
    arrived: Optional[float] = None  # when the scan's bytes arrived: latency runs from here
    held: Optional[LookupDone] = None  # an admit waiting for a fresh venue total (occupancy)
    held_at: float = 0.0  # when it began to wait: the total must be asked after this


class Kiosk:
    """Decide for one visitor at a time.

    >>> kiosk = Kiosk(cfg)                                   # doctest: +SKIP
    >>> kiosk.handle(Scanned(b"871008401427\\r"), now)       # doctest: +SKIP
    [Lookup(request='...', identity=...), Show(screen=Screen(kind='checking', ...))]
    """

    def __init__(self, cfg, staff=(), *, new_id: Callable[[], str] = lambda: str(uuid.uuid4())):
        self.policy = cfg.policy
        self.venue, self.kiosk_id = cfg.kiosk.venue, cfg.kiosk.id
        self.language = cfg.kiosk.language
        self.deadline = cfg.status.deadline
        self.rate_per_minute = cfg.status.rate_per_minute
        self.result_seconds = cfg.display.result_seconds
        self.pulse_seconds = cfg.signals.pulse_seconds
        self.max_length = cfg.scanner.max_length
        self.new_id = new_id
        self.desk = StaffDesk(staff, max_attempts=cfg.keypad.max_pin_attempts,
                              lockout_seconds=cfg.keypad.lockout_seconds,
                              idle_seconds=cfg.keypad.session_idle_seconds)
        self.state = "idle"  # idle | checking | showing
        self.online = True
        self.clock_synced = True
        self.pending: Optional[Pending] = None
        self.queue: deque = deque()
        self.showing_until = 0.0
        self.admitted_at: dict[str, float] = {}
        self.lookups: deque = deque()
        self.group: Optional[Group] = None
        self.see_staff: Optional[tuple[Identity, str]] = None
        self.last_admit_id: Optional[str] = None
        self.door = door_rules.Door(cfg)  # occupancy: what this door counts

    # ---- entry point ------------------------------------------------------

    def handle(self, event, now: Now) -> list:
        self.clock_synced = now.synced
        handler = {
            Scanned: lambda e: self._scanned(e.payload, now, arrived=e.arrived),
            LookupDone: lambda e: self._answered(e, now),
            Tick: lambda e: self._tick(now),
            KeyPressed: lambda e: self._key(e.key, now),
            Passed: lambda e: self._passed(now, e.free),
            Heard: lambda e: door_rules.heard(self, e, now),
            ServiceHealth: lambda e: self._health(e.online),
            Shutdown: lambda e: [Signal("off")],
        }[type(event)]
        actions = door_rules.roll(self, now) + handler(event)  # closing time first
        while self.queue and self.state != "checking":
            payload, arrived = self.queue.popleft()
            actions += self._scanned(payload, now, arrived=arrived)
        return actions

    # ---- screens ----------------------------------------------------------

    def screen(self, kind: str, **fields) -> Show:
        return Show(Screen(kind=kind, language=self.language, online=self.online,
                           clock_synced=self.clock_synced, **fields))

    def idle_screen(self) -> Show:
        if self.desk.is_open or self.desk.mode != "closed":
            return self.screen("staff", staff_id=self.desk.staff_id, typed=self.desk.shown_typed,
                               reason=self.desk.mode,
                               group_left=self.group.left if self.group else 0)
        return self.screen("idle", group_left=self.group.left if self.group else 0,
                           **self.door.screen_fields())

    def _show_for(self, show: Show, now: Now) -> list:
        self.state, self.showing_until = "showing", now.mono + self.result_seconds
        return [show]

    # ---- visitors ---------------------------------------------------------

    def _scanned(self, payload: bytes, now: Now, staff_id: Optional[str] = None, *,
                 arrived: Optional[float] = None) -> list:
        if self.state == "checking":
            if len(self.queue) >= MAX_QUEUE:
                return [self.screen("busy", reason="queue-full")]
            self.queue.append((payload, arrived))
            return [self.screen("busy", reason="queued")]
        try:
            identity = documents.parse(payload, max_length=self.max_length, today=now.wall.date())
        except DocumentError as exc:
            # A refusal is the latest word at the door: a running pulse ends now.
            return [RelayOff(), Signal("error")] + self._show_for(
                self.screen("refused", reason=exc.reason), now)
        return self._visitor(identity, now, staff_id, arrived=arrived)

    def _visitor(self, identity: Identity, now: Now, staff_id: Optional[str] = None, *,
                 arrived: Optional[float] = None) -> list:
        arrived = now.mono if arrived is None else arrived
        admitted = self.admitted_at.get(identity.number)
        if admitted is not None and now.mono - admitted < self.policy.rescan_seconds:
            return self._show_for(self.screen("result", verdict="admit", masked=identity.masked,
                                              reason="repeat", at=now.wall), now)
        if self.door.occupancy.is_full():
            return door_rules.venue_full(self, identity, now, staff_id)
        verdict = before_lookup(identity, self.policy, now.wall)
        if verdict:
            return self._decided(identity, "unknown", verdict, now, arrived, staff_id=staff_id)
        while self.lookups and now.mono - self.lookups[0] >= 60:
            self.lookups.popleft()
        if len(self.lookups) >= self.rate_per_minute:
            # A kiosk must not become a way to look up other people's status.
            return self._decided(identity, "unknown", Verdict("staff", "rate-limited"), now,
                                 arrived, staff_id=staff_id)
        self.lookups.append(now.mono)
        self.pending = Pending(self.new_id(), identity, now.mono, staff_id, arrived)
        self.state = "checking"
        return [Lookup(self.pending.request, identity),
                self.screen("checking", masked=identity.masked, group_left=self._group_left())]

    def _answered(self, event: LookupDone, now: Now) -> list:
        pending = self.pending
        if pending is None or event.request != pending.request:
            return []  # an answer after its deadline: already decided
        outcome = event.outcome
        colour = outcome.colour if isinstance(outcome, Status) else "unknown"
        verdict = decide(pending.identity, outcome, self.policy, now.wall)
        if verdict.decision == "admit":
            if pending.held is None:
                pending.held_at = now.mono
            admission = self.door.occupancy.admission(pending.held_at)
            if admission == "wait":  # near the limit: the venue's latest total first
                pending.held = event
                return []
            if admission == "full":  # filled meanwhile
                self.pending = None
                return door_rules.venue_full(self, pending.identity, now, pending.staff_id)
        self.pending = None
        cached = isinstance(outcome, Status) and outcome.cached
        started = pending.started if pending.arrived is None else pending.arrived
        return self._decided(pending.identity, colour, verdict, now, started,
                             cached=cached, staff_id=pending.staff_id)

    def _decided(self, identity: Optional[Identity], colour: str, verdict: Verdict, now: Now,
                 started: float, *, cached: bool = False, staff_id: Optional[str] = None,
                 extra: Optional[dict] = None) -> list:
        if self.group is not None and identity is not None:
            return self._group_member(identity, colour, verdict, now, started, cached)
        decision = self.record(identity, colour, verdict, now, started, cached=cached,
                               staff_id=staff_id, extra=extra)
        return self.actuate([decision], verdict.decision, colour, now)

    def record(self, identity, colour, verdict: Verdict, now: Now, started: float, *,
               cached=False, staff_id=None, extra=None) -> Decision:
        decision_id = self.new_id()
        return Decision(
            id=decision_id, at=now.wall, kind=identity.kind if identity else "none",
            identity=identity, colour=colour, decision=verdict.decision, reason=verdict.reason,
            staff_id=staff_id, latency_ms=round((now.mono - started) * 1000, 1),
            reference=reference_code(decision_id) if verdict.decision == "deny" else None,
            cached=cached, clock_synced=now.synced, mono=now.mono, extra=extra or {})

    def actuate(self, decisions: list[Decision], verdict: str, colour: str, now: Now,
                pulse_count: int = 1) -> list:
        """Journal, relay, lights, screen: in that order (record before acting).
        A deny or "see staff" ends a running pulse: the door follows the
        latest decision, not one from a moment ago."""
        if verdict == "admit":
            decisions = door_rules.count_admits(self, decisions)
        actions: list = [Journal(decision) for decision in decisions]
        last = decisions[-1]
        if verdict == "admit":
            actions.append(PulseRelay(self.pulse_seconds * pulse_count))
            for decision in decisions:
                if decision.identity:
                    self.admitted_at[decision.identity.number] = now.mono
            self.last_admit_id = last.id
        else:
            actions.append(RelayOff())
        actions.append(Signal(verdict))
        if verdict == "staff" and last.identity is not None:
            self.see_staff = (last.identity, colour)
        return actions + self._show_for(self.screen(
            "result", verdict=verdict, colour=colour, masked=last.masked, reason=last.reason,
            reference=last.reference, at=now.wall, cached=last.cached, staff_id=last.staff_id,
            group_left=len(decisions) if len(decisions) > 1 else 0), now)

    # ---- groups -----------------------------------------------------------

    def _group_left(self) -> int:
        return self.group.left if self.group else 0

    def _group_member(self, identity, colour, verdict, now, started, cached) -> list:
        group = self.group
        group.add(identity, colour, verdict, started, cached)
        if verdict.decision == "admit" and group.left:
            self.state = "idle"
            return [Signal("staff"), self.screen("checking", masked=identity.masked,
                                                 reason="group-next", group_left=group.left)]
        self.group = None
        final, decisions = group.close(self, now)
        return self.actuate(decisions, final, decisions[-1].colour, now,
                            pulse_count=len(decisions) if final == "admit" else 1)

    # ---- time, health, passage --------------------------------------------

    def _tick(self, now: Now) -> list:
        actions: list = []
        pending = self.pending
        if pending is not None and pending.held is not None:
            if now.mono - pending.held_at >= self.deadline:  # no fresh total in time: please wait
                self.pending = None
                actions += door_rules.venue_full(self, pending.identity, now, pending.staff_id)
        elif self.state == "checking" and now.mono - pending.started >= self.deadline + DEADLINE_SLACK:
            actions += self._answered(LookupDone(pending.request, Failure("timeout")), now)
        for command in self.desk.expire(now.mono):
            actions += self._command(command, now)
        if self.state == "showing" and now.mono >= self.showing_until:
            self.state = "idle"
            actions += [Signal("off"), self.idle_screen()]
        return actions

    def _health(self, online: bool) -> list:
        self.online = online
        return [self.idle_screen()] if self.state == "idle" else []

    def _passed(self, now: Now, free: bool = False) -> list:
        counted = door_rules.passed(self, free, now)
        if counted is not None:
            return counted
        if self.last_admit_id is None or free:
            return []
        decision = self.record(None, "unknown", Verdict("admit", "passage-sensed"), now, now.mono,
                               extra={"decision_id": self.last_admit_id})
        self.last_admit_id = None
        return [Journal(decision)]

    # ---- staff --------------------------------------------------------------

    def _key(self, key: str, now: Now) -> list:
        actions: list = []
        for command in self.desk.press(key, now.mono):
            actions += self._command(command, now)
        return actions

    def _staff_row(self, staff_id, reason: str, now: Now, decision: str = "staff") -> Journal:
        return Journal(self.record(None, "unknown", Verdict(decision, reason), now, now.mono,
                                   staff_id=staff_id))

    def _command(self, command, now: Now) -> list:
        return run_command(self, command, now)

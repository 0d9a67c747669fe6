"""The kiosk's state machine: events in, actions out, no I/O, no clock of its
own (every call is told :class:`~kiosk.core.model.Now`).

One visitor at a time::

    idle --scan--> checking --LookupDone / deadline--> showing --timer--> idle

A scan during a lookup is queued (the screen says "please wait") and taken
as soon as that lookup is decided; a full queue is refused on screen, never
dropped silently. The re-scan guard and the passages an admit expects are in
:mod:`kiosk.core.admissions`. Staff keys go to :class:`~kiosk.core.staff.StaffDesk`
and their commands to :mod:`kiosk.core.staff_actions`, which change the
machine only through its public transitions; group mode is in :mod:`kiosk.core.group`.

Action order on a decision is deliberate: the journal first (record before
acting: a decision that cannot be committed must never open the door), then
the relay, lights and screen. Anything but an admit ends a running pulse at
once, so the relay always reflects the latest decision.
"""
from __future__ import annotations

import uuid
from collections import deque
from typing import Any, Callable, Iterable, Mapping, Optional

from kiosk.core import documents
from kiosk.core import door as door_rules
from kiosk.core.admissions import Admissions
from kiosk.core.errors import DocumentError
from kiosk.core.group import Group
from kiosk.core.occupancy import Heard
from kiosk.core.pending import Pending
from kiosk.core.model import (LANGUAGES, Action, Decision, Event, Failure, Identity, Journal, KeyPressed,
                              Lookup, LookupDone, Now, Passed, PulseRelay, RelayOff, Scanned, Screen,
                              ServiceHealth, Show, Shutdown, Signal, Status, Tick, reference_code)
from kiosk.core.policy import Verdict, before_lookup, decide
from kiosk.core.settings import MachineConfig
from kiosk.core.staff import StaffDesk
from kiosk.core.staff_actions import run_commands

# Scans waiting for a lookup to finish. Generous on purpose: a scanner
# emptying its buffer after a network hiccup must lose nothing; at 512 bytes
# a payload this is half a megabyte at most.
MAX_QUEUE = 1024
# The status client enforces the deadline itself; this backstop only fires if
# an answer never comes back at all, and lets the client's cause win the race.
DEADLINE_SLACK = 0.2


class Kiosk:
    """Decide for one visitor at a time.

    >>> kiosk = Kiosk(cfg)                                   # doctest: +SKIP
    >>> kiosk.handle(Scanned(b"871008401427\\r"), now)       # doctest: +SKIP
    [Lookup(request='...', identity=...), Show(screen=Screen(kind='checking', ...))]
    """

    def __init__(self, cfg: MachineConfig, staff: Iterable[Mapping[str, str]] = (), *,
                 new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self.policy = cfg.policy
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
        self.queue: deque[tuple[bytes, Optional[float]]] = deque()  # (payload, arrived)
        self.showing_until = 0.0
        self.admissions = Admissions(cfg.policy["rescan_seconds"])
        self.lookups: deque[float] = deque()  # when each lookup of the last minute began
        self.group: Optional[Group] = None
        self.see_staff: Optional[tuple[Identity, str]] = None  # (who, their colour)
        self.door = door_rules.Door(cfg)  # occupancy: what this door counts

    # ---- entry point ------------------------------------------------------

    def handle(self, event: Event, now: Now) -> list[Action]:
        self.clock_synced = now.synced
        # Each entry takes its own event type, hence Any for the argument.
        handlers: dict[type, Callable[[Any], list[Action]]] = {
            Scanned: lambda e: self._scanned(e.payload, now, arrived=e.arrived),
            LookupDone: lambda e: self._answered(e, now),
            Tick: lambda e: self._tick(now),
            KeyPressed: lambda e: run_commands(self, self.desk.press(e.key, now.mono), now),
            Passed: lambda e: self._passed(now, e.free),
            Heard: lambda e: door_rules.heard(self, e, now),
            ServiceHealth: lambda e: self._health(e.online),
            Shutdown: lambda e: [Signal("off")],
        }
        actions = door_rules.roll(self, now) + handlers[type(event)](event)  # closing time first
        while self.queue and self.state != "checking":
            payload, arrived = self.queue.popleft()
            actions += self._scanned(payload, now, arrived=arrived)
        return actions

    # ---- screens ----------------------------------------------------------

    def screen(self, kind: str, **fields: Any) -> Show:
        """``fields`` are :class:`~kiosk.core.model.Screen`'s own keywords."""
        return Show(Screen(kind=kind, language=self.language, online=self.online,
                           clock_synced=self.clock_synced, **fields))

    def idle_screen(self) -> Show:
        if self.desk.is_open or self.desk.mode != "closed":
            return self.screen("staff", staff_id=self.desk.staff_id, typed=self.desk.shown_typed,
                               reason=self.desk.mode, group_left=self._group_left())
        return self.screen("idle", group_left=self._group_left(), **self.door.screen_fields())

    def _show_for(self, show: Show, now: Now) -> list[Action]:
        self.state, self.showing_until = "showing", now.mono + self.result_seconds
        return [show]

    # ---- visitors ---------------------------------------------------------

    def _scanned(self, payload: bytes, now: Now, staff_id: Optional[str] = None, *,
                 arrived: Optional[float] = None) -> list[Action]:
        self.desk.touch(now.mono)  # a party scanning in is a session in use
        if self.state == "checking":
            if len(self.queue) >= MAX_QUEUE:
                return [self.screen("busy", reason="queue-full")]
            self.queue.append((payload, arrived))
            return [self.screen("busy", reason="queued")]
        try:
            identity = documents.parse(payload, max_length=self.max_length, today=now.wall.date())
        except DocumentError as exc:
            # A refusal is the latest word at the door: a running pulse ends now.
            refused: list[Action] = [RelayOff(), Signal("error")]
            return refused + self._show_for(self.screen("refused", reason=exc.reason), now)
        return self.visitor(identity, now, staff_id, arrived=arrived)

    def visitor(self, identity: Identity, now: Now, staff_id: Optional[str] = None, *,
                arrived: Optional[float] = None) -> list[Action]:
        """A person read from a document (or typed by staff): decide now or look them up."""
        arrived = now.mono if arrived is None else arrived
        if self.group is not None and self.group.has(identity):
            return [Signal("error"), self.screen("refused", reason="group-duplicate",
                                                 masked=identity.masked, group_left=self.group.left)]
        if self.admissions.is_repeat(identity, now.mono):
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

    def _answered(self, event: LookupDone, now: Now) -> list[Action]:
        pending = self.pending
        if pending is None or event.request != pending.request:
            return []  # an answer after its deadline: already decided
        outcome = event.outcome
        colour = outcome.colour if isinstance(outcome, Status) else "unknown"
        verdict = decide(pending.identity, outcome, self.policy, now.wall)
        if verdict.decision == "admit":
            held = door_rules.hold(self, pending, event, now)  # near the limit: the venue's total first
            if held is not None:
                return held
        self.pending = None
        cached = isinstance(outcome, Status) and outcome.cached
        started = pending.started if pending.arrived is None else pending.arrived
        return self._decided(pending.identity, colour, verdict, now, started,
                             cached=cached, staff_id=pending.staff_id)

    def _decided(self, identity: Optional[Identity], colour: str, verdict: Verdict, now: Now,
                 started: float, *, cached: bool = False, staff_id: Optional[str] = None) -> list[Action]:
        if self.group is not None and identity is not None:
            return self._group_member(self.group, identity, colour, verdict, now, started, cached)
        decision = self.record(identity, colour, verdict, now, started, cached=cached, staff_id=staff_id)
        return self.actuate([decision], verdict.decision, colour, now)

    def record(self, identity: Optional[Identity], colour: str, verdict: Verdict, now: Now,
               started: float, *, cached: bool = False, staff_id: Optional[str] = None,
               extra: Optional[dict[str, Any]] = None) -> Decision:
        decision_id = self.new_id()
        return Decision(
            id=decision_id, at=now.wall, kind=identity.kind if identity else "none",
            identity=identity, colour=colour, decision=verdict.decision, reason=verdict.reason,
            staff_id=staff_id, latency_ms=round((now.mono - started) * 1000, 1),
            reference=reference_code(decision_id) if verdict.decision == "deny" else None,
            cached=cached, clock_synced=now.synced, mono=now.mono, extra=extra or {})

    def actuate(self, decisions: list[Decision], verdict: str, colour: str, now: Now,
                pulse_count: int = 1) -> list[Action]:
        """Journal, relay, lights, screen: in that order (record before acting).
        A deny or "see staff" ends a running pulse: the door follows the
        latest decision, not one from a moment ago."""
        if verdict == "admit":
            decisions = door_rules.count_admits(self, decisions)
        actions: list[Action] = [Journal(decision) for decision in decisions]
        last = decisions[-1]
        if verdict == "admit":
            actions.append(PulseRelay(self.pulse_seconds * pulse_count, passages=pulse_count))
            self.admissions.admitted(decisions, pulse_count, now.mono)
        else:
            actions.append(RelayOff())
        actions.append(Signal(verdict))
        if verdict == "staff" and last.identity is not None:
            self.see_staff = (last.identity, colour)
        return actions + self._show_for(self.screen(
            "result", verdict=verdict, colour=colour, masked=last.masked, reason=last.reason,
            reference=last.reference, at=now.wall, cached=last.cached, staff_id=last.staff_id,
            group_left=len(decisions) if len(decisions) > 1 else 0,
            references=tuple(d.reference for d in decisions if d.reference)
            if len(decisions) > 1 else ()), now)

    # ---- groups -----------------------------------------------------------

    def _group_left(self) -> int:
        return self.group.left if self.group else 0

    def _group_member(self, group: Group, identity: Identity, colour: str, verdict: Verdict,
                      now: Now, started: float, cached: bool) -> list[Action]:
        group.add(identity, colour, verdict, started, cached)
        if verdict.decision == "admit" and group.left:
            self.state = "idle"
            return [Signal("staff"), self.screen("checking", masked=identity.masked,
                                                 reason="group-next", group_left=group.left)]
        return self._close_group(now)

    def start_group(self, size: int, staff_id: Optional[str], now: Now) -> list[Action]:
        """The next ``size`` visitors are one party; a party still unfinished
        is abandoned first (its actions are returned)."""
        abandoned = self.abandon_group(now)
        self.group = Group(size, staff_id)
        return abandoned

    def abandon_group(self, now: Now) -> list[Action]:
        """Close a party that cannot finish: every member scanned so far,
        the one being looked up too, gets a deny row; the door stays shut."""
        group, pending = self.group, self.pending
        if group is not None and pending is not None:  # its answer, when it comes, is ignored
            group.add(pending.identity, "unknown", Verdict("deny", "abandoned"), pending.started, False)
            self.pending, self.state = None, "idle"
        return self._close_group(now, abandoned=True)

    def _close_group(self, now: Now, *, abandoned: bool = False) -> list[Action]:
        """End group mode: one row per member, and the door opens once per
        member only if the whole party is admitted."""
        group, self.group = self.group, None
        if group is None or not group.members:
            return []
        final, decisions = group.close(self.record, now, abandoned=abandoned)
        return self.actuate(decisions, final, decisions[-1].colour, now,
                            pulse_count=len(decisions) if final == "admit" else 1)

    # ---- time and health (a passage is for self.admissions) ------------------

    def _tick(self, now: Now) -> list[Action]:
        actions: list[Action] = []
        pending = self.pending
        if pending is not None and pending.held is not None:
            actions += door_rules.held_too_long(self, pending, now)
        elif self.state == "checking" and pending is not None and \
                now.mono - pending.started >= self.deadline + DEADLINE_SLACK:
            actions += self._answered(LookupDone(pending.request, Failure("timeout")), now)
        actions += run_commands(self, self.desk.expire(now.mono), now)
        if self.state == "showing" and now.mono >= self.showing_until:
            self.state = "idle"
            actions += [Signal("off"), self.idle_screen()]
        return actions

    def _health(self, online: bool) -> list[Action]:
        self.online = online
        return [self.idle_screen()] if self.state == "idle" else []

    def _passed(self, now: Now, free: bool = False) -> list[Action]:
        counted = door_rules.passed(self, free, now)
        if counted is not None:
            return counted
        return [] if free else self.admissions.passed(self.record, now)

    # ---- staff: their commands run in kiosk.core.staff_actions, through these

    def take_see_staff(self) -> Optional[tuple[Identity, str]]:
        """The visitor waiting on staff (and their colour), once: resolving clears it."""
        waiting, self.see_staff = self.see_staff, None
        return waiting

    def next_language(self) -> str:
        self.language = LANGUAGES[(LANGUAGES.index(self.language) + 1) % len(LANGUAGES)]
        return self.language

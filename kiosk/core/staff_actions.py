"""What each staff command does to the kiosk: journal rows with the staff id
and a reason code, the relay, the screen. Kept apart from the desk (which
only knows keys) and from the visitor flow in :mod:`kiosk.core.machine`.

A handler reads the machine and asks it for transitions through
:class:`Machine`; it never assigns the machine's attributes nor reaches for
its private methods, so each piece of state has one owner (the machine).
"""
from __future__ import annotations

from typing import Callable, Optional, Protocol

from kiosk.core import documents
from kiosk.core import door as door_rules

from kiosk.core.errors import DocumentError
from kiosk.core.group import Recorder
from kiosk.core.model import Action, Decision, Identity, Journal, Now, Show, Signal
from kiosk.core.policy import Verdict
from kiosk.core.staff import Command


class Machine(Protocol):
    """What a staff command may ask of :class:`~kiosk.core.machine.Kiosk`.
    Nothing here is settable: the machine alone writes its state."""

    @property
    def state(self) -> str: ...
    @property
    def record(self) -> Recorder: ...
    def screen(self, kind: str, **fields: object) -> Show: ...
    def idle_screen(self) -> Show: ...
    def actuate(self, decisions: list[Decision], verdict: str, colour: str, now: Now,
                pulse_count: int = 1) -> list[Action]: ...
    def visitor(self, identity: Identity, now: Now, staff_id: Optional[str] = None) -> list[Action]: ...
    def abandon_group(self, now: Now) -> list[Action]: ...
    def start_group(self, size: int, staff_id: Optional[str], now: Now) -> list[Action]: ...
    def take_see_staff(self) -> Optional[tuple[Identity, str]]: ...
    def next_language(self) -> str: ...


Handler = Callable[[Machine, Command, Now], list[Action]]


def run_commands(kiosk: Machine, commands: list[Command], now: Now) -> list[Action]:
    """The actions for the desk's commands, in order (unknown ones do nothing)."""
    actions: list[Action] = []
    for command in commands:
        handler = HANDLERS.get(command.name)
        actions += handler(kiosk, command, now) if handler else []
    return actions


def _row(kiosk: Machine, staff_id: Optional[str], reason: str, now: Now) -> Journal:
    """A journal row for a staff action that concerns no document."""
    return Journal(kiosk.record(None, "unknown", Verdict("staff", reason), now, now.mono,
                                staff_id=staff_id))


def _screen(kiosk: Machine, command: Command, now: Now) -> list[Action]:
    return [kiosk.idle_screen()] if kiosk.state == "idle" else []


def _session_start(kiosk: Machine, command: Command, now: Now) -> list[Action]:
    return [_row(kiosk, command.staff_id, "session-start", now), Signal("staff"),
            kiosk.idle_screen()]


def _session_end(kiosk: Machine, command: Command, now: Now) -> list[Action]:
    # An unfinished party does not outlive its staff session: closed on the
    # record, member by member, with the door shut.
    abandoned = kiosk.abandon_group(now)
    row = _row(kiosk, command.staff_id, f"session-end-{command.text}", now)
    return abandoned + [row] + ([] if abandoned else _screen(kiosk, command, now))


def _pin_wrong(kiosk: Machine, command: Command, now: Now) -> list[Action]:
    return [_row(kiosk, None, f"pin-wrong-{command.number}", now), Signal("error"),
            kiosk.screen("refused", reason="pin-wrong")]


def _locked(kiosk: Machine, command: Command, now: Now) -> list[Action]:
    if command.number:  # the attempt that locked it, not a key pressed while locked
        row = _row(kiosk, None, "keypad-locked", now)
        return [row, Signal("error"), kiosk.screen("locked")]
    return [kiosk.screen("locked")]


def _staff_decides(decision: str, reason: str) -> Handler:
    """Admit once or deny, with no document: on the record under the staff id."""
    def handler(kiosk: Machine, command: Command, now: Now) -> list[Action]:
        row = kiosk.record(None, "unknown", Verdict(decision, reason), now, now.mono,
                           staff_id=command.staff_id)
        return kiosk.actuate([row], decision, "unknown", now)
    return handler


def _manual(kiosk: Machine, command: Command, now: Now) -> list[Action]:
    if kiosk.state == "checking":
        return [kiosk.screen("busy", reason="queued")]
    try:
        identity = documents.parse_typed(command.text, today=now.wall.date())
    except DocumentError as exc:
        return [Signal("error"), kiosk.screen("refused", reason=exc.reason)]
    return kiosk.visitor(identity, now, staff_id=command.staff_id)


def _resolve(kiosk: Machine, command: Command, now: Now) -> list[Action]:
    """A "see staff" visitor showed staff what the venue asks (a PCR
    certificate): admit them, on the record."""
    waiting = kiosk.take_see_staff()
    if waiting is None:
        return [kiosk.screen("refused", reason="nothing-to-resolve")]
    identity, colour = waiting
    decision = kiosk.record(identity, colour, Verdict("admit", "staff-resolved"), now, now.mono,
                            staff_id=command.staff_id)
    return kiosk.actuate([decision], "admit", colour, now)


def _group(kiosk: Machine, command: Command, now: Now) -> list[Action]:
    abandoned = kiosk.start_group(command.number, command.staff_id, now)  # ends an unfinished one
    row = _row(kiosk, command.staff_id, f"group-start-{command.number}", now)
    return abandoned + [row] + ([] if abandoned else [kiosk.idle_screen()])


def _language(kiosk: Machine, command: Command, now: Now) -> list[Action]:
    language = kiosk.next_language()
    return [_row(kiosk, command.staff_id, f"language-{language}", now), kiosk.idle_screen()]


HANDLERS: dict[str, Handler] = {
    "screen": _screen,
    "session-start": _session_start,
    "session-end": _session_end,
    "pin-wrong": _pin_wrong,
    "locked": _locked,
    "admit-once": _staff_decides("admit", "staff-admit"),
    "deny": _staff_decides("deny", "staff-deny"),
    "manual": _manual,
    "resolve": _resolve,
    "group": _group,
    "language": _language,
    "occupancy": door_rules.adjust,
}

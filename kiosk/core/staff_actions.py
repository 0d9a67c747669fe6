"""What each staff command does to the kiosk: journal rows with the staff id
and a reason code, the relay, the screen. Kept apart from the desk (which
only knows keys) and from the visitor flow in :mod:`kiosk.core.machine`.
"""
from __future__ import annotations

from kiosk.core import documents
from kiosk.core import door as door_rules

from kiosk.core.errors import DocumentError
from kiosk.core.group import Group
from kiosk.core.model import LANGUAGES, Now, Signal
from kiosk.core.policy import Verdict


def run_command(kiosk, command, now: Now) -> list:
    handler = HANDLERS.get(command.name)
    return handler(kiosk, command, now) if handler else []


def _screen(kiosk, command, now: Now) -> list:
    return [kiosk.idle_screen()] if kiosk.state == "idle" else []


def _session_start(kiosk, command, now: Now) -> list:
    return [kiosk._staff_row(command.staff_id, "session-start", now), Signal("staff"),
            kiosk.idle_screen()]


def _session_end(kiosk, command, now: Now) -> list:
    kiosk.group = None  # an unfinished party does not outlive its staff session
    row = kiosk._staff_row(command.staff_id, f"session-end-{command.text}", now)
    return [row] + _screen(kiosk, command, now)


def _pin_wrong(kiosk, command, now: Now) -> list:
    return [kiosk._staff_row(None, f"pin-wrong-{command.number}", now), Signal("error"),
            kiosk.screen("refused", reason="pin-wrong")]


def _locked(kiosk, command, now: Now) -> list:
    if command.number:  # the attempt that locked it, not a key pressed while locked
        row = kiosk._staff_row(None, "keypad-locked", now)
        return [row, Signal("error"), kiosk.screen("locked")]
    return [kiosk.screen("locked")]


def _admit_once(kiosk, command, now: Now) -> list:
    decision = kiosk.record(None, "unknown", Verdict("admit", "staff-admit"), now, now.mono,
                            staff_id=command.staff_id)
    return kiosk.actuate([decision], "admit", "unknown", now)


def _deny(kiosk, command, now: Now) -> list:
    decision = kiosk.record(None, "unknown", Verdict("deny", "staff-deny"), now, now.mono,
                            staff_id=command.staff_id)
    return kiosk.actuate([decision], "deny", "unknown", now)


def _manual(kiosk, command, now: Now) -> list:
    if kiosk.state == "checking":
        return [kiosk.screen("busy", reason="queued")]
    try:
        identity = documents.parse_typed(command.text, today=now.wall.date())
    except DocumentError as exc:
        return [Signal("error"), kiosk.screen("refused", reason=exc.reason)]
    return kiosk._visitor(identity, now, staff_id=command.staff_id)


def _resolve(kiosk, command, now: Now) -> list:
    """A "see staff" visitor showed staff what the venue asks (a PCR
    certificate): admit them, on the record."""
    if kiosk.see_staff is None:
        return [kiosk.screen("refused", reason="nothing-to-resolve")]
    identity, colour = kiosk.see_staff
    kiosk.see_staff = None
    decision = kiosk.record(identity, colour, Verdict("admit", "staff-resolved"), now, now.mono,
                            staff_id=command.staff_id)
    return kiosk.actuate([decision], "admit", colour, now)


def _group(kiosk, command, now: Now) -> list:
    kiosk.group = Group(command.number, command.staff_id)
    row = kiosk._staff_row(command.staff_id, f"group-start-{command.number}", now)
    return [row, kiosk.idle_screen()]


def _language(kiosk, command, now: Now) -> list:
    kiosk.language = LANGUAGES[(LANGUAGES.index(kiosk.language) + 1) % len(LANGUAGES)]
    row = kiosk._staff_row(command.staff_id, f"language-{kiosk.language}", now)
    return [row, kiosk.idle_screen()]


HANDLERS = {
    "screen": _screen,
    "session-start": _session_start,
    "session-end": _session_end,
    "pin-wrong": _pin_wrong,
    "locked": _locked,
    "admit-once": _admit_once,
    "deny": _deny,
    "manual": _manual,
    "resolve": _resolve,
    "group": _group,
    "language": _language,
    "occupancy": door_rules.adjust,
}

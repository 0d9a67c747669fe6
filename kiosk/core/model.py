"""The kiosk's vocabulary: identities, lookup outcomes, events in, actions out.

Everything here is a frozen dataclass with no behaviour beyond formatting, so
the pure core (documents, policy, machine) and the drivers at the edges agree
on one shape. Drivers turn hardware into *events*; the state machine turns
events into *actions*; the application turns actions back into hardware.
"""
from __future__ import annotations

import base64
import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional, Union

COLOURS = ("green", "blue", "yellow", "red")
DECISIONS = ("admit", "deny", "staff")
LANGUAGES = ("kk", "ru", "en")


def mask(number: str) -> str:
    """The only form of a document number allowed on screen, in logs or on
    disk in clear: its last four characters."""
    return "\u2022\u2022\u2022\u2022" + number[-4:]


def reference_code(decision_id: str) -> str:
    """A deny's refund reference as the journal row and the screen carry it:
    8 base32 letters from its decision id (a UUID)."""
    raw = base64.b32encode(uuid.UUID(decision_id).bytes[:5]).decode()
    return f"{raw[:4]}-{raw[4:]}"


@dataclass(frozen=True)
class Identity:
    """A person as read from a document.

    kind: "iin" (a bare IIN, typed or a barcode), "id-card" (TD1 MRZ of a
    Kazakh ID card) or "passport" (TD3/TD2 MRZ or a typed passport number).
    number: the IIN, or the passport number for foreign passports.
    birth_date: the IIN's whenever there is an IIN (its 7th digit carries the
    century an MRZ's two-digit year does not), else the MRZ's.
    expiry_date: the document's, from its MRZ (None for a bare or typed number).
    """

    kind: str
    number: str
    iin: Optional[str] = None
    birth_date: Optional[dt.date] = None
    country: Optional[str] = None
    expiry_date: Optional[dt.date] = None

    @property
    def masked(self) -> str:
        return mask(self.number)

    def as_json(self) -> dict[str, Optional[str]]:
        return {
            "kind": self.kind,
            "number": self.number,
            "iin": self.iin,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "country": self.country,
            "expiry_date": self.expiry_date.isoformat() if self.expiry_date else None,
        }

    def __repr__(self) -> str:  # never print a number in clear by accident
        return f"Identity(kind={self.kind!r}, number={self.masked!r}, country={self.country!r})"


@dataclass(frozen=True)
class Status:
    """A successful lookup: the person's colour as the service reported it."""

    colour: str
    message: str = ""
    cached: bool = False  # True when served from the offline cache
    # The service's own "Pass": False means "do not let in", whatever the
    # colour; None when the answer did not say (older services).
    passes: Optional[bool] = None


@dataclass(frozen=True)
class Failure:
    """A failed lookup; ``cause`` as in :class:`kiosk.core.errors.LookupFailed`."""

    cause: str


Outcome = Union[Status, Failure]


@dataclass(frozen=True)
class Now:
    """The time as the application tells it to the pure core.

    mono: seconds on the monotonic clock (for timers and latency);
    wall: aware local datetime (for weekday rules, ages and the journal);
    synced: whether the system clock is known to be synchronised.
    """

    mono: float
    wall: dt.datetime
    synced: bool = True


# ---- events (drivers and the application -> machine) ----------------------

@dataclass(frozen=True)
class Scanned:
    """Raw bytes from a scanner (serial, camera, keyboard wedge)."""

    payload: bytes
    source: str = "scanner"
    # time.monotonic() when the bytes arrived (the driver's thread), so the
    # journal's latency includes any time spent waiting behind a flood.
    arrived: Optional[float] = None


@dataclass(frozen=True)
class LookupDone:
    """The answer to a :class:`Lookup` action, matched by ``request``."""

    request: str
    outcome: Outcome


@dataclass(frozen=True)
class Tick:
    """Time passes; lets timers (result screen, staff session) expire."""


@dataclass(frozen=True)
class KeyPressed:
    """One key from a keypad: "0".."9", "*", "#", "A".."D", "enter", "back", "esc"."""

    key: str
    source: str = "keypad"


@dataclass(frozen=True)
class Passed:
    """The passage sensor saw the visitor go through. ``free``: it saw
    someone with the door shut (going out through a free exit)."""

    free: bool = False


@dataclass(frozen=True)
class ServiceHealth:
    """The status service or network went up or down (drives the banner)."""

    online: bool


@dataclass(frozen=True)
class Shutdown:
    """Stop: the machine answers with the safe state."""


Event = Union[Scanned, LookupDone, Tick, KeyPressed, Passed, ServiceHealth, Shutdown]


# ---- actions (machine -> application) --------------------------------------

@dataclass(frozen=True)
class Screen:
    """What the display should show; the display driver draws it.

    kind: "idle" | "checking" | "result" | "refused" (a bad scan) | "busy"
          (a scan arrived during a lookup) | "staff" (staff session) | "locked"
          | "venue-full" (occupancy) | "out-of-service" (the journal cannot record: please see staff).
    verdict: "admit" | "deny" | "staff" on result screens.
    reason: stable code (policy reason or document refusal reason).
    reference: refund reference on deny screens; references: every
    member's, when a group is refused (each member may claim a refund).
    typed: masked text staff typed, on staff screens.
    until: when a locked keypad opens again (aware wall time), for the countdown.
    """

    kind: str
    language: str = "kk"
    verdict: Optional[str] = None
    colour: Optional[str] = None
    masked: Optional[str] = None
    reason: Optional[str] = None
    reference: Optional[str] = None
    at: Optional[dt.datetime] = None
    online: bool = True
    clock_synced: bool = True
    typed: str = ""
    staff_id: Optional[str] = None
    group_left: int = 0
    cached: bool = False
    until: Optional[dt.datetime] = None
    references: tuple[str, ...] = ()
    occupancy: Optional[int] = None  # "N of M" on an entry door's idle screen
    limit: Optional[int] = None
    estimate: bool = False  # the count is this door's own estimate (offline)


@dataclass(frozen=True)
class Show:
    screen: Screen


@dataclass(frozen=True)
class Signal:
    """Lights and buzzer pattern: "admit" | "deny" | "error" | "staff" | "off"."""

    pattern: str


@dataclass(frozen=True)
class PulseRelay:
    """Open the turnstile for at most ``seconds``, or until ``passages``
    people have gone through (a group of N holds it for N)."""

    seconds: float
    passages: int = 1


@dataclass(frozen=True)
class RelayOff:
    """End any running pulse now: a later deny, refusal or "see staff" is
    the latest word at the door."""


@dataclass(frozen=True)
class Lookup:
    """Ask the status service; answer with LookupDone(request, outcome)."""

    request: str
    identity: Identity


@dataclass(frozen=True)
class Decision:
    """One journal row, before the journal hashes and seals the number."""

    id: str
    at: dt.datetime
    kind: str  # document kind, or "none" for staff actions without a document
    identity: Optional[Identity]
    colour: str  # a COLOURS member or "unknown"
    decision: str  # a DECISIONS member
    reason: str
    staff_id: Optional[str] = None
    latency_ms: Optional[float] = None
    reference: Optional[str] = None
    cached: bool = False
    clock_synced: bool = True
    mono: Optional[float] = None
    # JSON-ready detail: a group member's group and group_size, a passage's decision_id
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def masked(self) -> Optional[str]:
        return self.identity.masked if self.identity else None


@dataclass(frozen=True)
class Journal:
    decision: Decision


Action = Union[Show, Signal, PulseRelay, RelayOff, Lookup, Journal]

"""Venue occupancy at one door: how many people are inside, and whether this
door may let one more in. Pure: no clock of its own (every call is told the
wall time), no I/O; the heartbeat carries the counts out and the collector's
answer back in (:class:`Heard`).

One count for a venue with several doors::

    total = the venue total the collector last answered (all doors' counts)
          + this door's own changes since the counts it sent with that beat

so offline a door works from the last known total plus its own counts (and
says the figure is an estimate). Each door's counts are cumulative for the
*period* (the business day, which ends at the closing time), which makes a
repeated or reordered heartbeat harmless at the collector.

How far the venue can overshoot its limit, with the network up. Near the
limit (``total + entry doors >= limit``) a door admits only on a *fresh*
total: the answer to a heartbeat sent after the lookup said "admit" (the app
sends one at once; the door waits for it up to the lookup deadline, then
asks the visitor to wait). Every door reports each entry with a heartbeat
straight after counting it, and needs such a fresh total for its next one.
So when a door counts an entry, the entries it could not see are those the
other doors counted within that one heartbeat round trip: one visitor each,
while a door's round trip is not far slower than another's whole visit::

    overshoot <= entry doors x in-flight per door   (one visitor; a group: its size)

plus any "admit once" by staff (they see the screen), and at a door with a
passage sensor one more (entries count on passage, so a visitor admitted
but not yet through is in flight too). Exits only lower the count. This is
a bound by construction on a healthy network, not a lock: a
collector that answers one door far slower than another widens it (the
end-to-end test, tests/test_occupancy_e2e.py, measures it with three entry
doors). Offline there is no bound: each door admits up to the limit on its
own estimate (last known total + own counts), so the venue may exceed the
limit by what the other doors admitted while cut off; the idle screen then
says the count is an estimate. A door that has heard nothing this period
(just restarted, or cut off since the closing time) knows only its own
counts: an entry door errs towards "full" until the first answer.

    >>> occ = Occupancy(limit=2, closing="03:00")
    >>> occ.roll(dt.datetime(2026, 11, 18, 19, 0))
    False
    >>> occ.count("in"), occ.count("in"), occ.is_full()
    (1, 2, True)
    >>> occ.admission(started=5.0)
    'full'

"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Optional

DOOR_KINDS = ("entry", "exit", "both")
_LIMIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$")


def parse_limit(value: object, capacity: int = 0) -> Optional[int]:
    """A limit as configured: "" or 0 = none, 120 or "120" people, or "40%"
    of the capacity (rounded down, at least one). Raises ValueError with a
    reason a person can act on."""
    if value in ("", None, 0):
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a limit like 120 or \"40%\"")
    match = _LIMIT.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a limit like 120 or \"40%\"")
    number, percent = float(match.group(1)), match.group(2)
    if not percent:
        if number != int(number):
            raise ValueError(f"{value!r}: a limit in people is a whole number")
        return int(number) or None
    if not 0 < number <= 100:
        raise ValueError(f"{value!r}: a percentage is between 0 and 100")
    if capacity <= 0:
        raise ValueError(f"{value!r} is a percentage of [venue] capacity, which is not set")
    return max(1, int(capacity * number / 100))


def period_start(wall: dt.datetime, closing: str) -> dt.datetime:
    """The last closing time at or before ``wall``: when its period began."""
    hours, minutes = (int(part) for part in closing.split(":"))
    start = wall.replace(hour=hours % 24, minute=minutes, second=0, microsecond=0)
    return start - dt.timedelta(days=1) if start > wall else start


def period_of(wall: dt.datetime, closing: str) -> str:
    """The business day ``wall`` belongs to, named by the date most of it
    falls on: closing at 02:00, 01:30 on the 19th is still the 18th; closing
    at 23:00, 23:30 on the 18th is already the 19th."""
    return (period_start(wall, closing) + dt.timedelta(hours=12)).date().isoformat()


@dataclass(frozen=True)
class Counts:
    """One door's counts for one period; ``changes`` only ever grows, so the
    collector keeps the newest of two reports whatever order they arrive in."""

    period: str
    entries: int = 0
    exits: int = 0
    adjust: int = 0
    changes: int = 0

    @property
    def net(self) -> int:
        return self.entries - self.exits + self.adjust

    def add(self, what: str, delta: int = 1) -> "Counts":
        """These counts with one more change: "in", "out" or "adjust" by ``delta``."""
        return dataclasses.replace(
            self, entries=self.entries + (delta if what == "in" else 0),
            exits=self.exits + (delta if what == "out" else 0),
            adjust=self.adjust + (delta if what == "adjust" else 0), changes=self.changes + 1)

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Heard:
    """The collector's answer to a heartbeat that carried ``sent``: the venue
    total for ``period`` (this door's ``sent`` counts included), the limit a
    venue manager set there (None: the door's own), and how many entry doors
    count. ``total`` None: the heartbeat failed (the count is an estimate)."""

    period: str = ""
    total: Optional[int] = None
    limit: Optional[int] = None
    doors: int = 1
    sent: Optional[Counts] = None
    asked: float = 0.0  # monotonic time the heartbeat was sent: how fresh the total is


class Occupancy:
    """The count as one door knows it. ``door``: entry, exit or both;
    ``limit``: people (None: no limit); ``closing``: "HH:MM" when the count
    resets."""

    def __init__(self, *, door: str = "entry", limit: Optional[int] = None,
                 closing: str = "00:00"):
        self.door, self.own_limit, self.closing = door, limit, closing
        self.counts = Counts("")
        self.heard_limit: Optional[int] = None
        self._forget()

    def _forget(self) -> None:
        self.heard_total: Optional[int] = None  # None: nothing heard this period
        self.heard_net = 0
        self.heard_asked = float("-inf")
        self.doors = 1
        self.is_live = False  # the last heartbeat was answered

    # ---- what the door knows ------------------------------------------------

    @property
    def limit(self) -> Optional[int]:
        return self.heard_limit if self.heard_limit is not None else self.own_limit

    @property
    def raw(self) -> int:
        """The sum of every door's counts as known here (may dip below zero
        when exits were counted that no entry explains)."""
        return (self.heard_total or 0) + self.counts.net - self.heard_net

    @property
    def total(self) -> int:
        """The venue's occupancy as this door knows it, never below zero."""
        return max(0, self.raw)

    @property
    def is_estimate(self) -> bool:
        """Offline, or nothing heard yet this period: own counts only."""
        return not self.is_live or self.heard_total is None

    @property
    def counts_entries(self) -> bool:
        return self.door in ("entry", "both")

    def is_full(self) -> bool:
        """At (or over) the limit as this door knows it: the next visitor waits."""
        limit = self.limit
        return limit is not None and self.counts_entries and self.total >= limit

    def admission(self, started: float) -> str:
        """May a visitor the lookup admitted at ``started`` (monotonic) go in
        now? "ok", "full", or "wait" (near the limit, for a total asked
        after ``started``: see the overshoot bound above)."""
        if self.is_full():
            return "full"
        limit = self.limit
        if limit is None or not self.counts_entries or not self.is_live:
            return "ok"
        near = self.total + self.doors >= limit
        return "wait" if near and self.heard_asked < started else "ok"

    # ---- changes ------------------------------------------------------------

    def roll(self, wall: dt.datetime) -> bool:
        """Start a new period at the closing time; True when one ended (the
        caller journals the reset). The first call only sets the period."""
        period = period_of(wall, self.closing)
        if period == self.counts.period:
            return False
        if not self.counts.period:  # the first call: counts so far are this period's
            self.counts = dataclasses.replace(self.counts, period=period)
            return False
        self.counts = Counts(period)
        self._forget()
        return True

    def count(self, what: str, delta: int = 1) -> int:
        """Count "in", "out" or "adjust" (by ``delta``); the new total."""
        self.counts = self.counts.add(what, delta)
        return self.total

    def restore(self, counts: Counts) -> None:
        """Counts rebuilt from the journal after a restart (same period only)."""
        if counts.period == self.counts.period:
            self.counts = counts

    def heard(self, answer: Heard) -> None:
        """The collector's answer (or its absence) to a heartbeat."""
        if answer.total is None:
            self.is_live = False
            return
        self.is_live = True
        self.heard_limit = answer.limit
        sent = answer.sent
        if sent is None or answer.period != self.counts.period or sent.period != self.counts.period:
            return  # a day that is over here, or not begun: nothing to add to
        self.heard_total, self.heard_net = answer.total, sent.net
        self.heard_asked, self.doors = answer.asked, max(1, answer.doors)

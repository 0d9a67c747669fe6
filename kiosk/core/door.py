"""What occupancy does at the door: which journal rows count people in or
out, the "venue full, please wait" screen, the reset at closing time and the
staff's correction. The counting itself is :mod:`kiosk.core.occupancy`; the
visitor flow is :mod:`kiosk.core.machine`, which calls in here at a few
points so that its own code stays about one visitor at a time.

Every count is a journal row whose ``extra`` says ``{"count": "in" | "out" |
"adjust", "delta": n}``: the counts are rebuilt from the journal after a
restart (:func:`counts_from_rows`) and a venue's figure can be audited row by
row.

    entry door, no sensor        admit rows count "in"
    entry door, passage sensor   passage-sensed rows count "in"
    exit door, exits by "scan"   admit rows (lookups sent with Type "exit") count "out"
    exit door, exits by "sensor" every passage counts "out", door open or shut
    both                         entries as an entry door; a passage seen with
                                 the door shut (the free way out) counts "out"
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Iterable, Optional

from kiosk.core.model import Action, Decision, Identity, Journal, LookupDone, Now, RelayOff, Signal
from kiosk.core.occupancy import Counts, Heard, Occupancy, parse_limit
from kiosk.core.policy import Verdict
from kiosk.core.staff import Command

if TYPE_CHECKING:  # the machine calls in here; only the type checker looks back
    from kiosk.core.machine import Kiosk
    from kiosk.core.pending import Pending


def build(cfg: Any) -> Occupancy:  # the [door] and [venue] sections
    return Occupancy(door=cfg.door.kind, limit=parse_limit(cfg.venue.limit, cfg.venue.capacity),
                     closing=cfg.venue.closing_time)


def counts_from_rows(period: str, extras: Iterable[dict[str, Any]]) -> Counts:
    """A period's counts from its journal rows' ``extra`` (oldest first)."""
    counts = Counts(period)
    for extra in extras:
        what, delta = extra.get("count"), extra.get("delta", 1)
        if what in ("in", "out", "adjust") and isinstance(delta, int):
            counts = counts.add(what, delta)
    return counts


class Door:
    """The door's counting rules, from configuration."""

    def __init__(self, cfg: Any) -> None:
        self.occupancy = build(cfg)
        self.kind = cfg.door.kind
        self.has_sensor = cfg.signals.passage_pin >= 0
        self.exits_by = cfg.door.exit_count

    def on_admit(self) -> Optional[str]:
        """What an admit row counts at this door, if anything."""
        if self.kind in ("entry", "both"):
            return None if self.has_sensor else "in"
        return "out" if self.exits_by == "scan" else None

    def on_passage(self, free: bool) -> Optional[str]:
        if self.kind == "exit":
            return "out" if self.exits_by == "sensor" else None
        if free:
            return "out" if self.kind == "both" else None
        return "in" if self.has_sensor else None

    def screen_fields(self) -> dict[str, Any]:
        occ = self.occupancy
        if occ.limit is None or not occ.counts_entries:
            return {}
        return {"occupancy": occ.total, "limit": occ.limit, "estimate": occ.is_estimate}


def _counted(decision: Decision, what: str, delta: int = 1, **more: Any) -> Decision:
    return dataclasses.replace(decision, extra={**decision.extra, "count": what, "delta": delta,
                                                **more})


def count_admits(kiosk: Kiosk, decisions: list[Decision]) -> list[Decision]:
    """Admit rows as the door counts them (called before they are journalled)."""
    what = kiosk.door.on_admit()
    if what is None:
        return decisions
    for _ in decisions:
        kiosk.door.occupancy.count(what)
    return [_counted(d, what) for d in decisions]


def venue_full(kiosk: Kiosk, identity: Identity, now: Now,
               staff_id: Optional[str] = None) -> list[Action]:
    """Not a refusal: the door stays shut, the visitor waits, staff may admit once."""
    decision = kiosk.record(identity, "unknown", Verdict("staff", "venue-full"), now, now.mono,
                            staff_id=staff_id, extra={"occupancy": kiosk.door.occupancy.total,
                                                      "limit": kiosk.door.occupancy.limit})
    actions: list[Action] = [Journal(decision), RelayOff(), Signal("staff")]
    return actions + kiosk._show_for(
        kiosk.screen("venue-full", masked=identity.masked, at=now.wall,
                     **kiosk.door.screen_fields()), now)


def hold(kiosk: Kiosk, pending: Pending, event: LookupDone, now: Now) -> Optional[list[Action]]:
    """An admit near the limit waits for a venue total asked after the lookup
    answered (the overshoot bound); None when it may go on now."""
    if pending.held is None:
        pending.held_at = now.mono
    admission = kiosk.door.occupancy.admission(pending.held_at)
    if admission == "wait":
        pending.held = event
        return []
    if admission == "full":  # filled meanwhile
        kiosk.pending = None
        return venue_full(kiosk, pending.identity, now, pending.staff_id)
    return None


def held_too_long(kiosk: Kiosk, pending: Pending, now: Now) -> list[Action]:
    """No fresh total within the lookup deadline: please wait."""
    if now.mono - pending.held_at < kiosk.deadline:
        return []
    kiosk.pending = None
    return venue_full(kiosk, pending.identity, now, pending.staff_id)


def passed(kiosk: Kiosk, free: bool, now: Now) -> Optional[list[Action]]:
    """A counted passage's row, or None when this passage counts nothing."""
    what = kiosk.door.on_passage(free)
    if what is None:
        return None
    kiosk.door.occupancy.count(what)
    reason = "passage-out" if what == "out" else "passage-sensed"
    extra = {"count": what, "delta": 1}
    admit_id = None if free else kiosk.admissions.take_passage()
    if admit_id is not None:
        extra["decision_id"] = admit_id
    return [Journal(kiosk.record(None, "unknown", Verdict("admit", reason), now, now.mono,
                                 extra=extra))] + _refresh(kiosk)


def heard(kiosk: Kiosk, answer: Heard, now: Now) -> list[Action]:
    """The venue's total from the collector; an admit held for it goes on."""
    before = kiosk.door.screen_fields()
    kiosk.door.occupancy.heard(answer)
    pending = kiosk.pending
    if pending is not None and pending.held is not None:
        return kiosk._answered(pending.held, now)
    return _refresh(kiosk) if kiosk.door.screen_fields() != before else []


def _refresh(kiosk: Kiosk) -> list[Action]:
    return [kiosk.idle_screen()] if kiosk.state == "idle" else []


def roll(kiosk: Kiosk, now: Now) -> list[Action]:
    """At the closing time the count starts again from zero, on the record."""
    occ = kiosk.door.occupancy
    ended, total = occ.counts, occ.total
    if not occ.roll(now.wall):
        return []
    row = kiosk.record(None, "unknown", Verdict("staff", "occupancy-reset"), now, now.mono,
                       extra={"period": ended.period, "total": total, "entries": ended.entries,
                              "exits": ended.exits, "adjusted": ended.adjust})
    return [Journal(row)] + _refresh(kiosk)


def adjust(kiosk: Any, command: Command, now: Now) -> list[Action]:  # kiosk: staff_actions.Machine
    """Staff counted the people inside: the venue's figure becomes theirs,
    as a correction on this door's counts, with the staff id on the row."""
    occ = kiosk.door.occupancy
    delta = command.number - occ.raw
    occ.count("adjust", delta)
    row = kiosk.record(None, "unknown", Verdict("staff", "occupancy-set"), now, now.mono,
                       staff_id=command.staff_id,
                       extra={"count": "adjust", "delta": delta, "total": command.number})
    return [Journal(row), Signal("staff"), kiosk.idle_screen()]

"""Group mode: the next N visitors are one party, admitted only if every
member is admitted under the venue's rules, refused together otherwise.

Members are decided one by one as they scan; nothing opens and nothing is
journalled until the party is complete or a member is refused, so a party
never half-enters. Each member still gets a journal row of its own, tied
together by the group id in ``extra``. One person fills one place: the same
document scanned again is not a second member. A party that cannot finish
(its staff session ends, or staff start another) is closed as abandoned:
a deny row per member scanned so far, the one being looked up included, and
the door stays shut. An admitted party holds the door for one passage each.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Optional, Protocol

from kiosk.core.model import Decision, Identity, Now
from kiosk.core.policy import Verdict


class Recorder(Protocol):
    """The machine's ``record``: one journal decision, not yet journalled.
    ``extra`` is JSON-ready detail for the row (the group's id and size)."""

    def __call__(self, identity: Optional[Identity], colour: str, verdict: Verdict, now: Now,
                 started: float, *, cached: bool = False, staff_id: Optional[str] = None,
                 extra: Optional[dict[str, Any]] = None) -> Decision: ...


@dataclass
class Member:
    identity: Identity
    colour: str
    verdict: Verdict
    started: float
    cached: bool


@dataclass
class Group:
    size: int
    staff_id: Optional[str]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    members: list[Member] = field(default_factory=list)

    @property
    def left(self) -> int:
        return self.size - len(self.members)

    def add(self, identity: Identity, colour: str, verdict: Verdict, started: float, cached: bool) -> None:
        self.members.append(Member(identity, colour, verdict, started, cached))

    def has(self, identity: Identity) -> bool:
        """Whether this person already holds a place (by document number)."""
        return any(member.identity.number == identity.number for member in self.members)

    @property
    def is_admitted(self) -> bool:
        return not self.left and all(m.verdict.decision == "admit" for m in self.members)

    def close(self, record: Recorder, now: Now, *,
              abandoned: bool = False) -> tuple[str, list[Decision]]:
        """The party's verdict and one journal decision per member, each
        made by ``record`` (the machine's: it owns ids and latency)."""
        final = "admit" if self.is_admitted and not abandoned else "deny"
        decisions = []
        for member in self.members:
            if abandoned:
                reason = "group-abandoned"
            elif final == "admit":
                reason = f"group-{member.verdict.reason}"
            else:
                reason = f"group-refused-{member.verdict.reason}"
            decisions.append(record(
                member.identity, member.colour, Verdict(final, reason), now, member.started,
                cached=member.cached, staff_id=self.staff_id,
                extra={"group": self.id, "group_size": self.size}))
        return final, decisions

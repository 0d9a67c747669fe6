"""What the door has let through: the re-scan guard and the passages the
latest admit still expects. Owned by the state machine, which tells it of
each admit and asks it about each scan and each sensed passage.

The guard is keyed on the person (the document number), not on the raw code:
the same card read by a camera thirty times, or handed to a friend behind,
does not open the door twice within ``rescan_seconds``. A party of N is
through after N passages; each passage is journalled against its admit.
"""
from __future__ import annotations

from typing import Optional, Sequence

from kiosk.core.group import Recorder
from kiosk.core.model import Action, Decision, Identity, Journal, Now
from kiosk.core.policy import Verdict


class Admissions:
    def __init__(self, rescan_seconds: float) -> None:
        self.rescan_seconds = rescan_seconds
        self.admitted_at: dict[str, float] = {}  # document number -> monotonic time
        self.last_admit_id: Optional[str] = None
        self.passages_left = 0

    def is_repeat(self, identity: Identity, mono: float) -> bool:
        """Whether this person was let in less than ``rescan_seconds`` ago."""
        admitted = self.admitted_at.get(identity.number)
        return admitted is not None and mono - admitted < self.rescan_seconds

    def admitted(self, decisions: Sequence[Decision], passages: int, mono: float) -> None:
        """The door opened for these decisions, for ``passages`` people."""
        for decision in decisions:
            if decision.identity:
                self.admitted_at[decision.identity.number] = mono
        self.last_admit_id, self.passages_left = decisions[-1].id, passages

    def passed(self, record: Recorder, now: Now) -> list[Action]:
        """A sensed passage, journalled against the admit it belongs to; none
        when no admit expects one (nobody was let in: nothing to record)."""
        admit_id = self.take_passage()
        if admit_id is None:
            return []
        return [Journal(record(None, "unknown", Verdict("admit", "passage-sensed"), now, now.mono,
                               extra={"decision_id": admit_id}))]

    def take_passage(self) -> Optional[str]:
        """The admit a sensed passage belongs to (None if no admit expects
        one); a party's admit is spent after its last passage."""
        admit_id = self.last_admit_id
        if admit_id is not None:
            self.passages_left -= 1
            if self.passages_left <= 0:
                self.last_admit_id = None
        return admit_id

"""The one visitor being looked up: what the machine waits on while the
status service answers (and, near a venue's limit, while a fresh total
comes in)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from kiosk.core.model import Identity, LookupDone


@dataclass
class Pending:
    request: str
    identity: Identity
    started: float  # when the lookup began: the deadline runs from here
    staff_id: Optional[str] = None
    arrived: Optional[float] = None  # when the scan's bytes arrived: latency runs from here
    held: Optional[LookupDone] = None  # an admit waiting for a fresh venue total (occupancy)
    held_at: float = 0.0  # when it began to wait: the total must be asked after this

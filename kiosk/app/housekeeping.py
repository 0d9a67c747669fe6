"""The journal's housekeeping for the event loop: retention, and the
anti-probing window rebuilt at start. Both log and carry on when the journal
cannot answer: neither is worth stopping a door for."""
from __future__ import annotations

import datetime as dt
from collections import deque
import logging

from kiosk.core import door as door_rules
from kiosk.core.errors import JournalError
from kiosk.core.model import Now
from kiosk.core.occupancy import period_start

log = logging.getLogger("ashyq.app")


def purge(journal, retention_days: int) -> None:
    """Drop synced rows past retention (unsynced rows are never dropped)."""
    try:
        dropped = journal.purge(retention_days)
    except JournalError as exc:
        log.error("journal purge failed: %s", exc)
        return
    if dropped:
        log.info("purged %d synced decisions older than %d days", dropped, retention_days)


def restore_rate_window(journal, lookups: deque, now: Now, window: float) -> None:
    """Lookups of the last ``window`` seconds, from the journal, as monotonic
    times in ``lookups``: a restart must not reset the anti-probing limit."""
    try:
        made = journal.lookups_since(now.wall - dt.timedelta(seconds=window))
    except JournalError as exc:
        log.error("cannot read recent lookups for the rate limit: %s", exc)
        return
    for at in made:
        age = (now.wall - dt.datetime.fromisoformat(at)).total_seconds()
        lookups.append(now.mono - min(max(age, 0.0), window))


def restore_occupancy(journal, occupancy, now: Now) -> None:
    """This door's counts for the current period, from the journal: a
    restart must not forget who went in."""
    occupancy.roll(now.wall)
    try:
        rows = journal.counted_since(period_start(now.wall, occupancy.closing))
    except JournalError as exc:
        log.error("cannot read this period's occupancy counts: %s", exc)
        return
    occupancy.restore(door_rules.counts_from_rows(occupancy.counts.period, rows))


def share_counts(kiosk, heartbeat, changes_sent: int) -> int:
    """With a venue limit, the other doors hear of a count at once, and an
    admit held near the limit (kiosk/core/occupancy.py) gets the venue's
    latest total: a heartbeat now. Returns the count changes now shared."""
    occupancy = kiosk.door.occupancy
    holding = kiosk.pending is not None and kiosk.pending.held is not None
    if (occupancy.counts.changes != changes_sent or holding) and \
            occupancy.limit is not None and heartbeat is not None:
        heartbeat.kick()
    return occupancy.counts.changes

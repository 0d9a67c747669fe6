"""A kiosk's health from its heartbeats, as pure functions the API and the
fleet page share: its state, its problems, the settings to answer with.

    >>> now = dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.timezone.utc)
    >>> kiosk_state(now - dt.timedelta(seconds=95), False, now, 30)
    'offline'
    >>> problems({"version": "0.1.0", "devices": {"scanner": False}, "clock_synced": True},
    ...          min_version="0.2")
    ['scanner not connected', 'version 0.1.0 is below the minimum 0.2']
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Optional

from .protocol import parse_time

DEFAULT_INTERVAL = 30
MISSED = 3              # heartbeats missed in a row before a kiosk counts as offline
BACKLOG_WARNING = 1000  # decisions waiting on the kiosk
SYNC_WARNING = dt.timedelta(hours=1)
STATES = ("online", "offline", "unknown", "maintenance")
# Problems first: a kiosk that is down, then one that is up but unwell, then
# one never heard from, then those a technician is already working on. The
# fleet list sorts by this in SQL (storage/fleet.py), so it is a number.
RANK = {"offline": 0, "troubled": 1, "unknown": 2, "maintenance": 3, "online": 4}


def kiosk_state(last_seen: Optional[dt.datetime], maintenance: bool, now: dt.datetime,
                interval: float = DEFAULT_INTERVAL) -> str:
    """maintenance (a technician said so), unknown (never heard from),
    offline (no heartbeat for 3 intervals) or online."""
    if maintenance:
        return "maintenance"
    if last_seen is None:
        return "unknown"
    return "offline" if (now - last_seen).total_seconds() > MISSED * interval else "online"


def version_key(version) -> tuple:
    """"0.10.2" > "0.9": numeric parts compared as numbers; at most eight
    parts of at most nine digits each (a 5,000-digit "version" is a kiosk's
    bug, not a reason to fail its heartbeat)."""
    return tuple(min(int(part[:10]), 10**9 - 1) for part in re.findall(r"\d+", str(version or ""))[:8])


def version_order(version) -> str:
    """``version_key`` as text whose order is the same, for SQL to compare:
    each number padded to nine digits, no separator, so every collation
    orders it as bytes ("0.10" -> "000000000000000010")."""
    return "".join(f"{part:09d}" for part in version_key(version))


def summary(beat: dict) -> dict:
    """What the kiosks table keeps beside a kiosk's latest heartbeat, so the
    fleet list can rank 10,000 kiosks in SQL: the problems that hold until
    the next heartbeat (troubled), and what the reader compares with its own
    clock and minimum version (last_sync, version_order)."""
    backlog = count(beat.get("backlog"))
    return {"troubled": int(bool(steady_problems(beat))), "last_sync": parse_time(beat.get("last_sync")),
            "version_order": version_order(beat.get("version")),
            "backlog": backlog if backlog is not None and 0 <= backlog < 2**53 else None}


def count(value) -> Optional[int]:
    """A count a heartbeat carries, as an int: ``100`` and ``1e2`` alike (as
    PostgreSQL's jsonb gives back the one for the other); None for anything
    else, a flag included.

    >>> count(100), count(1e2), count(1.5), count(True), count("7")
    (100, 100, None, None, None)
    """
    if type(value) is float and value.is_integer():  # 1e16 too: jsonb gives it back as an integer
        return int(value)
    return value if type(value) is int else None


def steady_problems(beat: Optional[dict]) -> list[str]:
    """The problems a heartbeat reports that do not depend on when or by
    whom it is read. A field of an unexpected type says nothing (the
    protocol: a collector accepts what it does not know)."""
    if beat is None:
        return []
    devices = beat.get("devices")
    found = [f"{name} not connected" for name, up in sorted(devices.items() if isinstance(devices, dict) else ())
             if up is False]
    if beat.get("clock_synced") is False:
        found.append("clock not synchronised")
    if beat.get("journal_ok") is False:
        found.append("journal unhealthy")
    relay_errors, backlog = count(beat.get("relay_errors")), count(beat.get("backlog"))
    if relay_errors is not None and relay_errors > 0:
        found.append(f"{relay_errors} relay errors")
    if backlog is not None and backlog > BACKLOG_WARNING:
        found.append(f"{backlog} decisions not synced")
    return found


def problems(beat: Optional[dict], *, min_version: str = "", now: Optional[dt.datetime] = None) -> list[str]:
    """What a technician should look at, from the kiosk's latest heartbeat
    (None: never heard from). An empty heartbeat is one with no version."""
    if beat is None:
        return []
    found = steady_problems(beat)
    synced = parse_time(beat.get("last_sync"))
    if now is not None and synced is not None:
        age = now - synced
        if age > SYNC_WARNING:
            found.append(f"last sync {int(age.total_seconds() // 60)} minutes ago")
    if min_version and version_key(beat.get("version")) < version_key(min_version):
        found.append(f"version {beat.get('version') or '?'} is below the minimum {min_version}")
    return found


def heartbeat_answer(beat: dict, *, interval: float, min_version: str) -> dict:
    """What the kiosk hears back: when to beat next and what to warn about."""
    warnings = []
    if min_version and version_key(beat.get("version")) < version_key(min_version):
        warnings.append(f"kiosk version {beat.get('version') or '?'} is below the minimum "
                        f"{min_version}: update it")
    return {"interval": interval, "min_version": min_version or None, "warnings": warnings}

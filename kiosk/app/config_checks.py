"""Checks on configuration values that a type and a range cannot express:
what ``run`` would otherwise trip on only when it gets there (an unknown
time zone at start, a sealing key that fails every journal append, two
devices driving one pin). Each check returns a message or None; the
cross-key checks return :class:`~kiosk.app.config.Problem`-shaped tuples
``(key, message)`` for :func:`kiosk.app.config.validate` to place on a line.

Standard library only, so ``check-config`` runs where the kiosk's
dependencies are not yet installed.
"""
from __future__ import annotations

import base64
import binascii
import zoneinfo
from typing import Any, Mapping, Optional
from urllib.parse import urlsplit

CURVE25519_KEY_BYTES = 32
DECISIONS = ("admit", "deny", "staff")


def timezone(value: str) -> Optional[str]:
    """An IANA zone name the system knows (as the daemon will look it up)."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return f"{value!r} is not a known time zone (like 'Asia/Almaty')"
    return None


def http_url(value: str) -> Optional[str]:
    """An http:// or https:// URL with a host (and a valid port if any)."""
    try:
        parts = urlsplit(value.strip())
        _ = parts.port  # raises for a port out of range or not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{value!r} is not an http:// or https:// URL with a host"
    return None


def optional_http_url(value: str) -> Optional[str]:
    return http_url(value) if value else None


def curve25519_key(value: str) -> Optional[str]:
    """Empty (no sealing) or the collector's public key: 32 bytes, base64,
    as ``ashyq-kiosk collector keygen`` prints it."""
    if not value:
        return None
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != CURVE25519_KEY_BYTES:
        return "is not a Curve25519 public key (32 bytes in base64, from 'collector keygen')"
    return None


def roi(value: list) -> Optional[str]:
    """[] or [x, y, width, height] in whole pixels, inside the frame's origin."""
    if not value:
        return None
    whole = all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    if len(value) != 4 or not whole or min(value[:2]) < 0 or min(value[2:]) <= 0:
        return f"{value!r} is not [x, y, width, height] (whole pixels, width and height above 0)"
    return None


def hhmm(value: Any, *, end: bool = False) -> Optional[str]:
    """A time of day 'HH:MM'; an end may be '24:00' (midnight at the end)."""
    try:
        hours, minutes = value.split(":")
        h, m = int(hours), int(minutes)
        if len(minutes) == 2 and 0 <= m < 60 and (0 <= h < 24 or (end and h == 24 and m == 0)):
            return None
    except (ValueError, AttributeError):
        pass
    latest = "24:00" if end else "23:59"
    return f"{value!r} is not a time of day from '00:00' to '{latest}'"


def hhmm_end(value: Any) -> Optional[str]:
    return hhmm(value, end=True)


# ---- across keys ------------------------------------------------------------

PIN_KEYS = (("signals", "green_pin"), ("signals", "red_pin"), ("signals", "buzzer_pin"),
            ("signals", "relay_pin"), ("signals", "passage_pin"))


def shared_pins(sections: Mapping) -> list[tuple[str, str]]:
    """Two devices on one GPIO pin: gpiozero refuses the second at start."""
    owners: dict[int, str] = {}
    problems = []
    used = [(f"{s}.{k}", sections[s].get(k)) for s, k in PIN_KEYS]
    for key in ("matrix_rows", "matrix_cols"):
        used += [(f"keypad.{key}", pin) for pin in sections["keypad"].get(key) or ()]
    for key, pin in used:
        if not isinstance(pin, int) or pin < 0:
            continue  # unset (-1) or already reported as the wrong type
        if pin in owners and owners[pin] != key:
            problems.append((key, f"GPIO{pin} is already {owners[pin]}: one pin, one device"))
        elif pin in owners:
            problems.append((key, f"GPIO{pin} is listed twice"))
        owners.setdefault(pin, key)
    return problems


def colour_conflicts(table: Mapping, prefix: str) -> list[tuple[str, str]]:
    """A colour in more than one of admit, deny and staff: which one wins
    would depend on the code's order, not on the venue's intent."""
    seen: dict[str, str] = {}
    problems = []
    for decision in DECISIONS:
        for colour in table.get(decision) or ():
            if colour in seen and seen[colour] != decision:
                problems.append((f"{prefix}.{decision}",
                                 f"{colour!r} is also in {prefix}.{seen[colour]}: "
                                 "a colour has one decision"))
            seen.setdefault(colour, decision)
    return problems


def cache_needed(sections: Mapping) -> list[tuple[str, str]]:
    if sections["policy"].get("on_failure") == "admit-if-cached" and \
            not sections["cache"].get("enabled"):
        return [("policy.on_failure", "'admit-if-cached' needs the cache: set [cache] "
                                      "enabled = true, or choose 'staff' or 'deny'")]
    return []


# ---- the secrets file's staff list --------------------------------------------

def staff_entries(staff: list) -> list[tuple[int, str, str]]:
    """(entry index, key, message) for each problem in ``[[staff]]``: every
    entry has an id and a PIN hash from ``ashyq-kiosk hash-pin``, ids are
    unique (the journal names staff by id)."""
    problems = []
    ids: set = set()
    for index, entry in enumerate(staff):
        if not isinstance(entry, dict):
            problems.append((index, "staff", "each [[staff]] entry is a table with id and pin"))
            continue
        for name in sorted(set(entry) - {"id", "pin"}):
            problems.append((index, f"staff.{name}", "unknown key (an entry has id and pin)"))
        staff_id = entry.get("id")
        if not isinstance(staff_id, str) or not staff_id.strip():
            problems.append((index, "staff.id", "each staff entry needs an id"))
        elif staff_id in ids:
            problems.append((index, "staff.id", f"{staff_id!r} is used twice: ids are unique"))
        ids.add(staff_id)
        message = pin_hash(entry.get("pin"))
        if message:
            problems.append((index, "staff.pin", message))
    return problems


def _power_of_two(n: int) -> bool:
    return n > 1 and n & (n - 1) == 0  # scrypt's cost N; anything else cannot verify


def pin_hash(value: Any) -> Optional[str]:
    if value is None:
        return "missing: add pin = the output of 'ashyq-kiosk hash-pin'"
    if not isinstance(value, str):
        return "expected a string from 'ashyq-kiosk hash-pin'"
    parts = value.split("$")
    if len(parts) == 6 and parts[0] == "scrypt" and all(p.isdigit() for p in parts[1:4]) \
            and _power_of_two(int(parts[1])) and int(parts[2]) > 0 and int(parts[3]) > 0:
        try:
            if base64.b64decode(parts[4], validate=True) and base64.b64decode(parts[5], validate=True):
                return None
        except (binascii.Error, ValueError):
            pass
    if value.strip().isdigit():  # never echo it: it is someone's PIN
        return "is a plain-text PIN: store its hash from 'ashyq-kiosk hash-pin' instead"
    return "is not a PIN hash from 'ashyq-kiosk hash-pin' (scrypt$N$r$p$salt$hash)"

"""The configuration schema: every section, every key, its type, default and
limits. config/kiosk.example.toml documents the same keys for people; a test
keeps the two in step.

A key is required when its default is REQUIRED. Paths and URLs are strings;
``None`` as a default means "not set" (optional).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from kiosk.app import config_checks as checks
from kiosk.core.model import COLOURS
from kiosk.core.policy import DAYS

REQUIRED = object()


@dataclass(frozen=True)
class Key:
    type: Any  # a type or tuple of types accepted from TOML
    default: Any = REQUIRED
    choices: Optional[tuple] = None
    min: Optional[float] = None
    max: Optional[float] = None
    items: Optional[tuple] = None  # for lists: allowed item values
    check: Optional[Callable[[Any], Optional[str]]] = None  # returns a message or None


def _pins(least: int, most: int):
    """A list of BCM pin numbers, empty or of the given length."""
    def check(value) -> Optional[str]:
        if not value:
            return None
        if not all(isinstance(p, int) and not isinstance(p, bool) and 0 <= p <= 27 for p in value):
            return "pins are BCM numbers 0-27"
        if not least <= len(value) <= most:
            count = str(least) if least == most else f"{least} or {most}"
            return f"a matrix keypad needs {count} pins here, not {len(value)}"
        return None
    return check


def _limit(value) -> Optional[str]:
    """Shape only ("40%" or a number); a percentage needs [venue] capacity,
    which config.validate checks with the whole section in hand."""
    from kiosk.core.occupancy import parse_limit
    try:
        parse_limit(value, capacity=100)
    except ValueError as exc:
        return str(exc)
    return None


NUM = (int, float)

SCHEMA: dict[str, dict[str, Key]] = {
    "kiosk": {
        "id": Key(str, "kiosk-1"),
        "venue": Key(str, "Venue"),
        "language": Key(str, "kk", choices=("kk", "ru", "en")),
        "state_dir": Key(str, "/var/lib/ashyq-kiosk"),
        "secrets_file": Key(str, "/etc/ashyq-kiosk/secrets.toml"),
        "timezone": Key(str, "Asia/Almaty", check=checks.timezone),
        "log_level": Key(str, "info", choices=("debug", "info", "warning", "error")),
    },
    "status": {
        "base_url": Key(str, REQUIRED, check=checks.http_url),
        "deadline": Key(NUM, 1.5, min=0.1, max=10),
        "type": Key(str, "entry", choices=("entry", "exit")),
        "venue_bin": Key(str, ""),
        "building_rka": Key(str, ""),
        "verify_tls": Key(bool, True),
        "ca_bundle": Key(str, ""),
        "rate_per_minute": Key(int, 60, min=1, max=10000),
    },
    "policy": {
        "admit": Key(list, ["green", "blue"], items=COLOURS),
        "deny": Key(list, ["yellow", "red"], items=COLOURS),
        "staff": Key(list, [], items=COLOURS),
        "exempt_under_years": Key(int, 5, min=0, max=18),
        "foreign_passports": Key(str, "lookup", choices=("lookup", "staff")),
        "refuse_expired": Key(bool, False),
        "on_failure": Key(str, "staff", choices=("staff", "deny", "admit-if-cached")),
        "rescan_seconds": Key(NUM, 10, min=0, max=3600),
        "rules": Key(list, []),  # validated by RULE below
    },
    "scanner": {
        "enabled": Key(bool, True),
        "port": Key(str, "/dev/ashyq-scanner"),
        "baudrate": Key(int, 9600, choices=(1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)),
        "terminator": Key(str, "CR", choices=("CR", "LF", "CRLF", "none")),
        "idle_timeout": Key(NUM, 0.15, min=0.01, max=5),
        "max_length": Key(int, 512, min=16, max=8192),
        "multiline": Key(bool, False),
        "required": Key(bool, False),
    },
    "camera": {
        "enabled": Key(bool, False),
        "source": Key((str, int), 0),
        "width": Key(int, 640, min=160, max=4096),
        "height": Key(int, 480, min=120, max=4096),
        "fps": Key(int, 15, min=1, max=120),
        "roi": Key(list, [], check=checks.roi),
        "decoder": Key(str, "zxing", choices=("zxing", "zbar")),
        "repeat_seconds": Key(NUM, 3, min=0, max=60),
        "preview": Key(bool, False),
    },
    "keypad": {
        "evdev_device": Key(str, ""),
        "matrix_rows": Key(list, [], check=_pins(4, 4)),
        "matrix_cols": Key(list, [], check=_pins(3, 4)),
        "session_idle_seconds": Key(NUM, 30, min=5, max=600),
        "max_pin_attempts": Key(int, 5, min=1, max=20),
        "lockout_seconds": Key(NUM, 300, min=10, max=3600),
    },
    "wedge": {
        "evdev_device": Key(str, ""),
        "idle_timeout": Key(NUM, 0.15, min=0.01, max=5),
    },
    "signals": {
        "pin_factory": Key(str, "", choices=("", "mock", "lgpio", "rpigpio", "pigpio", "native")),
        "green_pin": Key(int, 17, min=0, max=27),
        "red_pin": Key(int, 27, min=0, max=27),
        "buzzer_pin": Key(int, 22, min=0, max=27),
        "relay_pin": Key(int, 23, min=0, max=27),
        "relay_active_high": Key(bool, True),
        "pulse_seconds": Key(NUM, 3.0, min=0.1, max=10),
        "passage_pin": Key(int, -1, min=-1, max=27),
    },
    "display": {
        "enabled": Key(bool, True),
        "fullscreen": Key(bool, True),
        "width": Key(int, 800, min=320, max=7680),
        "height": Key(int, 480, min=240, max=4320),
        "result_seconds": Key(NUM, 5, min=1, max=60),
        "qr_payload": Key(str, ""),
        "video_driver": Key(str, ""),
        "screenshot_dir": Key(str, ""),
    },
    "sound": {
        "volume": Key(NUM, 0.6, min=0, max=1),  # 0 = silent (the buzzer still sounds)
        "quiet_from": Key(str, "22:00", check=lambda v: None if v == "" else checks.hhmm(v)),
        "quiet_to": Key(str, "07:00", check=checks.hhmm),
        "audio_driver": Key(str, ""),
    },
    "journal": {
        "retention_days": Key(int, 90, min=1, max=3650),
    },
    "sync": {
        "url": Key(str, "", check=checks.optional_http_url),
        "interval": Key(NUM, 30, min=1, max=86400),
        "batch_size": Key(int, 500, min=1, max=10000),
        "collector_public_key": Key(str, "", check=checks.curve25519_key),
        # Fractions of a second only for tests; the collector's answer may lengthen it.
        "heartbeat_interval": Key(NUM, 30, min=0.05, max=3600),
    },
    "door": {
        "kind": Key(str, "entry", choices=("entry", "exit", "both")),
        "exit_count": Key(str, "scan", choices=("scan", "sensor")),
    },
    "venue": {
        "capacity": Key(int, 0, min=0, max=1_000_000),
        "limit": Key((str, int), "", check=_limit),
        "closing_time": Key(str, "00:00", check=checks.hhmm),
    },
    "cache": {
        "enabled": Key(bool, False),
        "green_hours": Key(NUM, 72, min=0, max=72),
        "blue_hours": Key(NUM, 24, min=0, max=72),
        "yellow_hours": Key(NUM, 0, min=0, max=72),
        "red_hours": Key(NUM, 0, min=0, max=72),
    },
}

# One venue rule: on these days, between these times, these colours map to
# these decisions (overriding the section defaults for the listed colours).
RULE: dict[str, Key] = {
    "name": Key(str, ""),
    "days": Key(list, list(DAYS), items=DAYS),
    "from": Key(str, "00:00", check=checks.hhmm),
    "to": Key(str, "24:00", check=checks.hhmm_end),
    "admit": Key(list, [], items=COLOURS),
    "deny": Key(list, [], items=COLOURS),
    "staff": Key(list, [], items=COLOURS),
}

# The secrets file: a separate TOML readable only by the service user.
SECRETS: dict[str, Key] = {
    "status_token": Key(str, ""),
    "person_key": Key(str, ""),
    "sync_token": Key(str, ""),
    "staff": Key(list, []),  # [{id = "s1", pin = "scrypt$..."}]
}

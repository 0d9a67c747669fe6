"""Staff at the keypad: PINs, lockout, the session and its menu. Pure: keys
and monotonic times in, commands out; the state machine turns commands into
screens, journal rows and the relay.

PINs are stored only as salted scrypt hashes in the secrets file::

    [[staff]]
    id = "aigerim"
    pin = "scrypt$16384$8$1$<salt>$<hash>"   # ashyq-kiosk hash-pin

The menu, chosen so a 4x3 keypad reaches everything::

    digits then enter (#)   PIN, opens a session
    1 admit once    2 deny    3 type an IIN or passport number
    4 resolve "see staff"     5 group: size, then enter
    6 next language           7 occupancy: the people counted inside, then enter
    * or esc: close the session
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Optional

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
MAX_TYPED = 20
MENU = {"1": "admit-once", "2": "deny", "3": "type", "4": "resolve", "5": "group", "6": "language",
        "7": "occupancy"}
SUBMIT = ("enter", "#")
# Menu entries that take typed digits first, and the desk's mode meanwhile.
NUMBER_MODES = {"type": "typing", "group": "group-size", "occupancy": "occupancy-count"}
CANCEL = ("esc", "*")


def hash_pin(pin: str, *, salt: Optional[bytes] = None) -> str:
    """A PIN as stored in the secrets file (scrypt, per-PIN random salt)."""
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def verify_pin(pin: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(pin.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r),
                                p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@dataclass(frozen=True)
class Command:
    """What the desk asks of the machine. ``name`` is one of: screen,
    session-start, session-end, pin-wrong, locked, admit-once, deny, manual,
    resolve, group, language, occupancy, ignored."""

    name: str
    staff_id: Optional[str] = None
    text: str = ""
    number: int = 0


class StaffDesk:
    """Keypad state: closed -> pin -> menu <-> typing | group-size; locked."""

    def __init__(self, staff: Iterable[Mapping[str, str]] = (), *, max_attempts: int = 5,
                 lockout_seconds: float = 300, idle_seconds: float = 30) -> None:
        self.staff = [(entry["id"], entry["pin"]) for entry in staff]
        self.max_attempts = max_attempts
        self.lockout_seconds = lockout_seconds
        self.idle_seconds = idle_seconds
        self.mode = "closed"
        self.typed = ""
        self.staff_id: Optional[str] = None
        self.failures = 0
        self.locked_until = 0.0
        self.last_key = 0.0

    @property
    def is_open(self) -> bool:
        return self.staff_id is not None

    def is_locked(self, mono: float) -> bool:
        return mono < self.locked_until

    @property
    def shown_typed(self) -> str:
        """What the screen may show: PIN as dots, numbers with only their last 4."""
        if self.mode == "pin":
            return "\u2022" * len(self.typed)
        hidden = max(len(self.typed) - 4, 0)
        return "\u2022" * hidden + self.typed[hidden:]

    def press(self, key: str, mono: float) -> list[Command]:
        if self.is_locked(mono):
            return [Command("locked")]
        self.last_key = mono
        handler: Callable[[str, float], list[Command]] = getattr(self, "_" + self.mode.replace("-", "_"))
        return handler(key, mono)

    def touch(self, mono: float) -> None:
        """Activity other than a key (a scan): an open session stays open."""
        if self.is_open:
            self.last_key = max(self.last_key, mono)

    def expire(self, mono: float) -> list[Command]:
        """Close an idle session or abandon a half-typed PIN."""
        if self.mode != "closed" and mono - self.last_key >= self.idle_seconds:
            return self._close("session-idle")
        return []

    def _close(self, why: str) -> list[Command]:
        staff_id, self.staff_id = self.staff_id, None
        self.mode, self.typed = "closed", ""
        return [Command("session-end", staff_id, text=why)] if staff_id else [Command("screen")]

    def _closed(self, key: str, mono: float) -> list[Command]:
        if key.isdigit():
            self.mode, self.typed = "pin", key
            return [Command("screen")]
        return [Command("ignored")]

    def _edit(self, key: str) -> bool:
        """Typing keys shared by PIN, number and group-size entry."""
        if key == "back":
            self.typed = self.typed[:-1]
            return True
        if len(key) == 1 and key.isalnum() and key not in SUBMIT and len(self.typed) < MAX_TYPED:
            self.typed += key.upper()
            return True
        return False

    def _pin(self, key: str, mono: float) -> list[Command]:
        if key in CANCEL:
            return self._close("cancelled")
        if key not in SUBMIT:
            self._edit(key) if key.isdigit() or key == "back" else None
            return [Command("screen")]
        pin, self.typed = self.typed, ""
        for staff_id, stored in self.staff:
            if verify_pin(pin, stored):
                self.failures, self.staff_id, self.mode = 0, staff_id, "menu"
                return [Command("session-start", staff_id)]
        self.failures += 1
        self.mode = "closed"
        if self.failures >= self.max_attempts:
            self.failures = 0
            self.locked_until = mono + self.lockout_seconds
            return [Command("locked", number=self.max_attempts)]
        return [Command("pin-wrong", number=self.failures)]

    def _menu(self, key: str, mono: float) -> list[Command]:
        if key in CANCEL:
            return self._close("closed")
        action = MENU.get(key)
        if action in NUMBER_MODES:
            self.mode, self.typed = NUMBER_MODES[action], ""
            return [Command("screen")]
        if action:
            return [Command(action, self.staff_id)]
        return [Command("ignored")]

    def _submit_or_edit(self, key: str) -> Optional[str]:
        if key in CANCEL:
            self.mode, self.typed = "menu", ""
            return None
        if key in SUBMIT and self.typed:
            text, self.typed, self.mode = self.typed, "", "menu"
            return text
        self._edit(key)
        return None

    def _typing(self, key: str, mono: float) -> list[Command]:
        text = self._submit_or_edit(key)
        return [Command("manual", self.staff_id, text=text)] if text else [Command("screen")]

    def _digits(self, key: str, name: str, valid: Callable[[str], bool]) -> list[Command]:
        """Typed digits, then enter: ``Command(name, number=...)`` if ``valid``."""
        if not (key.isdigit() or key in SUBMIT or key in CANCEL or key == "back"):
            return [Command("ignored")]
        text = self._submit_or_edit(key)
        if text and text.isdigit() and valid(text):
            return [Command(name, self.staff_id, number=int(text))]
        return [Command("screen")]

    def _group_size(self, key: str, mono: float) -> list[Command]:
        return self._digits(key, "group", lambda text: 2 <= int(text) <= 20)

    def _occupancy_count(self, key: str, mono: float) -> list[Command]:
        """Staff type how many people they counted inside (0-99999)."""
        return self._digits(key, "occupancy", lambda text: len(text) <= 5)

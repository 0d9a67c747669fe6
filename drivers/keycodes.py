"""Key codes to characters, whatever keyboard layout the system has.

A keyboard-wedge scanner "types" its code. Read as text through the console,
a Russian or Kazakh layout turns digits and letters into other characters;
read as raw evdev key codes, the physical keys are always the same. This
maps codes to what a US layout would produce, which is what every scanner
assumes. Pure: fed (code, value) pairs, value 1 = down, 0 = up, 2 = repeat.

    >>> decoder = KeyDecoder()
    >>> [decoder.feed(c, v) for c, v in ((ecodes.KEY_8, 1), (ecodes.KEY_8, 0))]
    ['8', None]
"""
from __future__ import annotations

from typing import Optional

from evdev import ecodes

DIGITS = {getattr(ecodes, f"KEY_{d}"): str(d) for d in range(10)}
KEYPAD_DIGITS = {getattr(ecodes, f"KEY_KP{d}"): str(d) for d in range(10)}
LETTERS = {getattr(ecodes, f"KEY_{c}"): c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
# Unshifted, shifted: only what barcodes and MRZs use.
PUNCTUATION = {
    ecodes.KEY_MINUS: ("-", "_"), ecodes.KEY_EQUAL: ("=", "+"), ecodes.KEY_COMMA: (",", "<"),
    ecodes.KEY_DOT: (".", ">"), ecodes.KEY_SLASH: ("/", "?"), ecodes.KEY_SPACE: (" ", " "),
    ecodes.KEY_SEMICOLON: (";", ":"), ecodes.KEY_APOSTROPHE: ("'", '"'),
    ecodes.KEY_LEFTBRACE: ("[", "{"), ecodes.KEY_RIGHTBRACE: ("]", "}"),
    ecodes.KEY_KPASTERISK: ("*", "*"), ecodes.KEY_KPMINUS: ("-", "-"),
    ecodes.KEY_KPPLUS: ("+", "+"), ecodes.KEY_KPSLASH: ("/", "/"), ecodes.KEY_KPDOT: (".", "."),
}
SHIFTED_DIGITS = dict(zip("1234567890", "!@#$%^&*()"))
SHIFT = {ecodes.KEY_LEFTSHIFT, ecodes.KEY_RIGHTSHIFT}
SPECIAL = {ecodes.KEY_ENTER: "enter", ecodes.KEY_KPENTER: "enter", ecodes.KEY_BACKSPACE: "back",
           ecodes.KEY_ESC: "esc", ecodes.KEY_TAB: "tab"}

DOWN, UP, REPEAT = 1, 0, 2


class KeyDecoder:
    """Tracks shift; turns key presses into characters or special key names
    ("enter", "back", "esc", "tab"). Repeats are ignored: a scanner never
    holds a key, and a stuck key must not type a code."""

    def __init__(self):
        self.shift = False

    def feed(self, code: int, value: int) -> Optional[str]:
        if code in SHIFT:
            self.shift = value != UP
            return None
        if value != DOWN:
            return None
        if code in SPECIAL:
            return SPECIAL[code]
        if code in DIGITS:
            digit = DIGITS[code]
            return SHIFTED_DIGITS[digit] if self.shift else digit
        if code in KEYPAD_DIGITS:
            return KEYPAD_DIGITS[code]
        if code in LETTERS:
            return LETTERS[code].upper() if self.shift else LETTERS[code]
        if code in PUNCTUATION:
            return PUNCTUATION[code][1 if self.shift else 0]
        return None


def codes_for(text: str) -> list[tuple[int, int]]:
    """The (code, value) events a US-layout keyboard sends to type ``text``;
    how tests (and a scanner) produce keystrokes."""
    reverse = {v: k for k, v in DIGITS.items()}
    reverse.update({v: k for k, v in LETTERS.items()})
    shifted = {v[1]: k for k, v in PUNCTUATION.items() if not k in KEYPAD_CODES}
    plain = {v[0]: k for k, v in PUNCTUATION.items() if not k in KEYPAD_CODES}
    events = []
    for char in text:
        if char == "\r" or char == "\n":
            events += [(ecodes.KEY_ENTER, DOWN), (ecodes.KEY_ENTER, UP)]
            continue
        shift = char.isupper() or (char in shifted and char not in plain)
        code = reverse.get(char.lower()) or plain.get(char) or shifted.get(char)
        if code is None:
            raise ValueError(f"cannot type {char!r}")
        if shift:
            events.append((ecodes.KEY_LEFTSHIFT, DOWN))
        events += [(code, DOWN), (code, UP)]
        if shift:
            events.append((ecodes.KEY_LEFTSHIFT, UP))
    return events


KEYPAD_CODES = {ecodes.KEY_KPASTERISK, ecodes.KEY_KPMINUS, ecodes.KEY_KPPLUS, ecodes.KEY_KPSLASH,
                ecodes.KEY_KPDOT}

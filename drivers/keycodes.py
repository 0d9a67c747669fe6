"""Key codes to characters, whatever keyboard layout the system has.

A keyboard-wedge scanner "types" its code. Read as text through the console,
a Russian or Kazakh layout turns letters into Cyrillic (KEY_N types "т") and
some punctuation into something else; read as raw evdev key codes, the
physical keys are always the same. This maps codes to what a US layout would
produce, which is what a scanner set to its (factory default) "USA keyboard"
assumes. Pure: fed (code, value) pairs, value 1 = down, 0 = up, 2 = repeat.

    >>> decoder = KeyDecoder()
    >>> [decoder.feed(c, v) for c, v in codes_for("N1")]
    [None, 'N', None, None, '1', None]

What it understands:

- digits (top row and keypad), letters, the punctuation barcodes and MRZs use
  ("<" is shift+comma), with either shift key and Caps Lock pressed on the
  device itself (a host's Caps Lock LED never reaches raw events);
- the "Alt+keypad" mode some scanners offer to beat layouts: Alt held while
  typing a decimal character code on the keypad (Alt, KP7, KP8, Alt up = "N");
- special keys, returned by name: "enter" (Enter or keypad Enter), "back"
  (Backspace), "esc", "tab".
"""
from __future__ import annotations

from typing import Optional

from evdev import ecodes

DOWN, UP, REPEAT = 1, 0, 2

DIGITS = {getattr(ecodes, f"KEY_{d}"): str(d) for d in range(10)}
KEYPAD_DIGITS = {getattr(ecodes, f"KEY_KP{d}"): str(d) for d in range(10)}
LETTERS = {getattr(ecodes, f"KEY_{c}"): c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
SHIFTED_DIGITS = dict(zip("1234567890", "!@#$%^&*()"))
# Unshifted, shifted: what barcodes and MRZs use, as on a US keyboard.
PUNCTUATION = {
    ecodes.KEY_MINUS: ("-", "_"), ecodes.KEY_EQUAL: ("=", "+"), ecodes.KEY_COMMA: (",", "<"),
    ecodes.KEY_DOT: (".", ">"), ecodes.KEY_SLASH: ("/", "?"), ecodes.KEY_SPACE: (" ", " "),
    ecodes.KEY_SEMICOLON: (";", ":"), ecodes.KEY_APOSTROPHE: ("'", '"'),
    ecodes.KEY_LEFTBRACE: ("[", "{"), ecodes.KEY_RIGHTBRACE: ("]", "}"),
    ecodes.KEY_BACKSLASH: ("\\", "|"), ecodes.KEY_GRAVE: ("`", "~"),
}
# The keypad's own symbols ignore shift.
KEYPAD_SYMBOLS = {ecodes.KEY_KPASTERISK: "*", ecodes.KEY_KPMINUS: "-", ecodes.KEY_KPPLUS: "+",
                  ecodes.KEY_KPSLASH: "/", ecodes.KEY_KPDOT: "."}
SHIFT = {ecodes.KEY_LEFTSHIFT, ecodes.KEY_RIGHTSHIFT}
ALT = {ecodes.KEY_LEFTALT, ecodes.KEY_RIGHTALT}
SPECIAL = {ecodes.KEY_ENTER: "enter", ecodes.KEY_KPENTER: "enter", ecodes.KEY_BACKSPACE: "back",
           ecodes.KEY_ESC: "esc", ecodes.KEY_TAB: "tab"}


class KeyDecoder:
    """Turns key events into characters or special key names.

    Tracks which shift and Alt keys are held and Caps Lock's toggle. Repeats
    are ignored: a scanner never holds a key, and a key stuck down must not
    type a code. Returns None for events that produce nothing by themselves.
    """

    def __init__(self) -> None:
        self._forget()

    def _forget(self) -> None:
        self.shifts: set[int] = set()
        self.alts: set[int] = set()
        self.caps_lock = False
        self._alt_digits = ""

    @property
    def is_shifted(self) -> bool:
        return bool(self.shifts)

    def reset(self) -> None:
        """Forget held modifiers (after a device is unplugged mid-keystroke)."""
        self._forget()

    def feed(self, code: int, value: int) -> Optional[str]:
        if code in SHIFT or code in ALT:
            held = self.shifts if code in SHIFT else self.alts
            if value == UP:
                held.discard(code)
                if code in ALT and not self.alts:
                    return self._alt_released()
            else:
                held.add(code)
            return None
        if value != DOWN:
            return None
        if code == ecodes.KEY_CAPSLOCK:
            self.caps_lock = not self.caps_lock
            return None
        if self.alts:
            if code in KEYPAD_DIGITS:
                self._alt_digits += KEYPAD_DIGITS[code]
            return None  # Alt+other keys are shortcuts, never text
        return self._character(code)

    def _character(self, code: int) -> Optional[str]:
        if code in SPECIAL:
            return SPECIAL[code]
        if code in DIGITS:
            return SHIFTED_DIGITS[DIGITS[code]] if self.is_shifted else DIGITS[code]
        if code in KEYPAD_DIGITS:
            return KEYPAD_DIGITS[code]
        if code in LETTERS:
            upper = self.is_shifted != self.caps_lock
            return LETTERS[code].upper() if upper else LETTERS[code]
        if code in PUNCTUATION:
            return PUNCTUATION[code][1 if self.is_shifted else 0]
        return KEYPAD_SYMBOLS.get(code)

    def _alt_released(self) -> Optional[str]:
        digits, self._alt_digits = self._alt_digits, ""
        if not digits:
            return None
        number = int(digits)
        # Alt codes with a leading zero are Windows-1252, without it CP437;
        # the two agree on printable ASCII, all a barcode or MRZ carries.
        if 32 <= number < 127:
            return chr(number)
        if number in (10, 13):
            return "enter"
        return None


def codes_for(text: str, *, alt_codes: bool = False) -> list[tuple[int, int]]:
    """The (code, value) events a US-layout keyboard (or a scanner) sends to
    type ``text``; CR or LF types Enter. With ``alt_codes``, every character
    is typed as Alt + its decimal code on the keypad."""
    reverse = {v: k for k, v in DIGITS.items()}
    reverse.update({v: k for k, v in LETTERS.items()})
    plain = {v[0]: k for k, v in PUNCTUATION.items()}
    shifted = {v[1]: k for k, v in PUNCTUATION.items()}
    shifted.update({v: reverse[k] for k, v in SHIFTED_DIGITS.items()})
    keypad = {v: k for k, v in KEYPAD_DIGITS.items()}
    events: list[tuple[int, int]] = []
    for char in text:
        if char in "\r\n":
            events += [(ecodes.KEY_ENTER, DOWN), (ecodes.KEY_ENTER, UP)]
            continue
        if alt_codes:
            events.append((ecodes.KEY_LEFTALT, DOWN))
            for digit in f"0{ord(char)}":
                events += [(keypad[digit], DOWN), (keypad[digit], UP)]
            events.append((ecodes.KEY_LEFTALT, UP))
            continue
        code = reverse.get(char.lower()) or plain.get(char)
        shift = char.isupper()
        if code is None and char in shifted:
            code, shift = shifted[char], True
        if code is None:
            raise ValueError(f"cannot type {char!r}")
        if shift:
            events.append((ecodes.KEY_LEFTSHIFT, DOWN))
        events += [(code, DOWN), (code, UP)]
        if shift:
            events.append((ecodes.KEY_LEFTSHIFT, UP))
    return events

"""Staff keypads, one vocabulary of keys ("0".."9", "*", "#", "A".."D",
"enter", "back", "esc") from any source:

- :class:`EvdevKeypad`, a USB numeric keypad read as raw key codes through
  evdev (grabbed, so nothing leaks to a console; the layout cannot garble it);
- :class:`MatrixKeypad`, a 4x3 or 4x4 membrane keypad on GPIO, scanned with
  gpiozero;
- the demo window's keyboard (:meth:`drivers.display.Display.poll_events`).

Matrix wiring: rows to ``rows`` pins (driven low one at a time), columns to
``cols`` pins (inputs with pull-ups). A pressed key joins its row to its
column, so that column reads low while its row is driven.

    >>> keypad = MatrixKeypad([5, 6, 13, 19], [12, 16, 20])   # doctest: +SKIP
    >>> keypad.when_key = print                                # doctest: +SKIP
"""
from __future__ import annotations

import threading
from typing import Callable, Optional

from gpiozero import DigitalInputDevice, OutputDevice

from .evdev_reader import EvdevSource
from .keycodes import KeyDecoder

LAYOUTS = {
    "4x3": ("123", "456", "789", "*0#"),
    "4x4": ("123A", "456B", "789C", "*0#D"),
}
# A numeric keypad has no "#": its "/" stands in; "-" erases, "+" confirms.
USB_KEYS = {"/": "#", "-": "back", "+": "enter", "*": "*", ".": "*"}


class EvdevKeypad(EvdevSource):
    def __init__(self, device_path: str):
        super().__init__(device_path)
        self.decoder = KeyDecoder()
        self.when_key: Optional[Callable[[str], None]] = None

    def _event(self, code: int, value: int) -> None:
        key = keypad_key(self.decoder.feed(code, value))
        if key is not None and self.when_key:
            self.when_key(key)


def keypad_key(decoded: Optional[str]) -> Optional[str]:
    """A decoded key (see :class:`KeyDecoder`) in the keypad's vocabulary."""
    if decoded is None:
        return None
    if decoded in ("enter", "back", "esc"):
        return decoded
    if decoded.isdigit() or decoded in ("#",):
        return decoded
    return USB_KEYS.get(decoded)


class MatrixKeypad:
    SCAN_HZ = 100
    DEBOUNCE_SCANS = 2  # a key must read pressed this many scans in a row

    def __init__(self, rows: list[int], cols: list[int], *, layout: str = "",
                 pin_factory=None):
        layout = layout or ("4x4" if len(cols) == 4 else "4x3")
        self.keys = LAYOUTS[layout]
        if len(rows) != 4 or len(cols) != len(self.keys[0]):
            raise ValueError(f"a {layout} keypad needs 4 row pins and {len(self.keys[0])} column pins")
        self.rows = [OutputDevice(pin, active_high=False, initial_value=False,
                                  pin_factory=pin_factory) for pin in rows]
        self.cols = [DigitalInputDevice(pin, pull_up=True, pin_factory=pin_factory)
                     for pin in cols]
        self.when_key: Optional[Callable[[str], None]] = None
        self._seen: dict[str, int] = {}
        self._down: set[str] = set()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def scan(self) -> set[str]:
        """The keys held right now: drive each row, read every column."""
        held = set()
        for r, row in enumerate(self.rows):
            row.on()
            for c, col in enumerate(self.cols):
                if col.is_active:  # pulled up; a pressed key pulls it low, which is "active"
                    held.add(self.keys[r][c])
            row.off()
        return held

    def step(self) -> list[str]:
        """One scan with debouncing; returns keys newly pressed."""
        held = self.scan()
        pressed = []
        for key in held:
            self._seen[key] = self._seen.get(key, 0) + 1
            if self._seen[key] == self.DEBOUNCE_SCANS and key not in self._down:
                self._down.add(key)
                pressed.append(key)
        for key in set(self._seen) - held:
            del self._seen[key]
            self._down.discard(key)
        return pressed

    def _run(self) -> None:
        while not self._stop.wait(1 / self.SCAN_HZ):
            for key in self.step():
                if self.when_key:
                    self.when_key(key)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="matrix-keypad", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        for device in self.rows + self.cols:
            device.close()

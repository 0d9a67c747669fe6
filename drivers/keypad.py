"""Staff keypads, one vocabulary of keys ("0".."9", "*", "#", "A".."D",
"enter", "back", "esc") from any source:

- :class:`EvdevKeypad`, a USB numeric keypad (or any keyboard) read as raw
  key codes through evdev, grabbed so nothing leaks to a console, and with
  no keyboard layout to garble it;
- :class:`MatrixKeypad`, a 4x3 or 4x4 membrane keypad on GPIO, scanned with
  gpiozero;
- the demo window's keyboard (:meth:`drivers.display.Display.poll_events`).

The staff menu (:mod:`kiosk.core.staff`) submits with "enter" or "#" and cancels
with "esc" or "*". A USB numeric keypad has no "#", so its keys map as:

    0-9, KP0-KP9 -> "0".."9"     KPENTER, ENTER, KPPLUS -> "enter"
    KPSLASH, "/" -> "#"          KPASTERISK, shift+8    -> "*"
    BACKSPACE, KPMINUS, KPDOT   -> "back"   ESC -> "esc"
    A-D (a full keyboard) -> "A".."D"       shift+3 -> "#"

"." erases rather than cancels: it sits next to "0", where a slip is likely.

Matrix wiring: the four row lines go to ``rows`` (outputs, idle high, driven
low one at a time), the column lines to ``cols`` (inputs with the Pi's
pull-ups). A pressed key joins its row to its column, so that column reads
low while its row is driven. Two keys held in one column join a low row to a
high one; a 1 kOhm resistor in series with each row keeps that harmless.

    >>> keypad = MatrixKeypad([5, 6, 13, 19], [12, 16, 20])   # doctest: +SKIP
    >>> keypad.when_key = print                                # doctest: +SKIP
    >>> keypad.start()                                         # doctest: +SKIP
"""
from __future__ import annotations

import logging
import threading
from typing import Callable, Optional

from gpiozero import DigitalInputDevice, OutputDevice
from gpiozero.exc import GPIOZeroError

from kiosk.core.errors import DeviceError

from .evdev_reader import EvdevSource
from .keycodes import KeyDecoder

log = logging.getLogger("ashyq.keypad")

LAYOUTS = {
    "4x3": ("123", "456", "789", "*0#"),
    "4x4": ("123A", "456B", "789C", "*0#D"),
}
# Decoded keys (see drivers.keycodes) that are not already in the vocabulary.
USB_KEYS = {"/": "#", "+": "enter", "-": "back", ".": "back",
            "a": "A", "b": "B", "c": "C", "d": "D", "A": "A", "B": "B", "C": "C", "D": "D"}
VOCABULARY = frozenset("0123456789*#ABCD") | {"enter", "back", "esc"}


def keypad_key(decoded: Optional[str]) -> Optional[str]:
    """A decoded key (see :class:`~drivers.keycodes.KeyDecoder`) in the
    keypad's vocabulary, or None for keys staff have no use for."""
    if decoded is None:
        return None
    key = USB_KEYS.get(decoded, decoded)
    return key if key in VOCABULARY else None


class KeypadDecoder:
    """Pure: evdev key events (code, value) in, keypad keys out.

    >>> from evdev import ecodes
    >>> decoder = KeypadDecoder()
    >>> decoder.feed(ecodes.KEY_KPENTER, 1), decoder.feed(ecodes.KEY_KPENTER, 0)
    ('enter', None)
    """

    def __init__(self):
        self.keys = KeyDecoder()

    def feed(self, code: int, value: int) -> Optional[str]:
        return keypad_key(self.keys.feed(code, value))


class EvdevKeypad(EvdevSource):
    """A USB keypad on ``device_path`` (best a stable /dev/input/by-id path).

    ``when_key(key)`` is called from the reader thread for every key pressed.
    An unplugged keypad is reopened when it returns. With ``required``,
    :meth:`start` raises :class:`~kiosk.core.errors.DeviceError` when the device
    cannot be opened now; without it, the reader keeps trying in the
    background.
    """

    def __init__(self, device_path: str, *, required: bool = False):
        super().__init__(device_path, required=required)
        self.decoder = KeypadDecoder()
        self.when_key: Optional[Callable[[str], None]] = None


    def _event(self, code: int, value: int) -> None:
        key = self.decoder.feed(code, value)
        if key is not None and self.when_key:
            self.when_key(key)


class MatrixKeypad:
    """A 4x3 or 4x4 matrix keypad on GPIO, scanned on its own thread.

    ``layout`` is "4x3" or "4x4" (None: from the number of columns).
    ``when_key(key)`` is called from the scanning thread once per press,
    after the key has read down for :attr:`DEBOUNCE_SCANS` scans in a row;
    it is released after as many scans read up. A scan that sees two or more
    keys at once changes nothing (a chord, or a phantom "ghost" key that a
    matrix without diodes shows when three keys are held).
    """

    SCAN_HZ = 100
    DEBOUNCE_SCANS = 2

    def __init__(self, rows: list[int], cols: list[int], layout: Optional[str] = None,
                 pin_factory=None):
        layout = layout or ("4x4" if len(cols) == 4 else "4x3")
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
        self.layout = layout
        self.keys = LAYOUTS[layout]
        if len(rows) != len(self.keys) or len(cols) != len(self.keys[0]):
            raise ValueError(f"a {layout} keypad needs {len(self.keys)} row pins and "
                             f"{len(self.keys[0])} column pins, got {len(rows)} and {len(cols)}")
        self.when_key: Optional[Callable[[str], None]] = None
        self.rows: list = []
        self.cols: list = []
        try:
            for pin in rows:
                self.rows.append(OutputDevice(pin, active_high=False, initial_value=False,
                                              pin_factory=pin_factory))
            for pin in cols:
                self.cols.append(DigitalInputDevice(pin, pull_up=True, pin_factory=pin_factory))
        except (GPIOZeroError, OSError) as exc:
            self._release()
            raise DeviceError(f"cannot set up the matrix keypad: {exc}") from None
        self._held: dict[str, int] = {}  # key -> scans in a row it read down
        self._missing: dict[str, int] = {}  # down key -> scans in a row it read up
        self._down: set[str] = set()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    @property
    def is_connected(self) -> bool:
        return bool(self.rows)  # GPIO does not come and go

    def scan(self) -> set[str]:
        """The keys held right now: drive each row, read every column."""
        held = set()
        for r, row in enumerate(self.rows):
            row.on()
            for c, col in enumerate(self.cols):
                if col.is_active:  # pulled up; a pressed key pulls it low: "active"
                    held.add(self.keys[r][c])
            row.off()
        return held

    def step(self) -> list[str]:
        """One scan with debouncing; returns keys newly pressed."""
        held = self.scan()
        if len(held) > 1:
            return []
        pressed = []
        for key in held | set(self._held) | self._down:
            if key in held:
                self._missing.pop(key, None)
                self._held[key] = self._held.get(key, 0) + 1
                if self._held[key] >= self.DEBOUNCE_SCANS and key not in self._down:
                    self._down.add(key)
                    pressed.append(key)
                continue
            self._held.pop(key, None)
            if key in self._down:
                self._missing[key] = self._missing.get(key, 0) + 1
                if self._missing[key] >= self.DEBOUNCE_SCANS:
                    self._down.discard(key)
                    del self._missing[key]
        return pressed

    def _run(self) -> None:
        while not self._stop.wait(1 / self.SCAN_HZ):
            try:
                keys = self.step()
            except GPIOZeroError as exc:  # closed under us, or the pins went away
                log.error("matrix keypad stopped: %s", exc)
                return
            for key in keys:
                if self.when_key:
                    try:
                        self.when_key(key)
                    except Exception:
                        log.exception("when_key failed for %r", key)

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="matrix-keypad", daemon=True)
        self._thread.start()

    def wait_connected(self, timeout: float) -> bool:
        return self.is_connected

    def close(self) -> None:
        """Stop scanning and release the pins. Idempotent."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        self._thread = None
        self._release()

    def _release(self) -> None:
        for device in self.rows + self.cols:
            try:
                device.close()
            except Exception:  # noqa: BLE001 - releasing is best effort
                pass
        self.rows, self.cols = [], []

"""A keyboard-wedge barcode scanner, read as raw key codes through evdev.

Wedge scanners pretend to be keyboards and type their code, usually ending
with Enter. Read as text they are garbled by a Russian or Kazakh layout, so
the kiosk reads key codes (:mod:`drivers.keycodes`), grabs the device so the
code is not also typed into a console, and frames what it decodes like any
scanner (:class:`drivers.framing.Framer`): on Enter, or on silence for
scanners that send no Enter, with MRZ lines joined into one document.

Wiring: plug the scanner into USB and point ``wedge.evdev_device`` at its
stable name, e.g. /dev/input/by-id/usb-<maker>_<model>-event-kbd. Leave the
scanner on its default "USA keyboard" setting (or its "Alt+keypad" mode).

    >>> decoder = WedgeDecoder()
    >>> [p for code, value in codes_for("871008401427\\r")
    ...  for p in decoder.feed(code, value, now=0.0)]
    [b'871008401427']
"""
from __future__ import annotations

import time
from typing import Callable, Optional

from .evdev_reader import EvdevSource
from .framing import Framer
from .keycodes import KeyDecoder, codes_for  # noqa: F401 - codes_for is used by the doctest


class WedgeDecoder:
    """Pure: key events and the time in, payloads (bytes) out.

    ``feed(code, value, now)`` takes one evdev key event; ``poll(now)`` lets
    silence end a code. Keys that are not text (Tab, Esc, Backspace) are
    ignored: scanners do not edit what they type.
    """

    def __init__(self, *, idle_timeout: float = 0.15, max_length: int = 512):
        self.keys = KeyDecoder()
        self.framer = Framer("CR", idle_timeout=idle_timeout, max_length=max_length)

    def feed(self, code: int, value: int, now: float) -> list[bytes]:
        key = self.keys.feed(code, value)
        if key == "enter":
            return self.framer.feed(b"\r", now)
        if key is not None and len(key) == 1:
            return self.framer.feed(key.encode("ascii", "replace"), now)
        return self.framer.poll(now)

    def poll(self, now: float) -> list[bytes]:
        return self.framer.poll(now)


class WedgeScanner(EvdevSource):
    """A keyboard-wedge scanner on ``device_path``; ``when_scanned(payload)``
    is called from the reader thread with each code's bytes.

    An unplugged scanner is reopened when it returns. With ``required``,
    :meth:`start` raises :class:`~kiosk.core.errors.DeviceError` when the device
    cannot be opened now; without it, the reader keeps trying.

    >>> scanner = WedgeScanner("/dev/input/by-id/usb-scanner-event-kbd")  # doctest: +SKIP
    >>> scanner.when_scanned = print                                      # doctest: +SKIP
    >>> scanner.start()                                                   # doctest: +SKIP
    """

    def __init__(self, device_path: str, *, idle_timeout: float = 0.15, max_length: int = 512,
                 required: bool = False):
        super().__init__(device_path, required=required)
        self.decoder = WedgeDecoder(idle_timeout=idle_timeout, max_length=max_length)
        self.when_scanned: Optional[Callable[[bytes], None]] = None

    @classmethod
    def from_config(cls, cfg) -> "WedgeScanner":
        """From ``[wedge]`` (device, idle timeout) and ``scanner.max_length``."""
        return cls(cfg.wedge.evdev_device, idle_timeout=cfg.wedge.idle_timeout,
                   max_length=cfg.scanner.max_length)


    def _emit(self, payloads) -> None:
        for payload in payloads:
            if self.when_scanned:
                self.when_scanned(payload)

    def _event(self, code: int, value: int) -> None:
        self._emit(self.decoder.feed(code, value, time.monotonic()))

    def _idle(self) -> None:
        self._emit(self.decoder.poll(time.monotonic()))

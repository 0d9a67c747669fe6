"""A keyboard-wedge barcode scanner, read as raw key codes through evdev.

Wedge scanners pretend to be keyboards and type their code, usually ending
with Enter. Read as text they are garbled by a Russian or Kazakh layout, so
the kiosk reads key codes (:mod:`drivers.keycodes`) and frames them like any
scanner: on Enter, or on silence for scanners that send no Enter.

    >>> decoder = WedgeDecoder()
    >>> payloads = [p for code, value in codes_for("871008401427\\r")
    ...             for p in decoder.feed(code, value, now=0.0)]
    >>> payloads
    [b'871008401427']
"""
from __future__ import annotations

import time
from typing import Callable, Optional

from .evdev_reader import EvdevSource
from .framing import Framer
from .keycodes import KeyDecoder, codes_for  # noqa: F401 - codes_for for the doctest


class WedgeDecoder:
    """Pure: key events in, payloads out."""

    def __init__(self, *, idle_timeout: float = 0.15, max_length: int = 512):
        self.keys = KeyDecoder()
        self.framer = Framer("CR", idle_timeout=idle_timeout, max_length=max_length)

    def feed(self, code: int, value: int, now: float) -> list[bytes]:
        key = self.keys.feed(code, value)
        if key is None:
            return self.framer.poll(now)
        if key == "enter":
            return self.framer.feed(b"\r", now)
        if len(key) == 1:
            return self.framer.feed(key.encode(), now)
        return []

    def poll(self, now: float) -> list[bytes]:
        return self.framer.poll(now)


class WedgeScanner(EvdevSource):
    def __init__(self, device_path: str, *, idle_timeout: float = 0.15, max_length: int = 512):
        super().__init__(device_path)
        self.decoder = WedgeDecoder(idle_timeout=idle_timeout, max_length=max_length)
        self.when_scanned: Optional[Callable[[bytes], None]] = None

    def _emit(self, payloads) -> None:
        for payload in payloads:
            if self.when_scanned:
                self.when_scanned(payload)

    def _event(self, code: int, value: int) -> None:
        self._emit(self.decoder.feed(code, value, time.monotonic()))

    def _idle(self) -> None:
        self._emit(self.decoder.poll(time.monotonic()))

"""One reader for every evdev input device: USB keypads and keyboard-wedge
scanners alike. It grabs the device, so keystrokes reach only the kiosk and
not a console, and passes raw key codes on: the layout never gets a say.

    >>> reader = EvdevReader("/dev/input/by-id/usb-keypad-event-kbd")  # doctest: +SKIP
    >>> reader.when_key_event = lambda code, value: print(code, value)   # doctest: +SKIP
    >>> reader.start()                                                   # doctest: +SKIP

An unplugged device is reported once and reopened when it returns.
"""
from __future__ import annotations

import logging
import select
import threading
from typing import Any, Callable, Optional

from kiosk.core.errors import DeviceError

log = logging.getLogger("ashyq.evdev")


class EvdevReader:
    def __init__(self, path: str, *, grab: bool = True, reconnect_interval: float = 1.0):
        self.path = path
        self.grab = grab
        self.reconnect_interval = reconnect_interval
        self.when_key_event: Optional[Callable[[int, int], None]] = None
        self.when_idle: Optional[Callable[[], None]] = None  # called ~20 times a second
        self.device: Any = None  # evdev.InputDevice once open
        self._stop = threading.Event()
        self._opened = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def open(self) -> None:
        import evdev
        try:
            self.device = evdev.InputDevice(self.path)
            if self.grab:
                self.device.grab()
        except OSError as exc:
            self.device = None
            raise DeviceError(f"input device {self.path}: {exc.strerror or exc}") from None
        self._opened.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"evdev:{self.path}", daemon=True)
        self._thread.start()

    def wait_connected(self, timeout: float) -> bool:
        return self._opened.wait(timeout)

    def _run(self) -> None:
        from evdev import ecodes
        reported = False
        while not self._stop.is_set():
            if self.device is None:
                try:
                    self.open()
                    reported = False
                except DeviceError as exc:
                    if not reported:
                        log.warning("%s; retrying", exc)
                        reported = True
                    self._stop.wait(self.reconnect_interval)
                    continue
            try:
                ready, _, _ = select.select([self.device.fd], [], [], 0.05)
                events = list(self.device.read()) if ready else []
            except OSError as exc:
                log.warning("input device %s lost: %s", self.path, exc)
                self._close_device()
                continue
            for event in events:
                if event.type == ecodes.EV_KEY and self.when_key_event:
                    self.when_key_event(event.code, event.value)
            if self.when_idle:
                self.when_idle()

    def _close_device(self) -> None:
        device, self.device = self.device, None
        self._opened.clear()
        if device is not None:
            try:
                device.close()
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._close_device()


class EvdevSource:
    """Base for a driver fed by one evdev device: subclasses take the raw
    key events (``_event``) and, for framing on silence, idle calls. With
    ``required``, a device missing at start is a DeviceError there and then,
    not a warning from a thread."""

    def __init__(self, device_path: str, *, required: bool = False):
        self.required = required
        self.reader = EvdevReader(device_path)
        self.reader.when_key_event = self._event
        self.reader.when_idle = self._idle

    @property
    def is_connected(self) -> bool:
        return self.reader.device is not None

    def _event(self, code: int, value: int) -> None:
        raise NotImplementedError

    def _idle(self) -> None:
        pass

    def start(self) -> None:
        if self.required and self.reader.device is None:
            self.reader.open()
        self.reader.start()

    def wait_connected(self, timeout: float) -> bool:
        return self.reader.wait_connected(timeout)

    def close(self) -> None:
        self.reader.close()

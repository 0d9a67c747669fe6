"""A serial or USB-serial barcode scanner, read with pyserial on its own thread.

Wiring: the scanner's USB cable (a CDC-ACM or FTDI device: /dev/ttyACM0,
/dev/ttyUSB0, or /dev/ashyq-scanner from our udev rule). The port is a
pyserial URL, so tests and trials use the same code: ``loop://``,
``socket://host:port``, ``hwgrep://0483:``, ``spy://...``.

    >>> scanner = SerialScanner("loop://", terminator="CR")
    >>> scanner.when_scanned = print
    >>> scanner.start()
    >>> scanner.serial_instance.write(b"871008401427\\r")        # doctest: +SKIP
    b'871008401427'

An unplugged scanner is not fatal: the driver logs once, reports
``when_disconnected``, and tries to open the port again every
``reconnect_interval`` seconds, reading again within about a second of the
scanner coming back. Scanned payloads are never logged (they hold IINs).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Optional

import serial

from .framing import Framer

log = logging.getLogger("ashyq.scanner")

READ_TIMEOUT = 0.05  # short, so idle framing and close() are prompt


class SerialScanner:
    def __init__(self, port: str, *, baudrate: int = 9600, terminator: str = "CR",
                 idle_timeout: float = 0.15, max_length: int = 512,
                 reconnect_interval: float = 0.5, multiline: bool = False):
        self.port = port
        self.baudrate = baudrate
        self.framer = Framer(terminator, idle_timeout=idle_timeout, max_length=max_length,
                             multiline=multiline)
        self.reconnect_interval = reconnect_interval
        self.when_scanned: Optional[Callable[[bytes], None]] = None
        self.when_connected: Optional[Callable[[], None]] = None
        self.when_disconnected: Optional[Callable[[], None]] = None
        self.serial_instance: Optional[serial.SerialBase] = None
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._opened = threading.Event()

    @classmethod
    def from_config(cls, section) -> "SerialScanner":
        return cls(section.port, baudrate=section.baudrate, terminator=section.terminator,
                   idle_timeout=section.idle_timeout, max_length=section.max_length)

    @property
    def is_connected(self) -> bool:
        return self.serial_instance is not None

    def start(self) -> None:
        """Start reading; a second call does nothing (two readers on one port
        would interleave their reads and scramble codes)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self._run, name="serial-scanner", daemon=True)
        self._thread.start()

    def wait_connected(self, timeout: float) -> bool:
        return self._opened.wait(timeout)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._close_port()

    def __enter__(self) -> "SerialScanner":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- the reading thread -------------------------------------------------

    def _open(self) -> bool:
        try:
            port = serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=READ_TIMEOUT)
        except (serial.SerialException, OSError, ValueError) as exc:
            if self._announce_loss(exc):
                log.warning("scanner %s not available: %s; retrying", self.port, exc)
            return False
        self.serial_instance = port
        self._lost = False
        self._opened.set()
        log.info("scanner %s connected", self.port)
        self._call(self.when_connected)
        return True

    def _announce_loss(self, exc) -> bool:
        """True the first time in a row, so an unplugged scanner logs once."""
        first = not getattr(self, "_lost", False)
        self._lost = True
        return first

    def _close_port(self) -> None:
        port, self.serial_instance = self.serial_instance, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                pass

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.serial_instance is None and not self._open():
                self._stop.wait(self.reconnect_interval)
                continue
            try:
                data = self.serial_instance.read(self.serial_instance.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
                # A pty whose other end closed, an unplugged USB device: the
                # same path, close and retry.
                self._opened.clear()
                self._close_port()
                if self._announce_loss(exc):
                    log.warning("scanner %s lost: %s; retrying", self.port, exc)
                self._call(self.when_disconnected)
                continue
            now = time.monotonic()
            payloads = self.framer.feed(data, now) if data else self.framer.poll(now)
            for payload in payloads:
                log.debug("scan of %d bytes", len(payload))
                self._call(self.when_scanned, payload)

    def _call(self, callback, *args) -> None:
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:  # noqa: BLE001 - a broken callback must not stop the scanner
            log.exception("scanner callback failed")

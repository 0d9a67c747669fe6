"""A serial or USB-serial barcode scanner, read with pyserial on its own thread.

Wiring: the scanner's USB cable (a CDC-ACM or FTDI device: /dev/ttyACM0,
/dev/ttyUSB0, or /dev/ashyq-scanner from our udev rule), set up in the
scanner's own menu to send a terminator (CR, LF, CRLF) or none. The port is
a pyserial URL, so tests and trials use the same code: ``loop://``,
``socket://host:port``, ``hwgrep://0483:`` (the first port whose USB
description matches). ``spy://`` prints every byte in clear: bench use only,
never at a venue (payloads hold IINs).

    >>> scanner = SerialScanner("loop://", terminator="CR")
    >>> scanner.when_scanned = print
    >>> scanner.start()
    >>> scanner.wait_connected(5)
    True
    >>> scanner.serial_instance.write(b"871008401427\\r")   # doctest: +SKIP
    b'871008401427'
    >>> scanner.close()

An unplugged scanner is not fatal: the driver logs once, calls
``when_disconnected``, and opens the port again every ``reconnect_interval``
seconds, calling ``when_connected`` when it is back. With ``required``,
:meth:`start` raises :class:`~kiosk.core.errors.DeviceError` if the port cannot
be opened at once; by default the kiosk comes up without it and the reader
keeps trying. Callbacks run on the reader thread; one that raises is logged
and the reader carries on. Payloads are never logged, only their length.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Optional

import serial

from kiosk.core.errors import DeviceError

from .framing import Framer

log = logging.getLogger("ashyq.scanner")

READ_TIMEOUT = 0.05  # short, so idle framing and close() are prompt
READ_MAX = 4096
# What a vanished device, a pty whose master closed, a dropped socket or a
# bad URL raise; pyserial turns "ready but no data" (EOF) into SerialException.
PORT_ERRORS = (serial.SerialException, OSError, ValueError)


class SerialScanner:
    """Payloads from a serial scanner, framed by :class:`~drivers.framing.Framer`.

    ``when_scanned(payload: bytes)``, ``when_connected()`` and
    ``when_disconnected()`` are optional callbacks; ``is_connected`` is the
    state now; ``serial_instance`` is the open port (tests write to a
    ``loop://`` one to play the scanner).
    """

    def __init__(self, port: str, *, baudrate: int = 9600, terminator: str = "CR",
                 idle_timeout: float = 0.15, max_length: int = 512,
                 reconnect_interval: float = 0.5, multiline: bool = False,
                 required: bool = False):
        self.port = port
        self.baudrate = baudrate
        self.framer = Framer(terminator, idle_timeout=idle_timeout, max_length=max_length,
                             multiline=multiline)
        self.reconnect_interval = reconnect_interval
        self.required = required
        self.when_scanned: Optional[Callable[[bytes], None]] = None
        self.when_connected: Optional[Callable[[], None]] = None
        self.when_disconnected: Optional[Callable[[], None]] = None
        self.serial_instance: Optional[serial.SerialBase] = None
        self._stop = threading.Event()
        self._opened = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._reported = False  # an outage already logged: log once, not every retry

    @classmethod
    def from_config(cls, section) -> "SerialScanner":
        """From ``cfg.scanner`` (kiosk/schema.py). ``multiline`` and
        ``required`` are read when the section has them (default off)."""
        return cls(section.port, baudrate=section.baudrate, terminator=section.terminator,
                   idle_timeout=section.idle_timeout, max_length=section.max_length,
                   multiline=bool(section.get("multiline", False)),
                   required=bool(section.get("required", False)))

    @property
    def is_connected(self) -> bool:
        return self._opened.is_set()

    def wait_connected(self, timeout: float) -> bool:
        """True once the port is open (pyserial drops bytes sent before)."""
        return self._opened.wait(timeout)

    def start(self) -> None:
        """Start reading. A second call does nothing: two readers on one port
        would interleave their reads and scramble codes."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        if self.required and self.serial_instance is None:
            try:
                self._connect()
            except PORT_ERRORS as exc:
                raise DeviceError(f"scanner {self.port}: {exc}") from None
        self._thread = threading.Thread(target=self._run, name="serial-scanner", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the reader and close the port; pending bytes are dropped."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=2)
            if thread.is_alive():  # stuck in a callback; it closes the port on its way out
                log.warning("scanner reader did not stop within 2 s")
                return
        self._disconnect()

    def __enter__(self) -> "SerialScanner":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- the reading thread -------------------------------------------------

    def _connect(self) -> None:
        port = serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=READ_TIMEOUT,
                                     exclusive=True)
        self.serial_instance = port
        self._opened.set()
        self._reported = False
        log.info("scanner %s connected", self.port)
        self._call(self.when_connected)

    def _disconnect(self) -> bool:
        """Close the port; True if it was open."""
        port, self.serial_instance = self.serial_instance, None
        self._opened.clear()
        if port is None:
            return False
        try:
            port.close()
        except PORT_ERRORS:
            pass  # the device is already gone; nothing left to release
        return True

    def _lost(self, what: str, exc: BaseException) -> None:
        if not self._reported:
            self._reported = True
            log.warning("scanner %s %s: %s; retrying every %g s", self.port, what, exc,
                        self.reconnect_interval)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if self.serial_instance is None:
                    try:
                        self._connect()
                    except PORT_ERRORS as exc:
                        self._lost("not available", exc)
                        self._stop.wait(self.reconnect_interval)
                        continue
                self._read_once()
        finally:
            self._disconnect()

    def _read_once(self) -> None:
        port = self.serial_instance
        if port is None:  # closed by _disconnect on this same thread
            return
        try:
            data = port.read(min(max(port.in_waiting, 1), READ_MAX))
        except PORT_ERRORS as exc:
            self._disconnect()
            self._lost("lost", exc)
            self._call(self.when_disconnected)
            # A half-sent code goes on for the parser to refuse rather than vanish.
            self._deliver(self.framer.flush())
            # Wait before reopening: a device that opens but fails at once
            # (a flapping cable) must not spin the CPU.
            self._stop.wait(self.reconnect_interval)
            return
        now = time.monotonic()
        self._deliver(self.framer.feed(data, now) if data else self.framer.poll(now))

    def _deliver(self, payloads: list) -> None:
        for payload in payloads:
            log.debug("scan of %d bytes", len(payload))
            self._call(self.when_scanned, payload)

    def _call(self, callback, *args) -> None:
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:
            log.exception("scanner callback %s failed",
                          getattr(callback, "__name__", "when_*"))

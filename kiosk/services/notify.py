"""Talking to systemd: readiness and watchdog over sd_notify, and logs that
journald files under the right priority with no document number in clear.

    >>> notifier = Notifier()        # a no-op unless systemd set NOTIFY_SOCKET
    >>> notifier.ready(); notifier.status("idle"); notifier.watchdog()
    >>> _ = setup_logging("info")    # then logging.getLogger("ashyq.x").info(...)

Logs go to stderr. Under systemd (JOURNAL_STREAM set) each line starts with
the sd-daemon priority prefix ("<3>" error ... "<7>" debug) so that
`journalctl -p warning` works; in a terminal they read "LEVEL name: message".
A filter masks any run of 12 or more digits (an IIN or BIN, or one inside an
MRZ line) and passport-like numbers down to their last four, as a safety net
behind the code's own care: a log line is the easiest place to leak one.
"""
from __future__ import annotations

import logging
import os
import re
import socket
import sys
from typing import Callable, Optional

from kiosk.core.model import mask

log = logging.getLogger("ashyq.notify")

PRIORITIES = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6,
              logging.DEBUG: 7}
# Any run of 12+ digits, even glued to letters (TD1 line 1 puts the IIN right
# after the document number's check digit); and one or two capitals followed
# by 7 to 9 digits, not part of a longer number (N12345678, AB1234567).
NUMBERS = re.compile(r"\d{12,}|(?<!\d)[A-Z]{1,2}\d{7,9}(?!\d)")


def mask_numbers(text: str) -> str:
    """Every IIN-, BIN- or passport-like number in ``text`` cut to its last four.

    >>> mask_numbers("scan 871008401427 ok")
    'scan ••••1427 ok'
    """
    return NUMBERS.sub(lambda found: mask(found.group(0)), text)


class Notifier:
    """sd_notify messages for a Type=notify service.

    Does nothing when NOTIFY_SOCKET is unset (a terminal, a test) and never
    raises: losing a status line must not take the door down. But it is not
    silent either (sdnotify is: it swallows every error): a socket that
    cannot be reached is logged once and kept in ``error``, which the
    application turns into a health fault. The watchdog is pinged only by
    the main loop while it is healthy, so a hung loop stops the pings and
    systemd restarts the kiosk.

        notifier = Notifier()
        notifier.ready()
        every = notifier.watchdog_interval()   # seconds, or None
    """

    def __init__(self) -> None:
        self.address = os.environ.get("NOTIFY_SOCKET", "")
        if self.address.startswith("@"):  # Linux abstract namespace
            self.address = "\0" + self.address[1:]
        self.error: Optional[str] = None
        self.when_error: Optional[Callable[[Optional[str]], None]] = None
        self._sock: Optional[socket.socket] = None
        if self.address:
            try:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            except OSError as exc:
                self._failed(f"cannot create a notify socket: {exc}")

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def _failed(self, error: Optional[str]) -> None:
        if error == self.error:
            return
        self.error = error
        if error:
            log.error("systemd notification failed (%s): READY and WATCHDOG are not reaching "
                      "systemd", error)
        else:
            log.warning("systemd notifications reach %s again", self.address.lstrip("\0"))
        if self.when_error is not None:
            self.when_error(error)

    def _send(self, message: str) -> None:
        if self._sock is None:
            return
        try:
            # UTF-8, which systemd reads (sdnotify's Latin-1 drops a masked
            # number's bullets). Never block: a datagram queue that nobody
            # drains (about ten messages) would otherwise stop the main loop
            # in a ping; a full queue is systemd being slow, not a fault.
            self._sock.sendto(message.encode("utf-8"), socket.MSG_DONTWAIT, self.address)
        except BlockingIOError:
            return
        except OSError as exc:
            self._failed(f"{self.address.lstrip(chr(0))}: {exc.strerror or exc}")
            return
        self._failed(None)

    def ready(self) -> None:
        """The relay is safe and the scanner, screen and journal are up."""
        self._send("READY=1")

    def watchdog(self) -> None:
        """The main loop is alive and healthy."""
        self._send("WATCHDOG=1")

    def status(self, text: str) -> None:
        """One line for `systemctl status` (no document numbers: masked anyway)."""
        self._send("STATUS=" + mask_numbers(text).replace("\n", " "))

    def stopping(self) -> None:
        self._send("STOPPING=1")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def watchdog_interval(self) -> Optional[float]:
        """How often to ping, in seconds: half of systemd's WatchdogSec, or
        None when no watchdog is asked for (or it is meant for another PID)."""
        usec = os.environ.get("WATCHDOG_USEC", "")
        pid = os.environ.get("WATCHDOG_PID", "")
        if pid and pid != str(os.getpid()):
            return None
        try:
            value = int(usec)
        except ValueError:
            return None
        return value / 2_000_000 if value > 0 else None


class MaskNumbers(logging.Filter):
    """Masks numbers in a record's message (arguments included) in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string still gets logged
            message = str(record.msg)
        masked = mask_numbers(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class _Formatter(logging.Formatter):
    """Masks the whole line too (tracebacks carry values), then prefixes
    every line with the priority under journald: journald stores each line
    as its own entry and files an unprefixed one as info."""

    def __init__(self, journald: bool):
        super().__init__("%(name)s: %(message)s" if journald else
                         "%(levelname)s %(name)s: %(message)s")
        self.journald = journald

    def format(self, record: logging.LogRecord) -> str:
        text = mask_numbers(super().format(record))
        if not self.journald:
            return text
        prefix = f"<{PRIORITIES.get(record.levelno, 6)}>"
        return "\n".join(prefix + line for line in text.splitlines() or [""])


def setup_logging(level: str = "info", stream=None) -> logging.Handler:
    """Send all logging to ``stream`` (stderr) in the form journald wants
    when it is the reader, and plain otherwise; returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_Formatter(journald=bool(os.environ.get("JOURNAL_STREAM"))))
    handler.addFilter(MaskNumbers())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler

"""Talking to systemd: readiness and watchdog over sd_notify, and logs that
journald files under the right priority with no document number in clear.

    >>> notifier = Notifier()        # a no-op unless systemd set NOTIFY_SOCKET
    >>> notifier.ready(); notifier.status("idle"); notifier.watchdog()
    >>> setup_logging("info")        # then logging.getLogger("ashyq.x").info(...)

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
from typing import Optional

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
    raises: losing a status line must not take the door down. The watchdog
    is pinged only by the main loop while it is healthy, so a hung loop
    stops the pings and systemd restarts the kiosk.

        notifier = Notifier()
        notifier.ready()
        every = notifier.watchdog_interval()   # seconds, or None
    """

    def __init__(self) -> None:
        self._notifier = None
        if os.environ.get("NOTIFY_SOCKET"):
            try:
                import sdnotify
                self._notifier = sdnotify.SystemdNotifier()
            except Exception as exc:  # noqa: BLE001 - never raise, say why once
                log.warning("systemd notifications disabled: %s", exc)

    @property
    def enabled(self) -> bool:
        return self._notifier is not None

    def _send(self, message: str) -> None:
        if self._notifier is None:
            return
        try:
            sock = getattr(self._notifier, "socket", None)
            if sock is not None:
                # sdnotify encodes as Latin-1 and silently drops anything else
                # (a masked number's bullets); systemd reads UTF-8. Never
                # block: a datagram queue that nobody drains (about ten
                # messages) would otherwise stop the main loop in a ping.
                sock.send(message.encode("utf-8"), socket.MSG_DONTWAIT)
        except Exception:  # noqa: BLE001 - a notification is never worth a crash
            pass

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

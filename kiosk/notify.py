"""Talking to systemd: readiness and watchdog over sd_notify, and logs that
journald files under the right priority.

    >>> notifier = Notifier()          # a no-op unless systemd set NOTIFY_SOCKET
    >>> notifier.ready(); notifier.watchdog()

Logs go to stderr. Under systemd (JOURNAL_STREAM set) each line starts with
the sd-daemon priority prefix ("<3>" error ... "<7>" debug) so `journalctl -p`
works; in a terminal they read "LEVEL name: message". A filter masks any run
of 12 digits or a passport-like number down to its last four, as a safety net
behind the code's own care.
"""
from __future__ import annotations

import logging
import os
import re
import sys
from typing import Optional

from .model import mask

PRIORITIES = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6,
              logging.DEBUG: 7}
# 12-digit IIN/BIN runs, and a letter followed by 7-8 digits (passport numbers).
NUMBERS = re.compile(r"(?<![0-9A-Za-z])(?:\d{12}|[A-Z]{1,2}\d{7,8})(?![0-9A-Za-z])")


class Notifier:
    """sd_notify messages; never raises, does nothing outside systemd."""

    def __init__(self):
        self._socket = None
        if os.environ.get("NOTIFY_SOCKET"):
            try:
                import sdnotify
                self._socket = sdnotify.SystemdNotifier()
            except ImportError:  # pragma: no cover - a declared dependency
                self._socket = None

    def _send(self, message: str) -> None:
        if self._socket is not None:
            self._socket.notify(message)  # sdnotify swallows socket errors by default

    def ready(self) -> None:
        self._send("READY=1")

    def watchdog(self) -> None:
        self._send("WATCHDOG=1")

    def status(self, text: str) -> None:
        self._send(f"STATUS={text}")

    def stopping(self) -> None:
        self._send("STOPPING=1")

    def watchdog_interval(self) -> Optional[float]:
        """Half the WatchdogSec systemd gave us, in seconds, or None."""
        usec = os.environ.get("WATCHDOG_USEC")
        pid = os.environ.get("WATCHDOG_PID")
        if not usec or (pid and pid != str(os.getpid())):
            return None
        try:
            return int(usec) / 2_000_000
        except ValueError:
            return None


class MaskNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = NUMBERS.sub(lambda m: mask(m.group(0)), message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class JournaldFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return f"<{PRIORITIES.get(record.levelno, 6)}>{text}"


def setup_logging(level: str = "info", stream=None) -> None:
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    if os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(JournaldFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskNumbers())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())

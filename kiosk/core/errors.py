"""The kiosk's exception tree, drawn once here so every boundary can translate
into it (the httpx way).

    KioskError
    ├── ConfigError(KioskError, ValueError)      config file: every problem at once
    ├── DocumentError(KioskError, ValueError)    a scan or typed number refused
    ├── LookupFailed(KioskError)                 the status service gave no usable answer
    ├── JournalError(KioskError, OSError)        the journal could not be written or read
    ├── DeviceError(KioskError, OSError)         a driver lost or could not open its device
    └── SyncError(KioskError)                    the collector refused or was unreachable

Each specific error also subclasses a built-in (gpiozero's habit) so callers
that only know Python can still catch it.
"""
from __future__ import annotations

from collections.abc import Iterable


class KioskError(Exception):
    """Root of every error the kiosk raises on purpose."""


class ConfigError(KioskError, ValueError):
    """One or more configuration problems; ``problems`` holds them all."""

    def __init__(self, problems: Iterable[object]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class DocumentError(KioskError, ValueError):
    """A payload is not an acceptable identity document.

    ``reason`` is a short stable code (``bad-check-digit``, ``not-a-person``,
    ...) used on screen and in the journal; the message is for people.
    """

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


class LookupFailed(KioskError):
    """The status lookup failed; ``cause`` is a short stable code
    (``timeout``, ``refused``, ``tls``, ``http-500``, ``not-json``,
    ``unknown-status``, ``unauthorised``, ``rate-limited``, ``not-found``...)."""

    def __init__(self, cause: str, message: str = ""):
        self.cause = cause
        super().__init__(message or cause)


class JournalError(KioskError, OSError):
    """The journal could not be opened, migrated or written."""


class DeviceError(KioskError, OSError):
    """A hardware driver could not open or lost its device."""


class SyncError(KioskError):
    """Uploading to the collector failed."""

"""The configuration the state machine reads, as shapes rather than a class.

The core must not import :mod:`kiosk.app.config` (the layers point one way),
yet it should say which values it reads and of what type. These protocols
are that promise: the loader's ``Config`` (sections as attributes) fits them,
and so would any object a test or bench builds by hand. Members are
read-only properties because a configuration never changes under the kiosk.
"""
from __future__ import annotations

from typing import Protocol

from kiosk.core.policy import Table


class KioskSection(Protocol):
    @property
    def language(self) -> str: ...  # the screen's first language


class StatusSection(Protocol):
    @property
    def deadline(self) -> float: ...
    @property
    def rate_per_minute(self) -> int: ...


class DisplaySection(Protocol):
    @property
    def result_seconds(self) -> float: ...


class SignalsSection(Protocol):
    @property
    def pulse_seconds(self) -> float: ...


class ScannerSection(Protocol):
    @property
    def max_length(self) -> int: ...


class KeypadSection(Protocol):
    @property
    def max_pin_attempts(self) -> int: ...
    @property
    def lockout_seconds(self) -> float: ...
    @property
    def session_idle_seconds(self) -> float: ...


class MachineConfig(Protocol):
    """The sections :class:`~kiosk.core.machine.Kiosk` reads; ``policy`` is
    the ``[policy]`` table that :mod:`kiosk.core.policy` decides by."""

    @property
    def policy(self) -> Table: ...
    @property
    def kiosk(self) -> KioskSection: ...
    @property
    def status(self) -> StatusSection: ...
    @property
    def display(self) -> DisplaySection: ...
    @property
    def signals(self) -> SignalsSection: ...
    @property
    def scanner(self) -> ScannerSection: ...
    @property
    def keypad(self) -> KeypadSection: ...

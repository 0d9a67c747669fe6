"""The door's outputs on GPIO with gpiozero: green and red lights, a buzzer,
the turnstile relay, and an optional passage sensor.

Wiring (BCM numbers, the defaults in config/kiosk.example.toml): green LED
on 17, red LED on 27, buzzer on 22, relay board input on 23 (active-high, or
active-low for boards that switch on a low input), passage sensor (a dry
contact or an open-collector beam to ground; the pin's pull-up holds it high)
on any free pin. When gpiozero releases a pin it becomes an input with no
pull, so the relay board must hold its own input at the "off" level (most do:
a pull-down on active-high boards, the opto-coupler's pull-up on active-low
ones); fit a 10 kOhm resistor if yours does not.

    >>> from gpiozero.pins.mock import MockFactory
    >>> signals = Signals(pin_factory=MockFactory())
    >>> signals.pulse_relay(0.2)
    0.2
    >>> signals.is_relay_on
    True
    >>> signals.close()

The relay is built before anything else with ``initial_value=False``, so a
starting kiosk drives it off first; a pulse is a timer, never a sleep, and the
relay is never held on for longer than :data:`MAX_PULSE_SECONDS` in one
stretch, whatever the configuration or the caller asks. ``close()`` drives the
relay off before it touches anything else.
"""
from __future__ import annotations

import importlib
import logging
import os
import threading
import time
from typing import Callable, Optional

from gpiozero import LED, Button, Buzzer, OutputDevice
from gpiozero.exc import GPIOZeroError

from kiosk.core.errors import DeviceError

log = logging.getLogger("ashyq.signals")

MAX_PULSE_SECONDS = 10.0  # a hard limit no configuration or caller can raise
# Buzzer patterns, (on, off, count): one short yes, three short no, one long
# error, two for staff; told apart by ear by someone facing away from the screen.
BEEPS = {"admit": (0.12, 0.1, 1), "deny": (0.12, 0.1, 3), "error": (0.7, 0.1, 1),
         "staff": (0.12, 0.12, 2)}
# Lights: (green, red); "blink" for staff, so a passing attendant sees it.
LIGHTS = {"admit": ("on", "off"), "deny": ("off", "on"), "error": ("off", "on"),
          "staff": ("blink", "blink"), "off": ("off", "off")}
PATTERNS = tuple(LIGHTS)
STAFF_BLINK = 0.5
FACTORIES = {
    "mock": ("gpiozero.pins.mock", "MockFactory"),
    "lgpio": ("gpiozero.pins.lgpio", "LGPIOFactory"),
    "rpigpio": ("gpiozero.pins.rpigpio", "RPiGPIOFactory"),
    "pigpio": ("gpiozero.pins.pigpio", "PiGPIOFactory"),
    "native": ("gpiozero.pins.native", "NativeFactory"),
}


def make_pin_factory(name: str):
    """A gpiozero pin factory by its config name; "" = gpiozero's own choice
    (``GPIOZERO_PIN_FACTORY``, then its fallback list), returned as None.

    With ``mock`` and ASHYQ_MOCK_PIN_DIR set (tests only), the pins are the
    test-only class named by ASHYQ_MOCK_PIN_CLASS (default
    tests/file_pins.py's FilePin), which keeps each level in a file there,
    standing in for a kernel GPIO line that outlives its process."""
    if not name:
        return None
    if name == "mock" and os.environ.get("ASHYQ_MOCK_PIN_DIR"):
        from gpiozero.pins.mock import MockFactory
        where = os.environ.get("ASHYQ_MOCK_PIN_CLASS", "tests.file_pins:FilePin")
        module, _, cls = where.partition(":")
        try:
            return MockFactory(pin_class=getattr(importlib.import_module(module), cls))
        except (ImportError, AttributeError) as exc:
            raise DeviceError(f"ASHYQ_MOCK_PIN_DIR is set (tests only) but its pin class "
                              f"{where} cannot be loaded: {exc}") from None
    module, cls = FACTORIES[name]
    try:
        return getattr(__import__(module, fromlist=[cls]), cls)()
    except (ImportError, OSError, GPIOZeroError) as exc:
        raise DeviceError(f"GPIO pin factory {name!r} is not available here: {exc}") from None


class Signals:
    """Lights, buzzer and turnstile relay as one device.

    ``signal(pattern)`` sets lights and buzzer for "admit", "deny", "error",
    "staff" or "off"; ``pulse_relay()`` opens the turnstile for a while without
    blocking; ``when_passed`` is called (from gpiozero's callback thread) when
    the passage sensor sees the visitor go through during a pulse, which also
    ends the pulse. Every method is safe to call after ``close()`` (it does
    nothing), so a shutdown path never trips over a late timer or callback.
    """

    def __init__(self, green_pin: int = 17, red_pin: int = 27, buzzer_pin: int = 22,
                 relay_pin: int = 23, *, relay_active_high: bool = True,
                 pulse_seconds: float = 3.0, passage_pin: int = -1, pin_factory=None):
        self.pulse_seconds = max(0.0, min(float(pulse_seconds), MAX_PULSE_SECONDS))
        self.when_passed: Optional[Callable[[], None]] = None
        self.when_passed_shut: Optional[Callable[[], None]] = None  # passage with the door shut
        self._lock = threading.RLock()
        self._timer: Optional[threading.Timer] = None
        self._on_since: Optional[float] = None  # start of the current open stretch
        self._passages_left = 0  # people still to go through before the door shuts
        self._closed = False
        self._devices: list = []
        self.passage = None
        try:
            # The relay first: whatever follows may fail, the door is already shut.
            self.relay = OutputDevice(relay_pin, active_high=relay_active_high,
                                      initial_value=False, pin_factory=pin_factory)
            self.pin_factory = self.relay.pin_factory
            self._devices.append(self.relay)
            self.green = self._add(LED(green_pin, pin_factory=self.pin_factory))
            self.red = self._add(LED(red_pin, pin_factory=self.pin_factory))
            self.buzzer = self._add(Buzzer(buzzer_pin, pin_factory=self.pin_factory))
            if passage_pin >= 0:
                self.passage = self._add(Button(passage_pin, pull_up=True, bounce_time=0.05,
                                                pin_factory=self.pin_factory))
                self.passage.when_pressed = self._passed
        except (GPIOZeroError, OSError) as exc:
            self.close()
            raise DeviceError(f"cannot set up GPIO signals: {exc}") from None

    @classmethod
    def from_config(cls, section, pin_factory=None) -> "Signals":
        """From the ``[signals]`` section; ``pin_factory`` overrides the
        configured name (tests and the demo bring their own MockFactory)."""
        factory = pin_factory if pin_factory is not None else make_pin_factory(section.pin_factory)
        return cls(section.green_pin, section.red_pin, section.buzzer_pin, section.relay_pin,
                   relay_active_high=section.relay_active_high,
                   pulse_seconds=section.pulse_seconds, passage_pin=section.passage_pin,
                   pin_factory=factory)

    def _add(self, device):
        self._devices.append(device)
        return device

    # ---- the relay ----------------------------------------------------------

    @property
    def is_relay_on(self) -> bool:
        return not self._closed and bool(self.relay.is_active)

    @property
    def is_closed(self) -> bool:
        return self._closed

    def pulse_relay(self, seconds: Optional[float] = None, passages: int = 1) -> float:
        """Release the turnstile for ``seconds`` (default: the configured
        pulse) without blocking, or until the passage sensor has seen
        ``passages`` people through (a group); returns the seconds granted.

        A pulse during a pulse restarts the timer, but one open stretch never
        lasts longer than :data:`MAX_PULSE_SECONDS` from when the relay went
        on: a stuck caller cannot hold the door open."""
        seconds = self.pulse_seconds if seconds is None else float(seconds)
        seconds = min(seconds, MAX_PULSE_SECONDS)
        with self._lock:
            if self._closed:
                return 0.0
            if seconds <= 0:
                self.relay_off()
                return 0.0
            now = time.monotonic()
            if self._on_since is None or not self.relay.is_active:
                self._on_since = now
            granted = min(seconds, self._on_since + MAX_PULSE_SECONDS - now)
            self._cancel_timer()
            if granted <= 0:
                self.relay_off()
                return 0.0
            self._passages_left = max(int(passages), 1)
            self.relay.on()
            self._timer = threading.Timer(granted, self._pulse_ended)
            self._timer.name = "relay-pulse"
            self._timer.daemon = True
            self._timer.start()
            return granted

    def relay_off(self) -> None:
        """Drive the relay off now and forget any running pulse."""
        with self._lock:
            self._cancel_timer()
            self._on_since = None
            if not self._closed:
                self.relay.off()

    def _pulse_ended(self) -> None:
        with self._lock:
            if self._timer is not threading.current_thread():
                return  # a stale timer that lost the race with a newer pulse
            self._timer = None
            self._on_since = None
            if not self._closed:
                self.relay.off()

    def _cancel_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    def _passed(self) -> None:
        # The visitor is through: close the door now, and say so. A passage
        # with the relay off (a tailgater, a sensor glitch) opened nothing.
        with self._lock:
            was_open = self.is_relay_on
            if was_open:
                self._passages_left -= 1
                if self._passages_left <= 0:  # the last of a group, or the one visitor
                    self.relay_off()
        if was_open and self.when_passed is not None:
            self.when_passed()
        elif not was_open and self.when_passed_shut is not None:
            self.when_passed_shut()  # someone went out the free way (occupancy counts it)

    # ---- lights and buzzer ----------------------------------------------------

    @property
    def is_green_on(self) -> bool:
        return not self._closed and bool(self.green.is_lit)

    @property
    def is_red_on(self) -> bool:
        return not self._closed and bool(self.red.is_lit)

    def signal(self, pattern: str) -> None:
        """Lights and buzzer for "admit", "deny", "error", "staff" or "off";
        an unknown pattern is logged and treated as "off"."""
        if pattern not in LIGHTS:
            log.warning("unknown signal pattern %r; lights off", pattern)
            pattern = "off"
        with self._lock:
            if self._closed:
                return
            for light, how in zip((self.green, self.red), LIGHTS[pattern]):
                if how == "blink":
                    light.blink(on_time=STAFF_BLINK, off_time=STAFF_BLINK, background=True)
                else:
                    light.on() if how == "on" else light.off()
            if pattern in BEEPS:
                on, off, count = BEEPS[pattern]
                self.buzzer.beep(on_time=on, off_time=off, n=count, background=True)
            else:
                self.buzzer.off()

    def close(self) -> None:
        """Relay off first, then everything else off and released.

        Idempotent, and safe from a signal handler's path: every step is
        attempted even if an earlier one fails, and nothing here waits on
        more than a blink thread's stop."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._cancel_timer()
            self._on_since = None
            devices, self._devices = self._devices, []
        for device in devices:  # the relay is devices[0]
            try:
                if hasattr(device, "off"):
                    device.off()
            except Exception as exc:  # noqa: BLE001 - keep turning the rest off
                log.error("cannot turn %r off: %s", device, exc)
        for device in devices:
            try:
                device.close()
            except Exception as exc:  # noqa: BLE001
                log.error("cannot release %r: %s", device, exc)

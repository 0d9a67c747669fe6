"""The door's outputs on GPIO with gpiozero: green and red lights, a buzzer,
the turnstile relay, and an optional passage sensor.

Wiring (BCM numbers, the defaults in config/kiosk.example.toml): green LED
on 17, red LED on 27, buzzer on 22, relay board input on 23 (active-high, or
active-low for boards that switch on a low input), passage sensor (a
dry contact to ground) on any free pin.

    >>> from gpiozero.pins.mock import MockFactory
    >>> signals = Signals(pin_factory=MockFactory())
    >>> signals.pulse_relay(0.2); signals.is_relay_on
    True

The relay is built before anything else with ``initial_value=False``, so a
starting kiosk drives it off first; a pulse is a timer, never a sleep, and no
request can hold it longer than :data:`MAX_PULSE_SECONDS`. ``close()`` drives
the relay off before it touches anything else.
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Callable, Optional

from gpiozero import LED, Button, Buzzer, OutputDevice
from gpiozero.exc import GPIOZeroError
from gpiozero.pins.mock import MockPin

from kiosk.errors import DeviceError

log = logging.getLogger("ashyq.signals")

MAX_PULSE_SECONDS = 10.0  # a hard limit no configuration can raise
# Buzzer patterns, (on, off, count): one short yes, three short no, one long error.
BEEPS = {"admit": (0.12, 0.1, 1), "deny": (0.12, 0.1, 3), "error": (0.7, 0.1, 1),
         "staff": (0.12, 0.12, 2)}
FACTORIES = {
    "mock": ("gpiozero.pins.mock", "MockFactory"),
    "lgpio": ("gpiozero.pins.lgpio", "LGPIOFactory"),
    "rpigpio": ("gpiozero.pins.rpigpio", "RPiGPIOFactory"),
    "pigpio": ("gpiozero.pins.pigpio", "PiGPIOFactory"),
    "native": ("gpiozero.pins.native", "NativeFactory"),
}


def make_pin_factory(name: str):
    """A gpiozero pin factory by its config name; "" = gpiozero's own choice.

    With ``mock`` and ASHYQ_MOCK_PIN_DIR set, each pin's level is also kept in
    a file there, standing in for a kernel GPIO line that keeps its level
    after its process dies (how tests show safe-state after a SIGKILL)."""
    if not name:
        return None
    if name == "mock" and os.environ.get("ASHYQ_MOCK_PIN_DIR"):
        from gpiozero.pins.mock import MockFactory
        return MockFactory(pin_class=LinePin)
    module, cls = FACTORIES[name]
    try:
        return getattr(__import__(module, fromlist=[cls]), cls)()
    except (ImportError, OSError, GPIOZeroError) as exc:
        raise DeviceError(f"GPIO pin factory {name!r} is not available here: {exc}") from None


class LinePin(MockPin):
    """A mock pin whose level is written to ASHYQ_MOCK_PIN_DIR/GPIO<n>."""

    def _record(self) -> None:
        if self._function == "output":
            path = os.path.join(os.environ["ASHYQ_MOCK_PIN_DIR"], f"GPIO{self.info.name[4:]}")
            with open(path, "w") as handle:
                handle.write("1" if self._state else "0")

    def _change_state(self, value):
        changed = super()._change_state(value)
        self._record()
        return changed

    def _set_function(self, value):
        super()._set_function(value)
        self._record()


class Signals:
    def __init__(self, green_pin: int = 17, red_pin: int = 27, buzzer_pin: int = 22,
                 relay_pin: int = 23, *, relay_active_high: bool = True,
                 pulse_seconds: float = 3.0, passage_pin: int = -1, pin_factory=None):
        self.pulse_seconds = min(pulse_seconds, MAX_PULSE_SECONDS)
        self.when_passed: Optional[Callable[[], None]] = None
        self._lock = threading.RLock()
        self._timer: Optional[threading.Timer] = None
        self._devices: list = []
        try:
            # The relay first: whatever follows may fail, the door is already shut.
            self.relay = OutputDevice(relay_pin, active_high=relay_active_high,
                                      initial_value=False, pin_factory=pin_factory)
            self.pin_factory = self.relay.pin_factory
            self._devices.append(self.relay)
            self.green = self._add(LED(green_pin, pin_factory=self.pin_factory))
            self.red = self._add(LED(red_pin, pin_factory=self.pin_factory))
            self.buzzer = self._add(Buzzer(buzzer_pin, pin_factory=self.pin_factory))
            self.passage = None
            if passage_pin >= 0:
                self.passage = self._add(Button(passage_pin, pull_up=True, bounce_time=0.05,
                                                pin_factory=self.pin_factory))
                self.passage.when_pressed = self._passed
        except (GPIOZeroError, OSError) as exc:
            self.close()
            raise DeviceError(f"cannot set up GPIO signals: {exc}") from None

    @classmethod
    def from_config(cls, section, pin_factory=None) -> "Signals":
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
        return bool(self.relay.is_active)

    def pulse_relay(self, seconds: Optional[float] = None) -> None:
        """Release the turnstile for ``seconds`` (clamped to the hard maximum).
        A pulse during a pulse restarts the timer: the door never stays open
        longer than the maximum after the last admission."""
        seconds = min(self.pulse_seconds if seconds is None else seconds, MAX_PULSE_SECONDS)
        with self._lock:
            self._cancel_timer()
            if seconds <= 0:
                self.relay.off()
                return
            self.relay.on()
            self._timer = threading.Timer(seconds, self.relay_off)
            self._timer.daemon = True
            self._timer.start()

    def relay_off(self) -> None:
        with self._lock:
            self._cancel_timer()
            self.relay.off()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _passed(self) -> None:
        # The visitor is through: close the door now, and say so.
        if self.is_relay_on:
            self.relay_off()
            if self.when_passed is not None:
                self.when_passed()

    # ---- lights and buzzer ----------------------------------------------------

    @property
    def is_green_on(self) -> bool:
        return bool(self.green.is_lit)

    @property
    def is_red_on(self) -> bool:
        return bool(self.red.is_lit)

    def signal(self, pattern: str) -> None:
        """Lights and buzzer for admit, deny, error, staff or off."""
        lights = {"admit": (True, False), "deny": (False, True), "error": (False, True),
                  "staff": (True, True), "off": (False, False)}.get(pattern, (False, False))
        self.green.value, self.red.value = lights
        if pattern in BEEPS:
            on, off, count = BEEPS[pattern]
            self.buzzer.beep(on_time=on, off_time=off, n=count, background=True)
        else:
            self.buzzer.off()

    def close(self) -> None:
        """Relay off first, then everything else off and released. Idempotent."""
        with self._lock:
            self._cancel_timer()
            for device in self._devices:
                try:
                    device.off() if hasattr(device, "off") else None
                except GPIOZeroError:
                    pass
            for device in self._devices:
                device.close()
            self._devices = []

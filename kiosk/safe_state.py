"""``ashyq-kiosk safe-state``: drive the relay and lights off, directly.

systemd runs it as ExecStopPost after every stop, including a SIGKILL or a
watchdog kill, when the daemon had no chance to clean up: on a Pi a GPIO line
keeps its last level after its process dies, so an open relay would stay
open. It builds only the relay and the lights (no pygame, no network), and
building the relay with initial_value=False is itself the "off".
"""
from __future__ import annotations

import sys


def safe_state(cfg, out=None) -> int:
    from gpiozero import LED, OutputDevice

    from drivers.signals import make_pin_factory

    s = cfg.signals
    factory = make_pin_factory(s.pin_factory)
    relay = OutputDevice(s.relay_pin, active_high=s.relay_active_high, initial_value=False,
                         pin_factory=factory)
    factory = relay.pin_factory
    lights = [LED(pin, pin_factory=factory) for pin in (s.green_pin, s.red_pin, s.buzzer_pin)]
    relay.off()
    for light in lights:
        light.off()
    print(f"safe-state: relay (GPIO{s.relay_pin}) off; lights and buzzer "
          f"(GPIO{s.green_pin}, {s.red_pin}, {s.buzzer_pin}) off", file=out or sys.stdout)
    for device in [relay] + lights:
        device.close()
    return 0

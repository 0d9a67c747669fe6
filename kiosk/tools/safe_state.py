"""``ashyq-kiosk safe-state``: drive the relay and lights off, directly.

systemd runs it as ExecStopPost after every stop, including a SIGKILL or a
watchdog kill, when the daemon had no chance to clean up: on a Pi a GPIO line
keeps its last level after its process dies, so an open relay would stay
open. It builds only the relay, then the lights and buzzer (gpiozero and
nothing else: no pygame, no network), and building the relay with
``initial_value=False`` is itself the "off".

    >>> from kiosk.app.config import load_text
    >>> cfg = load_text('[status]\\nbase_url = "http://x"\\n[signals]\\npin_factory = "mock"\\n')
    >>> safe_state(cfg)  # doctest: +ELLIPSIS
    safe-state: relay (GPIO23, active-high) off; green (GPIO17), red (GPIO27), buzzer (GPIO22) off
    0

Exit 0 when the relay is off; 1 (with the reason on stderr) when the relay
could not be driven, so ``systemctl status`` shows it. A light that fails
does not fail the command: the door is what matters.
"""
from __future__ import annotations

import sys


def safe_state(cfg, out=None, err=None) -> int:
    from gpiozero import LED, OutputDevice

    from drivers.signals import make_pin_factory

    out, err = out or sys.stdout, err or sys.stderr
    s = cfg.signals
    try:
        factory = make_pin_factory(s.pin_factory)
        relay = OutputDevice(s.relay_pin, active_high=s.relay_active_high, initial_value=False,
                             pin_factory=factory)
        relay.off()
    except Exception as exc:  # noqa: BLE001 - any failure here is reported, not raised
        print(f"safe-state: cannot drive the relay (GPIO{s.relay_pin}) off: {exc}", file=err)
        return 1
    devices, done = [relay], []
    for name, pin in (("green", s.green_pin), ("red", s.red_pin), ("buzzer", s.buzzer_pin)):
        try:
            # A buzzer is a plain output too; LED is enough to drive it low.
            light = LED(pin, initial_value=False, pin_factory=relay.pin_factory)
            light.off()
            devices.append(light)
            done.append(f"{name} (GPIO{pin})")
        except Exception as exc:  # noqa: BLE001
            print(f"safe-state: {name} (GPIO{pin}): {exc}", file=err)
    polarity = "active-high" if s.relay_active_high else "active-low"
    print(f"safe-state: relay (GPIO{s.relay_pin}, {polarity}) off; "
          f"{', '.join(done) or 'no lights'} off", file=out)
    for device in devices:
        try:
            device.close()
        except Exception:  # noqa: BLE001 - already off; releasing is a courtesy
            pass
    return 0

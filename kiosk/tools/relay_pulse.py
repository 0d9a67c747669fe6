"""``ashyq-kiosk test-relay``: pulse the turnstile relay once, so that a
technician sees (and hears) the turnstile release and knows the polarity
(``signals.relay_active_high``) and the wiring are right.

It drives only the relay, on for the configured pulse (at most
:data:`drivers.signals.MAX_PULSE_SECONDS`) and then off, and leaves it off
whatever happens meanwhile, Ctrl-C included. The kiosk must be stopped
first: it holds the pin.

    >>> from gpiozero.pins.mock import MockFactory
    >>> from kiosk.app.config import load_text
    >>> cfg = load_text('[status]\\nbase_url = "http://x"\\n[signals]\\npulse_seconds = 0.1\\n')
    >>> pulse_relay_once(cfg, pin_factory=MockFactory())  # doctest: +ELLIPSIS
    test-relay: relay GPIO23 (active-high) on for 0.1 s, then off: did the turnstile release once?
    0
"""
from __future__ import annotations

import sys
import threading


def pulse_relay_once(cfg, seconds=None, *, pin_factory=None, out=None, err=None) -> int:
    """Pulse once; 0 when the relay went on and off, 1 with the reason on
    ``err`` when it could not be driven."""
    from gpiozero import OutputDevice

    from drivers.signals import MAX_PULSE_SECONDS, make_pin_factory
    from kiosk.core.errors import DeviceError

    out, err = out or sys.stdout, err or sys.stderr
    s = cfg.signals
    seconds = min(float(s.pulse_seconds if seconds is None else seconds), MAX_PULSE_SECONDS)
    try:
        factory = pin_factory if pin_factory is not None else make_pin_factory(s.pin_factory)
        relay = OutputDevice(s.relay_pin, active_high=s.relay_active_high, initial_value=False,
                             pin_factory=factory)
    except DeviceError as exc:
        print(f"test-relay: {exc}", file=err)
        return 1
    except Exception as exc:  # noqa: BLE001 - a pin in use, no GPIO library, permissions
        print(f"test-relay: cannot drive GPIO{s.relay_pin}: {exc} "
              "(is the kiosk running? systemctl stop ashyq-kiosk first)", file=err)
        return 1
    polarity = "active-high" if s.relay_active_high else "active-low"
    try:
        relay.on()
        threading.Event().wait(seconds)  # interruptible by Ctrl-C, unlike a busy loop
    finally:
        relay.off()
        relay.close()
    print(f"test-relay: relay GPIO{s.relay_pin} ({polarity}) on for {seconds:g} s, then off: "
          "did the turnstile release once?", file=out)
    return 0

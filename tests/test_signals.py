"""Lights, buzzer and relay on gpiozero's MockFactory, read from pin history."""
import time

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.signals import MAX_PULSE_SECONDS, Signals
from kiosk.config import load_text
from kiosk.safe_state import safe_state


@pytest.fixture
def factory():
    factory = MockFactory()
    yield factory
    factory.reset()


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not condition():
        time.sleep(0.005)
    return condition()


def levels(pin):
    return [s.state for s in pin.states]


def on_duration(pin):
    """Seconds between the relay's first on and the following off, from the pin's own history."""
    states = pin.states
    first_on = next(i for i, s in enumerate(states) if s.state)
    return states[first_on + 1].timestamp


def test_relay_starts_off_and_pulses_for_the_configured_time(factory):
    signals = Signals(pin_factory=factory, pulse_seconds=0.2)
    relay = factory.pin(23)
    assert levels(relay) == [False]
    signals.pulse_relay()
    assert signals.is_relay_on
    assert wait_until(lambda: not signals.is_relay_on)
    assert levels(relay) == [False, True, False]
    assert 0.2 <= on_duration(relay) < 0.2 + 1.0  # at least the pulse; a bound, not a benchmark
    signals.close()


def test_pulse_is_clamped_to_the_hard_maximum(factory):
    signals = Signals(pin_factory=factory, pulse_seconds=60)
    assert signals.pulse_seconds == MAX_PULSE_SECONDS
    signals.pulse_relay(3600)
    assert signals._timer.interval == MAX_PULSE_SECONDS
    signals.close()


def test_active_low_relay_is_physically_high_when_off(factory):
    signals = Signals(pin_factory=factory, relay_active_high=False, pulse_seconds=0.1)
    relay = factory.pin(23)
    assert relay.state is True and not signals.is_relay_on  # off, for a board that switches on low
    signals.pulse_relay()
    assert relay.state is False and signals.is_relay_on
    assert wait_until(lambda: relay.state is True)
    signals.close()


def test_passage_sensor_ends_the_pulse_and_reports_it(factory):
    passed = []
    signals = Signals(pin_factory=factory, pulse_seconds=5, passage_pin=5)
    signals.when_passed = lambda: passed.append(True)
    signals.pulse_relay()
    factory.pin(5).drive_low()
    assert wait_until(lambda: passed) and not signals.is_relay_on
    signals.close()


def test_close_mid_pulse_turns_the_relay_off(factory):
    signals = Signals(pin_factory=factory, pulse_seconds=5)
    signals.pulse_relay()
    relay = factory.pin(23)
    signals.close()
    assert levels(relay) == [False, True, False]
    signals.close()  # idempotent


def test_buzzer_patterns_differ(factory):
    signals = Signals(pin_factory=factory)
    buzzer = factory.pin(22)
    signals.signal("admit")
    assert wait_until(lambda: len(buzzer.states) == 3)
    buzzer.clear_states()
    signals.signal("deny")
    assert wait_until(lambda: len(buzzer.states) == 7)
    assert factory.pin(27).state and not factory.pin(17).state  # red on, green off
    signals.signal("off")
    assert not factory.pin(27).state
    signals.close()


def test_safe_state_drives_the_relay_off(capsys):
    cfg = load_text('[status]\nbase_url = "http://x"\n[signals]\npin_factory = "mock"\n')
    assert safe_state(cfg) == 0
    assert "relay (GPIO23) off" in capsys.readouterr().out

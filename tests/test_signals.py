"""Lights, buzzer and relay on gpiozero's MockFactory, read from pin history;
safe-state on mock pins kept in files (GPIO lines outlive their process)."""
import subprocess
import sys
import time

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from drivers.signals import MAX_PULSE_SECONDS, Signals
from kiosk.tools.safe_state import safe_state
from tests.conftest import make_config


pytestmark = pytest.mark.usefixtures("no_threads_left")


@pytest.fixture
def factory():
    previous = Device.pin_factory
    factory = Device.pin_factory = MockFactory()
    yield factory
    factory.reset()
    Device.pin_factory = previous


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not condition():
        time.sleep(0.005)
    return condition()


def levels(pin):
    return [s.state for s in pin.states]


def on_durations(pin, level=True):
    """Seconds each stretch at ``level`` lasted, from the pin's own history
    (a PinState's timestamp is the time since the previous change)."""
    states = pin.states
    return [states[i + 1].timestamp for i in range(len(states) - 1) if states[i].state is level]


def test_relay_starts_off_and_pulses_for_the_configured_time(factory):
    signals = Signals(pulse_seconds=0.2)  # Device.pin_factory: gpiozero's own default
    relay = factory.pin(23)
    assert levels(relay) == [False] and not signals.is_relay_on
    assert signals.pulse_relay() == 0.2
    assert signals.is_relay_on
    assert wait_until(lambda: not signals.is_relay_on)
    assert levels(relay) == [False, True, False]
    on, = on_durations(relay)
    assert 0.2 <= on <= MAX_PULSE_SECONDS + 1.0  # a bound, not a benchmark
    signals.close()


def test_a_pulse_during_a_pulse_keeps_the_door_open_without_a_gap(factory):
    signals = Signals(pin_factory=factory, pulse_seconds=0.3)
    relay = factory.pin(23)
    signals.pulse_relay()
    time.sleep(0.1)
    signals.pulse_relay()  # the next visitor, admitted while the door is still open
    assert wait_until(lambda: not signals.is_relay_on)
    assert levels(relay) == [False, True, False]  # one stretch, restarted, never cut short
    on, = on_durations(relay)
    assert on >= 0.4
    signals.close()


def test_no_request_and_no_stream_of_requests_holds_the_relay_past_the_hard_maximum(factory):
    signals = Signals(pin_factory=factory, pulse_seconds=60)
    relay = factory.pin(23)
    assert signals.pulse_seconds == MAX_PULSE_SECONDS
    assert signals.pulse_relay(3600) == MAX_PULSE_SECONDS
    deadline = time.monotonic() + MAX_PULSE_SECONDS + 5
    while signals.is_relay_on and time.monotonic() < deadline:
        assert signals.pulse_relay(3600) <= MAX_PULSE_SECONDS  # a stuck caller, pulsing away
        time.sleep(0.25)
    assert not signals.is_relay_on
    assert levels(relay)[:3] == [False, True, False]
    on = on_durations(relay)[0]
    assert MAX_PULSE_SECONDS - 0.5 <= on <= MAX_PULSE_SECONDS + 2.0
    signals.close()


def test_active_low_relay_is_physically_high_when_off(factory):
    signals = Signals(pin_factory=factory, relay_active_high=False, pulse_seconds=0.1)
    relay = factory.pin(23)
    # [unclaimed line, claimed as an output already high]: no low, no click
    assert levels(relay) == [False, True] and not signals.is_relay_on
    signals.pulse_relay()
    assert relay.state is False and signals.is_relay_on
    assert wait_until(lambda: relay.state is True)
    assert levels(relay) == [False, True, False, True]
    signals.close()
    assert relay.state is True


def test_passage_sensor_ends_the_pulse_and_reports_it(factory):
    passed = []
    signals = Signals(pin_factory=factory, pulse_seconds=5, passage_pin=5)
    signals.when_passed = lambda: passed.append(signals.is_relay_on)
    beam = factory.pin(5)
    beam.drive_low()  # someone walks through a shut door: nothing to report
    beam.drive_high()
    assert passed == []
    signals.pulse_relay()
    beam.drive_low()
    assert passed == [False]  # reported once, after the door was already shut
    assert levels(factory.pin(23)) == [False, True, False]
    signals.close()


def test_close_mid_pulse_turns_the_relay_off_first_and_is_idempotent(factory):
    signals = Signals(pin_factory=factory, pulse_seconds=5)
    signals.signal("staff")  # blinking lights: background threads to stop
    signals.pulse_relay()
    relay = factory.pin(23)
    signals.close()
    assert levels(relay) == [False, True, False]
    signals.close()
    signals.pulse_relay()  # a late caller after shutdown changes nothing
    signals.signal("admit")
    signals.relay_off()
    assert levels(relay) == [False, True, False]
    assert not signals.is_relay_on and signals.is_closed


def test_buzzer_patterns_differ(factory):
    signals = Signals(pin_factory=factory)
    buzzer, green, red = factory.pin(22), factory.pin(17), factory.pin(27)
    signals.signal("admit")
    assert wait_until(lambda: len(buzzer.states) == 3)  # one beep: on, off
    assert green.state and not red.state
    buzzer.clear_states()
    signals.signal("deny")
    assert wait_until(lambda: len(buzzer.states) == 7)  # three beeps
    assert red.state and not green.state
    buzzer.clear_states()
    signals.signal("error")
    assert wait_until(lambda: len(buzzer.states) == 3)
    assert on_durations(buzzer)[0] >= 0.7  # one long beep, unlike admit's short one
    buzzer.clear_states()
    green.clear_states()
    signals.signal("staff")
    assert wait_until(lambda: len(buzzer.states) == 5)  # two beeps
    assert wait_until(lambda: len(green.states) >= 3)  # the lights blink
    signals.signal("off")
    assert not (green.state or red.state or buzzer.state)
    signals.close()


def test_from_config_builds_on_the_named_pin_factory():
    cfg = make_config('[signals]\npin_factory = "mock"\nrelay_pin = 24\nrelay_active_high = false\n')
    signals = Signals.from_config(cfg.signals)
    assert isinstance(signals.pin_factory, MockFactory)
    assert signals.pin_factory.pin(24).state is True  # active-low, off
    signals.close()
    signals.pin_factory.reset()


@pytest.mark.parametrize("active_high, off_level", [(True, "0"), (False, "1")])
def test_safe_state_drives_a_relay_left_on_by_a_killed_daemon_off(tmp_path, monkeypatch, capsys,
                                                                  active_high, off_level):
    monkeypatch.setenv("ASHYQ_MOCK_PIN_DIR", str(tmp_path))
    (tmp_path / "GPIO23").write_text("1" if active_high else "0")  # as the dead daemon left it
    cfg = make_config('[signals]\npin_factory = "mock"\n'
                      f'relay_active_high = {str(active_high).lower()}\n')
    assert safe_state(cfg) == 0
    assert (tmp_path / "GPIO23").read_text() == off_level
    assert all((tmp_path / f"GPIO{pin}").read_text() == "0" for pin in (17, 27, 22))
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith("safe-state: relay (GPIO23")


def test_safe_state_reports_a_missing_gpio_library(capsys):
    cfg = make_config('[signals]\npin_factory = "pigpio"\n')  # no pigpio daemon in a test box
    assert safe_state(cfg) == 1
    assert "cannot drive the relay (GPIO23) off" in capsys.readouterr().err


def test_safe_state_imports_nothing_heavy():
    code = ("import sys; from kiosk.app.config import load_text; from kiosk.tools.safe_state import safe_state; "
            "cfg = load_text('[status]\\nbase_url = \"http://x\"\\n[signals]\\npin_factory = \"mock\"\\n'); "
            "code = safe_state(cfg); "
            "print(sorted(m for m in ('pygame', 'cv2', 'httpx', 'sqlite3', 'evdev') if m in sys.modules)); "
            "sys.exit(code)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "[]"

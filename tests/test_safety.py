"""The relay guards a door: it starts off, pulses only on admit for the
configured time, and is off again after SIGTERM and after a driver blows up.
Read from gpiozero's mock pin history, with the real daemon loop."""
import os
import signal
import threading
import time

import pygame
import pytest
from gpiozero.pins.mock import MockFactory

from drivers.display import Display
from drivers.signals import Signals
from kiosk.app.config import Section
from kiosk.servers.status_server import StatusServer
from kiosk.app.wiring import build_app
from tests.conftest import GREEN_IIN, make_config

SECRETS = Section({"status_token": "t", "person_key": "k", "sync_token": "", "staff": []})


@pytest.fixture
def rig(tmp_path):
    """A daemon with a real display offscreen and mock pins, not yet running."""
    with StatusServer({GREEN_IIN: {"colour": "green", "name": ""}}, token="t") as server:
        master, slave = os.openpty()
        cfg = make_config(f'[kiosk]\nstate_dir = "{tmp_path}"\n'
                          f'[scanner]\nport = "{os.ttyname(slave)}"\n'
                          '[signals]\npin_factory = "mock"\npulse_seconds = 5\n'
                          '[display]\nvideo_driver = "dummy"\nfullscreen = false\n')
        cfg = cfg.with_changes("status", base_url=server.url)
        factory = MockFactory()
        signals = Signals.from_config(cfg.signals, pin_factory=factory)
        display = Display.from_config(cfg)
        display.open()
        decided = []
        app = build_app(cfg, SECRETS, signals=signals, display=display, when_decided=decided.append)
        app.relay = factory.pin(cfg.signals.relay_pin)
        app.scan = lambda payload: os.write(master, payload)
        app.decided = decided
        app.server = server
        yield app
        app.close()
        os.close(master)
        os.close(slave)


def states(pin):
    return [s.state for s in pin.states]


def wait_until(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_relay_is_off_after_sigterm_mid_pulse(rig):
    def scan_then_terminate():
        assert wait_until(lambda: rig.sources and rig.sources[0].is_connected)
        rig.scan(GREEN_IIN.encode() + b"\r")
        assert wait_until(lambda: rig.relay.state)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=scan_then_terminate, daemon=True).start()
    assert rig.run() == 0  # the main thread's SIGTERM handler stops the loop
    assert states(rig.relay)[0] is False
    assert True in states(rig.relay)
    assert rig.relay.state is False  # cut short: the 5 s pulse did not outlive the daemon


def test_relay_is_off_after_a_driver_raises(rig):
    def lost_screen(*args, **kwargs):
        raise pygame.error("DRM device lost")  # as a real KMS display does when unplugged

    def scan_then_break_the_screen():
        assert wait_until(lambda: rig.sources and rig.sources[0].is_connected)
        rig.scan(GREEN_IIN.encode() + b"\r")
        assert wait_until(lambda: rig.relay.state)
        rig.display.render = lost_screen

    threading.Thread(target=scan_then_break_the_screen, daemon=True).start()
    with pytest.raises(pygame.error):
        rig.run()
    assert True in states(rig.relay)
    assert rig.relay.state is False


def test_relay_never_on_after_failed_lookups(rig):
    thread = threading.Thread(target=rig.run, daemon=True)
    thread.start()
    assert wait_until(lambda: rig.sources[0].is_connected)
    for fault in ("error:500", "not-json", "unknown-status", "drop", "delay:3"):
        rig.server.fault = fault
        count = len(rig.decided)
        rig.scan(GREEN_IIN.encode() + b"\r")
        assert wait_until(lambda: len(rig.decided) > count)
        assert rig.decided[-1].decision == "staff"
    rig.stop()
    thread.join(timeout=10)
    assert states(rig.relay) == [False]


def test_sigusr1_saves_a_screenshot(rig, tmp_path):
    rig.display.screenshot_dir = str(tmp_path)

    def ask_then_stop():
        assert wait_until(lambda: rig.is_running)  # handlers installed: USR1 would kill otherwise
        os.kill(os.getpid(), signal.SIGUSR1)
        wait_until(lambda: list(tmp_path.glob("screen-*.png")))
        rig.stop()

    threading.Thread(target=ask_then_stop, daemon=True).start()
    assert rig.run() == 0
    shot, = tmp_path.glob("screen-*.png")
    assert pygame.image.load(str(shot)).get_size() == (800, 480)


def test_a_broken_optional_source_is_left_out_not_fatal(tmp_path, caplog):
    """A keypad wired onto the relay's own pin cannot be built; the kiosk
    still comes up, relay off, and says why."""
    from kiosk.app.wiring import build_app
    # check-config refuses this file (one pin, one device); the kiosk must
    # still survive it, so the wiring is given it past validation.
    cfg = make_config(f'[kiosk]\nstate_dir = "{tmp_path}"\n[scanner]\nenabled = false\n'
                      '[display]\nenabled = false\n').with_changes(
        "keypad", matrix_rows=[23, 5, 6, 13], matrix_cols=[12, 16, 20])
    factory = MockFactory()
    app = build_app(cfg, SECRETS, signals=Signals.from_config(cfg.signals, pin_factory=factory))
    assert app.sources == []
    assert "matrix keypad disabled" in caplog.text
    assert factory.pin(23).state is False
    app.close()


def test_an_unknown_action_is_a_logged_health_fault_not_a_silent_drop(tmp_path, caplog):
    cfg = make_config(f'[kiosk]\nstate_dir = "{tmp_path}"\n[scanner]\nenabled = false\n'
                      '[display]\nenabled = false\n')
    app = build_app(cfg, SECRETS, signals=Signals.from_config(cfg.signals,
                                                              pin_factory=MockFactory()))
    assert app.is_healthy
    app.execute([object()])
    assert "unknown action object dropped" in caplog.text
    assert not app.is_healthy and "actions" in app.health.faults
    app.close()

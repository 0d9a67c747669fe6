"""The screen and the sound wired into the whole daemon (real display on SDL's
dummy driver, real mixer on its dummy audio, real serial ports)."""
import datetime as dt

import pygame
import pytest
from gpiozero.pins.mock import MockFactory

from drivers.display import Display
from drivers.signals import Signals
from kiosk.app.config import Section
from kiosk.core.staff import hash_pin
from kiosk.app.wiring import build_app
from tests.conftest import make_config

PIN = "2468"


@pytest.fixture
def make_app(tmp_path):
    apps = []

    def make(extra="", sound='quiet_from = ""\naudio_driver = "dummy"\n'):
        cfg = make_config(f'[kiosk]\nstate_dir = "{tmp_path}"\nlanguage = "en"\n'
                          '[signals]\npin_factory = "mock"\npulse_seconds = 0.1\n'
                          '[keypad]\nmax_pin_attempts = 1\n'
                          '[display]\nfullscreen = false\nvideo_driver = "dummy"\n'
                          '[sound]\n' + sound + extra)
        display = Display.from_config(cfg)
        display.open()
        secrets = Section({"status_token": "t", "person_key": "k", "sync_token": "",
                           "staff": [{"id": "aigerim", "pin": hash_pin(PIN)}]})
        app = build_app(cfg, secrets, signals=Signals.from_config(cfg.signals, pin_factory=MockFactory()),
                        display=display)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


def step_until(app, done, steps=400):
    for _ in range(steps):
        if done():
            return True
        app.step(0.01)
    return done()


def test_the_clock_banner_is_right_from_the_first_frame(make_app):
    app = make_app('[scanner]\nenabled = false\n')
    app.clock_synced = lambda: False
    app.start()
    assert app.display.screen.kind == "idle"
    assert app.display.screen.clock_synced is False


def test_a_missing_scanner_is_on_the_idle_screen(make_app):
    app = make_app('[scanner]\nport = "/dev/ashyq-no-such-scanner"\n')
    app.start()
    assert app.display.context.scanner_ok is False


def test_a_connected_scanner_clears_the_banner(make_app):
    app = make_app('[scanner]\nport = "loop://"\n')
    app.start()
    assert step_until(app, lambda: app.display.context.scanner_ok)


def test_the_locked_keypad_screen_knows_when_it_opens(make_app):
    app = make_app('[scanner]\nenabled = false\n')
    app.start()
    for key in ("1", "1", "enter"):  # one wrong PIN locks it (max_pin_attempts = 1)
        app.key(key)
    assert step_until(app, lambda: app.display.screen.kind == "locked")
    left = app.display.screen.until - dt.datetime.now(app.zone)
    assert dt.timedelta(seconds=250) < left <= dt.timedelta(seconds=300)


def test_a_refused_scan_is_heard_as_well_as_seen(make_app):
    app = make_app('[scanner]\nenabled = false\n')
    app.start()
    assert app.actuator.sound is not None and app.actuator.sound.is_available
    app.scanned(b"not a card\r")
    assert step_until(app, lambda: app.display.screen.kind == "refused")
    assert pygame.mixer.get_busy()


def test_volume_zero_means_no_sound(make_app):
    app = make_app('[scanner]\nenabled = false\n', sound="volume = 0\n")
    assert app.actuator.sound is None

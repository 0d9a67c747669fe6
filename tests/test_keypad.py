"""Keypad sources and the keyboard-wedge scanner: evdev events built from key
codes, gpiozero mock pins wired as a matrix, pygame key events; and staff
flows through the real daemon from each source."""
import queue
import threading
import time

import pytest
from evdev import ecodes
from gpiozero.pins.mock import MockFactory, MockPin

from drivers.display import Display
from drivers.keycodes import KeyDecoder, codes_for
from drivers.keypad import LAYOUTS, MatrixKeypad, keypad_key
from drivers.signals import Signals
from drivers.wedge import WedgeDecoder
from kiosk.config import Section
from kiosk.staff import hash_pin
from kiosk.status_server import StatusServer
from kiosk.wiring import build_app
from tests.conftest import GREEN_IIN, make_config

# What a Russian (ЙЦУКЕН) layout would make of the physical keys as text:
# the top row types the same digits, letters become Cyrillic. Key codes
# do not change with the layout, which is why the kiosk reads codes.
RUSSIAN_TEXT = {ecodes.KEY_N: "т", ecodes.KEY_Q: "й"}


def wedge(text):
    decoder = WedgeDecoder()
    return [p for code, value in codes_for(text) for p in decoder.feed(code, value, 0.0)]


def test_wedge_reads_an_iin_from_key_codes_whatever_the_layout():
    events = codes_for(GREEN_IIN + "\r")
    assert all(code not in RUSSIAN_TEXT for code, _ in events)
    assert wedge(GREEN_IIN + "\r") == [GREEN_IIN.encode()]


def test_wedge_reads_letters_by_key_not_by_layout():
    events = codes_for("N1234567\r")
    assert (ecodes.KEY_LEFTSHIFT, 1) in events and (ecodes.KEY_N, 1) in events
    assert RUSSIAN_TEXT[ecodes.KEY_N] == "т"  # what text input would have given
    assert wedge("N1234567\r") == [b"N1234567"]
    assert wedge("P<KAZ\r") == [b"P<KAZ"]


def test_wedge_without_enter_is_framed_on_silence():
    decoder = WedgeDecoder(idle_timeout=0.1)
    for code, value in codes_for(GREEN_IIN):
        assert decoder.feed(code, value, 0.0) == []
    assert decoder.poll(0.2) == [GREEN_IIN.encode()]


def test_key_repeats_are_ignored():
    decoder = KeyDecoder()
    assert [decoder.feed(ecodes.KEY_5, v) for v in (1, 2, 2, 0)] == ["5", None, None, None]


def test_usb_numeric_keypad_vocabulary():
    decoder = KeyDecoder()
    press = lambda code: [keypad_key(decoder.feed(code, 1)), decoder.feed(code, 0)][0]
    assert [press(c) for c in (ecodes.KEY_KP7, ecodes.KEY_KPENTER, ecodes.KEY_KPASTERISK,
                               ecodes.KEY_KPSLASH, ecodes.KEY_BACKSPACE, ecodes.KEY_ESC)] == \
        ["7", "enter", "*", "#", "back", "esc"]


class WiredRow(MockPin):
    """A row pin wired through held keys to the column pins."""

    def __init__(self, factory, info, board=None):
        super().__init__(factory, info)
        self.board = board

    def _change_state(self, value):
        changed = super()._change_state(value)
        if self.board is not None and self._function == "output":
            self.board.row_changed(self, value)
        return changed


class Membrane:
    ROWS, COLS = [5, 6, 13, 19], [12, 16, 20]

    def __init__(self, factory):
        self.factory = factory
        self.held = set()
        self.rows = [factory.pin(p, pin_class=WiredRow, board=self) for p in self.ROWS]
        self.cols = [factory.pin(p) for p in self.COLS]

    def row_changed(self, row, level):
        r = self.rows.index(row)
        for c, col in enumerate(self.cols):
            if (r, c) in self.held:
                col.drive_low() if level is False else col.drive_high()

    def press(self, keypad, key):
        r = next(i for i, line in enumerate(LAYOUTS["4x3"]) if key in line)
        self.held = {(r, LAYOUTS["4x3"][r].index(key))}
        pressed = keypad.step() + keypad.step()
        self.held = set()
        for col in self.cols:
            col.drive_high()
        keypad.step()
        return pressed


def test_matrix_keypad_reads_every_key():
    factory = MockFactory()
    board = Membrane(factory)
    keypad = MatrixKeypad(board.ROWS, board.COLS, pin_factory=factory)
    for key in "1234567890*#":
        assert board.press(keypad, key) == [key]
    keypad.close()
    factory.reset()


def test_pygame_keys_in_keypad_mode():
    display = Display(video_driver="dummy")
    display._key("tab", "\t")
    assert [display._key(n, c)[0][1] for n, c in (("1", "1"), ("return", "\r"), ("escape", "\x1b"))] \
        == ["1", "enter", "esc"]


# ---- staff flows through the whole daemon, from each source -------------------

PIN = "2468"


@pytest.fixture
def daemon(tmp_path):
    factory = MockFactory()
    with StatusServer({GREEN_IIN: {"colour": "green", "name": ""}}, token="t") as server:
        cfg = make_config(f'[kiosk]\nstate_dir = "{tmp_path}"\n[scanner]\nenabled = false\n'
                          '[signals]\npin_factory = "mock"\npulse_seconds = 0.1\n[display]\nenabled = false\n'
                          ).with_changes("status", base_url=server.url)
        decided = queue.Queue()
        secrets = Section({"status_token": "t", "person_key": "k", "sync_token": "",
                           "staff": [{"id": "aigerim", "pin": hash_pin(PIN)}]})
        app = build_app(cfg, secrets, signals=Signals.from_config(cfg.signals, pin_factory=factory),
                        when_decided=decided.put)
        thread = threading.Thread(target=app.run, daemon=True)
        thread.start()
        app.decided, app.relay, app.board = decided, factory.pin(23), Membrane(factory)
        yield app
        app.stop()
        thread.join(timeout=10)


def usb_source(app):
    decoder = KeyDecoder()
    code = {**{str(d): getattr(ecodes, f"KEY_KP{d}") for d in range(10)},
            "enter": ecodes.KEY_KPENTER, "*": ecodes.KEY_KPASTERISK}

    def press(key):
        for value in (1, 0):
            named = keypad_key(decoder.feed(code[key], value))
            if named:
                app.key(named, "usb-keypad")
    return press


def matrix_source(app):
    keypad = MatrixKeypad(Membrane.ROWS, Membrane.COLS, pin_factory=app.relay.factory)
    keypad.when_key = lambda key: app.key(key, "matrix-keypad")

    def press(key):
        for pressed in app.board.press(keypad, "#" if key == "enter" else key):
            keypad.when_key(pressed)
    return press


def window_source(app):
    display = Display(video_driver="dummy")
    display._key("tab", "\t")
    names = {"enter": ("return", "\r"), "*": ("*", "*")}

    def press(key):
        for kind, value in display._key(*names.get(key, (key, key))):
            app.key(value, "window")
    return press


@pytest.mark.parametrize("source", [usb_source, matrix_source, window_source])
def test_staff_login_manual_entry_and_admit_from_each_source(daemon, source):
    press = source(daemon)
    for key in [*PIN, "enter", "3", *GREEN_IIN, "enter"]:
        press(key)
    rows = [daemon.decided.get(timeout=10) for _ in range(2)]
    assert [(r.reason, r.staff_id) for r in rows] == [("session-start", "aigerim"),
                                                      ("green", "aigerim")]
    assert rows[1].decision == "admit" and rows[1].identity.number == GREEN_IIN
    deadline = time.monotonic() + 5
    while daemon.relay.state and time.monotonic() < deadline:
        time.sleep(0.01)
    press("1")  # admit once
    row = daemon.decided.get(timeout=10)
    assert (row.reason, row.staff_id) == ("staff-admit", "aigerim")
    assert sum(1 for s in daemon.relay.states if s.state) == 2  # two openings, both audited

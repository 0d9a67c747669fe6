"""Keypad sources: a USB keypad's evdev events built from key codes, a
matrix keypad on gpiozero mock pins wired through "held keys" with
MockConnectedPin, pygame key events; and staff flows through the real daemon
from each source. (The keyboard-wedge scanner: test_wedge.py.)"""
import queue
import threading
import time

import pytest
from evdev import InputEvent, ecodes
from gpiozero.pins.mock import MockConnectedPin, MockFactory

from drivers.display import Display
from drivers.keypad import LAYOUTS, EvdevKeypad, KeypadDecoder, MatrixKeypad
from drivers.signals import Signals
from kiosk.app.config import Section
from kiosk.core.errors import DeviceError
from kiosk.core.model import KeyPressed
from kiosk.core.staff import hash_pin
from kiosk.servers.status_server import StatusServer
from kiosk.app.wiring import build_app
from tests.conftest import GREEN_IIN, make_config

KP = {**{str(d): getattr(ecodes, f"KEY_KP{d}") for d in range(10)},
      "enter": ecodes.KEY_KPENTER, "*": ecodes.KEY_KPASTERISK, "#": ecodes.KEY_KPSLASH,
      "back": ecodes.KEY_BACKSPACE, "esc": ecodes.KEY_ESC}


pytestmark = pytest.mark.usefixtures("no_threads_left")


def keypad_events(codes):
    """What a USB numeric keypad sends per key: scan code, down, report, up, report."""
    events = []
    for code in codes:
        for value in (1, 0):
            events += [InputEvent(0, 0, ecodes.EV_MSC, ecodes.MSC_SCAN, 0x70000 + code),
                       InputEvent(0, 0, ecodes.EV_KEY, code, value),
                       InputEvent(0, 0, ecodes.EV_SYN, ecodes.SYN_REPORT, 0)]
    return events


def keys_from(events):
    decoder = KeypadDecoder()
    return [k for k in (decoder.feed(e.code, e.value) for e in events if e.type == ecodes.EV_KEY)
            if k is not None]


def test_usb_numeric_keypad_speaks_the_model_vocabulary():
    codes = [ecodes.KEY_KP7, ecodes.KEY_KPENTER, ecodes.KEY_KPASTERISK, ecodes.KEY_KPSLASH,
             ecodes.KEY_BACKSPACE, ecodes.KEY_KPMINUS, ecodes.KEY_KPDOT, ecodes.KEY_KPPLUS,
             ecodes.KEY_ESC, ecodes.KEY_0, ecodes.KEY_ENTER]
    assert keys_from(keypad_events(codes)) == \
        ["7", "enter", "*", "#", "back", "back", "back", "enter", "esc", "0", "enter"]
    for key in keys_from(keypad_events(codes)):
        KeyPressed(key)  # every one a key the state machine knows


def test_a_full_keyboard_reaches_the_letters_and_hash():
    shift3 = [InputEvent(0, 0, ecodes.EV_KEY, ecodes.KEY_LEFTSHIFT, 1)] + \
        keypad_events([ecodes.KEY_3]) + [InputEvent(0, 0, ecodes.EV_KEY, ecodes.KEY_LEFTSHIFT, 0)]
    letters = keypad_events([ecodes.KEY_A, ecodes.KEY_D, ecodes.KEY_X, ecodes.KEY_NUMLOCK])
    assert keys_from(shift3 + letters) == ["#", "A", "D"]  # X and NumLock mean nothing here


def test_a_missing_usb_keypad_is_an_error_only_when_required(tmp_path):
    missing = str(tmp_path / "event-kbd")
    with pytest.raises(DeviceError):
        EvdevKeypad(missing, required=True).start()
    keypad = EvdevKeypad(missing)  # optional: retried in the background, reported once
    keypad.start()
    assert not keypad.wait_connected(0.1) and not keypad.is_connected
    keypad.close()


class Membrane:
    """A 4x3 membrane on mock pins: each row pin is a MockConnectedPin whose
    ``input_pin`` is the column its held key joins it to, so the column
    follows the row while the key is down, as copper would."""

    ROWS, COLS = [5, 6, 13, 19], [12, 16, 20]

    def __init__(self, factory, layout="4x3"):
        self.layout = LAYOUTS[layout]
        cols = self.COLS + ([21] if layout == "4x4" else [])
        self.rows = [factory.pin(p, pin_class=MockConnectedPin) for p in self.ROWS]
        self.cols = [factory.pin(p) for p in cols]
        self.pins = (self.ROWS, cols)

    def hold(self, key):
        r = next(i for i, line in enumerate(self.layout) if key in line)
        self.rows[r].input_pin = self.cols[self.layout[r].index(key)]

    def release(self):
        for row in self.rows:
            row.input_pin = None
        for col in self.cols:
            col.drive_high()  # the pull-up wins again

    def press(self, keypad, key, scans=MatrixKeypad.DEBOUNCE_SCANS):
        self.hold(key)
        pressed = [k for _ in range(scans + 2) for k in keypad.step()]
        self.release()
        pressed += [k for _ in range(scans) for k in keypad.step()]
        return pressed


@pytest.mark.parametrize("layout", ["4x3", "4x4"])
def test_matrix_keypad_reads_every_key_once_per_press(layout):
    factory = MockFactory()
    board = Membrane(factory, layout)
    keypad = MatrixKeypad(*board.pins, layout, pin_factory=factory)
    for key in "".join(LAYOUTS[layout]):
        assert board.press(keypad, key) == [key]
    assert board.press(keypad, "5") == ["5"]  # the same key again: a second press
    assert [factory.pin(p).state for p in board.ROWS] == [True] * 4  # rows idle high
    keypad.close()
    factory.reset()


def test_matrix_keypad_debounces_and_ignores_chords():
    factory = MockFactory()
    board = Membrane(factory)
    keypad = MatrixKeypad(board.ROWS, board.COLS, pin_factory=factory)
    board.hold("1")
    assert keypad.step() == []  # one scan is a bounce, not a press
    board.release()
    assert keypad.step() == [] and keypad.step() == []
    board.hold("1")
    board.rows[1].input_pin = board.cols[1]  # "5" too: two keys at once
    assert [k for _ in range(4) for k in keypad.step()] == []
    board.release()
    keypad.close()
    factory.reset()


def test_matrix_keypad_scans_on_its_own_thread():
    factory = MockFactory()
    board = Membrane(factory)
    keypad = MatrixKeypad(board.ROWS, board.COLS, pin_factory=factory)
    keys = queue.Queue()
    keypad.when_key = keys.put
    board.hold("#")
    keypad.start()
    keypad.start()  # a second start does not add a second scanner
    assert keys.get(timeout=5) == "#"
    keypad.close()
    keypad.close()
    assert keys.empty()
    factory.reset()


def test_matrix_keypad_refuses_a_wrong_pin_count():
    with pytest.raises(ValueError, match="4 row pins and 3 column pins"):
        MatrixKeypad([5, 6, 13], [12, 16, 20], "4x3", pin_factory=MockFactory())


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
    decoder = KeypadDecoder()

    def press(key):
        for event in keypad_events([KP[key]]):
            named = decoder.feed(event.code, event.value) if event.type == ecodes.EV_KEY else None
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
        for _kind, value in display._key(*names.get(key, (key, key))):
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

"""The keyboard-wedge scanner: evdev events built from key codes, decoded
whatever the system's keyboard layout, framed on Enter or on silence; and,
where the kernel offers /dev/uinput, a virtual keyboard read end to end."""
import os
import queue
import time

import pytest
from evdev import InputEvent, ecodes

from drivers.keycodes import KeyDecoder, codes_for
from drivers.wedge import WedgeDecoder, WedgeScanner
from kiosk.core.errors import DeviceError
from tests.conftest import GREEN_IIN

# What the Russian (ЙЦУКЕН) layout types for these physical keys, as text
# input would see them; key codes do not change with the layout.
RUSSIAN = {ecodes.KEY_N: ("т", "Т"), ecodes.KEY_P: ("з", "З"), ecodes.KEY_COMMA: ("б", "Б"),
           ecodes.KEY_K: ("л", "Л"), ecodes.KEY_A: ("ф", "Ф"), ecodes.KEY_Z: ("я", "Я"),
           ecodes.KEY_3: ("3", "№"), **{getattr(ecodes, f"KEY_{d}"): (str(d), "") for d in range(10)}}
ENTER = [(ecodes.KEY_ENTER, 1), (ecodes.KEY_ENTER, 0)]


pytestmark = pytest.mark.usefixtures("no_threads_left")


def keyboard_events(keys, start=1000.0):
    """InputEvents as a USB keyboard sends them: per key a scan code, the
    key, and a report; 5 ms apart, like a fast scanner."""
    events, t = [], start
    for code, value in keys:
        sec, usec = int(t), int((t % 1) * 1e6)
        events += [InputEvent(sec, usec, ecodes.EV_MSC, ecodes.MSC_SCAN, 0x70000 + code),
                   InputEvent(sec, usec, ecodes.EV_KEY, code, value),
                   InputEvent(sec, usec, ecodes.EV_SYN, ecodes.SYN_REPORT, 0)]
        t += 0.005
    return events


def decode(events, decoder=None):
    """Feed key events as the reader does (EV_KEY only), timed by the events."""
    decoder = decoder or WedgeDecoder()
    return [payload for event in events if event.type == ecodes.EV_KEY
            for payload in decoder.feed(event.code, event.value, event.timestamp())]


def as_russian_text(keys):
    """What a console with the Russian layout active would have read."""
    shift, text = False, ""
    for code, value in keys:
        if code == ecodes.KEY_LEFTSHIFT:
            shift = value == 1
        elif value == 1 and code in RUSSIAN:
            text += RUSSIAN[code][shift]
    return text


def test_types_an_iin_with_a_russian_layout_active_and_still_reads_the_right_digits():
    keys = []
    for digit in "871008401427":  # what the scanner's firmware sends: physical keys
        code = getattr(ecodes, f"KEY_{digit}")
        keys += [(code, 1), (code, 0)]
    keys += ENTER
    assert keys == codes_for(GREEN_IIN + "\r")
    assert decode(keyboard_events(keys)) == [b"871008401427"]


def test_letters_and_mrz_fillers_decode_by_key_not_by_layout():
    keys = codes_for("N1234567\r")
    assert keys[:2] == [(ecodes.KEY_LEFTSHIFT, 1), (ecodes.KEY_N, 1)]
    assert as_russian_text(keys) == "Т1234567"  # text input: a Cyrillic letter, a lost passport
    assert decode(keyboard_events(keys)) == [b"N1234567"]
    keys = codes_for("P<KAZ\r")
    assert as_russian_text(keys) == "ЗБЛФЯ"
    assert decode(keyboard_events(keys)) == [b"P<KAZ"]


def test_an_id_card_mrz_typed_line_by_line_is_one_scan():
    lines = ["I<KAZ0000000009" + "871008401427".ljust(15, "<"),
             "8710085M3101019KAZ".ljust(29, "<") + "8", "ZHANOV<<ASKAR".ljust(30, "<")]
    assert all(len(line) == 30 for line in lines)
    keys = codes_for("\r".join(lines) + "\r")
    assert decode(keyboard_events(keys)) == ["\n".join(lines).encode()]


def test_a_scanner_without_enter_is_framed_on_silence():
    decoder = WedgeDecoder(idle_timeout=0.1)
    assert decode(keyboard_events(codes_for(GREEN_IIN)), decoder) == []
    last = 1000.0 + 0.005 * len(codes_for(GREEN_IIN))
    assert decoder.poll(last + 0.01) == []  # a pause inside a code is not its end
    assert decoder.poll(last + 0.2) == [GREEN_IIN.encode()]


def test_a_code_longer_than_the_limit_arrives_cut_for_the_parser_to_refuse():
    decoder = WedgeDecoder(max_length=16)
    long, iin = decode(keyboard_events(codes_for("1" * 40 + "\r" + GREEN_IIN + "\r")), decoder)
    assert set(long) == {ord("1")} and len(long) < 40  # once, cut; not 40 digits, not lost
    assert iin == GREEN_IIN.encode()  # the next code is read whole


def test_alt_keypad_mode_reads_character_codes():
    keys = codes_for("N1234567\r", alt_codes=True)
    assert (ecodes.KEY_LEFTALT, 1) in keys and (ecodes.KEY_N, 1) not in keys
    assert decode(keyboard_events(keys)) == [b"N1234567"]


def test_shift_caps_lock_and_repeats():
    decoder = KeyDecoder()
    feed = lambda keys: "".join(filter(None, (decoder.feed(c, v) for c, v in keys)))
    assert feed([(ecodes.KEY_5, 1), (ecodes.KEY_5, 2), (ecodes.KEY_5, 2), (ecodes.KEY_5, 0)]) == "5"
    # Both shifts down, one released: still shifted.
    assert feed([(ecodes.KEY_LEFTSHIFT, 1), (ecodes.KEY_RIGHTSHIFT, 1), (ecodes.KEY_LEFTSHIFT, 0),
                 (ecodes.KEY_N, 1), (ecodes.KEY_RIGHTSHIFT, 0), (ecodes.KEY_N, 1)]) == "Nn"
    assert feed([(ecodes.KEY_CAPSLOCK, 1), (ecodes.KEY_CAPSLOCK, 0), (ecodes.KEY_N, 1),
                 (ecodes.KEY_LEFTSHIFT, 1), (ecodes.KEY_N, 1), (ecodes.KEY_COMMA, 1)]) == "Nn<"


def test_a_missing_scanner_is_an_error_only_when_required(tmp_path):
    missing = str(tmp_path / "event-kbd")
    with pytest.raises(DeviceError):
        WedgeScanner(missing, required=True).start()
    scanner = WedgeScanner(missing)  # optional: keeps trying in the background
    scanner.start()
    assert not scanner.wait_connected(0.1) and not scanner.is_connected
    scanner.close()


def uinput_or_skip():
    if not os.path.exists("/dev/uinput"):
        pytest.skip("/dev/uinput is not available here (no uinput kernel module); "
                    "the decoder tests above cover the same key codes")
    from evdev import UInput
    try:
        return UInput({ecodes.EV_KEY: list(range(1, 120))}, name="ashyq-test-wedge")
    except Exception as exc:  # noqa: BLE001 - permission, a kernel without uinput
        pytest.skip(f"cannot create a virtual keyboard with evdev.UInput: {exc}")


def test_end_to_end_with_a_virtual_keyboard_through_evdev():
    device = uinput_or_skip()
    try:
        # udev creates the event node: wait for it, not for a fixed time
        deadline = time.monotonic() + 30
        while not os.access(device.device.path, os.R_OK) and time.monotonic() < deadline:
            time.sleep(0.01)
        scanner = WedgeScanner(device.device.path, required=True)
        scanned = queue.Queue()
        scanner.when_scanned = scanned.put
        scanner.start()
        try:
            assert scanner.wait_connected(5)
            for code, value in codes_for(GREEN_IIN + "\r") + codes_for("N1234567\r"):
                device.write(ecodes.EV_KEY, code, value)
                device.syn()
            assert scanned.get(timeout=5) == GREEN_IIN.encode()
            assert scanned.get(timeout=5) == b"N1234567"
        finally:
            scanner.close()
    finally:
        device.close()

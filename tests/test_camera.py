"""Camera scanning from videos written by OpenCV: every code read, each card
exactly once, with zxing-cpp and (where the symbology allows) ZBar."""
import queue
import threading

import cv2
import pytest

from drivers.camera import CameraScanner, RepeatFilter
from drivers.decoders import ZXingDecoder, is_zbar_available, make_decoder, straightened
from kiosk.documents import parse
from kiosk.errors import DeviceError
from tests.codes import VARIANTS, blank, code_image, scene, write_video
from tests.iins import make_iin

zbar_ok, zbar_reason = is_zbar_available()
needs_zbar = pytest.mark.skipif(not zbar_ok, reason=zbar_reason)
# What each decoder is expected to read: ZBar cannot read PDF417 at all, and
# (measured in bench/bench_camera.py) not noisy Code 128 or blurred QR either.
CASES = {
    "zxing": [(s, v) for s in ("Code128", "QRCode", "PDF417") for v in VARIANTS],
    "zbar": [(s, v) for s in ("Code128", "QRCode") for v in ("clean", "rotated")],
}


def run_video(path, decoder="zxing", **options):
    """Every payload the camera reports for a video file, in order."""
    camera = CameraScanner(path, decoder=decoder, realtime=False, **options)
    got = []
    camera.when_scanned = got.append
    camera.start()
    assert camera.is_finished.wait(60)
    camera.close()
    return got, camera


def card_video(tmp_path, cases, hold=6, gap=12):
    """Each case a different person's card, held for ``hold`` frames, with
    ``gap`` empty frames between cards."""
    frames, expected = [], []
    for i, (symbology, variant) in enumerate(cases):
        iin = make_iin(f"8{i % 10}0101", serial=4000 + i)
        expected.append(iin.encode())
        frames += [scene(code_image(iin, symbology), variant, seed=i)] * hold
        frames += [cv2.cvtColor(blank(i), cv2.COLOR_GRAY2BGR)] * gap
    return write_video(str(tmp_path / "cards.avi"), frames), expected


@pytest.mark.parametrize("decoder", ["zxing", pytest.param("zbar", marks=needs_zbar)])
def test_every_card_is_read_exactly_once(tmp_path, decoder):
    path, expected = card_video(tmp_path, CASES[decoder])
    got, camera = run_video(path, decoder)
    assert got == expected
    assert all(parse(payload).kind == "iin" for payload in got)
    assert camera.frames_decoded == camera.frames_captured  # realtime=False decodes every frame


def test_a_card_held_still_is_one_scan_until_it_leaves(tmp_path):
    iin = make_iin("900101").encode()
    card = scene(code_image(iin.decode(), "Code128"))
    empty = cv2.cvtColor(blank(), cv2.COLOR_GRAY2BGR)
    frames = [card] * 30 + [empty] * 15 + [card] * 10  # held 2 s, away 1 s, shown again
    got, _ = run_video(write_video(str(tmp_path / "held.avi"), frames), repeat_seconds=5)
    assert got == [iin, iin]


def test_repeat_filter_rules():
    repeats = RepeatFilter(repeat_seconds=3, gone_after=0.5)
    assert repeats.filter([b"a"], 0.0) == [b"a"]
    assert repeats.filter([b"a", b"a"], 0.1) == []  # still in view
    for tenth in range(2, 30):
        assert repeats.filter([b"a"], tenth / 10) == []
    assert repeats.filter([b"a"], 3.0) == [b"a"]  # N seconds passed
    assert repeats.filter([], 3.2) == []
    assert repeats.filter([b"a"], 3.8) == [b"a"]  # it left the frame and came back
    assert repeats.filter([b"b"], 3.9) == [b"b"]


def test_an_image_folder_is_a_source(tmp_path):
    iin = make_iin("880808")
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i:03}.png"), scene(code_image(iin, "QRCode"), seed=i))
    got, _ = run_video(str(tmp_path))
    assert got == [iin.encode()]


def test_region_of_interest_limits_where_codes_are_read(tmp_path):
    frame = scene(code_image(make_iin("770707"), "QRCode"))
    path = write_video(str(tmp_path / "roi.avi"), [frame] * 3)
    assert run_video(path, roi=[0, 0, 100, 100])[0] == []  # a corner with no code
    assert len(run_video(path, roi=[100, 40, 440, 400])[0]) == 1


def test_realtime_capture_drops_frames_rather_than_queueing(tmp_path):
    """Paced at its frame rate, the file outruns a decoder made slow: frames
    are dropped and counted, the newest is decoded, and capture never waits."""
    iin = make_iin("660606")
    frames = [scene(code_image(iin, "Code128"))] * 60
    path = write_video(str(tmp_path / "fast.avi"), frames, fps=60)
    camera = CameraScanner(path, realtime=True, fps=60)
    slow = camera.decoder.decode
    camera.decoder.decode = lambda frame: (threading.Event().wait(0.05), slow(frame))[1]
    got = queue.Queue()
    camera.when_scanned = got.put
    camera.start()
    assert camera.is_finished.wait(30)
    camera.close()
    assert got.get_nowait() == iin.encode()
    assert camera.frames_captured == 60
    assert camera.frames_dropped > 0
    assert camera.frames_decoded + camera.frames_dropped == camera.frames_captured


def test_missing_camera_is_a_clear_error():
    with pytest.raises(DeviceError, match="cannot open camera '/dev/video99'"):
        CameraScanner("/dev/video99").start()


def test_unknown_decoder_and_straightening():
    with pytest.raises(DeviceError, match="no decoder 'quagga'"):
        make_decoder("quagga")
    upright = cv2.cvtColor(scene(code_image("871008401427", "PDF417")), cv2.COLOR_BGR2GRAY)
    assert straightened(upright) is None  # no work on frames that need none
    tilted = cv2.cvtColor(scene(code_image("871008401427", "PDF417"), "rotated"), cv2.COLOR_BGR2GRAY)
    assert ZXingDecoder().decode(tilted) == [b"871008401427"]


def test_a_card_shown_to_the_camera_is_decided_and_journalled_once(tmp_path):
    from gpiozero.pins.mock import MockFactory

    from drivers.signals import Signals
    from kiosk.config import Section
    from kiosk.status_server import StatusServer
    from kiosk.wiring import build_app
    from tests.conftest import make_config
    iin = make_iin("830303")
    empty = cv2.cvtColor(blank(), cv2.COLOR_GRAY2BGR)
    path = write_video(str(tmp_path / "door.avi"),
                       [empty] * 5 + [scene(code_image(iin, "PDF417"), "rotated")] * 20 + [empty] * 5)
    with StatusServer({iin: {"colour": "green", "name": ""}}, token="t") as server:
        cfg = make_config(f'[kiosk]\nstate_dir = "{tmp_path}"\n[scanner]\nenabled = false\n'
                          f'[camera]\nenabled = true\nsource = "{path}"\nfps = 30\n'
                          '[display]\nenabled = false\n').with_changes("status", base_url=server.url)
        factory = MockFactory()
        decided = queue.Queue()
        app = build_app(cfg, Section({"status_token": "t", "person_key": "k", "sync_token": "",
                                      "staff": []}),
                        signals=Signals.from_config(cfg.signals, pin_factory=factory),
                        when_decided=decided.put)
        thread = threading.Thread(target=app.run, daemon=True)
        thread.start()
        decision = decided.get(timeout=20)
        assert app.sources[0].is_finished.wait(20)
        app.stop()
        thread.join(timeout=10)
    assert (decision.decision, decision.identity.number) == ("admit", iin)
    assert decided.empty()  # twenty frames of the same card: one decision
    assert any(s.state for s in factory.pin(23).states)


def test_preview_is_drawn_in_a_corner_of_the_idle_screen():
    import numpy as np
    import pygame

    from drivers.display import Display
    from kiosk.model import Screen
    display = Display(800, 480, video_driver="dummy")
    display.open()
    display.show(Screen("idle"))
    display.set_preview(np.full((120, 160, 3), (255, 0, 0), np.uint8))
    display.render()
    assert tuple(display.surface.get_at((60, 480 - 20 - 60)))[:3] == (255, 0, 0)
    display.set_preview(None)
    display.render()
    assert tuple(display.surface.get_at((60, 480 - 20 - 60)))[:3] != (255, 0, 0)
    display.close()
    pygame.display.quit()

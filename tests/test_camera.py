"""Camera scanning from videos written by OpenCV: every code read, each card
exactly once, with zxing-cpp and (where the symbology allows) ZBar; frames
dropped, not queued; a lost camera reopened; a file's end reported."""
import datetime as dt
import os
import queue
import threading

import cv2
import numpy as np
import pytest

from drivers.camera import CameraScanner, RepeatFilter
from drivers.camera_gate import Confirmations, IdleGate, look
from drivers.decoders import ZXingDecoder, grey, is_zbar_available
from kiosk.core.documents import parse
from kiosk.core.errors import DeviceError
from tests.codes import VARIANTS, blank, code_image, idle_video, scene, write_video
from tests.iins import make_iin

zbar_ok, zbar_reason = is_zbar_available()
needs_zbar = pytest.mark.skipif(not zbar_ok, reason=zbar_reason)
# ZBar cannot read PDF417 at all; every other case is read by both.
CASES = {
    "zxing": [(s, v) for s in ("Code128", "QRCode", "PDF417") for v in VARIANTS],
    "zbar": [(s, v) for s in ("Code128", "QRCode") for v in VARIANTS],
}
WAIT = 30  # seconds: a bound for a stuck test, never a timing claim

TODAY = dt.date(2026, 11, 23)  # a scan day after every IIN used here


@pytest.fixture(autouse=True)
def no_threads_left_behind():
    yield
    assert not [t for t in threading.enumerate() if t.name.startswith("camera-")]


def empty_frame(seed=0):
    return cv2.cvtColor(blank(seed), cv2.COLOR_GRAY2BGR)


def run_video(path, decoder="zxing", **options):
    """Every payload the camera reports for a video file, in order."""
    camera = CameraScanner(path, decoder=decoder, realtime=False, **options)
    got = []
    camera.when_scanned = got.append
    with camera:
        assert camera.is_finished.wait(WAIT)
    return got, camera


def card_video(tmp_path, cases, hold=6, gap=12):
    """Each case a different person's card, held for ``hold`` frames, with
    ``gap`` empty frames between cards."""
    frames, expected = [], []
    for i, (symbology, variant) in enumerate(cases):
        iin = make_iin(f"8{i % 10}0101", serial=4000 + i)
        expected.append(iin.encode())
        frames += [scene(code_image(iin, symbology), variant, seed=i)] * hold
        frames += [empty_frame(i)] * gap
    return write_video(str(tmp_path / "cards.avi"), frames), expected


@pytest.mark.parametrize("decoder", ["zxing", pytest.param("zbar", marks=needs_zbar)])
def test_every_card_is_read_exactly_once(tmp_path, decoder):
    path, expected = card_video(tmp_path, CASES[decoder])
    got, camera = run_video(path, decoder)
    assert got == expected
    assert [parse(payload, today=TODAY).number for payload in got] == [p.decode() for p in expected]
    assert all(parse(payload, today=TODAY).kind == "iin" for payload in got)
    # realtime=False: every frame is looked at (decoded, or skipped by the idle gate)
    assert camera.frames_decoded + camera.frames_skipped == camera.frames_captured
    assert camera.frames_dropped == 0


def test_an_itf_coded_iin_is_read_through_the_camera(tmp_path):
    """Interleaved 2 of 5 is a common choice for a 12-digit number; the
    card's symbology is not published, so the camera reads it too."""
    iin = make_iin("901231", serial=2000)
    frames = [empty_frame()] * 3 + [scene(code_image(iin, "ITF"), "blurred")] * 6 + [empty_frame()] * 3
    got, _ = run_video(write_video(str(tmp_path / "itf.avi"), frames))
    assert got == [iin.encode()]
    assert parse(got[0], today=TODAY).number == iin


def test_a_video_of_a_door_with_no_card_produces_no_scan(tmp_path):
    """Noise, flicker and people walking past: never a scan, and the idle
    gate keeps the decoder off most frames."""
    got, camera = run_video(write_video(str(tmp_path / "idle.avi"), idle_video(150, seed=3)))
    assert got == []
    assert camera.frames_skipped > camera.frames_decoded


class FailingDecoder(ZXingDecoder):
    """zxing-cpp whose first ``failures`` calls raise, as a decoder bug or a
    frame it chokes on would."""

    def __init__(self, failures):
        super().__init__()
        self.failures = failures

    def decode(self, frame):
        if self.failures:
            self.failures -= 1
            raise RuntimeError("decoder choked")
        return super().decode(frame)


def test_a_decoder_exception_is_logged_and_decoding_goes_on(tmp_path, caplog):
    iin = make_iin("920202")
    path = write_video(str(tmp_path / "fail.avi"), [scene(code_image(iin, "Code128"))] * 10)
    failed = []
    camera = CameraScanner(path, decoder=FailingDecoder(3), realtime=False, gate=False)
    camera.when_failed = lambda error: failed.append((str(error), camera.is_healthy))
    got = []
    camera.when_scanned = got.append
    assert camera.is_healthy
    with camera:
        assert camera.is_finished.wait(WAIT)
    assert failed == [("decoder choked", False)]  # once per run of failures, not per frame
    assert camera.decoder_errors == 3 and "RuntimeError" in camera.last_error
    assert got == [iin.encode()]  # the fourth frame was decoded
    assert camera.is_healthy  # a success heals it
    assert [r.levelname for r in caplog.records if "decoder failed" in r.getMessage()] == ["ERROR"]


def test_a_card_held_still_is_one_scan_until_it_leaves(tmp_path):
    iin = make_iin("900101").encode()
    card = scene(code_image(iin.decode(), "Code128"))
    frames = [card] * 30 + [empty_frame()] * 15 + [card] * 10  # held 2 s, away 1 s, shown again
    got, _ = run_video(write_video(str(tmp_path / "held.avi"), frames), repeat_seconds=5)
    assert got == [iin, iin]


def test_a_card_held_longer_than_repeat_seconds_is_reported_again(tmp_path):
    iin = make_iin("900102").encode()
    frames = [scene(code_image(iin.decode(), "QRCode"))] * 50  # 3.3 s at 15 fps
    got, _ = run_video(write_video(str(tmp_path / "long.avi"), frames), repeat_seconds=3)
    assert got == [iin, iin]


def test_a_code_read_in_one_frame_only_is_not_a_scan(tmp_path):
    """A misread comes from one blurred frame; a card held up gives many. A
    payload counts once a second decoded frame gives it too, and a card held
    perfectly still (the gate sees nothing change) is decoded again for it."""
    iin = make_iin("900103")
    flash = [empty_frame()] * 3 + [scene(code_image(iin, "Code128"))] + [empty_frame(1)] * 3
    path = write_video(str(tmp_path / "flash.avi"), flash)
    assert run_video(path)[0] == []
    assert run_video(path, confirm_reads=1)[0] == [iin.encode()]
    still = [empty_frame()] * 3 + [scene(code_image(iin, "Code128"))] * 2 + [empty_frame(1)] * 3
    got, camera = run_video(write_video(str(tmp_path / "still.avi"), still))
    assert got == [iin.encode()] and camera.frames_decoded >= 2


def test_the_idle_gate_passes_every_readable_card_and_no_passer_by():
    """Straight-on clean cards are the least code-like to the gate (no tilt,
    no noise adding edges); people walking past the door are the most
    code-like of what is not a code. The level sits between them."""
    gate, decoder = IdleGate(), ZXingDecoder()
    for symbology in ("Code128", "ITF"):
        for n in range(30):
            card = scene(code_image(make_iin(f"{50 + n}0{n % 9 + 1}1{n % 9}", serial=1000 + 37 * n), symbology),
                         seed=n)
            if decoder.decode(card):
                assert gate.is_code_like(look(grey(card))), (symbology, n)
    for seed in (1, 3):
        assert not any(gate.is_code_like(look(grey(frame))) for frame in idle_video(300, seed=seed))


def test_confirmations_need_two_reads_close_together():
    confirm = Confirmations(reads=2, window=2.0)
    assert confirm.confirm([b"a", b"b"], 0.0) == []
    assert confirm.confirm([b"a"], 1.0) == [b"a"]
    assert confirm.confirm([b"b"], 2.5) == []  # its first read is too old to count
    assert confirm.confirm([b"b"], 3.0) == [b"b"]
    assert confirm.confirm([b"a", b"a"], 9.0) == []  # one frame's two symbols are one read


class MissingDecoder(ZXingDecoder):
    """zxing-cpp that misses its second frame, as on a motion-blurred one."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def decode(self, frame):
        self.calls += 1
        return [] if self.calls == 2 else super().decode(frame)


def test_a_read_awaiting_confirmation_is_decoded_again_after_a_miss():
    """Read once, missed once: the card held still is decoded again (not
    skipped as unchanged) until a second read confirms it."""
    iin = make_iin("550505")
    frame = scene(code_image(iin, "QRCode"))
    camera = CameraScanner("unused.avi", decoder=MissingDecoder())
    got = [camera.decode_frame(frame, now) for now in (0.0, 0.1, 0.2)]
    assert got == [[], [], [iin.encode()]] and camera.frames_decoded == 3


def test_repeat_filter_rules():
    repeats = RepeatFilter(repeat_seconds=3, gone_after=0.5, gone_frames=2)
    assert repeats.filter([b"a"], 0.0) == [b"a"]
    assert repeats.filter([b"a", b"a"], 0.1) == []  # still in view
    for tenth in range(2, 30):
        assert repeats.filter([b"a"], tenth / 10) == []
    assert repeats.filter([b"a"], 3.0) == [b"a"]  # N seconds passed
    assert repeats.filter([], 3.1) == []
    assert repeats.filter([], 3.2) == []
    assert repeats.filter([b"a"], 3.3) == []  # two frames lost to blur are not leaving
    assert repeats.filter([], 3.4) == []
    assert repeats.filter([], 3.9) == []
    assert repeats.filter([b"a"], 4.0) == [b"a"]  # it left the frame and came back
    assert repeats.filter([b"b"], 4.1) == [b"b"]  # another card is its own scan


def test_repeat_filter_with_a_slow_decoder():
    """One decode a second: a single empty frame between two reads of the
    same card is not the card leaving."""
    repeats = RepeatFilter(repeat_seconds=10, gone_after=0.5, gone_frames=2)
    assert repeats.filter([b"a"], 0.0) == [b"a"]
    assert repeats.filter([], 1.0) == []
    assert repeats.filter([b"a"], 2.0) == []
    assert repeats.filter([b"a"], 3.0) == []


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
    with pytest.raises(ValueError, match="roi must be"):
        CameraScanner(path, roi=[0, 0, 100])


class GatedDecoder(ZXingDecoder):
    """zxing-cpp that holds its first frame until the test opens the gate:
    a decoder as slow as the test needs, with no clock involved."""

    def __init__(self):
        super().__init__()
        self.gate = threading.Event()

    def decode(self, frame):
        self.gate.wait(WAIT)
        return super().decode(frame)


def test_capture_drops_frames_rather_than_queueing(tmp_path):
    """While the decoder is busy, capture keeps reading: every older frame is
    dropped and counted, and the decoder then gets only the newest."""
    iin = make_iin("660606")
    frames = [empty_frame()] * 39 + [scene(code_image(iin, "Code128"))]
    path = write_video(str(tmp_path / "busy.avi"), frames, fps=60)
    decoder = GatedDecoder()
    camera = CameraScanner(path, decoder=decoder, fps=240, gate=False,
                           confirm_reads=1)  # the decoder sees the card in one frame only
    got = queue.Queue()
    camera.when_scanned = got.put
    with camera:
        for _ in range(WAIT * 100):
            if camera.frames_captured == 40:
                break
            threading.Event().wait(0.01)
        decoder.gate.set()
        assert camera.is_finished.wait(WAIT)
    assert camera.frames_captured == 40  # capture never waited for the decoder
    assert camera.frames_decoded == 2  # the first frame, then only the newest
    assert camera.frames_dropped == 38
    assert got.get_nowait() == iin.encode()


def test_missing_camera_is_a_clear_error(tmp_path):
    with pytest.raises(DeviceError, match="camera /dev/video99 not found"):
        CameraScanner("/dev/video99").start()
    with pytest.raises(DeviceError, match="not found"):
        CameraScanner(str(tmp_path / "missing.avi")).start()
    with pytest.raises(DeviceError, match="cannot open camera 7"):
        CameraScanner(7).start()


def test_a_file_source_ends_and_says_so(tmp_path):
    path = write_video(str(tmp_path / "end.avi"), [empty_frame()] * 5)
    ended = []
    camera = CameraScanner(path, realtime=False)
    camera.when_finished = lambda: ended.append(camera.frames_decoded + camera.frames_skipped)
    with camera:
        assert camera.is_finished.wait(WAIT)
    assert ended == [5]


def test_a_looping_file_shows_the_card_again_and_again(tmp_path):
    iin = make_iin("550505").encode()
    frames = [scene(code_image(iin.decode(), "QRCode"))] * 3 + [empty_frame()] * 12
    got = queue.Queue()
    camera = CameraScanner(write_video(str(tmp_path / "loop.avi"), frames), loop=True,
                           realtime=False)  # each pass: 0.2 s of card, 0.8 s away
    camera.when_scanned = got.put
    with camera:
        assert [got.get(timeout=WAIT) for _ in range(3)] == [iin] * 3
    assert not camera.is_finished.is_set()  # a loop has no end


def test_unplugged_camera_is_reopened_with_backoff(tmp_path):
    """A live source that stops giving frames is released and reopened until
    it is back; here a video file stands in for the camera, moved away
    (unplugged) while read, and put back with another card in front."""
    path = str(tmp_path / "camera.avi")
    first, second = make_iin("440404"), make_iin("330303")
    write_video(path, [scene(code_image(first, "Code128"))] * 30)
    events, got = queue.Queue(), queue.Queue()
    camera = CameraScanner(path, live=True, fps=60, reconnect_interval=0.01)
    camera.when_scanned = got.put
    camera.when_disconnected = lambda: events.put("disconnected")
    camera.when_connected = lambda: events.put("connected")
    with camera:
        assert camera.is_connected
        os.rename(path, path + ".away")  # the open file reads on to its end: then it is "gone"
        assert got.get(timeout=WAIT) == first.encode()
        assert events.get(timeout=WAIT) == "disconnected"
        assert not camera.is_connected
        write_video(path + ".tmp.avi", [scene(code_image(second, "QRCode"))] * 30)
        os.replace(path + ".tmp.avi", path)  # plugged in again
        assert events.get(timeout=WAIT) == "connected"
        assert got.get(timeout=WAIT) == second.encode()
        assert camera.wait_connected(WAIT)
    assert not camera.is_connected


def test_a_camera_that_opens_but_gives_nothing_is_retried(tmp_path):
    (tmp_path / "000.png").write_bytes(b"not an image")  # opens, never gives a frame
    lost = queue.Queue()
    camera = CameraScanner(str(tmp_path), live=True, reconnect_interval=0.01,
                           max_reconnect_interval=0.02)
    camera.when_disconnected = lambda: lost.put(True)
    with camera:
        for _ in range(3):
            assert lost.get(timeout=WAIT)
    assert camera.frames_captured == 0


def test_latest_preview_is_a_small_rgb_frame_with_the_region_outlined(tmp_path):
    red = np.zeros((480, 640, 3), np.uint8)
    red[:, :, 2] = 255  # BGR: pure red
    frames = []
    camera = CameraScanner(write_video(str(tmp_path / "red.avi"), [red] * 4), realtime=False,
                           preview=True, roi=[160, 120, 320, 240])
    camera.when_frame = frames.append
    assert camera.latest_preview() is None
    with camera:
        assert camera.is_finished.wait(WAIT)
    preview = camera.latest_preview()
    assert preview.shape == (120, 160, 3) and preview.dtype == np.uint8
    assert preview[5, 5, 0] > 200 and preview[5, 5, 2] < 60  # RGB: red first
    assert tuple(preview[30, 80]) == (0, 255, 0)  # the region's top edge, for aiming
    assert frames and frames[-1] is preview


def test_a_card_shown_to_the_camera_is_decided_and_journalled_once(tmp_path):
    from gpiozero.pins.mock import MockFactory

    from drivers.signals import Signals
    from kiosk.app.config import Section
    from kiosk.servers.status_server import StatusServer
    from kiosk.app.wiring import build_app
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
    from kiosk.core.model import Screen
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

"""Camera figures at 640x480, both decoders on the same frames:

- the raw decoder's own rate, and the rate through the camera pipeline
  (capture thread, mailbox, decode thread) on a video file;
- the share of camera-like frames decoded (tilted up to 20 degrees, blur,
  noise, perspective, dim and bright light);
- the time from the first frame that holds a code (as the capture thread
  reads it) to the decision (the relay pin going on), through the whole
  daemon with the status server on loopback.

    python -m bench.bench_camera [--frames 300]
"""
from __future__ import annotations

import argparse
import os
import queue
import sys
import tempfile
import threading
import time

import cv2
import numpy as np

from bench.results import percentile, record

FORMATS = ("Code128", "QRCode", "PDF417")
REPEATS = 3


def camera_like(count: int, seed: int = 7):
    """(frame, payload, symbology) as a handheld card in front of a camera looks."""
    from tests.codes import code_image, scene
    from tests.iins import make_iin
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(count):
        iin = make_iin(f"9{i % 10}0{1 + i % 9}1{i % 3}", serial=1000 + i)
        symbology = FORMATS[i % 3]
        variant = ("clean", "blurred", "noisy")[int(rng.integers(0, 3))]
        frame = scene(code_image(iin, symbology), variant, seed=i,
                      brightness=float(rng.uniform(0.65, 1.25)),
                      perspective=float(rng.uniform(0, 0.08)))
        angle = float(rng.uniform(-20, 20))
        turn = cv2.getRotationMatrix2D((320, 240), angle, 1.0)
        frame = cv2.warpAffine(frame, turn, (640, 480), borderValue=(150, 150, 150))
        frames.append((frame, iin.encode(), symbology))
    return frames


def read_back(path: str) -> list:
    """The frames as the camera pipeline gets them (MJPG, like many USB cameras)."""
    capture, frames = cv2.VideoCapture(path), []
    while True:
        ok, frame = capture.read()
        if not ok:
            return frames
        frames.append(frame)


def raw(decoder, frames):
    start = time.perf_counter()
    results = [decoder.decode(frame) for frame in frames]
    return len(frames) / (time.perf_counter() - start), results


def pipeline(name: str, path: str, fps: float = 0) -> tuple[float, int, float]:
    """Decoded frames per second through capture, mailbox and decode threads,
    frames dropped, and the share of the time the decoder was busy: in
    lockstep (fps=0: every frame decoded), or with the file paced at ``fps``
    like a camera faster than the decoder (frames dropped)."""
    from drivers.camera import CameraScanner
    camera = CameraScanner(path, decoder=name, realtime=bool(fps), fps=int(fps or 15),
                           repeat_seconds=0)
    start = time.perf_counter()
    camera.start()
    camera.is_finished.wait(600)
    elapsed = time.perf_counter() - start
    camera.close()
    looked = camera.frames_decoded + camera.frames_skipped
    return looked / elapsed, camera.frames_dropped, camera.decode_seconds / elapsed


def first_frame_to_scan(runs: int) -> list[float]:
    """Blank frames, then a card, paced at 15 fps: its first frame read ->
    when_scanned, the camera alone."""
    from drivers import camera as camera_module
    from tests.codes import blank, code_image, scene, write_video
    from tests.iins import make_iin
    delays, folder = [], tempfile.mkdtemp(prefix="bench-camera-")
    for run in range(runs):
        iin = make_iin("860606", serial=6000 + run)
        card = scene(code_image(iin, FORMATS[run % 3]), "clean", seed=run)
        empty = cv2.cvtColor(blank(run), cv2.COLOR_GRAY2BGR)
        path = write_video(os.path.join(folder, f"scan{run}.avi"), [empty] * 8 + [card] * 8)
        stamps, scanned = [], queue.Queue()
        camera = camera_module.CameraScanner(path)
        camera.when_scanned = lambda payload: scanned.put(time.monotonic())
        capture = camera_module.open_capture
        camera_module.open_capture = lambda *a: StampedCapture(capture(*a), stamps)
        try:
            camera.start()
            delays.append(scanned.get(timeout=30) - stamps[8])  # frame 9 holds the card
        finally:
            camera_module.open_capture = capture
            camera.close()
    return delays


class StampedCapture:
    """A capture that notes when each frame was read."""

    def __init__(self, capture, stamps: list):
        self.capture, self.stamps = capture, stamps

    def read(self):
        ok, frame = self.capture.read()
        self.stamps.append(time.monotonic())
        return ok, frame

    def __getattr__(self, name):
        return getattr(self.capture, name)


def first_frame_to_decision(runs: int) -> list[float]:
    """Blank frames, then a card: capture of its first frame -> relay on."""
    from gpiozero.pins.mock import MockFactory

    import drivers.camera as camera_module
    from drivers.signals import Signals
    from kiosk.app.config import Section, load_text
    from kiosk.servers.status_server import StatusServer
    from kiosk.app.wiring import build_app
    from tests.codes import blank, code_image, scene, write_video
    from tests.iins import make_iin

    delays = []
    folder = tempfile.mkdtemp(prefix="bench-camera-")
    for run in range(runs):
        iin = make_iin("850505", serial=5000 + run)
        card = scene(code_image(iin, FORMATS[run % 3]), "clean", seed=run)
        empty = cv2.cvtColor(blank(run), cv2.COLOR_GRAY2BGR)
        path = write_video(os.path.join(folder, f"run{run}.avi"), [empty] * 8 + [card] * 15)
        stamps = []
        original = camera_module.open_capture
        camera_module.open_capture = lambda *a: StampedCapture(original(*a), stamps)
        with StatusServer({iin: {"colour": "green", "name": ""}}, token="t") as server:
            cfg = load_text(f'[status]\nbase_url = "{server.url}"\n[kiosk]\nstate_dir = "{folder}/s{run}"\n'
                            '[scanner]\nenabled = false\n[display]\nenabled = false\n'
                            f'[camera]\nenabled = true\nsource = "{path}"\nfps = 15\n'
                            '[signals]\npin_factory = "mock"\n')
            factory = MockFactory()
            decided = queue.Queue()
            app = build_app(cfg, Section({"status_token": "t", "person_key": "k", "sync_token": "",
                                          "staff": []}),
                            signals=Signals.from_config(cfg.signals, pin_factory=factory),
                            when_decided=decided.put)
            relay = factory.pin(cfg.signals.relay_pin)
            thread = threading.Thread(target=app.run, daemon=True)
            thread.start()
            decided.get(timeout=30)
            on_at = relay._last_change  # the 3 s pulse is still on: its last change is "on"
            assert relay.state
            app.stop()
            thread.join(timeout=10)
        camera_module.open_capture = original
        delays.append(on_at - stamps[8])  # frame 9 is the first that holds the card
    return delays


def profile(frames) -> None:
    """Where the default decoder spends its time on camera-like frames."""
    import cProfile
    import pstats
    from drivers.decoders import make_decoder
    decoder = make_decoder("zxing")
    profiler = cProfile.Profile()
    profiler.runcall(raw, decoder, frames)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(15)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--profile", action="store_true", help="cProfile the zxing decoder and stop")
    args = parser.parse_args(argv)
    from drivers.decoders import is_zbar_available, make_decoder
    from tests.codes import blank, write_video

    made = camera_like(args.frames)
    path = write_video(os.path.join(tempfile.mkdtemp(), "frames.avi"), [f for f, _, _ in made])
    frames = read_back(path)
    if args.profile:
        profile(frames)
        return 0
    empties = [blank(seed) for seed in range(30)]
    rows = []
    names = ["zxing"] + (["zbar"] if is_zbar_available()[0] else [])
    for name in names:
        decoder = make_decoder(name)
        # Other work shares this machine and load only ever slows a run, so
        # each figure is the best of three interleaved runs (raw and
        # pipelines alike): a burst of load hurts no one figure alone.
        rates, lockstep, paced = [], [], []
        for _ in range(REPEATS):
            rate, results = raw(decoder, frames)
            rates.append(rate)
            lockstep.append(pipeline(name, path))
            paced.append(pipeline(name, path, fps=2 * rate))
        rate, lockstep, paced = max(rates), max(lockstep), max(paced)
        empty_rate, empty_results = raw(decoder, empties)
        share = {s: np.mean([p in r for (_, p, sym), r in zip(made, results) if sym == s])
                 for s in FORMATS}
        total = np.mean([p in r for (_, p, _), r in zip(made, results)])
        false = sum(len(r) for r in empty_results)
        rows.append((name, rate, lockstep, paced, share, total, empty_rate, false))
    scan_ms = [d * 1000 for d in first_frame_to_scan(args.runs)]
    ms = [d * 1000 for d in first_frame_to_decision(args.runs)]
    zx = rows[0]
    ratio = min(zx[2][0], zx[3][0]) / zx[1]
    verdict = lambda ok: "met" if ok else "MISSED"
    lines = ["| decoder | raw fps | pipeline fps, lockstep | pipeline fps, camera at 2x "
             "(dropped, decoder busy) | ratio | Code 128 | QR | PDF417 | all camera-like frames "
             "| empty frames/s (false reads) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, rate, lockstep, paced, share, total, empty_rate, false in rows:
        lines.append(f"| {name} | {rate:.1f} | {lockstep[0]:.1f} | {paced[0]:.1f} ({paced[1]}, "
                     f"{paced[2]:.0%}) | {min(lockstep[0], paced[0]) / rate:.2f} | "
                     f"{share['Code128']:.0%} | {share['QRCode']:.0%} | {share['PDF417']:.0%} | "
                     f"{total:.1%} | {empty_rate:.0f} ({false}) |")
    lines += ["",
              f"{args.frames} camera-like frames at 640x480 (tilt up to 20 degrees, blur, noise, "
              "perspective, brightness 0.65-1.25), written to an MJPG video and read back: the "
              "same frames for the raw rate, both pipelines and the share decoded. Empty frames: "
              "a textured, noisy background with no card (the idle door).",
              f"First frame holding a code -> when_scanned, camera alone at 15 fps, {args.runs} runs: "
              f"p50 {percentile(scan_ms, 50):.0f} ms, max {max(scan_ms):.0f} ms.",
              f"First frame holding a code -> relay on, whole daemon, {args.runs} runs: "
              f"p50 {percentile(ms, 50):.0f} ms, max {max(ms):.0f} ms (target <= 150 ms: "
              f"{verdict(max(ms) <= 150)}).",
              f"Pipeline at {ratio:.2f}x the raw zxing rate, the lower of the two (target >= 0.9x: "
              f"{verdict(ratio >= 0.9)}); zxing decoded {zx[5]:.1%} of camera-like frames "
              f"(target >= 95%: {verdict(zx[5] >= 0.95)})."]
    record("Camera decoding (bench/bench_camera.py)", lines)
    met = max(ms) <= 150 and ratio >= 0.9 and zx[5] >= 0.95
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

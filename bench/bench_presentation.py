"""Per-presentation camera figures, in one run (issue 18):

- the share of seeded synthetic presentations (bench/camera_presentations.py)
  read within 1 s of the card entering the view, the time to the first read,
  and wrong reads, for each decoder, with the idle gate and without;
- idle CPU on a live-like door video (noise, flicker, people walking past),
  gate on and off;
- the camera pipeline's frame rate against raw zxing-cpp.

Timing is on a virtual clock: frames arrive every 1/15 s, the decoder takes
the waiting frame (the mailbox's choice) when free and is busy for the
*thread CPU time* its look and decode took. CPU is shared with other work
here, so wall time would measure the neighbours; CPU time does not.

    python -m bench.bench_presentation [--presentations 60]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time

FPS = 15


def is_right(payload: bytes, iin: str) -> bool:
    from kiosk.core.documents import parse
    identity = parse(payload, today=dt.date.today())
    return iin in (identity.number, identity.iin)


def play(camera, frames, enter: int, iin: str, speed: float = 1.0):
    """Seconds from the card entering the view to its first read (None:
    never read), and the number of wrong reads."""
    from drivers.camera_gate import look
    from drivers.decoders import grey
    free_at, index, first, wrong = 0.0, 0, None, 0
    while index < len(frames):
        # The frames that arrived while the decoder was busy: the mailbox
        # keeps the sharper of each pair (as CameraScanner's capture thread).
        arrived = max(index, min(len(frames) - 1, int(free_at * FPS)))
        pending, summary, started = None, None, time.thread_time()
        for i in range(index, arrived + 1):
            s = look(grey(frames[i])) if camera.gate is not None else None
            if pending is None or s is None or s.score >= summary.score:
                pending, summary = i, s
        look_cost = (time.thread_time() - started) / (arrived + 1 - index)
        free_at = max(free_at, pending / FPS)
        started = time.thread_time()
        fresh = camera.decode_frame(frames[pending], pending / FPS, summary)
        free_at += (time.thread_time() - started + look_cost) * speed
        for payload in fresh:
            if is_right(payload, iin):
                first = free_at - enter / FPS if first is None else first
            else:
                wrong += 1
        index = arrived + 1
    return first, wrong


def presentations(names, count: int, speed: float):
    from bench.camera_presentations import presentation
    from drivers.camera import CameraScanner
    rows = {}
    for n in range(count):
        frames, enter, iin = presentation(n)
        for name, gate in names:
            camera = CameraScanner("bench", decoder=name, gate=gate, repeat_seconds=10)
            rows.setdefault((name, gate), []).append(play(camera, frames, enter, iin, speed))
    return rows


def idle_cpu(frame_count: int, gate: bool) -> float:
    """Share of one core the camera's look and decode cost on an idle door at
    15 fps: process CPU time over a fixed number of frames."""
    from drivers.camera import CameraScanner
    from tests.codes import idle_video
    frames = idle_video(frame_count, seed=11)
    camera = CameraScanner("bench", gate=gate)
    started = time.process_time()
    for i, frame in enumerate(frames):
        assert camera.decode_frame(frame, i / FPS) == []
    return (time.process_time() - started) / (frame_count / FPS)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presentations", type=int, default=60)
    parser.add_argument("--idle-frames", type=int, default=450)
    args = parser.parse_args(argv)
    from bench.bench_camera import camera_like, pipeline, raw, read_back
    from bench.results import percentile, record
    from drivers.decoders import is_zbar_available, make_decoder
    from tests.codes import write_video
    names = [("zxing", True), ("zxing", False)] + (
        [("zbar", True), ("zbar", False)] if is_zbar_available()[0] else [])
    lines = ["| decoder | gate | read within 1 s | read at all | time to first read p50 / p95 "
             "| wrong reads | same, decoder 4x slower (Pi 4) |", "|---|---|---|---|---|---|---|"]
    results = presentations(names, args.presentations, 1.0)
    slow = presentations(names, args.presentations, 4.0)
    for key, runs in results.items():
        times = [t for t, _ in runs if t is not None]
        within = sum(t <= 1.0 for t in times) / len(runs)
        slow_within = sum(t is not None and t <= 1.0 for t, _ in slow[key]) / len(runs)
        wrong = sum(w for _, w in runs) + sum(w for _, w in slow[key])
        lines.append(f"| {key[0]} | {'on' if key[1] else 'off'} | {within:.0%} | "
                     f"{len(times) / len(runs):.0%} | {percentile(times, 50) * 1000:.0f} / "
                     f"{percentile(times, 95) * 1000:.0f} ms | {wrong} | {slow_within:.0%} |")
    on, off = idle_cpu(args.idle_frames, True), idle_cpu(args.idle_frames, False)
    made = camera_like(90)
    path = write_video(os.path.join(tempfile.mkdtemp(), "frames.avi"), [f for f, _, _ in made])
    raw_rate = max(raw(make_decoder("zxing"), read_back(path))[0] for _ in range(2))
    piped = max(pipeline("zxing", path)[0] for _ in range(2))
    zx = results[("zxing", True)]
    share = sum(t is not None and t <= 1.0 for t, _ in zx) / len(zx)
    wrong = sum(w for runs in results.values() for _, w in runs)
    lines += ["", f"{args.presentations} seeded presentations (card slides in, held 15-30 frames "
              "at 15 fps; tilt 20-35 degrees, hand shake with motion blur, glare 40 %, low light "
              "30 %, thumb over a corner 40 %), timed on a virtual clock from thread CPU time.",
              f"Idle camera, {args.idle_frames} frames of a live-like door video (noise, flicker, "
              f"people walking past), look + decode, process CPU time / video time: gate on "
              f"{on:.1%} of one core, gate off {off:.1%} (video decoding by the capture thread "
              "not counted: a camera's own frames need none or a cheap MJPG decode).",
              f"Pipeline (capture + mailbox + gate + decode threads, lockstep) {piped:.1f} "
              f"frames/s against raw zxing-cpp {raw_rate:.1f} ({piped / raw_rate:.2f}x).",
              f"Targets: >= 95 % within 1 s: {'met' if share >= 0.95 else 'MISSED'} ({share:.0%}); "
              f"0 wrong reads: {'met' if wrong == 0 else 'MISSED'}; idle <= 5 %: "
              f"{'met' if on <= 0.05 else 'MISSED'}."]
    record("Camera per presentation and idle (bench/bench_presentation.py)", lines)
    return 0 if share >= 0.95 and wrong == 0 and on <= 0.05 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Which camera frames are worth decoding, and which reads are new scans: a cheap look (well under 1 ms at
640x480) before the decoder's 15-30 ms, so an idle camera costs little.

A frame is decoded only when something code-like is in view (small blocks
dense with strong edges, as bars and modules are) and it changed since the
last decoded frame (or ``refresh_seconds`` passed). Sensor noise and light
flicker are neither: the look works on a small copy (noise averages out),
scaled to its mean brightness (flicker cancels). A person walking past
changes the frame but is rarely code-like. ``score`` also lets the camera
keep the sharper of two frames waiting for the decoder: motion blur wipes
out exactly the edges it counts.
"""
from __future__ import annotations

import datetime as dt

from dataclasses import dataclass
from typing import Optional

import cv2
import numpy as np

LOOK_SIZE = (320, 240)  # half of 640x480: bars 2 px wide at full size survive
THUMB_SIZE = (80, 60)  # for the change test: noise averages out
BLOCK = 16  # pixels of the half-size copy per block


@dataclass
class Look:
    """A frame's cheap summary: its brightness-normalised thumbnail and how
    code-like its most code-like block is."""
    thumb: np.ndarray
    score: float


def look(image: np.ndarray) -> Look:
    """The summary of a grey frame (any size)."""
    half = cv2.resize(image, LOOK_SIZE, interpolation=cv2.INTER_AREA)
    mean = float(half.mean()) or 1.0
    thumb = cv2.resize(half, THUMB_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32) * (128 / mean)
    gx = cv2.convertScaleAbs(cv2.Sobel(half, cv2.CV_16S, 1, 0, ksize=3))
    gy = cv2.convertScaleAbs(cv2.Sobel(half, cv2.CV_16S, 0, 1, ksize=3))
    energy = cv2.addWeighted(gx, 0.5, gy, 0.5, 0)
    blocks = cv2.resize(energy, (LOOK_SIZE[0] // BLOCK, LOOK_SIZE[1] // BLOCK),
                        interpolation=cv2.INTER_AREA)
    # The second-best block, scaled to the light: one sharp corner of a
    # door frame is not a code, and a dim card's bars are as code-like.
    return Look(thumb, float(np.sort(blocks, axis=None)[-2]) * (128 / mean))


class IdleGate:
    """Whether to decode a frame: "decode", "same" (nothing changed since the
    last decode: its result still holds) or "empty" (nothing code-like).

        >>> gate = IdleGate()
        >>> gate.verdict(look(frame), now=0.0)     # doctest: +SKIP
        'decode'
    """

    # code_level: on the synthetic door (tests/codes.py idle_video, six
    # seeds) a door frame scores about 42 and a person walking past at most
    # 64; a clean, straight-on Code 128 or ITF card that zxing-cpp reads
    # scores from 80 (150 of each). The level was 90, from tilted cards
    # (135 and more), and so never decoded 17 % of clean Code 128 cards and
    # 61 % of ITF ones: tests/test_camera.py holds both ends.
    def __init__(self, code_level: float = 72.0, change_level: float = 8.0,
                 refresh_seconds: float = 1.0):
        self.code_level, self.change_level = code_level, change_level
        self.refresh_seconds = refresh_seconds
        self._last: Optional[np.ndarray] = None  # thumbnail of the last decoded frame
        self._decoded_at = float("-inf")

    def look_again(self) -> None:
        """Decode the next code-like frame even if nothing changed: the last
        decode read something not yet confirmed (``Confirmations``)."""
        self._last = None

    def is_code_like(self, summary: Look) -> bool:
        return summary.score >= self.code_level

    def verdict(self, summary: Look, now: float) -> str:
        if not self.is_code_like(summary):
            self._last = None  # whatever comes next into view is new
            return "empty"
        if self._last is not None and now - self._decoded_at < self.refresh_seconds:
            cells = cv2.resize(cv2.absdiff(summary.thumb, self._last), (10, 8),
                               interpolation=cv2.INTER_AREA)
            if float(cells.max()) < self.change_level:
                return "same"
        self._last, self._decoded_at = summary.thumb, now
        return "decode"


def is_document(payload: bytes) -> bool:
    """Whether a decoded payload is an IIN or an MRZ whose check digits hold.
    With every symbology tried, noise now and then reads as a short number;
    a camera drops it silently (the next frame is another try), where a
    hand scanner's bad read gets a screen saying why."""
    from kiosk.core.documents import parse
    from kiosk.core.errors import DocumentError
    try:
        # Any day will do: this asks only whether it is a document at all;
        # whether its holder may enter (a birth date, say) the kiosk decides.
        parse(payload, today=dt.date.max)
    except DocumentError:
        return False
    return True


class Confirmations:
    """Pure: which payloads ``reads`` decoded frames within ``window`` seconds
    have given. A card held up is read in frame after frame; a misread (a
    motion-blurred Code 128 read as another person's valid IIN, seen once in
    a presentation bench) comes from one frame.

        >>> confirm = Confirmations()
        >>> confirm.confirm([b"871008401427"], now=0.0), confirm.confirm([b"871008401427"], now=0.07)
        ([], [b'871008401427'])
    """

    # window: generous, so a decoder four times slower (a Pi 4) or a frame
    # lost to blur between the two reads still confirms.
    def __init__(self, reads: int = 2, window: float = 2.0):
        self.reads, self.window = reads, window
        self._times: dict[bytes, list[float]] = {}  # payload -> when decoded frames gave it

    def confirm(self, payloads: list[bytes], now: float) -> list[bytes]:
        for payload in dict.fromkeys(payloads):
            self._times.setdefault(payload, []).append(now)
        for payload, times in list(self._times.items()):
            times[:] = [t for t in times if now - t <= self.window][-self.reads:]
            if not times:
                del self._times[payload]
        return [p for p in dict.fromkeys(payloads) if len(self._times[p]) >= self.reads]

    @property
    def is_pending(self) -> bool:
        """A payload read within the window awaits its confirming read."""
        return any(len(times) < self.reads for times in self._times.values())


class RepeatFilter:
    """Pure: which of the payloads read in a frame at ``now`` are new scans.

    A payload is new when first read; again once it has left the frame
    (missing from ``gone_frames`` decoded frames in a row *and* for
    ``gone_after`` seconds: a frame lost to motion blur is not leaving, nor
    is one slow decode); or once ``repeat_seconds`` passed since reported.

        >>> repeats = RepeatFilter(repeat_seconds=3)
        >>> repeats.filter([b"871008401427"], now=0.0), repeats.filter([b"871008401427"], now=0.1)
        ([b'871008401427'], [])
    """

    def __init__(self, repeat_seconds: float = 3.0, gone_after: float = 0.5, gone_frames: int = 2):
        self.repeat_seconds, self.gone_after, self.gone_frames = repeat_seconds, gone_after, gone_frames
        self._seen: dict[bytes, list] = {}  # payload -> [reported at, last seen, frames missed]

    def filter(self, payloads: list[bytes], now: float) -> list[bytes]:
        fresh, present = [], dict.fromkeys(payloads)
        for payload in present:
            track = self._seen.get(payload)
            if track is None or self._left(track, now) or now - track[0] >= self.repeat_seconds:
                fresh.append(payload)
                self._seen[payload] = [now, now, 0]
            else:
                track[1:] = [now, 0]
        for payload, track in list(self._seen.items()):
            if payload not in present:
                track[2] += 1
                if self._left(track, now):
                    del self._seen[payload]
        return fresh

    def _left(self, track: list, now: float) -> bool:
        return track[2] >= self.gone_frames and now - track[1] >= self.gone_after


class Scans:
    """Pure: from what the decoder reads in each frame to the scans to report:
    documents only (``is_document``), confirmed by a second decoded frame
    (``Confirmations``), each card once while it stays (``RepeatFilter``).
    A frame the gate skipped reads as the last decoded one did ("same") or
    as nothing ("empty")."""

    def __init__(self, repeat_seconds: float = 3.0, confirm_reads: int = 2):
        self.repeats = RepeatFilter(repeat_seconds)
        self.confirmations = Confirmations(confirm_reads)
        self.last: list[bytes] = []  # what the last decoded frame gave, confirmed

    def decoded(self, payloads: list[bytes], now: float) -> bool:
        """A decoded frame's payloads; True while one read within the window
        awaits confirmation, even if this frame missed it (blur)."""
        self.last = self.confirmations.confirm([p for p in payloads if is_document(p)], now)
        return self.confirmations.is_pending

    def skipped(self, verdict: str) -> None:
        if verdict == "empty":
            self.last = []

    def fresh(self, now: float) -> list[bytes]:
        """The scans to report for the frame at ``now``."""
        return self.repeats.filter(self.last, now)

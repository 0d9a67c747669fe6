"""Camera scanning: OpenCV capture on one thread, decoding on another.

Sources: a device index (``0``), a V4L2 path (``/dev/video0``), a video
file, or a folder of images (for tests and trials). Capture never waits for
decoding: the decoder takes only the newest frame from a one-slot mailbox and
older frames are dropped and counted, never queued. One card held in front
of the camera is one scan: :class:`RepeatFilter` suppresses a payload while
it stays in view, until it leaves the frame or ``repeat_seconds`` pass.

    >>> camera = CameraScanner("/dev/video0", decoder="zxing")   # doctest: +SKIP
    >>> camera.when_scanned = print                            # doctest: +SKIP
    >>> camera.start()                                         # doctest: +SKIP

A camera missing at start is a :class:`~kiosk.errors.DeviceError` naming it;
one lost later is reopened every ``reconnect_interval`` seconds. Decoded
payloads are never logged (they hold IINs).
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Callable, Optional

import cv2
import numpy as np

from kiosk.errors import DeviceError

from .decoders import make_decoder

log = logging.getLogger("ashyq.camera")
IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".bmp")
PREVIEW_SIZE = (160, 120)


class RepeatFilter:
    """Pure: which payloads seen at ``now`` are new scans."""

    def __init__(self, repeat_seconds: float = 3.0, gone_after: float = 0.6):
        self.repeat_seconds = repeat_seconds
        self.gone_after = gone_after  # unseen this long = it left the frame
        self._seen: dict[bytes, tuple[float, float]] = {}  # payload -> (emitted, last seen)

    def filter(self, payloads: list[bytes], now: float) -> list[bytes]:
        fresh = []
        for payload in dict.fromkeys(payloads):
            emitted, seen = self._seen.get(payload, (None, None))
            if emitted is None or now - seen > self.gone_after or now - emitted >= self.repeat_seconds:
                fresh.append(payload)
                emitted = now
            self._seen[payload] = (emitted, now)
        for payload, (_, seen) in list(self._seen.items()):
            if now - seen > max(self.gone_after, self.repeat_seconds):
                del self._seen[payload]
        return fresh


class FolderCapture:
    """A folder of images read like a video (cv2.VideoCapture's interface)."""

    def __init__(self, folder: str, fps: float):
        self.files = sorted(os.path.join(folder, f) for f in os.listdir(folder)
                            if f.lower().endswith(IMAGE_TYPES))
        self.index, self.fps = 0, fps

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return bool(self.files)

    def read(self):
        if self.index >= len(self.files):
            return False, None
        frame = cv2.imread(self.files[self.index])
        self.index += 1
        return frame is not None, frame

    def get(self, prop):
        return self.fps if prop == cv2.CAP_PROP_FPS else 0

    def set(self, prop, value):
        return False

    def release(self) -> None:
        self.index = len(self.files)


def open_capture(source, width: int, height: int, fps: int):
    """The capture for a source, and whether it is a file (finite) source."""
    if isinstance(source, str) and source.isdigit():
        source = int(source)
    if isinstance(source, str) and os.path.isdir(source):
        return FolderCapture(source, fps), True
    is_file = isinstance(source, str) and os.path.isfile(source) and not source.startswith("/dev/")
    capture = cv2.VideoCapture(source)
    if not is_file:
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        capture.set(cv2.CAP_PROP_FPS, fps)
    return capture, is_file


class CameraScanner:
    def __init__(self, source, *, width: int = 640, height: int = 480, fps: int = 15,
                 roi=(), decoder: str = "zxing", repeat_seconds: float = 3.0, loop: bool = False,
                 realtime: bool = True, reconnect_interval: float = 1.0):
        self.source = source
        self.size, self.fps = (width, height), fps
        self.roi = tuple(roi) if roi else ()
        self.decoder = make_decoder(decoder)
        self.repeats = RepeatFilter(repeat_seconds)
        self.loop, self.realtime = loop, realtime
        self.reconnect_interval = reconnect_interval
        self.when_scanned: Optional[Callable[[bytes], None]] = None
        self.when_frame: Optional[Callable[[np.ndarray], None]] = None  # small RGB previews
        self.frames_captured = self.frames_decoded = self.frames_dropped = 0
        self.is_finished = threading.Event()  # a file source has been read and decoded
        self._mailbox: Optional[tuple[np.ndarray, float]] = None
        self._mail = threading.Condition()
        self._capture = None
        self._is_file = False
        self._done = False  # the capture side has nothing more to give
        self._connected = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @classmethod
    def from_config(cls, section) -> "CameraScanner":
        return cls(section.source, width=section.width, height=section.height, fps=section.fps,
                   roi=section.roi, decoder=section.decoder, repeat_seconds=section.repeat_seconds)

    @property
    def is_connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def _open(self) -> bool:
        capture, self._is_file = open_capture(self.source, *self.size, self.fps)
        if not capture.isOpened():
            capture.release()
            return False
        self._capture = capture
        self._connected.set()
        return True

    def start(self) -> None:
        if self._threads:
            return
        if not self._open():
            raise DeviceError(f"cannot open camera {self.source!r}: not connected, or no permission "
                              "(is the user in the video group?)")
        for name, target in (("camera-capture", self._capture_loop), ("camera-decode", self._decode_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    # ---- capture: never waits for the decoder ------------------------------------

    def _capture_loop(self) -> None:
        index, started = 0, time.monotonic()
        while not self._stop.is_set():
            if self._is_file and self.realtime:
                # Wait for the frame's moment, then read it: like a camera,
                # a frame is handed on as soon as it exists.
                self._stop.wait(max(0.0, started + index / self.fps - time.monotonic()))
            ok, frame = self._capture.read() if self._capture is not None else (False, None)
            if not ok:
                if self._is_file and self.loop:
                    self._capture.release()
                    self._open()
                    continue
                if self._is_file:
                    break
                self._reconnect()
                continue
            index += 1
            self.frames_captured += 1
            # Files run on media time, so what counts as "still in view" does
            # not depend on how fast this machine reads them.
            now = index / self.fps if self._is_file else time.monotonic()
            with self._mail:
                if self._mailbox is not None:
                    self.frames_dropped += 1
                self._mailbox = (frame, now)
                self._mail.notify()
            if self._is_file and not self.realtime:
                self._wait_for_decoder()  # as fast as possible, but every frame decoded
        with self._mail:
            self._done = True
            self._mail.notify()

    def _wait_for_decoder(self) -> None:
        with self._mail:
            while self._mailbox is not None and not self._stop.is_set():
                self._mail.wait(0.1)

    def _reconnect(self) -> None:
        log.warning("camera %r lost; reopening", self.source)
        self._connected.clear()
        if self._capture is not None:
            self._capture.release()
            self._capture = None
        while not self._stop.is_set() and not self._open():
            self._stop.wait(self.reconnect_interval)
        if self.is_connected:
            log.info("camera %r back", self.source)

    # ---- decode: newest frame only ------------------------------------------------

    def _decode_loop(self) -> None:
        last_preview = 0.0
        while not self._stop.is_set():
            with self._mail:
                while self._mailbox is None and not self._done and not self._stop.is_set():
                    self._mail.wait(0.1)
                if self._mailbox is None:
                    break
                frame, now = self._mailbox
                self._mailbox = None
                self._mail.notify()
            self.decode_frame(frame, now)
            if self.when_frame is not None and time.monotonic() - last_preview > 0.2:
                last_preview = time.monotonic()
                self.when_frame(cv2.cvtColor(cv2.resize(frame, PREVIEW_SIZE), cv2.COLOR_BGR2RGB))
        self.is_finished.set()

    def decode_frame(self, frame: np.ndarray, now: float) -> list[bytes]:
        if self.roi:
            x, y, w, h = self.roi
            frame = frame[y:y + h, x:x + w]
        payloads = self.decoder.decode(frame)
        self.frames_decoded += 1
        fresh = self.repeats.filter(payloads, now)
        for payload in fresh:
            if self.when_scanned is not None:
                try:
                    self.when_scanned(payload)
                except Exception:  # noqa: BLE001 - a broken callback must not stop the camera
                    log.exception("camera callback failed")
        return fresh

    def close(self) -> None:
        self._stop.set()
        with self._mail:
            self._mail.notify_all()
        for thread in self._threads:
            thread.join(timeout=3)
        if self._capture is not None:
            self._capture.release()
            self._capture = None

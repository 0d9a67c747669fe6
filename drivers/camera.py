"""Camera scanning: OpenCV capture on one thread, decoding on another.

Sources are in drivers/camera_capture.py. Capture never waits for decoding:
the decoder takes the newest (sharpest) frame from a one-slot mailbox; older
frames are dropped and counted. One card held up is one scan (RepeatFilter).

A camera missing at start is a DeviceError naming it; one lost later is
reopened with a growing pause. Decoded payloads are never logged: they hold IINs.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any, Callable, Optional

import numpy as np

from kiosk.core.errors import DeviceError

from .camera_capture import (FolderCapture, checked_roi, open_capture, preview, region,  # noqa: F401
                             source_kind)
from .camera_gate import IdleGate, RepeatFilter, Scans, look  # noqa: F401 - RepeatFilter re-exported
from .decoders import Decoder, grey, make_decoder

log = logging.getLogger("ashyq.camera")
PREVIEW_INTERVAL = 0.2  # seconds between previews: the idle screen needs no more


class CameraScanner:
    """Reads codes off a camera; ``when_scanned(payload)`` once per card shown.

    ``decoder``: "zxing" (default), "zbar", or any object with
    ``decode(frame) -> list[bytes]``. ``roi``: [x, y, w, h] of the frame to
    decode, or empty for all of it. ``realtime``: pace a file at ``fps`` like
    a camera (False: as fast as the decoder, every frame decoded). ``live``:
    treat the source as a camera whose end is an unplug (default: devices
    and streams are live, files and folders are not). ``preview``: keep a
    small RGB copy of the newest frame for ``latest_preview()``.
    ``clock``: the monotonic clock that times repeats on live sources (file
    sources run on their own media time). ``gate``: skip decoding frames
    with nothing code-like in view or nothing changed (drivers/camera_gate.py);
    False decodes every frame. Only payloads that parse as an IIN or an MRZ
    are scans: with every symbology tried, the check digits reject noise;
    and only once ``confirm_reads`` decoded frames within two seconds gave
    them (drivers/camera_gate.py, Confirmations).

    Callbacks run on the camera's threads: ``when_scanned(payload)``,
    ``when_frame(rgb)`` (160x120x3 uint8, at most five a second),
    ``when_disconnected()``, ``when_connected()`` (after a reconnection),
    ``when_finished()`` (a file source was read to its end),
    ``when_failed(error)`` (the decoder raised: logged, ``is_healthy`` turns
    False, decoding goes on with the next frame and a success heals it).
    """

    def __init__(self, source, *, width: int = 640, height: int = 480, fps: int = 15,
                 roi=(), decoder="zxing", repeat_seconds: float = 3.0,
                 preview: bool = False, loop: bool = False, realtime: bool = True,
                 live: Optional[bool] = None, reconnect_interval: float = 0.5,
                 max_reconnect_interval: float = 8.0, clock: Callable[[], float] = time.monotonic,
                 gate: bool = True, confirm_reads: int = 2):
        self.source = source
        self.size, self.fps = (width, height), fps
        self.roi = checked_roi(roi)
        self.decoder: Decoder = make_decoder(decoder) if isinstance(decoder, str) else decoder
        self.scans = Scans(repeat_seconds, confirm_reads)
        self.gate = IdleGate() if gate else None
        self.kind = source_kind(source)
        self.live = self.kind in ("device", "stream") if live is None else live
        self.preview, self.loop, self.realtime = preview, loop, realtime
        self.reconnect_interval, self.max_reconnect_interval = reconnect_interval, max_reconnect_interval
        self._pause = reconnect_interval  # before the next reopen; doubles while nothing comes
        self.clock = clock
        self.when_scanned: Optional[Callable[[bytes], None]] = None
        self.when_frame: Optional[Callable[[np.ndarray], None]] = None
        self.when_connected = self.when_disconnected = self.when_finished = None  # () -> None
        self.when_failed: Optional[Callable[[Exception], None]] = None
        self.when_recovered: Optional[Callable[[], None]] = None
        self.frames_captured = self.frames_decoded = self.frames_dropped = 0
        self.frames_skipped = self.decoder_errors = 0
        self.last_error: Optional[str] = None
        self._healthy = True
        self.decode_seconds = 0.0  # time inside the decoder: how busy the pipeline keeps it
        self.is_finished = threading.Event()  # a file source has been read and decoded
        self._preview: Optional[np.ndarray] = None
        self._mailbox: Optional[tuple] = None  # (frame, seen at, Look or None)
        self._mail = threading.Condition()
        self._capture: Any = None  # cv2.VideoCapture or FolderCapture once open
        self._done = False  # done: the capture has no more to give
        self._connected = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @classmethod
    def from_config(cls, section) -> "CameraScanner":
        """From the ``[camera]`` section (kiosk/schema.py)."""
        return cls(section.source, width=section.width, height=section.height, fps=section.fps,
                   roi=section.roi, decoder=section.decoder,
                   repeat_seconds=section.repeat_seconds, preview=section.preview)

    @property
    def is_connected(self) -> bool:
        return self._connected.is_set()

    @property
    def is_healthy(self) -> bool:
        """False while the decoder keeps raising (``last_error`` says why):
        a camera that is connected but reads nothing, for the app and doctor."""
        return self._healthy

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def latest_preview(self) -> Optional[np.ndarray]:
        """The newest frame, 160x120 RGB, with the region of interest
        outlined; None before the first, or when previews are off."""
        return self._preview

    def start(self) -> None:
        """Open the source and start reading; DeviceError if it is missing."""
        if self._threads:
            return
        if self.kind in ("file", "folder") or str(self.source).startswith("/dev/"):
            if not os.path.exists(self.source):
                raise DeviceError(f"camera {self.source} not found")
        self._capture = open_capture(self.source, *self.size, self.fps)
        if self._capture is None:
            raise DeviceError(f"cannot open camera {self.source}: in use, or no permission "
                              "(is the user in the video group?)")
        self._connected.set()
        for name, target in (("camera-capture", self._capture_loop),
                             ("camera-decode", self._decode_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self) -> None:
        self._stop.set()
        with self._mail:
            self._mail.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)
        if any(thread.is_alive() for thread in self._threads):
            # Releasing under a read still stuck in the driver can crash OpenCV.
            log.warning("camera %s still busy after close; left to the daemon thread", self.source)
        elif self._capture is not None:
            self._capture.release()
            self._capture = None
        self._connected.clear()

    def __enter__(self) -> "CameraScanner":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- capture: never waits for the decoder ------------------------------------

    def _capture_loop(self) -> None:
        paced = self.realtime and self.kind in ("file", "folder")  # a camera paces itself
        index, started = 0, time.monotonic()
        while not self._stop.is_set():
            if paced:
                # Wait for the frame's moment, then read it: like a camera,
                # a frame is handed on as soon as it exists.
                self._stop.wait(max(0.0, started + index / self.fps - time.monotonic()))
            ok, frame = self._capture.read()
            if not ok:
                if self.live:
                    self._reconnect()
                    started = time.monotonic() - index / self.fps  # no burst to catch up
                    continue
                if not self.loop or not self._reopen():
                    break
                continue
            index += 1
            self.frames_captured += 1
            self._pause = self.reconnect_interval  # frames again: the next loss starts afresh
            # Files run on media time, so what counts as "still in view" does
            # not depend on how fast this machine reads them.
            now = self.clock() if self.live else index / self.fps
            summary = look(grey(region(frame, self.roi))) if self.gate is not None else None
            with self._mail:
                if self._mailbox is not None:
                    self.frames_dropped += 1
                    # Keep the sharper of the two: motion blur wipes out the
                    # edges the score counts, and the older frame is at most
                    # one decode old.
                    pending = self._mailbox[2]
                    if summary is None or pending is None or summary.score >= pending.score:
                        self._mailbox = (frame, now, summary)
                else:
                    self._mailbox = (frame, now, summary)
                self._mail.notify_all()
                if not self.realtime and not self.live:  # every frame decoded, none dropped
                    while self._mailbox is not None and not self._stop.is_set():
                        self._mail.wait(0.1)
        with self._mail:
            self._done = True
            self._mail.notify_all()

    def _reopen(self) -> bool:
        self._capture.release()
        if self._stop.is_set():
            return False
        capture = open_capture(self.source, *self.size, self.fps)
        if capture is not None:
            self._capture = capture
        return capture is not None

    def _reconnect(self) -> None:
        """Release the lost camera and reopen it, pausing longer each miss.
        The pause only shrinks back once a frame is read, so a camera that
        opens but gives nothing, or is gone for good, costs little."""
        if self._pause == self.reconnect_interval:
            log.warning("camera %s lost; reopening", self.source)
        self._connected.clear()
        self._call(self.when_disconnected)
        while not self._stop.is_set():
            self._stop.wait(self._pause)
            self._pause = min(self._pause * 2, self.max_reconnect_interval)
            if self._reopen():
                self._connected.set()
                self._call(self.when_connected)
                return

    # ---- decode: newest frame only ------------------------------------------------

    def _decode_loop(self) -> None:
        last_preview = None
        while not self._stop.is_set():
            with self._mail:
                while self._mailbox is None and not self._done and not self._stop.is_set():
                    self._mail.wait(0.1)
                if self._mailbox is None:
                    break
                frame, now, summary = self._mailbox
                self._mailbox = None
                self._mail.notify_all()
            try:
                self.decode_frame(frame, now, summary)
            except Exception as exc:  # noqa: BLE001 - one bad frame or decoder bug must not end decoding
                self._failed(exc)
            if self.preview or self.when_frame is not None:
                moment = self.clock()
                if last_preview is None or moment - last_preview >= PREVIEW_INTERVAL:
                    last_preview = moment
                    self._preview = preview(frame, self.roi)
                    self._call(self.when_frame, self._preview)
        if not self._stop.is_set():
            self.is_finished.set()
            self._call(self.when_finished)

    def decode_frame(self, frame: np.ndarray, now: float, summary=None) -> list[bytes]:
        """Decode one frame seen at ``now`` (``summary``: its gate look, if
        already taken); report and return the new scans."""
        frame = region(frame, self.roi)
        verdict = "decode"
        if self.gate is not None:
            verdict = self.gate.verdict(summary or look(grey(frame)), now)
        if verdict == "decode":
            started = time.perf_counter()
            payloads = self.decoder.decode(frame)
            self.decode_seconds += time.perf_counter() - started
            self.frames_decoded += 1
            if self.scans.decoded(payloads, now) and self.gate is not None:
                self.gate.look_again()  # only another decoded frame can confirm it
            if not self._healthy:
                log.warning("camera %s decoder works again", self.source)
                self._healthy = True
                self._call(self.when_recovered)
        else:
            self.frames_skipped += 1
            self.scans.skipped(verdict)
        fresh = self.scans.fresh(now)
        for payload in fresh:
            self._call(self.when_scanned, payload)
        return fresh

    def _failed(self, error: Exception) -> None:
        """A decoder error: logged once per run of failures (not 15 a second),
        counted, and reported through ``is_healthy`` and ``when_failed``."""
        self.decoder_errors += 1
        self.last_error = f"{type(error).__name__}: {error}"[:200]
        if self._healthy:
            self._healthy = False
            log.error("camera %s decoder failed (%s); decoding goes on", self.source,
                      type(error).__name__, exc_info=error)
            self._call(self.when_failed, error)

    @staticmethod
    def _call(callback, *args) -> None:
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:
            log.exception("camera callback failed")

"""Where camera frames come from: a device index or V4L2 path, a stream URL,
a video file, or a folder of images read like a video (for tests and trials)."""
from __future__ import annotations

import os
from typing import Any

import cv2
import numpy as np

IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".bmp")


class FolderCapture:
    """A folder of images read like a video (cv2.VideoCapture's interface)."""

    def __init__(self, folder: str):
        self.files = sorted(os.path.join(folder, f) for f in os.listdir(folder)
                            if f.lower().endswith(IMAGE_TYPES))
        self.index = 0

    def isOpened(self) -> bool:
        return bool(self.files)

    def read(self):
        if self.index >= len(self.files):
            return False, None
        frame = cv2.imread(self.files[self.index])
        self.index += 1
        return frame is not None, frame

    def release(self) -> None:
        self.index = len(self.files)


def source_kind(source) -> str:
    """"device" (index or /dev path), "stream" (URL), "folder" or "file"."""
    if isinstance(source, int) or source.isdigit() or source.startswith("/dev/"):
        return "device"
    if "://" in source:
        return "stream"
    return "folder" if os.path.isdir(source) else "file"


def open_capture(source, width: int, height: int, fps: int):
    """An opened capture for ``source``, or None if it cannot be opened."""
    kind = source_kind(source)
    if kind == "folder":
        capture: Any = FolderCapture(source)
    else:
        capture = cv2.VideoCapture(int(source) if kind == "device" and str(source).isdigit()
                                   else source)
        if kind == "device":
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
            capture.set(cv2.CAP_PROP_FPS, fps)
    if not capture.isOpened():
        capture.release()
        return None
    return capture


PREVIEW_SIZE = (160, 120)  # width, height of CameraScanner.latest_preview()


def checked_roi(roi) -> tuple:
    """The region of interest as [x, y, width, height], or () for the whole frame."""
    if roi and (len(roi) != 4 or roi[2] <= 0 or roi[3] <= 0 or min(roi[:2]) < 0):
        raise ValueError(f"camera roi must be [x, y, width, height], got {list(roi)}")
    return tuple(roi) if roi else ()


def region(frame: np.ndarray, roi) -> np.ndarray:
    """The configured region of interest (x, y, w, h), or the whole frame."""
    if roi:
        x, y, w, h = roi
        crop = frame[y:y + h, x:x + w]
        return crop if crop.size else frame  # a region off the frame: read it all
    return frame


def preview(frame: np.ndarray, roi) -> np.ndarray:
    """A small RGB picture for the idle screen, the region outlined so
    visitors see where to hold the card."""
    small = cv2.resize(frame, PREVIEW_SIZE, interpolation=cv2.INTER_AREA)
    if small.ndim == 2:
        small = cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)
    if roi:
        sx, sy = PREVIEW_SIZE[0] / frame.shape[1], PREVIEW_SIZE[1] / frame.shape[0]
        x, y, w, h = roi
        cv2.rectangle(small, (int(x * sx), int(y * sy)),
                      (int((x + w) * sx) - 1, int((y + h) * sy) - 1), (0, 255, 0), 1)
    return cv2.cvtColor(small, cv2.COLOR_BGR2RGB)

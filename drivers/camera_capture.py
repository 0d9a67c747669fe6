"""Where camera frames come from: a device index or V4L2 path, a stream URL,
a video file, or a folder of images read like a video (for tests and trials)."""
from __future__ import annotations

import os

import cv2

IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".bmp")


class FolderCapture:
    """A folder of images read like a video (cv2.VideoCapture's interface)."""

    def __init__(self, folder: str):
        self.files = sorted(os.path.join(folder, f) for f in os.listdir(folder)
                            if f.lower().endswith(IMAGE_TYPES))
        self.index = 0

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
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
        capture = FolderCapture(source)
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

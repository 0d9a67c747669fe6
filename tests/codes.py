"""Test codes and camera-like videos, made with zxing-cpp and OpenCV, for the
camera tests and bench/bench_camera.py. Variants: "clean", "rotated" (15
degrees), "blurred", "noisy"; ``scene`` also takes brightness and perspective.

    frames = [scene(code_image("871008401427", "Code128"), "rotated")]
    write_video(path, frames)
"""
from __future__ import annotations

import cv2
import numpy as np
import zxingcpp

FORMATS = {name: getattr(zxingcpp.BarcodeFormat, name)
           for name in ("Code128", "QRCode", "PDF417", "ITF", "Code39", "Code93",
                        "DataMatrix", "Aztec")}
SIZE = (640, 480)
VARIANTS = ("clean", "rotated", "blurred", "noisy")


def code_image(text: str, symbology: str, scale: int = 3) -> np.ndarray:
    """The code for ``text`` (a name in FORMATS: "Code128", "ITF" ...), grey, black on
    white, ``scale`` pixels a module, with its quiet zone."""
    image = np.array(zxingcpp.create_barcode(text, FORMATS[symbology]).to_image(scale=scale))
    return np.pad(image, 12 * scale, constant_values=255)  # the quiet zone


def blank(seed: int = 0) -> np.ndarray:
    """A grey, slightly textured background, like a card reader's well."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(150, 12, (SIZE[1], SIZE[0])), 0, 255).astype(np.uint8)


def scene(code: np.ndarray, variant: str = "clean", *, seed: int = 0,
          brightness: float = 1.0, perspective: float = 0.0) -> np.ndarray:
    """The code on a background, as a camera might see it. Returns BGR."""
    frame = blank(seed)
    h, w = code.shape
    if w > SIZE[0] - 40:
        code = cv2.resize(code, (SIZE[0] - 40, int(h * (SIZE[0] - 40) / w)), interpolation=cv2.INTER_AREA)
        h, w = code.shape
    y, x = (SIZE[1] - h) // 2, (SIZE[0] - w) // 2
    frame[y:y + h, x:x + w] = code
    if variant == "rotated":
        turn = cv2.getRotationMatrix2D((SIZE[0] / 2, SIZE[1] / 2), 15, 1.0)
        frame = cv2.warpAffine(frame, turn, SIZE, borderValue=150)
    if perspective:
        d = perspective * SIZE[0]
        src = np.float32([[0, 0], [SIZE[0], 0], [SIZE[0], SIZE[1]], [0, SIZE[1]]])
        dst = np.float32([[d, d / 2], [SIZE[0] - d / 2, 0], [SIZE[0], SIZE[1]], [0, SIZE[1] - d / 2]])
        frame = cv2.warpPerspective(frame, cv2.getPerspectiveTransform(src, dst), SIZE,
                                    borderValue=150)
    if variant == "blurred":
        frame = cv2.GaussianBlur(frame, (5, 5), 1.4)
    if variant == "noisy":
        rng = np.random.default_rng(seed + 1)
        frame = np.clip(frame + rng.normal(0, 18, frame.shape), 0, 255).astype(np.uint8)
    frame = np.clip(frame.astype(np.float32) * brightness, 0, 255).astype(np.uint8)
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)


def write_video(path: str, frames, fps: int = 15) -> str:
    """Write 640x480 BGR frames with OpenCV's VideoWriter (MJPG, as many USB
    cameras send); returns ``path``."""
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), fps, SIZE)
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def idle_video(count: int, seed: int = 0):
    """``count`` frames of a door with no card: sensor noise, mains flicker
    (brightness swinging +-8 % at 5 Hz aliasing), a door frame, and people
    walking past (dark, textured figures crossing the view). BGR frames."""
    rng = np.random.default_rng(seed)
    wall = cv2.GaussianBlur(blank(seed).astype(np.float32), (0, 0), 3)
    cv2.rectangle(wall, (40, 20), (600, 470), 90, 6)  # the door frame: straight edges, no code
    frames, walker = [], None
    for i in range(count):
        frame = wall.copy()
        if walker is None and rng.random() < 0.08:
            walker = [-120.0, float(rng.uniform(8, 25)), float(rng.uniform(40, 90))]  # x, speed, shade
        if walker is not None:
            x = int(walker[0])
            cv2.ellipse(frame, (x, 300), (70, 200), 0, 0, 360, walker[2], -1)  # body
            cv2.circle(frame, (x, 90), 40, walker[2] + 60, -1)  # head
            walker[0] += walker[1]
            if walker[0] > SIZE[0] + 120:
                walker = None
        frame *= 1 + 0.08 * np.sin(i * 2.1)
        frame += rng.normal(0, 6, frame.shape)
        frames.append(cv2.cvtColor(np.clip(frame, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR))
    return frames

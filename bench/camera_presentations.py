"""Seeded synthetic presentations of an ID card to the camera, made with
OpenCV: the card's back (a Code 128 IIN and a PDF417 TD1 MRZ) slides into
view and is held for 15 to 30 frames at 15 fps with hand shake, motion blur,
glare, low light, a thumb over a corner and a tilt of 20 to 35 degrees.

    frames, enter, iin = presentation(seed)
"""
from __future__ import annotations

import datetime as dt

import cv2
import numpy as np

from tests.codes import SIZE, blank, code_image

CARD = (428, 270)  # ID-1, 85.6 x 54 mm at 5 px/mm
EMPTY_BEFORE = 3  # frames of the empty door before the card enters


def card_back(iin: str, number: str) -> np.ndarray:
    from kiosk.core.mrz import id_card_mrz
    card = np.full((CARD[1], CARD[0]), 228, np.uint8)
    linear = code_image(iin, "Code128", scale=2)
    mrz = code_image(id_card_mrz(iin, number, dt.date(2031, 5, 5)), "PDF417", scale=2)
    mrz = mrz[:, :min(mrz.shape[1], CARD[0] - 8)]
    card[4:4 + linear.shape[0], 4:4 + linear.shape[1]] = linear[:, :CARD[0] - 8]
    y = CARD[1] - mrz.shape[0] - 4
    card[y:y + mrz.shape[0], 4:4 + mrz.shape[1]] = mrz
    return card


def motion_blur(frame: np.ndarray, dx: float, dy: float) -> np.ndarray:
    length = int(round(np.hypot(dx, dy)))
    if length < 2:
        return frame
    kernel = np.zeros((length * 2 + 1, length * 2 + 1), np.float32)
    cv2.line(kernel, (length - int(dx / 2), length - int(dy / 2)),
             (length + int(dx / 2), length + int(dy / 2)), 1.0, 1)
    return cv2.filter2D(frame, -1, kernel / kernel.sum())


def presentation(seed: int):
    """(BGR frames, index of the first frame showing the card, the IIN)."""
    from tests.iins import make_iin
    rng = np.random.default_rng(seed)
    iin = make_iin(f"{60 + seed % 40:02d}{1 + seed % 12:02d}{1 + seed % 28:02d}",
                   serial=1000 + seed)
    card = card_back(iin, f"N{10000000 + seed}")
    held = int(rng.integers(15, 31))
    angle = float(rng.uniform(20, 35) * rng.choice([-1, 1]))
    scale = float(rng.uniform(0.9, 1.1))
    dim = rng.random() < 0.3
    light = float(rng.uniform(0.35, 0.55)) if dim else float(rng.uniform(0.8, 1.1))
    exposure = 1.0 if dim else 0.5  # share of a frame the shutter is open: blur per pixel moved
    glare = rng.random() < 0.4
    thumb = int(rng.integers(0, 4)) if rng.random() < 0.4 else None
    target = np.array([320 + rng.uniform(-40, 40), 240 + rng.uniform(-30, 30)])
    side = rng.choice([-1, 1])
    position = target + [side * 420, rng.uniform(-60, 60)]
    wall = blank(seed)
    frames, enter = [wall] * EMPTY_BEFORE, EMPTY_BEFORE
    tilt = angle
    for i in range(held + 4):
        if i < 4:  # sliding in
            move = (target - position) * 0.55
        else:  # held: shake
            move = rng.normal(0, 4, 2) + (target - position) * 0.2
        position = position + move
        tilt += float(rng.normal(0, 1.0))
        turn = cv2.getRotationMatrix2D((CARD[0] / 2, CARD[1] / 2), tilt, scale)
        turn[:, 2] += position - [CARD[0] / 2, CARD[1] / 2]
        frame = wall.astype(np.float32)
        mask = cv2.warpAffine(np.ones((CARD[1], CARD[0]), np.float32), turn, SIZE)
        face = cv2.warpAffine(card.astype(np.float32), turn, SIZE)
        frame = frame * (1 - mask) + face * mask
        if thumb is not None:
            corner = np.array([[0, 0], [CARD[0], 0], [CARD[0], CARD[1]], [0, CARD[1]]][thumb], float)
            at = turn[:, :2] @ corner + turn[:, 2]
            cv2.ellipse(frame, (int(at[0]), int(at[1])), (45, 70), tilt, 0, 360, 165, -1)
        frame = motion_blur(frame, *(move * exposure))
        if glare:
            gy, gx = np.mgrid[0:SIZE[1], 0:SIZE[0]]
            spot = position + rng.normal(0, 40, 2)
            frame += 190 * np.exp(-((gx - spot[0]) ** 2 + (gy - spot[1]) ** 2) / (2 * 35 ** 2))
        frame = frame * light + rng.normal(0, 3 / light, frame.shape)
        frame = np.clip(frame, 0, 255).astype(np.uint8)
        if i == 0 and mask.sum() == 0:
            enter += 1  # still wholly outside the view
        frames.append(frame)
    return [cv2.cvtColor(f, cv2.COLOR_GRAY2BGR) for f in frames], enter, iin

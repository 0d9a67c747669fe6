"""Barcode decoders behind one interface: a frame (numpy, BGR or grey) in,
payload bytes out.

- :class:`ZXingDecoder` (zxing-cpp, the default): Code 128, QR, PDF417 and
  more, tolerant of blur, noise and rotation.
- :class:`ZBarDecoder` (pyzbar): for sites that want ZBar. It needs the
  system's libzbar0 and cannot read PDF417.

    >>> decoder = make_decoder("zxing")
    >>> decoder.decode(frame)                      # doctest: +SKIP
    [b'871008401427']

Payloads are returned as bytes, the same as a serial scanner's, so the
camera path goes through the same parser.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

from kiosk.errors import DeviceError


class Decoder(Protocol):
    name: str

    def decode(self, frame: np.ndarray) -> list[bytes]: ...


def grey(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return frame
    import cv2
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def _code_outline(image: np.ndarray):
    """The largest bright region (a code's quiet zone on a card), found on a
    half-size copy; None if there is none."""
    import cv2
    small = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2))
    _, bright = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return max(contours, key=cv2.contourArea) if contours else None


def skew_angle(image: np.ndarray) -> float:
    """The tilt, in degrees (-45 to 45), of the code's outline."""
    import cv2
    outline = _code_outline(image)
    if outline is None:
        return 0.0
    angle = cv2.minAreaRect(outline)[2] % 90
    return angle - 90 if angle > 45 else angle


def straightened(image: np.ndarray) -> np.ndarray | None:
    """The frame turned upright, or None when it is upright already."""
    import cv2
    angle = skew_angle(image)
    if abs(angle) < 3:
        return None
    h, w = image.shape
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(image, turn, (w, h), borderMode=cv2.BORDER_REPLICATE)


def rectified(image: np.ndarray) -> np.ndarray | None:
    """The code's quadrilateral warped flat (undoing tilt and perspective),
    with a white margin, or None when no plausible code outline is found."""
    import cv2
    outline = _code_outline(image)
    if outline is None:
        return None
    quad = cv2.approxPolyDP(outline, 0.04 * cv2.arcLength(outline, True), True)
    if len(quad) != 4:
        quad = cv2.boxPoints(cv2.minAreaRect(outline))
    corners = np.float32(quad).reshape(4, 2) * 2
    sums, diffs = corners.sum(1), np.diff(corners, axis=1).ravel()
    tl, br = corners[np.argmin(sums)], corners[np.argmax(sums)]
    tr, bl = corners[np.argmin(diffs)], corners[np.argmax(diffs)]
    w = int(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    h = int(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    if w < 40 or h < 20:
        return None
    flat = cv2.getPerspectiveTransform(np.float32([tl, tr, br, bl]),
                                       np.float32([[0, 0], [w, 0], [w, h], [0, h]]))
    out = cv2.warpPerspective(image, flat, (w, h), borderMode=cv2.BORDER_REPLICATE)
    return cv2.copyMakeBorder(out, 20, 20, 20, 20, cv2.BORDER_CONSTANT, value=255)


def second_looks(image: np.ndarray):
    """Views of a frame that gave nothing, cheapest first.

    zxing-cpp's PDF417 detector reads nothing from a card tilted 15 degrees
    or seen at an angle, so a frame that gave nothing is flattened (about
    4 ms) and, failing that, only turned upright."""
    for view in (rectified, straightened):
        result = view(image)
        if result is not None:
            yield result


class ZXingDecoder:
    name = "zxing"

    def __init__(self):
        import zxingcpp
        self._zxing = zxingcpp
        # The symbologies an ID card or passport can carry; fewer formats to
        # try is faster and gives fewer false reads.
        f = zxingcpp.BarcodeFormat
        self.formats = (f.Code128, f.QRCode, f.PDF417, f.DataMatrix, f.Aztec, f.Code39)

    def _read(self, image: np.ndarray) -> list[bytes]:
        results = self._zxing.read_barcodes(image, formats=self.formats, try_rotate=True,
                                            try_downscale=True)
        return [bytes(r.bytes) for r in results if r.valid]

    def decode(self, frame: np.ndarray) -> list[bytes]:
        image = grey(frame)
        found = self._read(image)
        for view in second_looks(image) if not found else ():
            found = self._read(view)
            if found:
                break
        return found


def is_zbar_available() -> tuple[bool, str]:
    try:
        from pyzbar import pyzbar  # noqa: F401 - loads libzbar
    except ImportError as exc:
        return False, f"ZBar is not available ({exc}): apt-get install libzbar0 and pip install pyzbar"
    return True, ""


class ZBarDecoder:
    name = "zbar"

    def __init__(self):
        available, reason = is_zbar_available()
        if not available:
            raise DeviceError(reason)
        from pyzbar import pyzbar
        self._pyzbar = pyzbar

    def decode(self, frame: np.ndarray) -> list[bytes]:
        image = grey(frame)
        found = [symbol.data for symbol in self._pyzbar.decode(image)]
        for view in second_looks(image) if not found else ():
            found = [symbol.data for symbol in self._pyzbar.decode(view)]
            if found:
                break
        return found


DECODERS = {"zxing": ZXingDecoder, "zbar": ZBarDecoder}


def make_decoder(name: str) -> Decoder:
    try:
        return DECODERS[name]()
    except KeyError:
        raise DeviceError(f"no decoder {name!r}; choose one of {', '.join(DECODERS)}") from None

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

from typing import Callable, Protocol

import numpy as np

from kiosk.core.errors import DeviceError

MAX_OUTLINE_SHARE = 0.8  # a bright region larger than this is background, not a card


class Decoder(Protocol):
    """A frame in (numpy, BGR or grey), every payload read from it out."""

    name: str

    def decode(self, frame: np.ndarray) -> list[bytes]: ...


def grey(frame: np.ndarray) -> np.ndarray:
    """The frame in one channel; both libraries work on grey."""
    if frame.ndim == 2:
        return frame
    import cv2
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def _code_outline(image: np.ndarray):
    """The largest bright region (a code's quiet zone on a card), found on a
    half-size copy; None if there is none, or if it fills most of the frame
    (then it is the background, and a second look would only cost time)."""
    import cv2
    small = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2),
                       interpolation=cv2.INTER_AREA)
    # Without the blur, Otsu splits sensor noise rather than card from
    # background, and the "outline" found is the whole noisy frame.
    small = cv2.GaussianBlur(small, (5, 5), 0)
    _, bright = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    largest = max(contours, key=cv2.contourArea)
    return None if cv2.contourArea(largest) > MAX_OUTLINE_SHARE * small.size else largest


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
    flat = cv2.getPerspectiveTransform(np.array([tl, tr, br, bl], dtype=np.float32),
                                       np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32))
    out = cv2.warpPerspective(image, flat, (w, h), borderMode=cv2.BORDER_REPLICATE)
    return cv2.copyMakeBorder(out, 20, 20, 20, 20, cv2.BORDER_CONSTANT, value=255)


def sharpened(image: np.ndarray) -> np.ndarray:
    """An unsharp-masked copy: ZBar reads a softly focused QR code from it."""
    import cv2
    return cv2.addWeighted(image, 2.0, cv2.GaussianBlur(image, (0, 0), 2), -1.0, 0)


def smoothed(image: np.ndarray) -> np.ndarray:
    """A lightly blurred copy: ZBar reads a grainy Code 128 from it."""
    import cv2
    return cv2.GaussianBlur(image, (3, 3), 0)


def second_looks(image: np.ndarray, views=(rectified, straightened)):
    """Views of a frame that gave nothing, cheapest first; none at all when
    nothing like a card is in view (the idle door costs one look a frame).

    zxing-cpp's PDF417 detector reads nothing from a card tilted 15 degrees
    or seen at an angle, so a frame that gave nothing is flattened (about
    4 ms) and, failing that, only turned upright."""
    if _code_outline(image) is None:
        return
    for view in views:
        result = view(image)
        if result is not None:
            yield result


# The card's symbology is not published (DESIGN.md), so every format that can
# hold any 12-digit string or a 90-character MRZ is tried; the parser's check
# digits reject what noise reads. Left out: EAN-8/13, UPC-A/E, ITF-14, DataBar
# (fixed lengths, or a check digit of their own that an IIN would have to
# match), add-ons, DX film edge, Code 32, PZN, Aztec runes (too short).
ZXING_FORMATS = ("Code128", "Code39", "Code93", "Codabar", "ITF", "DataBarExp", "Telepen",
                 "QRCode", "MicroQRCode", "RMQRCode", "PDF417", "MicroPDF417", "DataMatrix",
                 "Aztec", "MaxiCode")


def zxing_formats(kinds) -> tuple:
    """zxing-cpp's formats for :data:`ZXING_FORMATS`; those this build of
    zxing-cpp does not know (older releases lack Telepen, rMQR) are skipped."""
    return tuple(getattr(kinds, name) for name in ZXING_FORMATS if hasattr(kinds, name))


class ZXingDecoder:
    """zxing-cpp, the default: every linear and 2-D format that can carry an
    IIN or an MRZ (:data:`ZXING_FORMATS`), upright or turned, blurred or noisy.

        >>> ZXingDecoder().decode(frame)              # doctest: +SKIP
        [b'871008401427']
    """

    name = "zxing"

    def __init__(self):
        import zxingcpp
        self._zxing = zxingcpp
        self.formats = zxing_formats(zxingcpp.BarcodeFormat)

    def _read(self, image: np.ndarray) -> list[bytes]:
        # Cards print dark on light: the inverted pass cost a third of the
        # time and read nothing more (bench/bench_camera.py).
        results = self._zxing.read_barcodes(image, formats=self.formats, try_rotate=True,
                                            try_downscale=True, try_invert=False)
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
    """Whether ZBar can be used here, and if not, why and what to install."""
    try:
        from pyzbar import pyzbar  # noqa: F401 - loads libzbar
    except ImportError as exc:
        return False, (f"ZBar is not available ({exc}): "
                       "apt-get install libzbar0 and pip install pyzbar")
    return True, ""


class ZBarUnavailable(DeviceError):
    """ZBar was asked for, but libzbar0 or pyzbar is missing. (Not also an
    ImportError: Python cannot derive from both OSError and ImportError.)"""


ZBAR_VIEWS = (smoothed, sharpened, rectified, straightened)


class ZBarDecoder:
    """ZBar through pyzbar, for sites that prefer it. It cannot read PDF417
    and reads less of the blurred and noisy frames than zxing-cpp.

        >>> ZBarDecoder().decode(frame)               # doctest: +SKIP
        [b'871008401427']
    """

    name = "zbar"

    def __init__(self):
        available, reason = is_zbar_available()
        if not available:
            raise ZBarUnavailable(reason)
        from pyzbar import pyzbar
        self._pyzbar = pyzbar
        # Left to itself ZBar also tries EAN/UPC, which read digits out of
        # noise now and then and cannot hold an IIN anyway (see ZXING_FORMATS).
        symbol = pyzbar.ZBarSymbol
        self.symbols = [symbol.CODE128, symbol.CODE39, symbol.CODE93, symbol.CODABAR, symbol.I25,
                        symbol.DATABAR_EXP, symbol.QRCODE]

    def _read(self, image: np.ndarray) -> list[bytes]:
        return [found.data for found in self._pyzbar.decode(image, symbols=self.symbols)]

    def decode(self, frame: np.ndarray) -> list[bytes]:
        image = grey(frame)
        found = self._read(image)
        for view in second_looks(image, ZBAR_VIEWS) if not found else ():
            found = self._read(view)
            if found:
                break
        return found


DECODERS: dict[str, Callable[[], Decoder]] = {"zxing": ZXingDecoder, "zbar": ZBarDecoder}


def make_decoder(name: str) -> Decoder:
    """The decoder called ``name`` ("zxing" or "zbar"); DeviceError for any
    other name, ZBarUnavailable (a DeviceError) when ZBar is missing."""
    try:
        kind = DECODERS[name]
    except KeyError:
        raise DeviceError(f"no decoder {name!r}; choose one of {', '.join(DECODERS)}") from None
    return kind()

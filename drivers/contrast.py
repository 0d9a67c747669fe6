"""WCAG 2.x contrast, so "readable" is a number a test can hold us to.

    >>> round(ratio((255, 255, 255), (0, 0, 0)), 1)
    21.0
    >>> ink_for((240, 196, 48)) == INK    # dark text on yellow
    True

Every text on every screen must reach :data:`MINIMUM` against what is
behind it (WCAG 1.4.3, level AA for normal text).
"""
from __future__ import annotations

MINIMUM = 4.5
WHITE, INK = (255, 255, 255), (20, 20, 20)


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(rgb) -> float:
    """Relative luminance of an sRGB colour, 0 (black) to 1 (white)."""
    r, g, b = (_channel(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(a, b) -> float:
    """Contrast ratio between two colours, 1 to 21, order does not matter."""
    return luminance_ratio(luminance(a), luminance(b))


def luminance_ratio(a: float, b: float) -> float:
    """Contrast ratio between two relative luminances."""
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def ink_for(fill) -> tuple:
    """White or near-black, whichever reads better on ``fill``."""
    return WHITE if ratio(WHITE, fill) >= ratio(INK, fill) else INK

"""The refund band at the foot of a refusal: a photo of it is the proof.

It says what it is in all three languages, then the reference large, and
beside it (below it on a narrow screen) the date and time, the venue and
the kiosk, each on its own line. Its height follows what it holds, so no
reference, venue name or language makes two of its lines overlap or pushes
one off the screen.
"""
from __future__ import annotations

import pygame

from .contrast import INK, WHITE
from .layout import Canvas, Line, block_height, one_line
from .texts import words

BESIDE_AT_LEAST = 220  # px at unit 1: narrower than this, the details go under the reference


def refund_band(c: Canvas, screen, ctx) -> pygame.Rect:
    """Draw the band at the bottom of the screen; returns its rectangle."""
    pad, gap = c.px(24), c.px(10)
    width = c.w - 2 * pad
    at = (screen.at or ctx.now).strftime("%Y-%m-%d %H:%M:%S")
    label = [Line(" / ".join(words("refund", screen.language)), c.px(16))]
    reference = [Line(screen.reference, c.px(40), bold=True)]
    details = [Line(at, c.px(18), bold=True)] + \
        [Line(text, c.px(16)) for text in (ctx.venue, ctx.kiosk_id) if text]
    tall = pygame.Rect(0, 0, width, c.h)  # fit widths first; heights follow
    label_fitted = c.fit(label, tall)
    label_h = block_height(label_fitted)
    ref_fitted = [(row, "heading") for row in one_line(reference, width)]  # never broken in two
    ref_w = c.text_width(ref_fitted[0][0])
    ref_h = block_height(ref_fitted)
    beside = width - ref_w - c.px(24)
    if beside >= c.px(BESIDE_AT_LEAST):
        detail_rect = pygame.Rect(0, 0, beside, c.h)
        details_fitted = c.fit(details, detail_rect)
        body_h = max(ref_h, block_height(details_fitted))
    else:
        detail_rect = pygame.Rect(0, 0, width, c.h)
        details_fitted = c.fit(details, detail_rect)
        body_h = ref_h + gap + block_height(details_fitted)
    band = pygame.Rect(0, 0, c.w, gap + label_h + gap + body_h + gap)
    band.bottom = c.h
    c.box(band, WHITE, role="refund-band")
    y = band.top + gap
    y = c.block(label, pygame.Rect(pad, y, width, label_h), INK, fitted=label_fitted) + gap
    c.block(reference, pygame.Rect(pad, y, ref_w, ref_h), INK, fitted=ref_fitted)
    if beside >= c.px(BESIDE_AT_LEAST):
        detail_rect.topleft = (c.w - pad - beside, y)
    else:
        detail_rect.topleft = (pad, y + ref_h + gap)
    c.block(details, detail_rect, INK, fitted=details_fitted)
    return band

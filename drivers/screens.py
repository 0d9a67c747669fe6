"""Drawing each :class:`~kiosk.core.model.Screen` onto a pygame surface of any size.

No window here: everything draws onto a Surface it is given, so tests render
offscreen and read pixels. Results fill the screen with the person's colour
and carry a shape that does not depend on colour (a tick, a cross, a raised
hand), so a visitor who cannot tell red from green still reads the answer.
What is not anyone's status has its own look, neither red nor green: a
lookup that failed (violet, a question mark), a refused document (slate, a
warning sign), a full venue (light, people), a door out of service (black,
pause).

    >>> surface = pygame.Surface((800, 480))
    >>> draw(surface, Screen("result", verdict="admit", colour="green"), Context())

Sizes are in units of the screen (:class:`~drivers.layout.Canvas`), so the
same layout fills 800x480, 1920x1080 or a portrait 1080x1920.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Optional

import pygame

from kiosk.core.model import Screen

from . import shapes
from .contrast import WHITE, ink_for
from .layout import Canvas, Line, block_height, font, group_line, occupancy_line  # noqa: F401 - font: tests measure glyphs
from .refund import refund_band
from .staff_screen import draw_staff
from .texts import REASONS, failure_words, is_failure, reason_key, reason_words, words

FILL = {"green": (26, 122, 50), "blue": (25, 100, 200), "yellow": (240, 196, 48),
        "red": (200, 40, 40), "unknown": (96, 104, 114)}
# Looks that are nobody's status: none of them red, green, yellow or blue.
LOOK = {"failure": (98, 62, 160), "refused": (64, 64, 72), "venue-full": (232, 232, 236),
        "out-of-service": (28, 28, 32), "locked": (64, 64, 72)}
NAVY, SOFT, AMBER, BLACK = (16, 32, 56), (180, 196, 220), (255, 196, 0), (0, 0, 0)
SHAPES = {"admit": shapes.tick, "deny": shapes.cross, "staff": shapes.hand}
KEYPAD_REASONS = ("pin-wrong", "nothing-to-resolve")


@dataclass
class Context:
    """What every screen may need beyond the Screen itself."""

    venue: str = ""
    kiosk_id: str = ""
    qr: Optional[list] = None  # segno's matrix: rows of booleans
    now: dt.datetime = field(default_factory=dt.datetime.now)
    overlay: list = field(default_factory=list)
    preview: Optional[pygame.Surface] = None
    scanner_ok: bool = True  # False: a scanner is configured but not connected
    keyboard: Optional[str] = None  # the demo window: "scanner" or "keypad"
    record: Optional[list] = None  # tests: every drawn line (layout.Drawn)


def three(key_words, sizes, colour=None, bold_first=True) -> list[Line]:
    """The kiosk's language large, the other two smaller."""
    return [Line(text, size, bold=bold_first and i == 0, colour=colour)
            for i, (text, size) in enumerate(zip(key_words, sizes))]


def sentences(keys, language: str) -> list[str]:
    """Several keys said as one sentence per language, kiosk's language first."""
    per_key = [words(key, language) for key in keys]
    return [". ".join(said[i] for said in per_key) for i in range(3)]


def explained(heading_key: str, keys, language: str, c: Canvas, size=40) -> list[Line]:
    """Heading, why in the kiosk's language, then all of it in the other two."""
    heading = words(heading_key, language)
    why = sentences(keys, language)
    others = sentences([heading_key] + list(keys), language)
    return [Line(heading[0], c.px(size), bold=True), Line(why[0], c.px(26)),
            Line(others[1], c.px(18)), Line(others[2], c.px(18))]


# ---- the parts every screen shares -------------------------------------------

def chrome(c: Canvas, screen: Screen, ctx: Context, ink, venue_colour=None) -> int:
    """Venue and clock on top, then one amber banner per fault under them:
    a banner never covers the venue or the time. Returns the y below."""
    pad, top = c.px(24), c.px(8)
    clock = c.text(ctx.now.strftime("%H:%M"), c.px(28), ink, bold=True, role="clock",
                   topright=(c.w - pad, top))
    header = pygame.Rect(pad, top, clock.left - pad - c.px(16), clock.height)
    c.block([Line(ctx.venue, c.px(20))], header, venue_colour or ink, middle=True)
    y = clock.bottom + c.px(8)
    faults = [key for key, bad in (("offline", not screen.online), ("clock", not screen.clock_synced),
                                   ("scanner", not ctx.scanner_ok)) if bad]
    for key in faults:
        lines = [Line("⚠ " + " · ".join(words(key, screen.language)), c.px(18), bold=True)]
        inner = pygame.Rect(pad, y + c.px(6), c.w - 2 * pad, c.px(60))
        height = block_height(c.fit(lines, inner))
        c.box(pygame.Rect(0, y, c.w, height + c.px(12)), AMBER, role="banner")
        c.block(lines, inner, BLACK, align="center")
        y += height + c.px(12)
    return y


def panel(c: Canvas, area: pygame.Rect, lines: list[Line], ink, *, shape=None, disc=None,
          shape_ink=None) -> None:
    """A shape beside the words (above them in portrait), or the words alone."""
    pad = c.px(24)
    if shape is None:
        c.block(lines, area.inflate(-2 * pad, -2 * pad), ink, align="center", middle=True)
        return
    if c.is_portrait:
        radius = int(min(area.width * 0.3, area.height * 0.2))
        center = (area.centerx, area.top + pad + radius)
        text = pygame.Rect(area.left + pad, center[1] + radius + pad, area.width - 2 * pad,
                           area.bottom - center[1] - radius - 2 * pad)
        align = "center"
    else:
        radius = int(min(area.height * 0.34, area.width * 0.18))
        center = (area.left + pad + radius, area.centery)
        left = center[0] + radius + c.px(32)
        text = pygame.Rect(left, area.top + pad, area.right - pad - left, area.height - 2 * pad)
        align = "left"
    shapes.badge(c.surface, shape, center, radius, disc or ink, shape_ink)
    c.block(lines, text, ink, align=align, middle=True)


# ---- screens ----------------------------------------------------------------

def draw_result(c: Canvas, screen: Screen, ctx: Context):
    if is_failure(screen.reason):
        return draw_failure(c, screen, ctx)
    fill = FILL.get(screen.colour or "unknown", FILL["unknown"])
    ink = ink_for(fill)
    c.surface.fill(fill)
    verdict = screen.verdict or "staff"
    key = "repeat" if screen.reason == "repeat" else verdict
    lines = three(words(key, screen.language), (c.px(46), c.px(24), c.px(24)))
    if screen.masked:
        lines.append(Line(screen.masked, c.px(40), bold=True))
    if screen.colour and screen.colour != "unknown":
        lines.append(Line(" / ".join(words(screen.colour, screen.language)), c.px(20)))
    if verdict == "deny" and screen.reason in REASONS:  # why, where the colour does not say
        lines.append(Line(" / ".join(reason_words(screen.reason, screen.language)[:2]), c.px(20)))
    if screen.cached:
        lines.append(Line(" · ".join(words("cached", screen.language)), c.px(16)))
    lines += group_line(c, screen)
    area = c.surface.get_rect()
    if verdict == "deny" and screen.reference:
        area.height = refund_band(c, screen, ctx).top
    panel(c, area, lines, ink, shape=SHAPES[verdict], disc=ink, shape_ink=fill)


def draw_failure(c: Canvas, screen: Screen, ctx: Context):
    """A lookup that failed is not a status: violet, a question mark, and why."""
    fill = LOOK["failure"]
    c.surface.fill(fill)
    action = "no-entry" if screen.verdict == "deny" else "see-staff"
    lines = explained("check-failed", failure_words(screen.reason or "") + [action], screen.language, c)
    if screen.masked:
        lines.append(Line(screen.masked, c.px(32), bold=True))
    area = c.surface.get_rect()
    if screen.reference:
        area.height = refund_band(c, screen, ctx).top
    ink = ink_for(fill)
    panel(c, area, lines, ink, shape=shapes.question, disc=ink, shape_ink=fill)


def draw_message(c: Canvas, screen: Screen, ctx: Context, fill, lines, shape=None):
    ink = ink_for(fill)
    c.surface.fill(fill)
    top = chrome(c, screen, ctx, ink)
    area = pygame.Rect(0, top, c.w, c.h - top)
    panel(c, area, lines, ink, shape=shape, disc=ink, shape_ink=fill)


def message_lines(c: Canvas, screen: Screen) -> list[Line]:
    """checking, busy: what is happening, then the number or the group."""
    key = screen.reason if screen.kind == "busy" and screen.reason else \
        "group-next" if screen.reason == "group-next" else screen.kind
    lines = three(words(key, screen.language), (c.px(36), c.px(22), c.px(22)))
    if screen.masked:
        lines.append(Line(screen.masked, c.px(36), bold=True))
    return lines + group_line(c, screen, colour=AMBER)


def refused_lines(c: Canvas, screen: Screen) -> list[Line]:
    reason = screen.reason or "unrecognised"
    if reason in KEYPAD_REASONS:  # a keypad mistake is not a document's fault
        return three(words(reason, screen.language), (c.px(36), c.px(22), c.px(22)))
    return explained("refused", [reason_key(reason)], screen.language, c, size=36)


def locked_lines(c: Canvas, screen: Screen, ctx: Context) -> list[Line]:
    lines = three(words("locked", screen.language), (c.px(36), c.px(22), c.px(22)))
    if screen.until is not None:
        left = max(0, int((screen.until - ctx.now).total_seconds() + 0.999))
        said = words("locked-left", screen.language)
        lines += [Line(f"{said[0]} {left // 60}:{left % 60:02d}", c.px(32), bold=True),
                  Line(f"{said[1]} · {said[2]}", c.px(18))]
    return lines


def draw_idle(c: Canvas, screen: Screen, ctx: Context):
    c.surface.fill(NAVY)
    top = chrome(c, screen, ctx, WHITE, SOFT)
    pad = c.px(32)
    area = pygame.Rect(pad, top + c.px(12), c.w - 2 * pad, c.h - top - c.px(12) - c.px(20))
    if ctx.qr:
        area = qr_column(c, screen, ctx, area)
    if ctx.preview is not None:
        shot = ctx.preview.get_rect(bottomleft=area.bottomleft)
        c.surface.blit(ctx.preview, shot)
        area.height = max(0, shot.top - c.px(12) - area.top)
    if ctx.scanner_ok:
        lines = three(words("scan", screen.language), (c.px(36), c.px(22), c.px(22))) + \
            three(words("scan-hint", screen.language), (c.px(20), c.px(16), c.px(16)), SOFT, False)
    else:  # never invite a scan the kiosk cannot read
        lines = three(words("scanner-down", screen.language), (c.px(36), c.px(22), c.px(22))) + \
            three(words("see-staff", screen.language), (c.px(24), c.px(18), c.px(18)), SOFT, False)
    lines += group_line(c, screen, colour=AMBER) + occupancy_line(c, screen, colour=AMBER)
    c.block(lines, area, WHITE, align="center" if c.is_portrait else "left", middle=True)


def qr_column(c: Canvas, screen: Screen, ctx: Context, area: pygame.Rect) -> pygame.Rect:
    """The venue's QR code with its caption; returns the room left for words."""
    caption = three(words("app", screen.language), (c.px(16), c.px(13), c.px(13)))
    if c.is_portrait:
        size = int(min(area.width * 0.6, area.height * 0.4))
        box = pygame.Rect(0, 0, size, size)
        box.midbottom = (area.centerx, area.bottom - c.px(96))
        words_area = pygame.Rect(area.left, area.top, area.width, box.top - c.px(24) - area.top)
        under = pygame.Rect(area.left, box.bottom + c.px(16), area.width, area.bottom - box.bottom - c.px(16))
    else:
        size = int(min(area.height - c.px(110), area.width * 0.34))
        box = pygame.Rect(0, 0, size, size)
        box.topright = (area.right - c.px(12), area.top + c.px(12))
        column = pygame.Rect(box.left - c.px(40), box.bottom + c.px(20), size + c.px(52),
                             area.bottom - box.bottom - c.px(20))
        under = column
        words_area = pygame.Rect(area.left, area.top, column.left - c.px(24) - area.left, area.height)
    draw_qr(c, ctx.qr, box)
    c.block(caption, under, WHITE, align="center")
    return words_area


def draw_qr(c: Canvas, matrix, rect: pygame.Rect):
    pygame.draw.rect(c.surface, WHITE, rect.inflate(c.px(24), c.px(24)), border_radius=c.px(8))
    cells = len(matrix)
    cell = rect.width / cells
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                pygame.draw.rect(c.surface, BLACK, (rect.left + int(x * cell), rect.top + int(y * cell),
                                                    int(cell + 1), int(cell + 1)))


def draw(surface: pygame.Surface, screen: Screen, ctx: Context) -> None:
    c = Canvas(surface, ctx.record)
    kind, language = screen.kind, screen.language
    if kind == "result":
        draw_result(c, screen, ctx)
    elif kind == "idle":
        draw_idle(c, screen, ctx)
    elif kind in ("checking", "busy"):
        draw_message(c, screen, ctx, NAVY, message_lines(c, screen))
    elif kind == "refused":
        draw_message(c, screen, ctx, LOOK["refused"], refused_lines(c, screen), shapes.warning)
    elif kind == "locked":
        draw_message(c, screen, ctx, LOOK["locked"], locked_lines(c, screen, ctx), shapes.padlock)
    elif kind == "venue-full":
        draw_message(c, screen, ctx, LOOK["venue-full"],
                     explained("venue-full", ["venue-full-wait"], language, c, size=46), shapes.people)
    elif kind == "out-of-service":
        draw_message(c, screen, ctx, LOOK["out-of-service"],
                     explained("out-of-service", ["see-staff"], language, c, size=46), shapes.pause)
    else:
        draw_staff(c, screen, ctx)
    draw_overlay(c, ctx)


def draw_overlay(c: Canvas, ctx: Context):
    """The demo window's notes (mock pins, what the keyboard is), bottom right."""
    lines = list(ctx.overlay)
    if ctx.keyboard:
        lines.append("keyboard = visitor's scanner (Tab: staff keypad)" if ctx.keyboard == "scanner"
                     else "keyboard = staff keypad (Tab: visitor's scanner)")
    size = c.px(14)
    y = c.h - c.px(4)
    for line in reversed(lines):
        y = c.text(line, size, WHITE, background=BLACK, role="overlay",
                   bottomright=(c.w - c.px(8), y)).top - c.px(4)


def refresh_key(screen: Screen, now: dt.datetime):
    """What on this screen changes with time: the display redraws when it does."""
    if screen.kind == "locked" and screen.until is not None:
        return now.replace(microsecond=0)
    if screen.kind == "result":
        return None
    return (now.hour, now.minute)

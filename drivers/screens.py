"""Drawing each :class:`~kiosk.model.Screen` onto a pygame surface.

No window here: everything draws onto a Surface it is given, so tests render
offscreen and read pixels. Results fill the screen with the person's colour
and carry a shape that does not depend on colour (a tick, a cross, a raised
hand), so a visitor who cannot tell red from green still reads the answer.

    >>> surface = pygame.Surface((800, 480))
    >>> draw(surface, Screen("result", verdict="admit", colour="green"), Context())
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

import pygame

from kiosk.model import Screen

from .texts import REASONS, reason_words, words

FONTS = os.path.join(os.path.dirname(__file__), "fonts")
FILL = {"green": (34, 139, 58), "blue": (25, 100, 200), "yellow": (240, 196, 48),
        "red": (200, 40, 40), "unknown": (96, 104, 114)}
NAVY, WHITE, INK = (16, 32, 56), (255, 255, 255), (20, 20, 20)
AMBER, BLACK = (255, 196, 0), (0, 0, 0)


@dataclass
class Context:
    """What every screen may need beyond the Screen itself."""

    venue: str = ""
    kiosk_id: str = ""
    qr: Optional[list] = None  # segno's matrix: rows of booleans
    now: dt.datetime = field(default_factory=dt.datetime.now)
    overlay: list = field(default_factory=list)
    preview: Optional[pygame.Surface] = None


@lru_cache(maxsize=32)
def font(size: int, bold: bool = False) -> pygame.font.Font:
    """The bundled DejaVu Sans: pygame's default font draws ғ қ ң ұ ү wrongly."""
    if not pygame.font.get_init():
        pygame.font.init()
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return pygame.font.Font(os.path.join(FONTS, name), size)


def text(surface, line: str, size: int, colour, *, bold=False, center=None, topleft=None,
         max_width: Optional[int] = None) -> pygame.Rect:
    """Draw one line, shrinking it until it fits ``max_width``."""
    while True:
        image = font(size, bold).render(line, True, colour)
        if not max_width or image.get_width() <= max_width or size <= 12:
            break
        size -= 2
    rect = image.get_rect(center=center) if center else image.get_rect(topleft=topleft or (0, 0))
    surface.blit(image, rect)
    return rect


def ink_for(fill) -> tuple:
    """Dark text on light fills (yellow), white elsewhere."""
    return INK if sum(fill) > 500 else WHITE


# ---- shapes: meaning without colour -----------------------------------------

def tick(surface, center, radius, colour):
    x, y = center
    r = radius
    points = [(x - 0.55 * r, y + 0.02 * r), (x - 0.15 * r, y + 0.42 * r), (x + 0.6 * r, y - 0.45 * r)]
    pygame.draw.lines(surface, colour, False, [(int(a), int(b)) for a, b in points], max(8, r // 5))


def cross(surface, center, radius, colour):
    x, y = center
    d = int(radius * 0.5)
    width = max(8, radius // 5)
    pygame.draw.line(surface, colour, (x - d, y - d), (x + d, y + d), width)
    pygame.draw.line(surface, colour, (x - d, y + d), (x + d, y - d), width)


def hand(surface, center, radius, colour):
    """A raised palm: stop and see a person."""
    x, y = center
    u = radius / 10
    palm = pygame.Rect(int(x - 3.2 * u), int(y - 1 * u), int(6.4 * u), int(6 * u))
    pygame.draw.rect(surface, colour, palm, border_radius=int(2 * u))
    for i, height in enumerate((5.0, 6.2, 6.0, 5.0)):
        finger = pygame.Rect(int(x - 3.2 * u + i * 1.65 * u), int(y - 1 * u - height * u),
                             int(1.4 * u), int(height * u + 1.5 * u))
        pygame.draw.rect(surface, colour, finger, border_radius=int(0.7 * u))
    thumb = [(x - 3.2 * u, y + 1.5 * u), (x - 5.6 * u, y - 1.2 * u), (x - 4.6 * u, y - 2.0 * u),
             (x - 2.6 * u, y + 0.2 * u)]
    pygame.draw.polygon(surface, colour, [(int(a), int(b)) for a, b in thumb])


def warning(surface, center, radius, colour):
    x, y = center
    pygame.draw.polygon(surface, colour, [(x, y - radius * 0.6), (x - radius * 0.6, y + radius * 0.45),
                                          (x + radius * 0.6, y + radius * 0.45)], max(6, radius // 8))
    text(surface, "!", int(radius * 0.7), colour, bold=True, center=(x, y + radius * 0.05))


SHAPES = {"admit": tick, "deny": cross, "staff": hand}


def badge(surface, shape, center, radius, fill):
    """A white disc with the shape inside, in the fill colour."""
    pygame.draw.circle(surface, WHITE, center, radius)
    shape(surface, center, radius, fill if fill != FILL["yellow"] else INK)


# ---- screens ----------------------------------------------------------------

def three(surface, key_words, top: int, sizes=(44, 24, 24), colour=WHITE, left=None, width=None):
    """The kiosk's language large, the other two smaller, stacked from ``top``."""
    w, _ = surface.get_size()
    width = width or w - 60
    y = top
    for line, size in zip(key_words, sizes):
        if left is None:
            rect = text(surface, line, size, colour, bold=size == sizes[0],
                        center=(w // 2, y + size // 2), max_width=width)
        else:
            rect = text(surface, line, size, colour, bold=size == sizes[0], topleft=(left, y),
                        max_width=width)
        y = rect.bottom + 8
    return y


def banners(surface, screen: Screen):
    w, _ = surface.get_size()
    lines = []
    if not screen.online:
        lines.append(" · ".join(words("offline", screen.language)))
    if not screen.clock_synced:
        lines.append(" · ".join(words("clock", screen.language)))
    for i, line in enumerate(lines):
        band = pygame.Rect(0, i * 34, w, 34)
        pygame.draw.rect(surface, AMBER, band)
        text(surface, "⚠ " + line, 18, BLACK, bold=True, center=band.center, max_width=w - 20)


def draw_result(surface, screen: Screen, ctx: Context):
    w, h = surface.get_size()
    fill = FILL.get(screen.colour or "unknown", FILL["unknown"])
    if screen.verdict != "admit" and screen.colour in (None, "unknown"):
        fill = FILL["red"] if screen.verdict == "deny" else FILL["unknown"]
    ink = ink_for(fill)
    surface.fill(fill)
    verdict = screen.verdict or "staff"
    badge(surface, SHAPES[verdict], (h // 2 - 30, h // 2 - 30), h // 3 - 10, fill)
    left = h - 40
    key = "repeat" if screen.reason == "repeat" else verdict
    y = three(surface, words(key, screen.language), 40, (46, 24, 24), ink, left=left,
              width=w - left - 24)
    if screen.masked:
        y = text(surface, screen.masked, 40, ink, bold=True, topleft=(left, y + 14)).bottom
    if screen.colour and screen.colour != "unknown":
        text(surface, " / ".join(words(screen.colour, screen.language)), 20, ink,
             topleft=(left, y + 10))
    if verdict == "deny" and screen.reason in REASONS:  # why, where the colour does not say
        text(surface, " / ".join(reason_words(screen.reason, screen.language)[:2]), 20, ink,
             topleft=(left, y + 40), max_width=w - left - 20)
    if screen.cached:
        text(surface, " · ".join(words("cached", screen.language)[:2]), 16, ink,
             topleft=(left, h - 150), max_width=w - left - 20)
    if screen.group_left:
        text(surface, f"× {screen.group_left}", 28, ink, bold=True, topleft=(24, 24))
    if verdict == "deny" and screen.reference:
        refund_band(surface, screen, ctx)


def refund_band(surface, screen: Screen, ctx: Context):
    """Proof for a refund: a photo of this band is enough."""
    w, h = surface.get_size()
    band = pygame.Rect(0, h - 110, w, 110)
    pygame.draw.rect(surface, WHITE, band)
    at = (screen.at or ctx.now).strftime("%Y-%m-%d %H:%M:%S")
    label = " / ".join(words("refund", screen.language)[:2])
    text(surface, label, 18, INK, topleft=(24, band.top + 10), max_width=w - 48)
    text(surface, screen.reference, 40, INK, bold=True, topleft=(24, band.top + 36))
    text(surface, f"{at}  ·  {ctx.venue}  ·  {ctx.kiosk_id}", 18, INK,
         topleft=(300, band.top + 52), max_width=w - 320)


def draw_idle(surface, screen: Screen, ctx: Context):
    w, h = surface.get_size()
    surface.fill(NAVY)
    qr_size = 0
    if ctx.qr:
        qr_size = min(h - 160, 260)
        draw_qr(surface, ctx.qr, pygame.Rect(w - qr_size - 40, h - qr_size - 60, qr_size, qr_size))
        text(surface, words("app", screen.language)[0], 16, WHITE,
             center=(w - qr_size // 2 - 40, h - 36), max_width=qr_size + 40)
    width = w - qr_size - 110
    three(surface, words("scan", screen.language), 110, (36, 22, 22), WHITE, left=40, width=width)
    three(surface, words("scan-hint", screen.language), 300, (20, 16, 16), (180, 196, 220),
          left=40, width=width)
    text(surface, ctx.now.strftime("%H:%M"), 30, WHITE, bold=True, topleft=(w - 130, 52))
    text(surface, ctx.venue, 18, (180, 196, 220), topleft=(40, 58), max_width=w - 200)
    if screen.group_left:
        text(surface, f"× {screen.group_left}", 26, AMBER, bold=True, topleft=(40, h - 50))
    if ctx.preview is not None:
        surface.blit(ctx.preview, (40, h - ctx.preview.get_height() - 20))
    banners(surface, screen)


def draw_qr(surface, matrix, rect: pygame.Rect):
    pygame.draw.rect(surface, WHITE, rect.inflate(24, 24), border_radius=8)
    cells = len(matrix)
    cell = rect.width / cells
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                pygame.draw.rect(surface, BLACK, (rect.left + int(x * cell), rect.top + int(y * cell),
                                                  int(cell + 1), int(cell + 1)))


def draw_message(surface, screen: Screen, ctx: Context, key: str, fill, shape=None):
    w, h = surface.get_size()
    surface.fill(fill)
    top = 60
    if shape is not None:
        badge(surface, shape, (w // 2, 120), 70, fill)
        top = 210
    y = three(surface, words(key, screen.language), top, (36, 22, 22))
    if screen.kind == "refused" and screen.reason:
        three(surface, reason_words(screen.reason, screen.language), y + 12, (28, 18, 18), AMBER)
    elif screen.masked:
        text(surface, screen.masked, 36, WHITE, bold=True, center=(w // 2, y + 40))
    banners(surface, screen)


def draw_staff(surface, screen: Screen, ctx: Context):
    w, h = surface.get_size()
    surface.fill(BLACK)
    stripe = 28
    for x in range(-h, w + h, stripe * 2):  # hazard stripes: unmistakably not a visitor screen
        pygame.draw.polygon(surface, AMBER, [(x, 0), (x + stripe, 0), (x + stripe + h, h), (x + h, h)])
    pygame.draw.rect(surface, (24, 24, 24), pygame.Rect(24, 24, w - 48, h - 48))
    y = three(surface, words("staff-mode", screen.language), 44, (36, 20, 20), AMBER)
    mode = screen.reason or "menu"
    who = screen.staff_id or ""
    if mode == "pin":
        y = text(surface, " / ".join(words("pin", screen.language)[:2]), 22, WHITE,
                 center=(w // 2, y + 30)).bottom
    elif who:
        y = text(surface, who, 24, WHITE, center=(w // 2, y + 24)).bottom
    if screen.typed:
        y = text(surface, screen.typed, 44, WHITE, bold=True, center=(w // 2, y + 44)).bottom
    if mode == "menu":
        menu = "1 admit  2 deny  3 type number  4 resolve  5 group  6 language  * exit"
        text(surface, menu, 18, (200, 200, 200), center=(w // 2, h - 60), max_width=w - 80)
    if screen.group_left:
        text(surface, f"group × {screen.group_left}", 24, AMBER, bold=True, center=(w // 2, h - 100))


def draw(surface: pygame.Surface, screen: Screen, ctx: Context) -> None:
    kind = screen.kind
    if kind == "result":
        draw_result(surface, screen, ctx)
    elif kind == "idle":
        draw_idle(surface, screen, ctx)
    elif kind == "checking":
        draw_message(surface, screen, ctx, screen.reason if screen.reason == "group-next" else "checking", NAVY)
    elif kind == "busy":
        draw_message(surface, screen, ctx, screen.reason or "busy", NAVY)
    elif kind == "refused":
        draw_message(surface, screen, ctx, "refused", (70, 70, 78), warning)
    elif kind == "locked":
        draw_message(surface, screen, ctx, "locked", (70, 70, 78), cross)
    else:
        draw_staff(surface, screen, ctx)
    for i, line in enumerate(ctx.overlay):
        w, h = surface.get_size()
        image = font(14).render(line, True, WHITE, BLACK)
        surface.blit(image, (w - image.get_width() - 8, h - 22 * (len(ctx.overlay) - i)))

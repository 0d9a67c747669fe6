"""Text that fits: sizes in units of the screen, lines that shrink or wrap
into the room they are given, and a record of what was drawn where.

A screen's unit ``u`` is 1 at 800x480 (and 480x800) and grows with the
display, so one layout serves every size. A block of lines is fitted into a
rectangle: each line keeps its size if it fits, otherwise shrinks a little,
then wraps onto a second line, and the whole block scales down together if
it is too tall. The first line of a block is its heading: it never ends up
smaller than the lines under it.

    >>> canvas = Canvas(pygame.Surface((800, 480)))
    >>> bottom = canvas.block([Line("КІРІҢІЗ", 46, bold=True), Line("ПРОХОДИТЕ", 24)],
    ...                       pygame.Rect(20, 20, 300, 200), (255, 255, 255))

When a list is given as ``record``, every drawn line is recorded with the
lowest contrast between its glyphs and the pixels behind them, so a test can
hold every screen to WCAG without looking at it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Optional

import pygame

from .contrast import luminance, luminance_ratio as _ratio

FONTS = os.path.join(os.path.dirname(__file__), "fonts")
SMALLEST = 11  # px: below this nothing is readable at a door
GAP = 0.25  # of a line's size, between lines


@lru_cache(maxsize=512)
def font(size: int, bold: bool = False) -> pygame.font.Font:
    """The bundled DejaVu Sans: pygame's default font draws ғ қ ң ұ ү wrongly."""
    if not pygame.font.get_init():
        pygame.font.init()
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return pygame.font.Font(os.path.join(FONTS, name), max(int(size), 1))


@dataclass(frozen=True)
class Line:
    """One line of a block: its text, size in px (already scaled), weight."""

    text: str
    size: int
    bold: bool = False
    colour: Optional[tuple] = None  # None: the block's colour


@dataclass
class Drawn:
    """What a test needs to know about one drawn line or box."""

    rect: pygame.Rect
    text: str = ""
    size: int = 0
    contrast: float = 21.0  # the lowest ratio between the text and what is behind it
    role: str = ""  # "heading", "sub", "banner", "header", ...
    block: int = 0  # lines drawn by one block share this


def width_of(line: str, size: int, bold: bool) -> int:
    return font(size, bold).size(line)[0]


def wrap(line: str, size: int, bold: bool, width: int) -> list[str]:
    """Greedy word wrap; a word wider than ``width`` is cut where it must be."""
    rows: list[str] = []
    for word in line.split(" "):
        candidate = f"{rows[-1]} {word}" if rows else word
        if rows and width_of(candidate, size, bold) <= width:
            rows[-1] = candidate
            continue
        while width_of(word, size, bold) > width and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and width_of(word[:cut], size, bold) > width:
                cut -= 1
            rows.append(word[:cut])
            word = word[cut:]
        rows.append(word)
    return rows


def fit(line: Line, width: int, floor: int, shrink: float = 0.9) -> list[Line]:
    """``line`` as one or more lines no wider than ``width``, no smaller than
    ``floor`` unless even one word needs it: first smaller (down to ``shrink``
    of its size), then on two lines, then smaller again."""
    size, floor = line.size, max(min(floor, line.size), SMALLEST)
    if not line.text:
        return []
    wide = width_of(line.text, size, line.bold)
    if wide <= width:
        return [line]
    single = int(size * width / wide)
    while single >= floor and width_of(line.text, single, line.bold) > width:
        single -= 1
    if single >= max(floor, size * shrink):
        return [replace(line, size=single)]
    for tried in range(size, floor - 1, -1):
        rows = wrap(line.text, tried, line.bold, width)
        if len(rows) <= 2:
            return [replace(line, text=row, size=tried) for row in rows]
    rows = wrap(line.text, floor, line.bold, width)
    return [replace(line, text=row, size=floor) for row in rows]


def one_line(lines: list[Line], width: int) -> list[Line]:
    """Lines that must not wrap (a reference, a menu): all at the largest
    common size at which every one of them fits on one line."""
    size = min((line.size for line in lines), default=SMALLEST)
    while size > SMALLEST and any(width_of(line.text, size, line.bold) > width for line in lines):
        size -= 1
    return [replace(line, size=size) for line in lines]


def fit_block(lines: list[Line], width: int, *, floor_ratio: float = 0.6) -> list[tuple[Line, str]]:
    """Fit every line; the first is the heading and stays at least as large as
    the largest line under it."""
    if not lines:
        return []
    subs = [(row, "sub") for line in lines[1:] for row in even(line, lines[1:], width, floor_ratio)]
    largest = max((row.size for row, _ in subs), default=SMALLEST)
    heading = lines[0]
    floor = max(largest, int(heading.size * floor_ratio)) if heading.size >= largest else heading.size
    return [(row, "heading") for row in fit(heading, width, floor, shrink=0.75)] + subs


def even(line: Line, lines: list[Line], width: int, floor_ratio: float) -> list[Line]:
    """``line`` fitted at the size of the smallest line that was meant to be as
    large as it: the other languages under a heading stay one size."""
    peers = [fit(other, width, int(other.size * floor_ratio)) for other in lines
             if other.size == line.size and other.bold == line.bold]
    size = min(row.size for rows in peers for row in rows) if any(peers) else line.size
    return fit(replace(line, size=size), width, size)


def block_height(fitted) -> int:
    return sum(font(row.size, row.bold).get_height() for row, _ in fitted) + \
        sum(int(row.size * GAP) for row, _ in fitted[1:])


def scaled(lines: list[Line], factor: float) -> list[Line]:
    return [replace(line, size=max(SMALLEST, int(line.size * factor))) for line in lines]


def group_line(c: "Canvas", screen, size=26, colour=None) -> list[Line]:
    """"Group × N" in the three languages, or nothing outside a group."""
    if not screen.group_left:
        return []
    from .texts import words
    return [Line(f"{' · '.join(words('group', screen.language))} × {screen.group_left}", c.px(size),
                 bold=True, colour=colour)]


def occupancy_line(c: "Canvas", screen, colour=None) -> list[Line]:
    """"N / M inside" on an entry door with a limit; "≈ ... estimate" when
    the door is offline and counts on its own."""
    if screen.limit is None or screen.occupancy is None:
        return []
    from .texts import words
    said = " · ".join(words("inside", screen.language))
    line = f"{screen.occupancy} / {screen.limit}  {said}"
    if screen.estimate:
        line = f"\u2248 {line}  ({' · '.join(words('estimate', screen.language))})"
    full = screen.occupancy >= screen.limit
    return [Line(line, c.px(24), bold=True, colour=colour if full or screen.estimate else None)]


class Canvas:
    """A surface with its unit, drawing helpers and an optional record."""

    def __init__(self, surface: pygame.Surface, record: Optional[list] = None):
        self.surface = surface
        self.w, self.h = surface.get_size()
        self.u = min(max(self.w, self.h) / 800, min(self.w, self.h) / 480)
        self.is_portrait = self.h > self.w
        self.record = record
        self._blocks = 0

    def px(self, n: float) -> int:
        return max(1, round(n * self.u))

    def text_width(self, line: Line) -> int:
        return width_of(line.text, line.size, line.bold)

    def box(self, rect: pygame.Rect, colour, role: str = "box", **kw) -> pygame.Rect:
        pygame.draw.rect(self.surface, colour, rect, **kw)
        if self.record is not None:
            self.record.append(Drawn(pygame.Rect(rect), role=role))
        return rect

    def text(self, line: str, size: int, colour, *, bold=False, role="text", block=0,
             background=None, **anchor) -> pygame.Rect:
        """One line, exactly at ``size``, placed by a pygame.Rect anchor
        (``topleft=``, ``center=``, ``topright=`` ...)."""
        image = font(size, bold).render(line, True, colour, background)
        rect = image.get_rect(**anchor)
        worst = 21.0
        if self.record is not None:
            worst = self._contrast(image, rect, colour) if background is None else \
                _ratio(luminance(colour), luminance(background))
        self.surface.blit(image, rect)
        if self.record is not None:
            self.record.append(Drawn(rect, line, size, worst, role, block))
        return rect

    def block(self, lines: list[Line], rect: pygame.Rect, colour, *, align="left",
              middle=False, fitted=None) -> int:
        """Fit ``lines`` into ``rect`` (shrinking together if too tall) and
        draw them from its top (or centred in it); returns the bottom of the
        last line. ``fitted``: lines already fitted (by :meth:`fit`) to draw as they are."""
        fitted = fitted if fitted is not None else self.fit(lines, rect)
        self._blocks += 1
        y = rect.top
        if middle:
            y += max(0, (rect.height - block_height(fitted)) // 2)
        for i, (row, role) in enumerate(fitted):
            if i:
                y += int(row.size * GAP)
            anchor = {"midtop": (rect.centerx, y)} if align == "center" else \
                {"topright": (rect.right, y)} if align == "right" else {"topleft": (rect.left, y)}
            y = self.text(row.text, row.size, row.colour or colour, bold=row.bold, role=role,
                          block=self._blocks, **anchor).bottom
        return y

    def fit(self, lines: list[Line], rect: pygame.Rect):
        """The fitted lines of a block, scaled down until they fit the height."""
        factor = 1.0
        while True:
            fitted = fit_block(scaled(lines, factor), rect.width)
            if block_height(fitted) <= rect.height or factor < 0.2:
                return fitted
            factor *= 0.9

    def _contrast(self, image: pygame.Surface, rect: pygame.Rect, colour) -> float:
        """Lowest contrast between ``colour`` and the pixels under the glyphs."""
        import numpy
        area = rect.clip(self.surface.get_rect())
        if area.width <= 0 or area.height <= 0:
            return 0.0  # drawn off screen: unreadable
        alpha = pygame.surfarray.array_alpha(image)
        glyph = alpha[area.left - rect.left:area.right - rect.left,
                      area.top - rect.top:area.bottom - rect.top] >= 128
        behind = pygame.surfarray.array3d(self.surface.subsurface(area))[glyph]
        if behind.size == 0:
            return 21.0
        colours = numpy.unique(behind.reshape(-1, 3), axis=0)
        text_l = luminance(colour)
        return min(_ratio(text_l, luminance(tuple(int(v) for v in c))) for c in colours)


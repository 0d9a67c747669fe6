"""The staff screen: hazard stripes round it, so nobody mistakes it for a
visitor's answer, and every word in all three languages.

Its ``reason`` is the keypad's mode (kiosk/staff.py): "pin" asks for the PIN
(dots), "menu" lists the keys, "typing" asks for a number after key 3 and
echoes it masked, "group-size" asks how many people a group holds,
"occupancy-count" how many people staff counted inside (key 7).
"""
from __future__ import annotations

import pygame

from .layout import GAP, Canvas, Line, group_line, one_line
from .texts import words

AMBER, BLACK, PANEL, WHITE = (255, 196, 0), (0, 0, 0), (24, 24, 24), (255, 255, 255)
LIGHT = (220, 220, 220)
MENU = ("1", "2", "3", "4", "5", "6", "7", "*")
PROMPTS = {"pin": "pin", "typing": "type-number", "group-size": "group-size",
           "occupancy-count": "occupancy-count"}


def stripes(c: Canvas) -> pygame.Rect:
    """Amber and black stripes; returns the dark panel inside them."""
    c.surface.fill(BLACK)
    stripe = c.px(28)
    w, h = c.w, c.h
    for x in range(-h, w + h, stripe * 2):
        pygame.draw.polygon(c.surface, AMBER, [(x, 0), (x + stripe, 0), (x + stripe + h, h), (x + h, h)])
    inner = pygame.Rect(0, 0, w, h).inflate(-2 * c.px(24), -2 * c.px(24))
    pygame.draw.rect(c.surface, PANEL, inner)
    return inner


def menu_lines(c: Canvas, language: str, keys, width: int, row_height: int) -> list[Line]:
    """One key a line, all three languages, every line the same size: as
    large as fits ``width`` and ``row_height``."""
    size = min(c.px(20), int(row_height / (1.17 + GAP)))
    return one_line([Line(f"{key}   " + " · ".join(words(f"menu-{key}", language)), size)
                     for key in keys], width)


def draw_staff(c: Canvas, screen, ctx) -> None:
    inner = stripes(c)
    pad = c.px(20)
    room = inner.inflate(-2 * pad, -2 * pad)
    language = screen.language
    mode = screen.reason or "menu"
    lines = [Line(text, c.px(size), bold=i == 0, colour=AMBER)
             for i, (text, size) in enumerate(zip(words("staff-mode", language), (44, 18, 18)))]
    if mode != "pin" and screen.staff_id:
        lines.append(Line(screen.staff_id, c.px(22)))
    if mode in PROMPTS:
        said = words(PROMPTS[mode], language)
        lines += [Line(said[0], c.px(22)), Line(said[1], c.px(16)), Line(said[2], c.px(16))]
    if screen.typed or mode in PROMPTS:
        lines.append(Line(screen.typed or "_", c.px(40), bold=True))
    lines += group_line(c, screen, 22, AMBER)
    if mode != "menu":
        c.block(lines, room, WHITE, align="center", middle=True)
        return
    menu_h = int(room.height * 0.45)
    top = pygame.Rect(room.left, room.top, room.width, room.height - menu_h - pad)
    c.block(lines, top, WHITE, align="center", middle=True)
    menu = pygame.Rect(room.left, top.bottom + pad, room.width, menu_h)
    pygame.draw.line(c.surface, AMBER, (menu.left, menu.top - pad // 2), (menu.right, menu.top - pad // 2),
                     max(1, c.px(2)))
    columns, items = max(((n, menu_lines(c, language, MENU, (menu.width - pad * (n - 1)) // n,
                                         menu.height // -(-len(MENU) // n)))
                          for n in (1, 2)), key=lambda pair: pair[1][0].size)
    rows = -(-len(MENU) // columns)
    width = (menu.width - pad * (columns - 1)) // columns
    for i in range(columns):
        column = pygame.Rect(menu.left + i * (width + pad), menu.top, width, menu.height)
        c.block([], column, LIGHT, fitted=[(line, "menu") for line in items[i * rows:(i + 1) * rows]])

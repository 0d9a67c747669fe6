"""Shapes that carry a screen's meaning without colour, so a visitor who
cannot tell red from green still reads it: a tick (come in), a cross (no
entry), a raised hand (see staff), a question mark (we could not check), a
warning sign (this document), people (full), pause (out of service).

Each draws inside a circle of ``radius`` around ``center`` in one colour.
"""
from __future__ import annotations

import pygame


def _points(points):
    return [(int(a), int(b)) for a, b in points]


def tick(surface, center, radius, colour):
    x, y = center
    r = radius
    points = [(x - 0.55 * r, y + 0.02 * r), (x - 0.15 * r, y + 0.42 * r), (x + 0.6 * r, y - 0.45 * r)]
    pygame.draw.lines(surface, colour, False, _points(points), max(6, r // 5))


def cross(surface, center, radius, colour):
    x, y = center
    d = int(radius * 0.5)
    width = max(6, radius // 5)
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
    pygame.draw.polygon(surface, colour, _points(thumb))


def question(surface, center, radius, colour):
    """A question mark: the answer is not known, whatever the status is."""
    from .layout import font
    image = font(int(radius * 1.25), bold=True).render("?", True, colour)
    surface.blit(image, image.get_rect(center=(int(center[0]), int(center[1] + radius * 0.04))))


def warning(surface, center, radius, colour):
    """A warning triangle with an exclamation mark: this document, not you."""
    x, y = center
    r = radius
    pygame.draw.polygon(surface, colour, _points([(x, y - r * 0.6), (x - r * 0.62, y + r * 0.45),
                                                  (x + r * 0.62, y + r * 0.45)]), max(5, r // 8))
    width = max(4, r // 9)
    pygame.draw.line(surface, colour, (int(x), int(y - r * 0.25)), (int(x), int(y + r * 0.12)), width)
    pygame.draw.circle(surface, colour, (int(x), int(y + r * 0.27)), max(2, width * 2 // 3))


def people(surface, center, radius, colour):
    """Three people side by side: the venue is full."""
    x, y = center
    r = radius
    for dx, scale in ((-0.42, 0.8), (0.42, 0.8), (0.0, 1.0)):
        head = (int(x + dx * r), int(y - 0.28 * r * scale))
        pygame.draw.circle(surface, colour, head, int(0.16 * r * scale))
        body = pygame.Rect(0, 0, int(0.46 * r * scale), int(0.46 * r * scale))
        body.midtop = (head[0], int(head[1] + 0.2 * r * scale))
        pygame.draw.rect(surface, colour, body, border_top_left_radius=int(0.2 * r * scale),
                         border_top_right_radius=int(0.2 * r * scale))


def pause(surface, center, radius, colour):
    """Two bars: this door is not working now."""
    x, y = center
    r = radius
    for dx in (-0.22, 0.22):
        bar = pygame.Rect(0, 0, int(0.2 * r), int(0.8 * r))
        bar.center = (int(x + dx * r), int(y))
        pygame.draw.rect(surface, colour, bar, border_radius=int(0.04 * r))


def badge(surface, shape, center, radius, disc, ink):
    """A disc with the shape inside it."""
    pygame.draw.circle(surface, disc, center, radius)
    shape(surface, center, radius, ink)


def padlock(surface, center, radius, colour):
    """A padlock: the keypad is locked for a while."""
    x, y = center
    r = radius
    body = pygame.Rect(0, 0, int(0.9 * r), int(0.66 * r))
    body.midtop = (int(x), int(y - 0.1 * r))
    # a whole ring (pygame's thick arcs are speckled); the body hides its foot
    pygame.draw.circle(surface, colour, (int(x), int(y - 0.22 * r)), int(0.3 * r), max(4, r // 8))
    pygame.draw.rect(surface, colour, body, border_radius=int(0.08 * r))

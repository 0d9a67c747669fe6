"""Render every screen offscreen into a folder: the README's pictures.

    python -m drivers.gallery docs/screens

writes each screen at 800x480 (``name.png``) and 1920x1080
(``name@1920x1080.png``), and ``contact-sheet.png``: every screen at every
size in :data:`SIZES`, scaled down side by side. The tests draw the same
screens, so the pictures are what the tests check.
"""
from __future__ import annotations

import datetime as dt
import os
import sys
from zoneinfo import ZoneInfo

from kiosk.core.model import Screen

AT = dt.datetime(2026, 11, 21, 19, 30, tzinfo=ZoneInfo("Asia/Almaty"))
SIZES = ((800, 480), (1024, 600), (1280, 720), (1920, 1080), (480, 800), (1080, 1920))
DOCS_SIZES = ((800, 480), (1920, 1080))
VENUE, KIOSK, QR = "Astana Puppet Theatre", "door-1", "https://ashyq.example.kz/venue/door-1"
M = "\u2022" * 4
SCREENS = {
    "idle": Screen("idle"),
    "offline": Screen("idle", online=False, clock_synced=False),
    "result-green": Screen("result", verdict="admit", colour="green", masked=M + "1427", at=AT),
    "result-blue": Screen("result", verdict="admit", colour="blue", masked=M + "2301", at=AT,
                          language="ru"),
    "result-yellow": Screen("result", verdict="deny", colour="yellow", masked=M + "2304",
                            reference="AB12-CD34", at=AT, language="en"),
    "result-red": Screen("result", verdict="deny", colour="red", masked=M + "3404",
                         reference="K7F2-9QXA", at=AT),
    "see-staff": Screen("result", verdict="staff", colour="blue", masked=M + "2301", at=AT),
    "group-admitted": Screen("result", verdict="admit", colour="green", masked=M + "1427", at=AT,
                             group_left=3, cached=True),
    "lookup-failed": Screen("result", verdict="staff", colour="unknown", masked=M + "1427",
                            reason="lookup-timeout", at=AT, online=False),
    "lookup-not-found": Screen("result", verdict="deny", colour="unknown", masked=M + "1427",
                               reason="lookup-not-found", reference="WWWW-WWWW", at=AT, language="ru"),
    "rate-limited": Screen("result", verdict="staff", colour="unknown", masked=M + "1427",
                           reason="rate-limited", at=AT, language="en"),
    "refused": Screen("refused", reason="not-a-person"),
    "pin-wrong": Screen("refused", reason="pin-wrong", language="ru"),
    "venue-full": Screen("venue-full"),
    "out-of-service": Screen("out-of-service", language="en"),
    "checking": Screen("checking", masked=M + "1427"),
    "group-next": Screen("checking", masked=M + "1427", reason="group-next", group_left=2),
    "busy": Screen("busy", reason="queued"),
    "staff-pin": Screen("staff", typed="\u2022" * 3, reason="pin"),
    "staff": Screen("staff", staff_id="aigerim", typed=M + "1427", reason="typing"),
    "staff-menu": Screen("staff", staff_id="aigerim", reason="menu", group_left=3),
    "staff-group": Screen("staff", staff_id="aigerim", typed="4", reason="group-size", language="en"),
    "locked": Screen("locked", until=AT + dt.timedelta(minutes=4, seconds=32)),
}
# Screens that depend on the display's state more than on the Screen.
STATES = {"scanner-missing": ("idle", {"scanner_ok": False})}


def render(screen: Screen, size, *, record=None, qr=None, venue=VENUE, kiosk_id=KIOSK,
           scanner_ok=True):
    """One screen on a new surface (no window)."""
    import pygame
    from .screens import Context, draw
    surface = pygame.Surface(size)
    draw(surface, screen, Context(venue=venue, kiosk_id=kiosk_id, qr=qr, now=AT, record=record,
                                  scanner_ok=scanner_ok))
    return surface


def all_screens():
    """(name, screen, extra context) for every screen the gallery shows."""
    for name, screen in SCREENS.items():
        yield name, screen, {}
    for name, (base, extra) in STATES.items():
        yield name, SCREENS[base], extra


def contact_sheet(qr, sizes=SIZES, cell_height=120):
    """Every screen (rows) at every size (columns), scaled to one height."""
    import pygame
    from .layout import font
    widths = [int(w * cell_height / h) for w, h in sizes]
    gap, label = 8, 140
    rows = list(all_screens())
    sheet = pygame.Surface((label + sum(widths) + gap * len(sizes), (cell_height + gap) * len(rows) + 30))
    sheet.fill((240, 240, 240))
    x = label
    for (w, h), width in zip(sizes, widths):
        sheet.blit(font(14).render(f"{w}x{h}", True, (20, 20, 20)), (x, 6))
        x += width + gap
    for r, (name, screen, extra) in enumerate(rows):
        y = 30 + r * (cell_height + gap)
        sheet.blit(font(14).render(name, True, (20, 20, 20)), (8, y + cell_height // 2 - 8))
        x = label
        for size, width in zip(sizes, widths):
            image = render(screen, size, qr=qr, **extra)
            sheet.blit(pygame.transform.smoothscale(image, (width, cell_height)), (x, y))
            x += width + gap
    return sheet


def main(argv=None) -> int:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame
    from .display import qr_matrix
    folder = (argv or sys.argv[1:] or ["docs/screens"])[0]
    os.makedirs(folder, exist_ok=True)
    pygame.font.init()
    qr = qr_matrix(QR)
    for name, screen, extra in all_screens():
        for size in DOCS_SIZES:
            suffix = "" if size == DOCS_SIZES[0] else f"@{size[0]}x{size[1]}"
            path = os.path.join(folder, f"{name}{suffix}.png")
            pygame.image.save(render(screen, size, qr=qr, **extra), path)
            print(path)
    path = os.path.join(folder, "contact-sheet.png")
    pygame.image.save(contact_sheet(qr), path)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

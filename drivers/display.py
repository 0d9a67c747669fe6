"""The screen, with pygame: full screen on a Pi with no desktop (SDL's
``kmsdrm`` driver), a window in the demo, offscreen under SDL's ``dummy``
driver in tests and ``--headless``.

    >>> display = Display(800, 480, video_driver="dummy")
    >>> display.open()
    >>> display.show(Screen("idle")); display.render()
    True
    >>> display.render()        # nothing changed: nothing drawn
    False

The application calls :meth:`show` after the relay has fired and
:meth:`render` when it has time; rendering redraws only when the screen
changed, when its clock moves (each minute; each second on a locked keypad's
countdown).

Full screen it takes the display's real size, whatever the configuration
says, and the layout scales to it (drivers/layout.py).

The keyboard in the window is a scanner (type an IIN, press Enter) until Tab
switches it to the staff keypad, and the window says which it is; :meth:`poll_events` returns ("scan", bytes),
("key", name) and ("quit", None).
"""
from __future__ import annotations

import datetime as dt
import os
from typing import Any, Optional

from kiosk.core.errors import DeviceError
from kiosk.core.model import Screen

from .screens import Context, draw, refresh_key

KEYS = {"return": "enter", "enter": "enter", "backspace": "back", "escape": "esc"}


class Display:
    def __init__(self, width: int = 800, height: int = 480, *, fullscreen: bool = False,
                 video_driver: str = "", venue: str = "", kiosk_id: str = "", qr_payload: str = "",
                 screenshot_dir: str = "", timezone: Optional[dt.tzinfo] = None,
                 show_keyboard: Optional[bool] = None):
        self.size = (width, height)
        self.fullscreen = fullscreen
        self.video_driver = video_driver
        self.screenshot_dir = screenshot_dir
        self.timezone = timezone
        self.context = Context(venue=venue, kiosk_id=kiosk_id, qr=qr_matrix(qr_payload))
        # A window is the demo's: say what the keyboard is. Full screen is a door.
        self.show_keyboard = not fullscreen if show_keyboard is None else show_keyboard
        self.screen: Optional[Screen] = None
        self.surface: Any = None  # pygame.Surface once open
        self.is_dirty = False
        self.keyboard = "scanner"  # or "keypad", switched with Tab
        self._typed = ""
        self._drawn_at = None

    @classmethod
    def from_config(cls, cfg) -> "Display":
        from zoneinfo import ZoneInfo
        d = cfg.display
        return cls(d.width, d.height, fullscreen=d.fullscreen, video_driver=d.video_driver,
                   venue=cfg.kiosk.venue, kiosk_id=cfg.kiosk.id, qr_payload=d.qr_payload,
                   screenshot_dir=d.screenshot_dir or os.path.join(cfg.kiosk.state_dir, "screenshots"),
                   timezone=ZoneInfo(cfg.kiosk.timezone))

    def open(self) -> None:
        import pygame
        if self.video_driver:
            os.environ["SDL_VIDEODRIVER"] = self.video_driver
        try:
            pygame.display.init()
            pygame.font.init()
            # (0, 0) full screen is the display's own mode: a 1024x600 panel
            # gets a 1024x600 layout even if the config still says 800x480.
            size, flags = ((0, 0), pygame.FULLSCREEN) if self.fullscreen else (self.size, 0)
            self.surface = pygame.display.set_mode(size, flags)
            self.size = self.surface.get_size()
            pygame.display.set_caption("Ashyq Kiosk")
            if self.fullscreen:
                pygame.mouse.set_visible(False)
        except pygame.error as exc:
            raise DeviceError(f"no display ({exc}); set display.video_driver, "
                              "or run the demo with --headless") from None

    def show(self, screen: Screen) -> None:
        """Cheap: remember what to draw; :meth:`render` draws it."""
        self.screen = screen
        self.is_dirty = True

    def set_scanner(self, connected: bool) -> None:
        """The scanner's callbacks say so (any thread): the banner follows."""
        if connected != self.context.scanner_ok:
            self.context.scanner_ok = connected
            self.is_dirty = True

    def set_overlay(self, lines: list) -> None:
        if lines != self.context.overlay:
            self.context.overlay = list(lines)
            self.is_dirty = True

    def set_preview(self, frame) -> None:
        """A small RGB camera frame (numpy, HxWx3) for the idle screen, or None."""
        import pygame
        self.context.preview = None if frame is None else \
            pygame.surfarray.make_surface(frame.swapaxes(0, 1))
        if self.screen is not None and self.screen.kind == "idle":
            self.is_dirty = True

    def render(self, now: Optional[dt.datetime] = None) -> bool:
        """Draw if anything changed; returns whether it drew."""
        if self.surface is None or self.screen is None:
            return False
        now = now or dt.datetime.now(self.timezone)
        moved = refresh_key(self.screen, now)
        if not self.is_dirty and (moved is None or moved == self._drawn_at):
            return False
        import pygame
        self.context.now = now
        self.context.keyboard = self.keyboard if self.show_keyboard else None
        draw(self.surface, self.screen, self.context)
        pygame.display.flip()
        self.is_dirty = False
        self._drawn_at = moved
        return True

    def poll_events(self) -> list:
        if self.surface is None:
            return []
        import pygame
        events = []
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                events.append(("quit", None))
            elif event.type == pygame.KEYDOWN:
                events += self._key(pygame.key.name(event.key), event.unicode)
        return events

    def _key(self, name: str, char: str) -> list:
        if name == "tab":
            self.keyboard = "keypad" if self.keyboard == "scanner" else "scanner"
            self._typed = ""
            self.is_dirty = True
            return []
        key = KEYS.get(name) or (char.upper() if char and char.isprintable() else None)
        if key is None:
            return []
        if self.keyboard == "keypad":
            return [("key", key)]
        if key == "enter":
            typed, self._typed = self._typed, ""
            return [("scan", typed.encode())] if typed else []
        if key == "back":
            self._typed = self._typed[:-1]
        elif len(key) == 1:
            self._typed = (self._typed + key)[-512:]
        return []

    def screenshot(self, path: Optional[str] = None) -> str:
        import pygame
        if path is None:
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
            os.makedirs(self.screenshot_dir or ".", exist_ok=True)
            path = os.path.join(self.screenshot_dir or ".", f"screen-{stamp}.png")
        self.render()
        pygame.image.save(self.surface, path)
        return path

    def close(self) -> None:
        if self.surface is not None:
            import pygame
            self.surface = None
            pygame.display.quit()


def qr_matrix(payload: str):
    if not payload:
        return None
    import segno
    return [list(map(bool, row)) for row in segno.make(payload, error="m").matrix]

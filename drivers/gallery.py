"""Render every screen offscreen into a folder: the README's pictures.

    python -m drivers.gallery docs/screens
"""
from __future__ import annotations

import datetime as dt
import os
import sys
from zoneinfo import ZoneInfo

from kiosk.core.model import Screen

AT = dt.datetime(2026, 11, 21, 19, 30, tzinfo=ZoneInfo("Asia/Almaty"))
SCREENS = {
    "idle": Screen("idle"),
    "offline": Screen("idle", online=False, clock_synced=False),
    "result-green": Screen("result", verdict="admit", colour="green", masked="\u2022" * 4 + "1427", at=AT),
    "result-blue": Screen("result", verdict="admit", colour="blue", masked="\u2022" * 4 + "2301", at=AT,
                          language="ru"),
    "result-yellow": Screen("result", verdict="deny", colour="yellow", masked="\u2022" * 4 + "2304",
                            reference="AB12-CD34", at=AT, language="en"),
    "result-red": Screen("result", verdict="deny", colour="red", masked="\u2022" * 4 + "3404",
                         reference="K7F2-9QXA", at=AT),
    "see-staff": Screen("result", verdict="staff", colour="blue", masked="\u2022" * 4 + "2301", at=AT),
    "lookup-failed": Screen("result", verdict="staff", colour="unknown", masked="\u2022" * 4 + "1427",
                            reason="lookup-timeout", at=AT, online=False),
    "refused": Screen("refused", reason="not-a-person"),
    "checking": Screen("checking", masked="\u2022" * 4 + "1427"),
    "busy": Screen("busy", reason="busy"),
    "staff": Screen("staff", staff_id="aigerim", typed="\u2022" * 8 + "1427", reason="typing"),
    "staff-menu": Screen("staff", staff_id="aigerim", reason="menu", group_left=3),
    "locked": Screen("locked"),
}


def main(argv=None) -> int:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    from .display import Display
    folder = (argv or sys.argv[1:] or ["docs/screens"])[0]
    os.makedirs(folder, exist_ok=True)
    display = Display(800, 480, video_driver=os.environ["SDL_VIDEODRIVER"],
                      venue="Astana Puppet Theatre", kiosk_id="door-1",
                      qr_payload="https://ashyq.example.kz/venue/door-1")
    display.open()
    for name, screen in SCREENS.items():
        display.show(screen)
        display.render(now=AT)
        print(display.screenshot(os.path.join(folder, f"{name}.png")))
    display.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

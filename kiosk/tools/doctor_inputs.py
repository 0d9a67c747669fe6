"""The doctor's checks that tell a real kiosk from a test rig: the USB
keypad and keyboard-wedge scanner (evdev devices), and whether the config
still runs on mock pins or SDL's dummy screen.

    >>> from kiosk.app.config import load_text
    >>> cfg = load_text('[status]\\nbase_url = "http://x"\\n[signals]\\npin_factory = "mock"\\n')
    >>> check_hardware(cfg).result
    'WARN'
    >>> check_input(cfg, "wedge")
    Row(check='wedge', result='OK', detail='none configured')
"""
from __future__ import annotations

import errno
import os

from kiosk.tools.rows import Row, user_name

INSTALL_INPUT = "sudo systemd/install.sh --with-input"


def check_hardware(cfg) -> Row:
    """WARN when the config drives nothing real: mock pins, a dummy screen."""
    fakes = []
    if cfg.signals.pin_factory == "mock":
        fakes.append('signals.pin_factory = "mock" (the relay is wired to nothing)')
    if cfg.display.enabled and cfg.display.video_driver in ("dummy", "offscreen"):
        fakes.append(f'display.video_driver = "{cfg.display.video_driver}" (nothing on the screen)')
    if fakes:
        return Row("hardware", "WARN", "a test setting in this config: " + "; ".join(fakes))
    return Row("hardware", "OK", "real GPIO and screen configured")


def check_input(cfg, section: str) -> Row:
    """``section`` is "keypad" or "wedge": is its evdev device there, a
    keyboard, and readable by this user? Opened without grabbing, so a
    running kiosk keeps it."""
    path = getattr(cfg, section).evdev_device
    if not path:
        if section == "keypad" and cfg.keypad.matrix_rows:
            return Row(section, "OK", f"matrix keypad on GPIO rows {cfg.keypad.matrix_rows}, "
                       f"columns {cfg.keypad.matrix_cols}")
        return Row(section, "OK", "none configured")
    try:
        import evdev
    except ImportError:
        return Row(section, "FAIL", f"evdev is not installed in this venv; run: {INSTALL_INPUT}")
    if not os.path.exists(path):
        return Row(section, "FAIL", f"{path} not found: plugged in? (ls -l /dev/input/by-id/)")
    try:
        device = evdev.InputDevice(path)
    except OSError as exc:
        if exc.errno == errno.EACCES:
            return Row(section, "FAIL", f"{path}: permission denied for {user_name(os.geteuid())} "
                       "(not in the input group?)")
        return Row(section, "FAIL", f"{path}: {exc.strerror or exc} (not an input event device?)")
    try:
        name, keys = device.name, device.capabilities().get(evdev.ecodes.EV_KEY, [])
    finally:
        device.close()
    if not keys:
        return Row(section, "FAIL", f"{path} ({name}) has no keys: the wrong event device?")
    return Row(section, "OK", f"{path}: {name}, {len(keys)} keys")

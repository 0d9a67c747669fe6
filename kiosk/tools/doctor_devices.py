"""The doctor's hardware checks: scanner, camera, screen and GPIO.

Each opens its device the way the daemon would and closes it again, and
returns a :class:`kiosk.tools.doctor.Row`; the doctor runs each on a thread with
a time limit and turns any exception into a FAIL row. They only look: the
relay is built *off*, and the screen is tried in a subprocess that a timeout
kills, because a DRM init can hang.

    >>> check_scanner(cfg)                     # doctest: +SKIP
    Row(check='scanner', result='OK', detail='/dev/ashyq-scanner opens at 9600 baud')
"""
from __future__ import annotations

import errno
import os
import subprocess
import sys
import warnings

from kiosk.tools.rows import Row, user_name


def check_scanner(cfg) -> Row:
    if not cfg.scanner.enabled:
        return Row("scanner", "OK", "disabled")
    import serial
    port = cfg.scanner.port
    if "://" not in port and not os.path.exists(port):
        return Row("scanner", "FAIL", f"{port} not found: plugged in? the udev rule's ids right?")
    try:
        handle = serial.serial_for_url(port, baudrate=cfg.scanner.baudrate, timeout=0.1)
    except (serial.SerialException, OSError, ValueError) as exc:
        # pyserial wraps EACCES in SerialException, so ask the errno
        if getattr(exc, "errno", None) == errno.EACCES:
            return Row("scanner", "FAIL", f"{port}: permission denied for "
                       f"{user_name(os.geteuid())} (not in the dialout group?)")
        return Row("scanner", "FAIL", f"{port}: {exc}")
    handle.close()
    return Row("scanner", "OK", f"{port} opens at {cfg.scanner.baudrate} baud")


def check_camera(cfg) -> Row:
    if not cfg.camera.enabled:
        return Row("camera", "OK", "disabled")
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")  # the row says it; no log spam
    import cv2
    source = cfg.camera.source
    capture = cv2.VideoCapture(source)
    try:
        if not capture.isOpened():
            return Row("camera", "FAIL", f"cannot open camera {source!r} (wrong source? not in video?)")
        ok, _ = capture.read()
        return Row("camera", "OK", f"{source!r} gives frames") if ok else \
            Row("camera", "FAIL", f"{source!r} opens but gives no frames")
    finally:
        capture.release()


DISPLAY_PROBE = """
import pygame
pygame.display.init()
size = pygame.display.get_desktop_sizes()[0] if pygame.display.get_desktop_sizes() else (0, 0)
pygame.display.set_mode((64, 64))
print(pygame.display.get_driver(), "%dx%d" % tuple(size))
"""


def check_display(cfg, timeout: float = 15) -> Row:
    if not cfg.display.enabled:
        return Row("display", "OK", "disabled")
    env = {**os.environ, "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    # As under systemd: the unit sets kmsdrm, the config may override it.
    env["SDL_VIDEODRIVER"] = cfg.display.video_driver or os.environ.get("SDL_VIDEODRIVER", "kmsdrm")
    try:
        run = subprocess.run([sys.executable, "-c", DISPLAY_PROBE], env=env, capture_output=True,
                             text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return Row("display", "FAIL", f"pygame ({env['SDL_VIDEODRIVER']}) did not start within "
                   f"{timeout:.0f} s")
    if run.returncode:
        last = (run.stderr.strip().splitlines() or ["pygame failed"])[-1]
        return Row("display", "FAIL", f"{env['SDL_VIDEODRIVER']}: {last} (screen plugged in at boot? "
                   "the kiosk running and holding it?)")
    return Row("display", "OK", "SDL driver " + run.stdout.strip())


def check_gpio(cfg) -> Row:
    from gpiozero import BadPinFactory, GPIOPinInUse, OutputDevice

    from drivers.signals import make_pin_factory
    s = cfg.signals
    factory = make_pin_factory(s.pin_factory)
    try:
        with warnings.catch_warnings(record=True) as fallbacks:  # into the row, not stderr
            warnings.simplefilter("always")
            # initial_value=False: building the relay is itself the "off"
            relay = OutputDevice(s.relay_pin, active_high=s.relay_active_high, initial_value=False,
                                 pin_factory=factory)
    except BadPinFactory:
        tried = "; ".join(str(w.message) for w in fallbacks) or "none"
        return Row("gpio", "FAIL", f"no GPIO library works here ({tried}); set signals.pin_factory")
    except GPIOPinInUse:
        return Row("gpio", "FAIL", f"GPIO{s.relay_pin} is in use: the kiosk running? "
                   "(systemctl stop ashyq-kiosk, then doctor again)")
    except PermissionError:
        return Row("gpio", "FAIL", f"permission denied for {user_name(os.geteuid())} (not in gpio?)")
    name = type(relay.pin_factory).__name__
    relay.close()
    if factory is not None:
        factory.close()
    return Row("gpio", "OK", f"relay GPIO{s.relay_pin} via {name}, left off")

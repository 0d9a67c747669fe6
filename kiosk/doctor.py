"""``ashyq-kiosk doctor``: what a technician needs to know, as a table.

Each check runs with a time limit and turns every error into a row, so the
doctor never hangs and never prints a traceback. Exit status 1 if any check
FAILs (a WARN does not fail).

    $ ashyq-kiosk doctor --config /etc/ashyq-kiosk/kiosk.toml
    check      result  detail
    config     OK      /etc/ashyq-kiosk/kiosk.toml
    secrets    OK      mode 0600, owner ashyq
    ...
"""
from __future__ import annotations

import os
import pwd
import stat
import subprocess
import sys
import threading
from typing import Callable

from .errors import ConfigError, KioskError

SERVICE_USER = "ashyq"
Row = tuple[str, str, str]


def _within(seconds: float, check: Callable[[], Row], name: str) -> Row:
    """Run a check on a thread; a check that does not answer in time FAILs."""
    result: list = []

    def run():
        try:
            result.append(check())
        except Exception as exc:  # noqa: BLE001 - every failure becomes a row
            result.append((name, "FAIL", f"{type(exc).__name__}: {exc}"))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    return result[0] if result else (name, "FAIL", f"no answer within {seconds:.0f} s")


def check_secrets(path: str) -> Row:
    if not os.path.exists(path):
        return ("secrets", "WARN", f"{path} missing: no status token, no staff PINs")
    info = os.stat(path)
    mode = stat.S_IMODE(info.st_mode)
    owner = pwd.getpwuid(info.st_uid).pw_name
    allowed = {SERVICE_USER, pwd.getpwuid(os.getuid()).pw_name}
    if mode & 0o077:
        return ("secrets", "FAIL", f"mode {mode:04o}: run chmod 600 {path}")
    if owner not in allowed:
        return ("secrets", "FAIL", f"owned by {owner}: run chown {SERVICE_USER} {path}")
    return ("secrets", "OK", f"mode {mode:04o}, owner {owner}")


def check_scanner(cfg) -> Row:
    if not cfg.scanner.enabled:
        return ("scanner", "OK", "disabled")
    import serial
    port = cfg.scanner.port
    if port.startswith("/") and not os.path.exists(port):
        return ("scanner", "FAIL", f"{port} not found: plugged in? udev rule installed?")
    handle = serial.serial_for_url(port, baudrate=cfg.scanner.baudrate, timeout=0.1)
    handle.close()
    return ("scanner", "OK", f"{port} opens at {cfg.scanner.baudrate} baud")


def check_camera(cfg) -> Row:
    if not cfg.camera.enabled:
        return ("camera", "OK", "disabled")
    import cv2
    capture = cv2.VideoCapture(cfg.camera.source)
    try:
        if not capture.isOpened():
            return ("camera", "FAIL", f"cannot open camera {cfg.camera.source!r}")
        ok, _ = capture.read()
        return ("camera", "OK" if ok else "FAIL", f"{cfg.camera.source!r} " + ("reads frames" if ok else "gives no frames"))
    finally:
        capture.release()


def check_display(cfg) -> Row:
    if not cfg.display.enabled:
        return ("display", "OK", "disabled")
    env = dict(os.environ)
    if cfg.display.video_driver:
        env["SDL_VIDEODRIVER"] = cfg.display.video_driver
    probe = ("import os, pygame; pygame.display.init(); pygame.display.set_mode((64, 64)); "
             "print(pygame.display.get_driver())")
    # A subprocess, so a DRM init that hangs cannot hang the doctor.
    run = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                         timeout=15)
    if run.returncode:
        return ("display", "FAIL", (run.stderr.strip().splitlines() or ["pygame failed"])[-1])
    return ("display", "OK", f"SDL driver {run.stdout.strip().splitlines()[-1]}")


def check_gpio(cfg) -> Row:
    from gpiozero import OutputDevice

    from drivers.signals import make_pin_factory
    s = cfg.signals
    relay = OutputDevice(s.relay_pin, active_high=s.relay_active_high, initial_value=False,
                         pin_factory=make_pin_factory(s.pin_factory))
    name = type(relay.pin_factory).__name__
    relay.close()
    return ("gpio", "OK", f"relay GPIO{s.relay_pin} via {name}, left off")


def check_status(cfg, secrets) -> Row:
    from .errors import LookupFailed
    from .status import StatusClient
    with StatusClient.from_config(cfg, secrets) as client:
        try:
            client.probe()
        except LookupFailed as exc:
            return ("status", "FAIL", f"{cfg.status.base_url}: {exc.cause}")
    return ("status", "OK", f"{cfg.status.base_url} reachable, token accepted")


def check_clock() -> Row:
    from .clock import is_clock_synchronised
    synced = is_clock_synchronised()
    if synced:
        return ("clock", "OK", "synchronised")
    return ("clock", "WARN", "not synchronised: rows are flagged until NTP sets it"
            if synced is False else "cannot tell")


def check_journal(cfg, secrets) -> Row:
    from .wiring import build_journal
    journal, _ = build_journal(cfg, secrets)
    try:
        backlog = journal.backlog()
        integrity = journal.integrity_check()
    finally:
        journal.close()
    if integrity != "ok":
        return ("journal", "FAIL", f"integrity check: {integrity}")
    return ("journal", "WARN" if backlog > 1000 else "OK", f"writable; {backlog} not yet synced")


def run_checks(config_path: str) -> list[Row]:
    from .config import load, load_secrets
    try:
        cfg = load(config_path)
    except ConfigError as exc:
        return [("config", "FAIL", str(p)) for p in exc.problems]
    rows: list[Row] = [("config", "OK", config_path), check_secrets(cfg.kiosk.secrets_file)]
    try:
        secrets = load_secrets(cfg.kiosk.secrets_file, require_private=False)
    except ConfigError as exc:
        return rows + [("secrets", "FAIL", str(p)) for p in exc.problems]
    rows += [
        _within(5, lambda: check_scanner(cfg), "scanner"),
        _within(10, lambda: check_camera(cfg), "camera"),
        _within(20, lambda: check_display(cfg), "display"),
        _within(5, lambda: check_gpio(cfg), "gpio"),
        _within(cfg.status.deadline + 5, lambda: check_status(cfg, secrets), "status"),
        _within(2, check_clock, "clock"),
        _within(10, lambda: check_journal(cfg, secrets), "journal"),
    ]
    return rows


def doctor(config_path: str, out=None) -> int:
    out = out or sys.stdout
    try:
        rows = run_checks(config_path)
    except KioskError as exc:
        rows = [("doctor", "FAIL", str(exc))]
    width = max(len(r[0]) for r in rows) + 2
    print(f"{'check':{width}}result  detail", file=out)
    for name, result, detail in rows:
        print(f"{name:{width}}{result:8}{detail}", file=out)
    failed = [r[0] for r in rows if r[1] == "FAIL"]
    print(f"\n{len(failed)} failed: {', '.join(failed)}" if failed else "\nall checks passed", file=out)
    return 1 if failed else 0

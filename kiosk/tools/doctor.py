"""``ashyq-kiosk doctor``: what a technician needs to know, as one table.

Every check runs on its own thread with its own time limit (the display in a
subprocess, so a hung DRM init is killed) and every error becomes a row: the
doctor never hangs and never prints a traceback. It only looks: the relay is
built *off*, nothing is created in the state folder, and a journal owned by
another user is not opened (root-owned WAL files would lock the service out
of its own journal). Exit status 1 if any check FAILs; a WARN does not.

    $ sudo -u ashyq ashyq-kiosk doctor --config /etc/ashyq-kiosk/kiosk.toml
    (then `ashyq-kiosk test-relay`, with the kiosk stopped, pulses the relay once)
    check    result  detail
    config   OK      /etc/ashyq-kiosk/kiosk.toml
    scanner  FAIL    /dev/ashyq-scanner not found: plugged in? the udev rule's ids right?
    ...
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from typing import Callable, Optional, TextIO

from kiosk.app.config import DEFAULT_PATH as DEFAULT_CONFIG
from kiosk.core.errors import ConfigError
from kiosk.services import clock
from kiosk.services.health import doctor_row as daemon_health  # what the running daemon reported
from kiosk.tools.doctor_devices import check_camera, check_display, check_gpio, check_scanner
from kiosk.tools.doctor_inputs import check_hardware, check_input
from kiosk.tools.rows import Row, user_name

SERVICE_USER = "ashyq"
SYSTEMD_STATE_DIR = "/var/lib/ashyq-kiosk"  # the unit's StateDirectory=
BACKLOG_WARN = 1000


def is_clock_synchronised() -> Optional[bool]:
    """Is the system clock NTP-synchronised? None when nobody can tell.

    >>> is_clock_synchronised() in (True, False, None)
    True
    """
    return clock.is_clock_synchronised(ask_timesyncd=True)


# ---- the checks: each returns a Row, or raises (the runner makes it a row) --
# (the hardware ones are in kiosk/doctor_devices.py)

def check_secrets(path: str) -> Row:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return Row("secrets", "WARN", f"{path} missing: no status token, no staff PINs")
    mode, owner = info.st_mode & 0o777, user_name(info.st_uid)
    if mode & 0o077:
        return Row("secrets", "FAIL", f"mode {mode:04o} lets others read it: chmod 600 {path}")
    if owner not in (SERVICE_USER, user_name(os.geteuid())):
        return Row("secrets", "FAIL", f"owned by {owner}: chown {SERVICE_USER} {path}")
    from kiosk.app.config import load_secrets
    try:
        load_secrets(path, require_private=False)
    except ConfigError as exc:
        return Row("secrets", "FAIL", "; ".join(str(p) for p in exc.problems))
    return Row("secrets", "OK", f"mode {mode:04o}, owner {owner}")


def check_status(cfg, secrets) -> Row:
    try:
        from kiosk.services.status import StatusClient
    except ImportError:
        return Row("status", "WARN", "not available (no status client in this build)")
    from kiosk.core.errors import LookupFailed
    if not secrets.status_token:
        return Row("status", "FAIL", "no status_token in the secrets file")
    client = StatusClient.from_config(cfg, secrets)
    try:
        client.probe()
    except LookupFailed as exc:
        return Row("status", "FAIL", f"{cfg.status.base_url}: {exc.cause}")
    finally:
        client.close()
    return Row("status", "OK", f"{cfg.status.base_url} reachable, token accepted")


def check_clock() -> Row:
    synced = is_clock_synchronised()
    if synced:
        return Row("clock", "OK", "synchronised")
    if synced is False:
        return Row("clock", "WARN", "not synchronised yet: rows are flagged until NTP sets it")
    return Row("clock", "WARN", "cannot tell")


def check_journal(cfg, secrets) -> Row:
    folder = cfg.kiosk.state_dir
    if not os.path.isdir(folder):
        if os.path.abspath(folder) == SYSTEMD_STATE_DIR:
            return Row("journal", "OK", f"{folder} is created by systemd at the first start")
        parent = os.path.abspath(folder)
        while not os.path.exists(parent):
            parent = os.path.dirname(parent)
        if os.access(parent, os.W_OK | os.X_OK):
            return Row("journal", "OK", f"{folder} not created yet; {parent} is writable")
        return Row("journal", "FAIL", f"{folder} missing and {parent} not writable")
    if not os.access(folder, os.W_OK | os.X_OK):
        return Row("journal", "FAIL", f"{folder} is not writable by {user_name(os.geteuid())}")
    path = os.path.join(folder, "journal.sqlite")
    if not os.path.exists(path):
        return Row("journal", "OK", f"{folder} writable; no journal yet")
    owner = os.stat(path).st_uid
    if owner != os.geteuid():
        return Row("journal", "OK", f"{folder} writable; backlog not read as {user_name(os.geteuid())}: "
                   f"sudo -u {user_name(owner)} ashyq-kiosk doctor")
    from kiosk.services.journal import Journal
    journal = Journal(path, person_key=(secrets.person_key or "doctor").encode())
    try:
        backlog = journal.backlog()
        integrity = journal.integrity_check()
    finally:
        journal.close()
    if integrity != "ok":
        return Row("journal", "FAIL", f"integrity check: {integrity}")
    result = "WARN" if backlog > BACKLOG_WARN else "OK"
    return Row("journal", result, f"writable; {backlog} decisions not yet synced")


def check_service() -> Row:
    tool = shutil.which("systemctl")
    if not tool:
        return Row("service", "WARN", "no systemctl here")
    run = subprocess.run([tool, "is-active", "ashyq-kiosk.service"], capture_output=True,
                         text=True, timeout=5)
    state = (run.stdout.strip() or run.stderr.strip() or "unknown").splitlines()[0]
    if "not been booted with systemd" in state:
        return Row("service", "WARN", "cannot tell: systemd is not running here")
    return Row("service", "OK" if state == "active" else "WARN", f"ashyq-kiosk.service {state}")


# ---- running them ------------------------------------------------------

def _run_all(checks: list[tuple[str, float, Callable[[], Row]]]) -> list[Row]:
    """Start every check at once; each gets its own limit from the start."""
    results: dict[str, Row] = {}

    def run(name, check):
        try:
            results[name] = check()
        except Exception as exc:  # noqa: BLE001 - every failure becomes a row
            detail = f"{type(exc).__name__}: {exc}".replace("\n", " ")
            results[name] = Row(name, "FAIL", detail)

    started = time.monotonic()
    threads = []
    for name, limit, check in checks:
        thread = threading.Thread(target=run, args=(name, check), daemon=True, name=f"doctor-{name}")
        thread.start()
        threads.append((name, limit, thread))
    for _name, limit, thread in threads:
        thread.join(max(0.0, started + limit - time.monotonic()))
    return [results.get(name, Row(name, "FAIL", f"no answer within {limit:g} s"))
            for name, limit, _ in threads]


def run_checks(config_path: str) -> list[Row]:
    from kiosk.app.config import load, load_secrets
    try:
        cfg = load(config_path)
    except ConfigError as exc:
        return [Row("config", "FAIL", str(p)) for p in exc.problems] + \
            _run_all([("clock", 5, check_clock), ("service", 6, check_service)])
    try:
        secrets = load_secrets(cfg.kiosk.secrets_file, require_private=False)
    except (ConfigError, OSError):
        secrets = load_secrets(os.devnull + ".absent")  # empty; the secrets row says why
    rows = [Row("config", "OK", config_path)]
    rows += _run_all([
        ("secrets", 5, lambda: check_secrets(cfg.kiosk.secrets_file)),
        ("scanner", 5, lambda: check_scanner(cfg)),
        ("camera", 10, lambda: check_camera(cfg)),
        ("display", 20, lambda: check_display(cfg)),
        ("gpio", 5, lambda: check_gpio(cfg)),
        ("keypad", 5, lambda: check_input(cfg, "keypad")),
        ("wedge", 5, lambda: check_input(cfg, "wedge")),
        ("hardware", 5, lambda: check_hardware(cfg)),
        ("status", cfg.status.deadline + 5, lambda: check_status(cfg, secrets)),
        ("clock", 5, check_clock),
        ("journal", 10, lambda: check_journal(cfg, secrets)),
        ("health", 5, lambda: Row("health", *daemon_health(cfg.kiosk.state_dir))),
        ("service", 6, check_service),
    ])
    return rows


def format_table(rows: list[Row]) -> str:
    width = max([len(row.check) for row in rows] + [5]) + 2
    lines = [f"{'check':{width}}result  detail"]
    lines += [f"{row.check:{width}}{row.result:8}{row.detail}" for row in rows]
    failed = [row.check for row in rows if row.result == "FAIL"]
    lines.append("")
    lines.append(f"{len(failed)} failed: {', '.join(dict.fromkeys(failed))}" if failed
                 else "all checks passed")
    return "\n".join(lines) + "\n"


def doctor(config_path: Optional[str] = None, *, out: Optional[TextIO] = None) -> int:
    """Print the table to ``out`` (stdout); 1 if anything FAILed, else 0."""
    try:
        rows = run_checks(config_path or DEFAULT_CONFIG)
    except Exception as exc:  # noqa: BLE001 - the doctor never shows a traceback
        rows = [Row("doctor", "FAIL", f"{type(exc).__name__}: {exc}")]
    (out or sys.stdout).write(format_table(rows))
    return 1 if any(row.result == "FAIL" for row in rows) else 0

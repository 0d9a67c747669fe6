"""The daemon's health: named faults, each logged once when it starts and
when it clears, kept in a small JSON file that `ashyq-kiosk doctor` reads.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "health.json")  # /run/ashyq-kiosk/ in service
    >>> health = Health(path)
    >>> health.fault("journal", "disk full")   # logged as an error, file rewritten
    >>> health.ok
    False
    >>> health.clear("journal")                # logged as resolved
    >>> read_health(path)["ok"]
    True

Only the main loop pings systemd's watchdog, and only while ``ok``: a kiosk
that cannot record (or has a silent fault) stops the pings and is restarted.
The file lives in the runtime folder when systemd gives one (a tmpfs: it can
still be written when the state folder's disk is full), else in the state
folder. A write that fails is logged once and otherwise ignored: health is
a report, never a reason to stop serving.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from typing import Optional

log = logging.getLogger("ashyq.health")

FILE_NAME = "health.json"
RUNTIME_DIR = "/run/ashyq-kiosk"  # systemd's RuntimeDirectory=ashyq-kiosk


def health_path(state_dir: str) -> str:
    """Where the running daemon keeps its health (RUNTIME_DIRECTORY first)."""
    runtime = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
    return os.path.join(runtime or state_dir, FILE_NAME)


class Health:
    """Faults by name (``journal``, ``notify``, ``actions``...), with why."""

    def __init__(self, path: Optional[str] = None):
        self.path = path
        self.faults: dict[str, str] = {}
        # Drivers' threads report too (a camera whose decoder fails).
        self._lock = threading.RLock()
        self._write_failed = False
        self.write()

    @property
    def ok(self) -> bool:
        return not self.faults

    def fault(self, name: str, why: str) -> None:
        """Record a fault; logged as an error the first time (or when the why changes)."""
        with self._lock:
            if self.faults.get(name) == why:
                return
            self.faults[name] = why
            log.error("unhealthy: %s: %s", name, why)
            self.write()

    def clear(self, name: str) -> None:
        with self._lock:
            if self.faults.pop(name, None) is not None:
                log.warning("recovered: %s", name)
                self.write()

    def summary(self) -> str:
        return "; ".join(f"{name}: {why}" for name, why in sorted(self.faults.items())) or "ok"

    def write(self) -> None:
        if not self.path:
            return
        state = {"ok": self.ok, "faults": self.faults, "pid": os.getpid(), "at": time.time()}
        temporary = f"{self.path}.{os.getpid()}.tmp"
        try:
            with open(temporary, "w", encoding="utf-8") as handle:
                json.dump(state, handle)
            os.replace(temporary, self.path)
            self._write_failed = False
        except OSError as exc:
            if not self._write_failed:  # once, not on every change
                log.error("cannot write health file %s: %s", self.path, exc)
            self._write_failed = True
            try:
                os.unlink(temporary)
            except OSError:
                pass


def read_health(path: str) -> Optional[dict]:
    """The last health the daemon wrote, with ``running`` (its pid alive), or None."""
    try:
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        return None
    try:
        os.kill(int(state.get("pid", 0)), 0)
        state["running"] = True
    except (OSError, ValueError, OverflowError):
        state["running"] = False
    return state


def doctor_row(state_dir: str) -> tuple[str, str]:
    """("OK" | "WARN" | "FAIL", detail) for the doctor's table. The doctor
    runs outside the unit, without RUNTIME_DIRECTORY: look in each place
    the daemon may have written and take the newest report."""
    places = {health_path(state_dir), os.path.join(RUNTIME_DIR, FILE_NAME),
              os.path.join(state_dir, FILE_NAME)}
    found = [p for p in places if os.path.exists(p)]
    state = read_health(max(found, key=os.path.getmtime)) if found else None
    if state is None:
        return "OK", "no health report (the daemon has not run here)"
    faults = "; ".join(f"{k}: {v}" for k, v in sorted(state.get("faults", {}).items()))
    if not state["running"]:
        return ("WARN", f"daemon not running; last reported: {faults}") if faults else \
            ("OK", "daemon not running; it was healthy when it stopped")
    return ("OK", "daemon running and healthy") if state.get("ok") else ("FAIL", faults)

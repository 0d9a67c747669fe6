"""Heartbeats: every ``interval`` seconds (default 30) the kiosk tells the
collector it is alive and how it is (docs/sync-protocol.md, "Heartbeat").

    POST {sync.url}/v1/kiosks/{kiosk_id}/heartbeat   (same token as sync)
    {"version": "0.1.0", "uptime_s": 3600, "backlog": 0, "last_sync": "...",
     "devices": {"scanner": true}, "clock_synced": true, "journal_ok": true,
     "relay_errors": 0, "today": {"admit": 120, "deny": 4, "staff": 2}, "interval": 30,
     "occupancy": {"door": "entry", "limit": 120, "period": "2026-11-18", "entries": 40,
                   "exits": 12, "adjust": 0, "changes": 52}}

The occupancy counts are this door's, cumulative for the period (the
business day), so a repeated beat changes nothing at the collector. Its
answer carries the venue's total (``{"occupancy": {"period", "total",
"limit", "doors"}}``), posted to the app as :class:`~kiosk.core.occupancy.Heard`;
a failed beat posts ``Heard()`` (the door's count becomes an estimate). With a
limit set the app kicks a beat after every count, so near the limit the
other doors hear of an entry within one round trip.

Everything comes from what the app already has; nothing in a heartbeat is
about a person. The answer may set the next interval and carry warnings
(a minimum version), which are logged once each. A heartbeat that fails is
logged once and retried at the next interval: it never touches the scan path.

    >>> beat = Heartbeat(app, "https://collector", "door-1", "token")   # doctest: +SKIP
    >>> beat.beat_once()                                                 # doctest: +SKIP
    {'interval': 30, 'min_version': None, 'warnings': []}
"""
from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
import time
from importlib import metadata
from typing import Optional

import httpx

from kiosk.core.occupancy import Counts, Heard

log = logging.getLogger("ashyq.heartbeat")

DEFAULT_INTERVAL = 30.0
INTERVAL_RANGE = (5.0, 3600.0)  # whatever the collector says, stay in here (or the configured, if shorter)
DEVICE_NAMES = {"SerialScanner": "scanner", "CameraScanner": "camera", "WedgeScanner": "wedge",
                "EvdevKeypad": "keypad", "MatrixKeypad": "keypad"}


def version() -> str:
    try:
        return metadata.version("ashyq-kiosk")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def devices(sources) -> dict:
    """{"scanner": True, "keypad": False, ...} from the drivers' is_connected."""
    found: dict[str, bool] = {}
    for source in sources:
        name = DEVICE_NAMES.get(type(source).__name__, type(source).__name__.lower())
        connected = getattr(source, "is_connected", None)
        if isinstance(connected, bool):
            found[name] = found.get(name, True) and connected
    return found


def counts_since(journal_path: str, since: dt.datetime) -> dict:
    """Decisions per outcome since ``since``, read on a connection of our own
    (read-only, WAL: it never waits for the scan path's appends)."""
    stamp = since.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")
    try:
        with sqlite3.connect(f"file:{journal_path}?mode=ro", uri=True, timeout=2) as db:
            rows = db.execute("SELECT decision, count(*) FROM decisions WHERE at >= ? GROUP BY decision",
                              (stamp,)).fetchall()
    except sqlite3.Error:
        return {}
    return dict(rows)


class Heartbeat:
    """Sends the app's health to the collector on a daemon thread."""

    def __init__(self, app, url: str, kiosk_id: str, token: str, *,
                 interval: float = DEFAULT_INTERVAL, timeout: float = 5.0):
        self.app = app
        self.endpoint = f"{url.rstrip('/')}/v1/kiosks/{kiosk_id}/heartbeat"
        self.interval = interval
        self.floor = min(INTERVAL_RANGE[0], interval)
        self._kicked = threading.Event()
        self.client = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
        self.started = time.monotonic()
        self.sent = 0
        self.last_error = ""
        self.warnings: set[str] = set()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def report(self) -> dict:
        """The heartbeat's body, from the app's own state."""
        app = self.app
        sync = app.syncer.status() if app.syncer is not None else {}
        midnight = dt.datetime.now(app.zone).replace(hour=0, minute=0, second=0, microsecond=0)
        return {
            "version": version(),
            "uptime_s": round(time.monotonic() - self.started),
            "backlog": sync.get("backlog"),
            "last_sync": sync.get("last_success"),
            "sync_error": sync.get("last_error") or None,
            "devices": devices(app.sources),
            "clock_synced": app.clock_synced(),
            "journal_ok": bool(app.is_healthy),
            "relay_errors": getattr(app.signals, "relay_errors", None),
            "today": counts_since(app.journal.path, midnight),
            "interval": self.interval,
            "occupancy": self._occupancy(app),
        }

    @staticmethod
    def _occupancy(app) -> Optional[dict]:
        door = getattr(getattr(app, "kiosk", None), "door", None)
        if door is None:
            return None
        occupancy = door.occupancy  # one attribute read: a consistent snapshot
        return {"door": occupancy.door, "limit": occupancy.own_limit, **occupancy.counts.as_json()}

    def _tell(self, answer: Optional[dict], sent: Optional[dict], asked: float) -> None:
        """The machine hears the collector's total (None: the beat failed)."""
        if sent is not None:
            self.app.post(Heard() if answer is None else heard(answer.get("occupancy"), sent, asked))

    def beat_once(self) -> dict:
        """One heartbeat; the collector's answer, or ``{}`` if it failed."""
        asked = time.monotonic()  # the answer's total is fresher than any scan before this
        report = self.report()
        try:
            response = self.client.post(self.endpoint, json=report)
            response.raise_for_status()
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            if error != self.last_error:
                log.warning("heartbeat failed: %s", error)
            self.last_error = error
            self._tell(None, report["occupancy"], asked)
            return {}
        self.sent, self.last_error = self.sent + 1, ""
        if isinstance(answer, dict):
            self._obey(answer)
            self._tell(answer, report["occupancy"], asked)
            return answer
        return {}

    def _obey(self, answer: dict) -> None:
        interval = answer.get("interval")
        if isinstance(interval, (int, float)) and not isinstance(interval, bool):
            self.interval = min(max(float(interval), self.floor), INTERVAL_RANGE[1])
        for warning in answer.get("warnings") or []:
            if isinstance(warning, str) and warning not in self.warnings:
                log.warning("collector: %s", warning)
                self.warnings.add(warning)

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._kicked.clear()  # a kick from here on means one more beat, none is lost
            try:
                self.beat_once()
            except Exception:
                log.exception("heartbeat round failed")
            self._kicked.wait(self.interval)

    def kick(self) -> None:
        """Beat now rather than at the next interval (thread-safe)."""
        self._kicked.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._kicked.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
        self.client.close()


def heard(answer, sent: dict, asked: float = 0.0) -> Heard:
    """The collector's occupancy answer as the machine's event. A collector
    that says nothing of occupancy still answered: the door is live, with
    nothing to learn (``sent`` None)."""
    if not isinstance(answer, dict):
        return Heard(total=0)

    def number(key, default=None):
        value = answer.get(key, default)
        return value if isinstance(value, int) and not isinstance(value, bool) else default
    if number("total") is None:
        return Heard()  # no total we can trust: count on our own, as offline
    counts = Counts(**{key: sent[key] for key in ("period", "entries", "exits", "adjust", "changes")})
    return Heard(period=str(answer.get("period", "")), total=number("total"),
                 limit=number("limit"), doors=number("doors", 1) or 1, sent=counts, asked=asked)

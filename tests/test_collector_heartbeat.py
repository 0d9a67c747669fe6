"""Heartbeats end to end: the whole daemon (real scans through a pty, real
status server) reports its health to the collector service, and the
collector turns heartbeats into a kiosk's state."""
import datetime as dt
import os
import queue
import threading
import time

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from collector.app import Settings
from collector.health import kiosk_state, problems
from kiosk.app.config import Section
from kiosk.services.heartbeat import Heartbeat, devices
from kiosk.servers.status_server import StatusServer
from kiosk.app.wiring import build_app
from tests.collector_server import Collector
from tests.conftest import make_config
from tests.iins import make_iin

GREEN = make_iin("850101", serial=1001)
SECRETS = Section({"status_token": "s", "person_key": "k", "sync_token": "tok", "staff": []})
UTC = dt.timezone.utc


def wait_for(condition, seconds=20):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


@pytest.fixture
def daemon(tmp_path):
    Device.pin_factory = MockFactory()
    master, slave = os.openpty()
    with StatusServer({GREEN: {"colour": "green", "name": ""}}, token="s") as status, \
            Collector(str(tmp_path / "collector.sqlite"), tokens={"door-1": "tok"},
                      settings=Settings(min_version="99.0")) as collector:
        cfg = make_config(f'[kiosk]\nid = "door-1"\nstate_dir = "{tmp_path / "state"}"\n'
                          f'[scanner]\nport = "{os.ttyname(slave)}"\nterminator = "CR"\n'
                          '[signals]\npin_factory = "mock"\n[display]\nenabled = false\n'
                          f'[sync]\nurl = "{collector.url}"\ninterval = 1\n')
        cfg = cfg.with_changes("status", base_url=status.url)
        decided = queue.Queue()
        app = build_app(cfg, SECRETS, when_decided=decided.put)
        thread = threading.Thread(target=app.run, daemon=True)
        thread.start()
        assert app.sources[0].wait_connected(5)
        yield app, collector, master, decided
        app.stop()
        thread.join(timeout=15)
    os.close(master)
    os.close(slave)
    Device.pin_factory.reset()


def test_the_daemon_reports_its_health(daemon):
    app, collector, master, decided = daemon
    beat = app.syncer.heartbeat
    wait_for(lambda: beat.sent >= 1)
    os.write(master, GREEN.encode() + b"\r")
    assert decided.get(timeout=10).decision == "admit"
    answer = beat.beat_once()
    assert answer["interval"] == 30 and "below the minimum 99.0" in answer["warnings"][0]
    wait_for(lambda: (collector.storage.kiosks()[0]["last_heartbeat"] or {}).get("today"))
    (kiosk,) = collector.storage.kiosks()
    report = kiosk["last_heartbeat"]
    assert report["devices"] == {"scanner": True} and report["journal_ok"] is True
    assert report["today"] == {"admit": 1} and report["uptime_s"] >= 0
    assert report["version"] and "backlog" in report and "last_sync" in report
    assert GREEN not in repr(report) and GREEN[-4:] not in repr(report)
    now = dt.datetime.now(UTC)
    assert kiosk_state(kiosk["last_seen"], kiosk["maintenance"], now) == "online"
    assert "version" in problems(report, min_version="99.0")[-1]


def test_a_collector_that_is_away_costs_one_log_line(tmp_path, caplog):
    class Stub:  # the smallest app a Heartbeat reads: no syncer, no sources
        syncer, sources, is_healthy, signals = None, [], True, None
        zone = UTC
        journal = type("J", (), {"path": str(tmp_path / "missing.sqlite")})()
        clock_synced = staticmethod(lambda: None)
    beat = Heartbeat(Stub(), "http://127.0.0.1:9", "door-1", "tok")
    assert beat.beat_once() == {} and beat.beat_once() == {}
    beat.stop()
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    assert beat.report()["today"] == {} and beat.report()["devices"] == {}


def test_kiosk_states():
    now = dt.datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    assert kiosk_state(None, False, now) == "unknown"
    assert kiosk_state(now - dt.timedelta(seconds=89), False, now) == "online"
    assert kiosk_state(now - dt.timedelta(seconds=91), False, now) == "offline"  # 3 missed
    assert kiosk_state(now, True, now) == "maintenance"
    assert kiosk_state(now - dt.timedelta(seconds=50), False, now, interval=10) == "offline"


def test_device_names_from_drivers():
    class SerialScanner:
        is_connected = True

    class EvdevKeypad:
        is_connected = False
    assert devices([SerialScanner(), EvdevKeypad(), object()]) == {"scanner": True, "keypad": False}

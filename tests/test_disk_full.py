"""The disk under the state folder fills up while the kiosk runs (a small
tmpfs, mounted as root; skipped with its reason elsewhere, CI runs as root):
an admitted visitor is not let through unrecorded, the screen says "out of
service" (not a red result), the health fault says why; when space returns
the kiosk is back without a restart and journals again."""
import os
import queue
import sqlite3
import threading

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.display import Display
from drivers.signals import Signals
from kiosk.app.config import Section
from kiosk.servers.status_server import StatusServer
from kiosk.app.wiring import build_app
from tests.conftest import GREEN_IIN, fill, make_config, wait_until

SECRETS = Section({"status_token": "t", "person_key": "k", "sync_token": "", "staff": []})


def rows(path):
    with sqlite3.connect(path) as db:
        return db.execute("select decision from decisions").fetchall()


def openings(pin):
    return sum(1 for state in pin.states[1:] if state.state)


@pytest.fixture
def rig(tmp_path, tmpfs, monkeypatch):
    state = tmpfs(tmp_path / "state", size="8m")
    monkeypatch.setenv("RUNTIME_DIRECTORY", str(tmp_path))  # health stays writable
    with StatusServer({GREEN_IIN: {"colour": "green", "name": ""}}, token="t") as server:
        master, slave = os.openpty()
        cfg = make_config(f'[kiosk]\nstate_dir = "{state}"\n'
                          f'[scanner]\nport = "{os.ttyname(slave)}"\n'
                          '[policy]\nrescan_seconds = 0\n'
                          '[signals]\npin_factory = "mock"\n'
                          '[display]\nvideo_driver = "dummy"\nfullscreen = false\n'
                          ).with_changes("status", base_url=server.url)
        factory = MockFactory()
        display = Display.from_config(cfg)
        display.open()
        decided = queue.Queue()
        app = build_app(cfg, SECRETS, signals=Signals.from_config(cfg.signals, pin_factory=factory),
                        display=display, when_decided=decided.put)
        thread = threading.Thread(target=app.run, daemon=True)
        thread.start()
        assert app.sources[0].wait_connected(60)
        app.scan = lambda: os.write(master, GREEN_IIN.encode() + b"\r")
        app.relay = factory.pin(cfg.signals.relay_pin)
        app.decided = decided
        app.state = state
        yield app
        app.stop()
        thread.join(timeout=60)
        os.close(master)
        os.close(slave)


def test_disk_full_keeps_the_door_shut_then_journalling_resumes(rig):
    journal = os.path.join(rig.state, "journal.sqlite")
    rig.scan()
    assert rig.decided.get(timeout=60).decision == "admit"
    assert openings(rig.relay) == 1 and len(rows(journal)) == 1

    filler = fill(rig.state)
    rig.scan()  # admitted by the policy, but its row cannot be written
    assert wait_until(lambda: rig.display.screen.kind == "out-of-service")
    assert "journal" in rig.health.faults and not rig.is_healthy
    assert openings(rig.relay) == 0 + 1  # no opening without its row
    assert rig.relay.state is False and len(rows(journal)) == 1
    assert rig.display.screen.verdict is None  # not a red (or green) result

    os.unlink(filler)  # space returns
    assert wait_until(lambda: rig.display.screen.kind == "idle")
    assert rig.is_healthy
    rig.scan()
    assert rig.decided.get(timeout=60).decision == "admit"
    assert wait_until(lambda: openings(rig.relay) == 2)
    assert len(rows(journal)) == 2

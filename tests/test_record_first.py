"""Record before acting, black-box: `ashyq-kiosk run` with our own notify
socket, a pseudo-terminal as scanner and mock pins that log every change.

A kiosk that cannot record refuses to start (no READY, one line saying why);
a journal deleted while running is noticed, the door stays shut, the health
file says why and the watchdog pings stop; a notify socket nobody listens on
is logged and becomes a health fault."""
import json
import os
import sqlite3

import pytest

from kiosk.services.health import doctor_row
from kiosk.services.journal import Journal
from kiosk.servers.status_server import StatusServer
from tests.conftest import (GREEN_IIN, decision, fill, openings_without_a_row, relay_openings,
                            wait_until, write_kiosk_toml)


@pytest.fixture
def server():
    with StatusServer({GREEN_IIN: {"colour": "green", "name": ""}}, token="s") as s:
        yield s


def corrupt_journal(state):
    """A journal that opens (its header is fine) but fails quick_check."""
    os.makedirs(state, exist_ok=True)
    path = os.path.join(state, "journal.sqlite")
    journal = Journal(path, person_key=b"k")
    journal.append_all([decision() for _ in range(400)])
    journal.close()
    with open(path, "r+b") as handle:
        size = os.path.getsize(path)
        handle.seek(size // 2)
        handle.write(b"\xff" * 4096)


@pytest.mark.parametrize("fault", ["read-only", "full", "quick-check"])
def test_no_ready_where_nothing_can_be_recorded(tmp_path, server, daemons, tmpfs, fault):
    state = tmp_path / "state"
    if fault == "read-only":
        tmpfs(state, readonly=True)
        expected = ("Read-only file system",)
    elif fault == "full":
        fill(tmpfs(state, size="1m"))
        expected = ("No space left on device",)
    else:
        corrupt_journal(str(state))
        # SQLite may notice the damage while opening (a damaged schema page)
        # or only in quick_check: either way one line that names the journal.
        expected = ("quick_check", "malformed")
    log_path = tmp_path / "daemon.log"
    with open(log_path, "wb") as log:
        # A person key in the secrets: no key file to write, the journal is the first write.
        config = write_kiosk_toml(tmp_path, status_url=server.url,
                                  secrets={"status_token": "s", "person_key": "k"})
        daemon = daemons(config, log=log)
        daemon.start(wait=False)
        assert daemon.proc.wait(timeout=120) == 1
    assert "READY=1" not in daemon.messages and not daemon.wait_for("READY=1", timeout=0.1)
    output = log_path.read_text()
    last = output.strip().splitlines()[-1]
    assert last.startswith("ashyq-kiosk run: ") and any(e in last for e in expected), output
    assert fault != "quick-check" or "journal" in last
    assert "Traceback" not in output


def test_journal_deleted_while_running_keeps_the_door_shut(tmp_path, server, pty, daemons,
                                                           monkeypatch):
    pins, run = tmp_path / "pins", tmp_path / "run"
    pins.mkdir()
    run.mkdir()
    log_path = tmp_path / "daemon.log"
    config = write_kiosk_toml(tmp_path, status_url=server.url, scanner=pty[1],
                              policy={"rescan_seconds": 0})
    journal = tmp_path / "state" / "journal.sqlite"
    with open(log_path, "wb") as log:
        daemon = daemons(config, log=log, env={"ASHYQ_MOCK_PIN_DIR": str(pins),
                                               "RUNTIME_DIRECTORY": str(run),
                                               "WATCHDOG_USEC": "200000"}).start()
        assert daemon.wait_for("WATCHDOG=1")  # healthy: pinging
        os.write(pty[0], GREEN_IIN.encode() + b"\r")
        assert wait_until(lambda: len(relay_openings(pins)) == 1)
        os.unlink(journal)  # a technician's slip, or a failing card's remount
        health = run / "health.json"
        assert wait_until(lambda: "journal" in json.loads(health.read_text())["faults"])
        monkeypatch.setenv("RUNTIME_DIRECTORY", str(run))
        status, detail = doctor_row(str(tmp_path / "state"))
        assert status == "FAIL" and "deleted" in detail
        daemon.drain()
        os.write(pty[0], GREEN_IIN.encode() + b"\r")
        assert wait_until(lambda: "not recorded" in log_path.read_text())
        # Absence over a window of seven ping intervals: the loop stopped pinging.
        assert not daemon.wait_for("WATCHDOG=1", timeout=0.7)
        assert daemon.terminate() == 0  # every step finished: any pulse would be in the log
    assert len(relay_openings(pins)) == 1  # the admit after the deletion opened nothing
    assert "was deleted while the kiosk ran" in log_path.read_text()
    assert not journal.exists()  # nothing wrote a ghost journal back either


def test_a_notify_socket_nobody_listens_on_is_loud(tmp_path, daemons):
    log_path = tmp_path / "daemon.log"
    with open(log_path, "wb") as log:
        daemon = daemons(write_kiosk_toml(tmp_path), log=log)
        daemon.path = str(tmp_path / "nobody-here")  # systemd's socket gone
        daemon.start(wait=False)
        health = tmp_path / "state" / "health.json"
        assert wait_until(lambda: health.exists() and "notify" in json.loads(health.read_text())["faults"])
        daemon.terminate()
    assert "systemd notification failed" in log_path.read_text()


def test_every_opening_in_a_normal_run_has_its_row(tmp_path, server, pty, daemons):
    """The check the crash and disk-full tests rely on, on a run with no fault."""
    pins = tmp_path / "pins"
    pins.mkdir()
    config = write_kiosk_toml(tmp_path, status_url=server.url, scanner=pty[1],
                              policy={"rescan_seconds": 0})
    daemon = daemons(config, env={"ASHYQ_MOCK_PIN_DIR": str(pins)}).start()
    for count in range(1, 4):
        os.write(pty[0], GREEN_IIN.encode() + b"\r")
        journal = str(tmp_path / "state" / "journal.sqlite")
        assert wait_until(lambda: sqlite3.connect(journal).execute(
            "select count(*) from decisions").fetchone()[0] == count)
    assert daemon.terminate() == 0
    openings = relay_openings(pins)
    assert openings and openings_without_a_row(openings, journal) == []

"""`ashyq-kiosk run` as systemd runs it: READY and WATCHDOG on a NOTIFY_SOCKET
we own, safe-state after a SIGKILL mid-pulse, the doctor's table, and logs."""
import io
import logging
import os
import signal
import socket
import subprocess
import sys

import pytest

from kiosk.tools.doctor import doctor
from kiosk.services.notify import MaskNumbers, setup_logging
from kiosk.servers.status_server import StatusServer
from tests.conftest import GREEN_IIN, wait_until, write_kiosk_toml


@pytest.fixture
def server():
    with StatusServer({GREEN_IIN: {"colour": "green", "name": ""}}, token="tok") as s:
        yield s


def write_config(tmp_path, url, port, *, pulse=3.0, secrets_mode=0o600):
    return write_kiosk_toml(tmp_path, status_url=url, scanner=port,
                            secrets={"status_token": "tok"}, secrets_mode=secrets_mode,
                            signals={"pulse_seconds": pulse},
                            display={"enabled": True, "video_driver": "dummy",
                                     "fullscreen": False})


@pytest.fixture
def systemd(daemons):
    """The part of systemd a Type=notify service talks to: a datagram socket."""
    def start(config, **env):
        return daemons(config, env=env).start().proc
    start.daemons = daemons
    return start


def test_ready_then_watchdog_pings_then_stopping(tmp_path, server, pty, systemd):
    daemon = systemd.daemons(write_config(tmp_path, server.url, pty[1]),
                             env={"WATCHDOG_USEC": "400000"}).start()
    assert daemon.wait_for("WATCHDOG=1")
    assert daemon.messages.index("READY=1") < daemon.messages.index("WATCHDOG=1")
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=60) == 0
    assert daemon.wait_for("STOPPING=1", timeout=5)


def test_sigkill_mid_pulse_then_safe_state_turns_the_relay_off(tmp_path, server, pty, systemd):
    """Mock pins kept in files stand in for GPIO lines, which keep their level
    when the process that set them dies."""
    pins = tmp_path / "pins"
    pins.mkdir()
    config = write_config(tmp_path, server.url, pty[1], pulse=10)
    env = {"ASHYQ_MOCK_PIN_DIR": str(pins)}
    relay = pins / "GPIO23"
    proc = systemd(config, **env)
    assert relay.read_text() == "0"  # off from the start
    os.write(pty[0], GREEN_IIN.encode() + b"\r")
    assert wait_until(lambda: relay.read_text() == "1")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert relay.read_text() == "1"  # the line stays where the dead process left it
    run = subprocess.run([sys.executable, "-m", "kiosk.cli", "safe-state", "--config", config],
                         env={**os.environ, **env}, capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    assert relay.read_text() == "0"


def test_doctor_passes_a_good_setup_and_names_what_fails(tmp_path, server, pty):
    out = io.StringIO()
    assert doctor(write_config(tmp_path, server.url, pty[1]), out=out) == 0, out.getvalue()
    rows = {line.split()[0]: line.split()[1] for line in out.getvalue().splitlines()[1:] if line.strip()
            and not line.startswith(("all", "check"))}
    assert {k: rows[k] for k in ("config", "secrets", "scanner", "gpio", "status", "journal",
                                 "display")} == dict.fromkeys(
        ("config", "secrets", "scanner", "gpio", "status", "journal", "display"), "OK")
    bad = tmp_path / "bad"
    bad.mkdir()
    out = io.StringIO()
    config = write_config(bad, "http://127.0.0.1:9", str(bad / "no-scanner"), secrets_mode=0o644)
    assert doctor(config, out=out) == 1
    table = out.getvalue()
    for name in ("secrets", "scanner", "status"):
        assert any(line.startswith(name) and "FAIL" in line for line in table.splitlines()), table


def test_doctor_reports_config_errors_without_a_traceback(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text("[status]\nbase_ur = 'x'\n")
    out = io.StringIO()
    assert doctor(str(config), out=out) == 1
    assert "did you mean 'base_url'" in out.getvalue() and "Traceback" not in out.getvalue()


def test_logs_mask_numbers_and_carry_journald_priorities(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setenv("JOURNAL_STREAM", "8:1234")
    setup_logging("info", stream=stream)
    logging.getLogger("ashyq.test").warning("scan %s refused, passport N1234567", GREEN_IIN)
    logging.getLogger("ashyq.test").error("plain")
    line, second = stream.getvalue().splitlines()
    assert line.startswith("<4>") and second.startswith("<3>")
    assert GREEN_IIN not in line and "1427" in line and "N1234567" not in line
    for handler in list(logging.getLogger().handlers):
        if any(isinstance(f, MaskNumbers) for f in handler.filters):
            logging.getLogger().removeHandler(handler)


def test_watchdog_pings_never_block_on_an_undrained_socket(tmp_path, monkeypatch):
    """A datagram queue holds about ten messages; the main loop must not hang
    in its eleventh ping if nobody reads them."""
    import threading

    from kiosk.services.notify import Notifier
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    notifier = Notifier()
    done = threading.Event()

    def ping():
        for _ in range(100):
            notifier.watchdog()
        done.set()

    threading.Thread(target=ping, daemon=True).start()
    assert done.wait(10)
    sock.close()

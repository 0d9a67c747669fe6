"""``ashyq-collector``: kiosks and tokens, the audited trace, retention, on
both databases; the console script itself once."""
import datetime as dt
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from collector.cli import main
from collector.protocol import event_rows, hash_token
from collector.sealing import generate_keypair
from collector.storage import open_storage
from kiosk.services.sealing import seal
from tests.collector_server import spawned_children
from tests.pg import postgres_server, storage_url  # noqa: F401 - fixtures

UTC = dt.timezone.utc
ALMATY = dt.timezone(dt.timedelta(hours=5))
NUMBERS = ["871008401427", "061211600012"]


def test_adding_a_kiosk_prints_its_token_once_and_stores_a_hash(storage_url, capsys):
    assert main(["--db", storage_url, "kiosk", "add", "door-1", "--venue", "cafe"]) == 0
    token = capsys.readouterr().out.strip().split()[-1]
    with open_storage(storage_url) as storage:
        assert storage.token_hash("door-1") == hash_token(token)
    assert main(["--db", storage_url, "kiosk", "maintenance", "door-1"]) == 0
    assert main(["--db", storage_url, "kiosk", "list"]) == 0
    assert "door-1\tcafe\tnever\tmaintenance" in capsys.readouterr().out
    assert main(["--db", storage_url, "kiosk", "add", "bad id!"]) == 2
    assert main(["--db", storage_url, "kiosk", "maintenance", "ghost"]) == 1


def _sealed_events(storage_url, public):
    at = dt.datetime(2026, 11, 18, 19, 0, tzinfo=ALMATY)
    with open_storage(storage_url) as storage:
        storage.put_kiosk("door-1", "h", venue="cafe")
        storage.put_kiosk("door-9", "h", venue="elsewhere")
        for kiosk in ("door-1", "door-9"):
            storage.ingest(event_rows(kiosk, {"events": [
                {"id": f"{kiosk}-{n}", "at": (at + dt.timedelta(minutes=n)).isoformat(),
                 "decision": "admit", "masked": "••••" + number[-4:], "sealed": seal(number, public)}
                for n, number in enumerate(NUMBERS)]}, dt.datetime.now(UTC)))


def test_trace_unseals_a_venues_window_and_is_audited(storage_url, tmp_path, capsys):
    private, public = generate_keypair()
    _sealed_events(storage_url, public)
    key = tmp_path / "key"
    key.write_text(private)
    window = ["--venue", "cafe", "--since", "2026-11-18T18:30+05:00", "--until", "2026-11-18T19:01+05:00"]
    assert main(["--db", storage_url, "trace", *window, "--operator", "A. Officer", "--reason",
                 "case 4471", "--private-key-file", str(key)]) == 0
    out = capsys.readouterr().out
    assert NUMBERS[0] in out and NUMBERS[1] not in out  # only the window
    assert out.count("door-1") == 1 and "door-9" not in out  # only the venue
    # A well-formed key of another collector opens nothing, and is audited too.
    key.write_text(generate_keypair()[0])
    assert main(["--db", storage_url, "trace", *window, "--operator", "B", "--reason", "r",
                 "--private-key-file", str(key)]) == 0
    assert not any(n in capsys.readouterr().out for n in NUMBERS)
    # Not a key at all, or no reason: refused before anything is logged.
    key.write_text("not a key")
    assert main(["--db", storage_url, "trace", *window, "--operator", "C", "--reason", "r",
                 "--private-key-file", str(key)]) == 2
    assert main(["--db", storage_url, "audit"]) == 0
    log = capsys.readouterr().out.splitlines()
    assert len(log) == 2 and "A. Officer\tcafe" in log[0] and "\t1\tcase 4471" in log[0]
    assert "\t0\tr" in log[1]
    if not storage_url.startswith("postgresql"):
        with open(storage_url, "rb") as handle:
            data = handle.read()
        assert not any(n.encode() in data for n in NUMBERS)  # sealed at rest, trace or not


def test_a_trace_opens_only_what_happened_at_the_venue_before_and_after_a_move(storage_url, tmp_path, capsys):
    """door-1 served the cafe, then was moved to the bar (and its token
    replaced without --venue, which keeps it there): a trace of the bar
    opens only what came after the move, one of the cafe only what came
    before."""
    private, public = generate_keypair()
    _sealed_events(storage_url, public)  # door-1 at the cafe, 2026-11-18
    assert main(["--db", storage_url, "kiosk", "add", "door-1", "--venue", "bar", "--token", "t2"]) == 0
    assert main(["--db", storage_url, "kiosk", "add", "door-1", "--token", "t3"]) == 0
    later = dt.datetime.now(UTC) + dt.timedelta(minutes=1)
    with open_storage(storage_url) as storage:
        assert storage.kiosk("door-1")["venue"] == "bar"
        storage.ingest(event_rows("door-1", {"events": [
            {"id": "at-bar", "at": later.isoformat(), "decision": "admit", "sealed": seal("770101300123", public)},
            {"id": "no-time", "at": "yesterday", "sealed": seal("660101300456", public)}]},  # its arrival counts
            dt.datetime.now(UTC)))
    key = tmp_path / "key"
    key.write_text(private)
    window = ["--since", "2026-11-01T00:00+00:00", "--until", (later + dt.timedelta(hours=1)).isoformat()]
    opened = {}
    for venue in ("bar", "cafe"):
        assert main(["--db", storage_url, "trace", "--venue", venue, *window, "--operator", "A", "--reason", "r",
                     "--private-key-file", str(key)]) == 0
        opened[venue] = capsys.readouterr().out
    assert "770101300123" in opened["bar"] and "660101300456" in opened["bar"]
    assert not any(n in opened["bar"] for n in NUMBERS)
    assert "770101300123" not in opened["cafe"] and all(n in opened["cafe"] for n in NUMBERS)


def test_a_kiosk_given_its_first_venue_late_was_there_all_along(storage_url, tmp_path, capsys):
    """Registered with no venue, journalling, then given one: a trace of
    that venue finds what it journalled before."""
    private, public = generate_keypair()
    assert main(["--db", storage_url, "kiosk", "add", "door-5", "--token", "t"]) == 0
    with open_storage(storage_url) as storage:
        storage.ingest(event_rows("door-5", {"events": [
            {"id": "early", "at": "2026-11-18T10:00+00:00", "sealed": seal(NUMBERS[0], public)}]},
            dt.datetime.now(UTC)))
    assert main(["--db", storage_url, "kiosk", "add", "door-5", "--venue", "cafe", "--token", "t"]) == 0
    key = tmp_path / "key"
    key.write_text(private)
    assert main(["--db", storage_url, "trace", "--venue", "cafe", "--since", "2026-11-18T00:00+00:00",
                 "--until", "2026-11-19T00:00+00:00", "--operator", "A", "--reason", "r",
                 "--private-key-file", str(key)]) == 0
    assert NUMBERS[0] in capsys.readouterr().out


def test_purge_by_age(storage_url, capsys):
    _sealed_events(storage_url, generate_keypair()[1])
    assert main(["--db", storage_url, "purge", "--days", "1"]) == 0
    assert "purged 0 events" in capsys.readouterr().out  # received just now
    with open_storage(storage_url) as storage:
        assert storage.purge(dt.datetime.now(UTC) + dt.timedelta(seconds=1))["events"] == 4


def test_the_console_script_runs(tmp_path):
    script = os.path.join(os.path.dirname(sys.executable), "ashyq-collector")
    run = subprocess.run([script, "--db", str(tmp_path / "c.sqlite"), "keygen"], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0 and "public" in run.stdout
    bad = subprocess.run([script, "--db", str(tmp_path / "nodir" / "c.sqlite"), "migrate"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr and "cannot open" in bad.stderr


def test_the_collector_imports_nothing_from_the_kiosk():
    run = subprocess.run([sys.executable, "-c", "import sys, collector.cli, collector.app, "
                          "collector.trace, collector.storage.postgres; "
                          "print([m for m in sys.modules if m == 'kiosk' or m.startswith('kiosk.')])"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "[]", run.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="apt-get install systemd")
def test_the_systemd_unit_verifies_and_is_hardened(tmp_path):
    """As tests/test_systemd.py does for the kiosk: a throwaway root holding
    the unit and a stub at its ExecStart path, so any other complaint fails."""
    unit = os.path.join(os.path.dirname(os.path.dirname(__file__)), "systemd", "ashyq-collector.service")
    stub = tmp_path / "opt/ashyq-kiosk/venv/bin/ashyq-collector"
    stub.parent.mkdir(parents=True)
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    (tmp_path / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(unit, tmp_path / "etc/systemd/system")
    run = subprocess.run(["systemd-analyze", "verify", "--recursive-errors=no", "--man=no",
                          f"--root={tmp_path}", "ashyq-collector.service"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and not run.stderr.strip(), run.stderr
    security = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", unit],
                              capture_output=True, text=True, timeout=60)
    level = re.search(r"Overall exposure level for ashyq-collector\.service: (\d+(?:\.\d+)?)",
                      security.stdout)
    assert level and float(level.group(1)) <= 2.0, security.stdout[-2000:]


def test_two_instances_share_one_port_and_one_database(storage_url, tmp_path):
    """Stateless: with --reuse-port two processes serve one port, and what
    either acknowledges is in the one database."""
    import httpx
    assert main(["--db", storage_url, "kiosk", "add", "door-1", "--token", "t"]) == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = os.path.join(os.path.dirname(sys.executable), "ashyq-collector")
    command = [script, "--db", storage_url, "serve", "--port", str(port), "--reuse-port"]
    log = open(tmp_path / "log", "ab")
    processes = [subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT) for _ in range(2)]
    try:
        deadline = time.monotonic() + 60
        acknowledged = set()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10,
                          headers={"Authorization": "Bearer t", "Connection": "close"}) as client:
            for n in range(40):
                while True:
                    try:
                        answer = client.post("/v1/kiosks/door-1/events", json={"events": [{"id": f"e{n}"}]})
                        break
                    except httpx.TransportError:
                        assert time.monotonic() < deadline and all(p.poll() is None for p in processes)
                        time.sleep(0.05)
                acknowledged.update(answer.json()["stored"])
        assert all(p.poll() is None for p in processes)  # both bound the port and kept running
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        log.close()
    with open_storage(storage_url) as storage:
        assert sorted(storage.event_ids()) == sorted(acknowledged) and len(acknowledged) == 40


@pytest.mark.parametrize("storage_url", ["postgres"], indirect=True)  # SQLite stores on threads
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_the_ingest_workers_end_with_the_server(storage_url, tmp_path, how):
    """Killed outright or stopped, the server leaves no ingest worker behind
    holding database connections. (Stopped, uvicorn shuts down gracefully and
    then re-raises the SIGTERM, which systemd counts as a clean exit.)"""
    import httpx
    assert main(["--db", storage_url, "kiosk", "add", "door-1", "--token", "t"]) == 0
    server, port = _serving(storage_url, tmp_path)
    try:
        deadline = time.monotonic() + 60
        answer = httpx.post(f"http://127.0.0.1:{port}/v1/kiosks/door-1/events",
                            json={"events": [{"id": "e1"}]}, headers={"Authorization": "Bearer t"})
        assert answer.status_code == 200
        workers = spawned_children(server.pid)
        assert workers
        server.send_signal(how)
        assert server.wait(timeout=60) == -how
        while any(os.path.exists(f"/proc/{pid}") for pid in workers):
            assert time.monotonic() < deadline, "ingest workers outlived the server"
            time.sleep(0.05)
    finally:
        if server.poll() is None:
            server.kill()


def _serving(storage_url, tmp_path, *options) -> tuple[subprocess.Popen, int]:
    """``ashyq-collector serve`` on a free port, once it answers."""
    import httpx
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = os.path.join(os.path.dirname(sys.executable), "ashyq-collector")
    with open(tmp_path / "log", "ab") as log:
        server = subprocess.Popen([script, "--db", storage_url, "serve", "--port", str(port), *options],
                                  stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz")
            return server, port
        except httpx.TransportError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise AssertionError((tmp_path / "log").read_text()) from None
            time.sleep(0.05)


def test_metrics_can_ask_for_a_token(storage_url, tmp_path, capsys):
    """With --metrics-token-file, /metrics answers Prometheus' bearer token
    only; a missing or empty file stops serve with one line."""
    import httpx
    assert main(["--db", storage_url, "serve", "--metrics-token-file", str(tmp_path / "none")]) == 2
    (tmp_path / "empty").write_text("\n")
    assert main(["--db", storage_url, "serve", "--metrics-token-file", str(tmp_path / "empty")]) == 2
    assert "No such file" in capsys.readouterr().err
    (tmp_path / "token").write_text("scrape-secret\n")
    server, port = _serving(storage_url, tmp_path, "--metrics-token-file", str(tmp_path / "token"))
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        assert httpx.get(url).status_code == 401
        assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
        answer = httpx.get(url, headers={"Authorization": "Bearer scrape-secret"})
        assert answer.status_code == 200 and "ashyq_kiosks" in answer.text
    finally:
        server.terminate()
        server.wait(timeout=60)


def test_behind_a_trusted_proxy_failed_logins_are_counted_per_client(storage_url, tmp_path, monkeypatch):
    """serve --trusted-proxy: the client's address comes from the proxy's
    X-Forwarded-For, so one client's guesses do not lock out another's
    logins for the same name; from anyone else the header is ignored."""
    import io

    import httpx
    from tests.fleet_site import csrf_of
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert main(["--db", storage_url, "add-user", "tech", "--role", "technician", "--password-stdin"]) == 0
    server, port = _serving(storage_url, tmp_path, "--trusted-proxy", "127.0.0.1")

    def login(client, password, forwarded):
        token = csrf_of(client.get("/fleet/login").text)
        return client.post("/fleet/login", headers={"X-Forwarded-For": forwarded},
                           data={"csrf": token, "username": "tech", "password": password}).status_code
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as guesser, \
                httpx.Client(base_url=f"http://127.0.0.1:{port}") as colleague:
            assert [login(guesser, f"guess {n}", "203.0.113.5") for n in range(11)] == [401] * 10 + [429]
            assert login(colleague, "a long password", "203.0.113.6") == 303
    finally:
        server.terminate()
        server.wait(timeout=60)

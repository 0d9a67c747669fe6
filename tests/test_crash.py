"""Kill the daemon with SIGKILL at random moments while scans flow and the
collector goes up and down; after a restart and a sync, every decision the
daemon journalled (it journals before it shows) is at the collector exactly
once, and the journal passes SQLite's integrity check."""
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time

from kiosk.sealing import generate_keypair
from kiosk.status_server import StatusServer
from tests.collector_server import Collector
from tests.iins import make_iin

ITERATIONS = int(os.environ.get("CRASH_ITERATIONS", "15"))
PEOPLE = [make_iin(f"85{m:02d}01", serial=2000 + m) for m in range(1, 13)]
DECIDED = re.compile(r"decision ([0-9a-f]{8}) ")


def write_config(tmp_path, status_url, collector_url, public_key, scanner):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('status_token = "s"\nperson_key = "crash-key"\nsync_token = "k"\n')
    os.chmod(secrets, 0o600)
    config = tmp_path / "kiosk.toml"
    config.write_text(f"""
[kiosk]
id = "door-9"
state_dir = "{tmp_path / 'state'}"
secrets_file = "{secrets}"
[status]
base_url = "{status_url}"
deadline = 0.5
rate_per_minute = 10000
[policy]
rescan_seconds = 0
[scanner]
port = "{scanner}"
[signals]
pin_factory = "mock"
pulse_seconds = 0.1
[display]
enabled = false
[sync]
url = "{collector_url}"
interval = 1
batch_size = 7
collector_public_key = "{public_key}"
""")
    return str(config)


def start_daemon(config, log):
    return subprocess.Popen([sys.executable, "-m", "kiosk.cli", "run", "--config", config],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def test_sigkill_at_random_moments_loses_and_doubles_nothing(tmp_path):
    rng = random.Random(20261123)
    private, public = generate_keypair()
    master, slave = os.openpty()
    log_path = tmp_path / "daemon.log"
    with StatusServer({n: {"colour": rng.choice(["green", "blue", "red"]), "name": ""}
                       for n in PEOPLE}, token="s") as status, \
            Collector(str(tmp_path / "collector.sqlite"), tokens={"door-9": "k"}) as collector, \
            open(log_path, "ab") as log:
        config = write_config(tmp_path, status.url, collector.url, public, os.ttyname(slave))
        kills = 0
        for _ in range(ITERATIONS):
            collector.fault = rng.choice(["", "", "error:503", "drop"])
            daemon = start_daemon(config, log)
            life = time.monotonic() + rng.uniform(0.8, 2.5)
            while time.monotonic() < life:
                os.write(master, rng.choice(PEOPLE).encode() + b"\r")
                time.sleep(rng.uniform(0.02, 0.3))
            daemon.send_signal(signal.SIGKILL)
            daemon.wait(timeout=10)
            kills += 1
        collector.fault = ""
        # One clean run to drain the pty and sync the backlog, then a manual sync.
        daemon = start_daemon(config, log)
        time.sleep(2.5)
        daemon.terminate()
        assert daemon.wait(timeout=15) == 0
        sync = subprocess.run([sys.executable, "-m", "kiosk.cli", "sync", "--config", config],
                              capture_output=True, text=True, timeout=60)
        assert sync.returncode == 0, sync.stderr

        journal = tmp_path / "state" / "journal.sqlite"
        with sqlite3.connect(journal) as db:
            assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
            journalled = [r[0] for r in db.execute("select id from decisions")]
            unsynced = db.execute("select count(*) from decisions where synced_at is null").fetchone()[0]
        at_collector = collector.event_ids()
        logged = set(DECIDED.findall(log_path.read_text(errors="replace")))

    os.close(master)
    os.close(slave)
    print(f"\ncrash test: {kills} SIGKILLs, {len(journalled)} decisions journalled, "
          f"{len(at_collector)} at the collector, {len(logged)} logged as shown")
    assert kills == ITERATIONS and len(journalled) > ITERATIONS
    assert unsynced == 0
    assert sorted(at_collector) == sorted(journalled)  # exactly once each
    assert len(set(at_collector)) == len(at_collector)
    assert logged <= {i[:8] for i in journalled}  # every shown decision was journalled

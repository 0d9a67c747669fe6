"""Kill the daemon with SIGKILL at random moments (hundreds of times, while
its scanner is busy and the collector goes up and down); then:

- no relay opening without a committed admit row behind it (the pins log
  each change before it happens, the journal keeps each decision's
  monotonic time): record before acting holds under SIGKILL;
- after a clean restart and a sync, every journalled decision is at the
  collector exactly once, and the journal passes SQLite's integrity check.

Two kiosks (lanes) are killed in parallel, each with its own pseudo-terminal,
state folder and pins, so the hundreds of kills fit in CI time.
"""
import os
import random
import re
import sqlite3
import subprocess
import sys
import threading
import time

from kiosk.services.sealing import generate_keypair
from kiosk.servers.status_server import StatusServer
from tests.collector_server import Collector
from tests.conftest import Daemon, openings_without_a_row, relay_openings, write_kiosk_toml
from tests.iins import make_iin

KILLS = int(os.environ.get("CRASH_ITERATIONS", "200"))
LANES = 2
PEOPLE = [make_iin(f"85{m:02d}01", serial=2000 + m) for m in range(1, 13)]
DECIDED = re.compile(r"decision ([0-9a-f]{8}) ")


class Lane:
    """One kiosk killed again and again; a writer thread keeps its scanner busy."""

    def __init__(self, folder, name, status, collector, public, seed):
        folder.mkdir()
        self.folder, self.name = folder, name
        self.rng = random.Random(seed)
        self.master, self.slave = os.openpty()
        os.set_blocking(self.master, False)  # with no daemon reading, the pty fills up
        self.pins = folder / "pins"
        self.pins.mkdir()
        self.log_path = folder / "daemon.log"
        self.config = write_kiosk_toml(
            folder, status_url=status.url, scanner=os.ttyname(self.slave),
            secrets={"status_token": "s", "person_key": "crash-key", "sync_token": "k"},
            kiosk={"id": name}, status={"deadline": 0.5, "rate_per_minute": 10000},
            policy={"rescan_seconds": 0}, signals={"pulse_seconds": 0.1},
            sync={"url": collector.url, "interval": 1, "batch_size": 7,
                  "collector_public_key": public})
        self.env = {"ASHYQ_MOCK_PIN_DIR": str(self.pins)}
        self.kills = 0
        self.error = None

    def scans(self, until: threading.Event) -> None:
        while not until.is_set():
            try:
                os.write(self.master, self.rng.choice(PEOPLE).encode() + b"\r")
            except BlockingIOError:
                pass
            until.wait(self.rng.uniform(0.005, 0.05))

    def run(self, count: int) -> None:
        try:
            with open(self.log_path, "ab") as log:
                for _ in range(count):
                    daemon = Daemon(self.config, log=log, env=self.env)
                    try:
                        busy = threading.Event()
                        writer = threading.Thread(target=self.scans, args=(busy,), daemon=True)
                        writer.start()
                        if self.rng.random() < 0.25:  # during start-up, READY or not
                            daemon.start(wait=False)
                            time.sleep(self.rng.uniform(0.0, 0.6))
                        else:
                            daemon.start()
                            time.sleep(self.rng.uniform(0.0, 0.4))
                        daemon.kill()
                        self.kills += 1
                        busy.set()
                        writer.join()
                    finally:
                        daemon.close()
        except BaseException as exc:  # noqa: BLE001 - reported by the test's thread
            self.error = exc

    def finish(self) -> None:
        """A clean run (drains the pty, syncs), SIGTERM, then a manual sync."""
        with open(self.log_path, "ab") as log:
            daemon = Daemon(self.config, log=log, env=self.env)
            try:
                daemon.start()
                assert daemon.terminate() == 0
            finally:
                daemon.close()
        sync = subprocess.run([sys.executable, "-m", "kiosk.cli", "sync", "--config", self.config],
                              capture_output=True, text=True, timeout=120)
        assert sync.returncode == 0, sync.stderr
        os.close(self.master)
        os.close(self.slave)

    @property
    def journal(self) -> str:
        return str(self.folder / "state" / "journal.sqlite")


def test_sigkill_at_random_moments_opens_nothing_unrecorded_and_loses_nothing(tmp_path):
    rng = random.Random(20261123)
    private, public = generate_keypair()
    with StatusServer({n: {"colour": rng.choice(["green", "blue", "red"]), "name": ""}
                       for n in PEOPLE}, token="s") as status, \
            Collector(str(tmp_path / "collector.sqlite"),
                      tokens={f"door-{i}": "k" for i in range(LANES)}) as collector:
        lanes = [Lane(tmp_path / f"lane{i}", f"door-{i}", status, collector, public, seed=i)
                 for i in range(LANES)]
        threads = [threading.Thread(target=lane.run, args=(KILLS // LANES,)) for lane in lanes]
        for thread in threads:
            thread.start()
        flapping = threading.Event()
        while any(thread.is_alive() for thread in threads):
            collector.fault = rng.choice(["", "", "error:503", "drop"])
            flapping.wait(rng.uniform(0.2, 1.0))
        for lane in lanes:
            assert lane.error is None, repr(lane.error)
        collector.fault = ""
        for lane in lanes:
            lane.finish()
        at_collector = collector.event_ids()

    journalled, orphans, opened = [], [], 0
    for lane in lanes:
        with sqlite3.connect(lane.journal) as db:
            assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
            ids = [r[0] for r in db.execute("select id from decisions")]
            assert db.execute("select count(*) from decisions where synced_at is null"
                              ).fetchone()[0] == 0
        openings = relay_openings(lane.pins)
        opened += len(openings)
        orphans += openings_without_a_row(openings, lane.journal)
        logged = set(DECIDED.findall(lane.log_path.read_text(errors="replace")))
        assert logged <= {i[:8] for i in ids}  # every decision logged was journalled
        journalled += ids
    kills = sum(lane.kills for lane in lanes)
    print(f"\ncrash test: {kills} SIGKILLs, {len(journalled)} decisions journalled, "
          f"{len(at_collector)} at the collector, {opened} relay openings, "
          f"{len(orphans)} without a row")
    assert kills == KILLS // LANES * LANES and kills >= min(KILLS, 200) - 1
    assert opened > 0 and len(journalled) > kills
    assert orphans == []
    assert sorted(at_collector) == sorted(journalled)  # exactly once each
    assert len(set(at_collector)) == len(at_collector)

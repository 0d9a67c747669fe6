"""Sync to the reference collector over loopback: exactly once in effect,
whatever the network does; numbers readable only at the collector."""
import os
import random
import subprocess
import sys
import time

import httpx
import pytest

from kiosk.cache import StatusCache
from kiosk.collector import Collector
from kiosk.errors import SyncError
from kiosk.status_server import StatusServer
from kiosk.sync import Syncer, backoff_delay
from tests.iins import make_iin
from tests.conftest import decision

@pytest.fixture
def collector(tmp_path, keys):
    with Collector(str(tmp_path / "collector.sqlite"), tokens={"door-1": "tok"},
                   private_key_b64=keys[0]) as c:
        yield c


def syncer_for(journal, collector, **kwargs):
    return Syncer(journal, collector.url, "door-1", "tok", **kwargs)


def test_backlog_is_synced_in_batches_and_marked(journal, collector):
    for _ in range(23):
        journal.append(decision())
    progress = []
    sent, held, batches = syncer_for(journal, collector, batch_size=5).sync_once(
        progress=lambda done, total: progress.append((done, total)))
    assert (sent, held, batches) == (23, 23, 5)
    assert progress[-1] == (23, 23) and journal.backlog() == 0
    assert len(collector.event_ids()) == 23


def test_collector_is_idempotent_on_event_id(journal, collector):
    journal.append(decision())
    events = journal.unsynced(10)
    client = httpx.Client(headers={"Authorization": "Bearer tok"})
    url = f"{collector.url}/v1/kiosks/door-1/events"
    first = client.post(url, json={"events": events}).json()
    again = client.post(url, json={"events": events}).json()
    assert (first["stored"], first["duplicates"]) == ([events[0]["id"]], [])
    assert (again["stored"], again["duplicates"]) == ([], [events[0]["id"]])
    assert client.post(url, json={"nope": 1}).status_code == 400
    assert httpx.post(url, json={"events": events}, headers={"Authorization": "Bearer x"}).status_code == 401
    client.close()


@pytest.mark.parametrize("fault", ["error:503", "drop"])
def test_collector_down_then_up_loses_nothing(journal, collector, fault):
    for _ in range(10):
        journal.append(decision())
    syncer = syncer_for(journal, collector, batch_size=4)
    collector.fault = fault
    with pytest.raises(SyncError):
        syncer.sync_once()
    assert journal.backlog() == 10
    collector.fault = ""
    assert syncer.sync_once()[1] == 10
    assert sorted(collector.event_ids()) == sorted(r["id"] for r in journal.recent(100))


def test_death_between_collector_commit_and_kiosk_mark(journal, collector):
    """The collector stored the batch but the kiosk never marked it: the next
    sync sends it again and the collector calls it duplicates."""
    for _ in range(6):
        journal.append(decision())
    syncer = syncer_for(journal, collector)
    syncer.send(journal.unsynced(6))  # stored there, not marked here
    assert journal.backlog() == 6
    syncer.sync_once()
    assert journal.backlog() == 0
    assert len(collector.event_ids()) == 6 == len(set(collector.event_ids()))


def test_backoff_is_bounded_and_jittered():
    rng = random.Random(1)
    delays = [backoff_delay(n, rng, cap=300) for n in range(1, 40)]
    assert all(0 <= d <= min(300, 2 ** n) for n, d in zip(range(1, 40), delays))
    assert len({round(d, 6) for d in delays}) == len(delays)  # jittered, not a fixed ladder
    assert max(delays[10:]) > 30  # it does grow


def test_background_worker_retries_then_syncs(journal, collector):
    collector.fault = "error:503"
    journal.append(decision())
    syncer = syncer_for(journal, collector, interval=0.1, rng=random.Random(3))
    syncer.start()
    deadline = time.monotonic() + 10
    while syncer.failures == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    collector.fault = ""
    while journal.backlog() and time.monotonic() < deadline + 20:
        time.sleep(0.05)
    syncer.stop()
    assert journal.backlog() == 0 and syncer.failures == 0


def test_cache_serves_each_colour_only_within_its_age(journal):
    now = [1_000_000.0]
    cache = StatusCache(journal.path, max_age_hours={"green": 500, "blue": 24, "red": 0},
                        clock=lambda: now[0])
    for person, colour in (("a", "green"), ("b", "blue"), ("c", "red")):
        cache.remember(person, colour)
    now[0] += 23 * 3600
    assert (cache.recall("a"), cache.recall("b"), cache.recall("c")) == ("green", "blue", None)
    now[0] += 2 * 3600
    assert cache.recall("b") is None and cache.recall("a") == "green"
    now[0] += 50 * 3600  # 75 h: green is never older than 72 h, whatever the config says
    assert cache.recall("a") is None and cache.recall("nobody") is None
    cache.close()


def test_numbers_in_clear_only_where_the_collector_unsealed_them(tmp_path, keys):
    """The daemon's journal files and log, and the collector: search them all."""
    people = [make_iin(f"77{m:02d}15", serial=3000 + m) for m in range(1, 6)]
    master, slave = os.openpty()
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('status_token = "s"\nsync_token = "tok"\n')
    os.chmod(secrets, 0o600)
    config = tmp_path / "kiosk.toml"
    config.write_text(f"""[kiosk]\nid = "door-1"\nstate_dir = "{tmp_path / 'state'}"
secrets_file = "{secrets}"\nlog_level = "debug"
[status]\nbase_url = "URL"\n[scanner]\nport = "{os.ttyname(slave)}"
[signals]\npin_factory = "mock"\n[display]\nenabled = false
[sync]\nurl = "COLLECTOR"\ninterval = 1\ncollector_public_key = "{keys[1]}"\n""")
    with StatusServer({n: {"colour": "green", "name": ""} for n in people}, token="s") as status, \
            Collector(str(tmp_path / "collector.sqlite"), tokens={"door-1": "tok"},
                      private_key_b64=keys[0]) as collector:
        config.write_text(config.read_text().replace("URL", status.url)
                          .replace("COLLECTOR", collector.url))
        log = tmp_path / "daemon.log"
        with open(log, "wb") as out:
            daemon = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "run", "--config",
                                       str(config)], stdout=out, stderr=subprocess.STDOUT)
            time.sleep(1.5)
            for number in people:
                os.write(master, number.encode() + b"\r")
                time.sleep(0.3)
            deadline = time.monotonic() + 20
            while len(collector.event_ids()) < len(people) and time.monotonic() < deadline:
                time.sleep(0.1)
            daemon.terminate()
            daemon.wait(timeout=15)
        with collector.lock:
            unsealed = {r[0] for r in collector.db.execute("SELECT number FROM events")}
    os.close(master)
    os.close(slave)
    assert unsealed == set(people)  # the collector can read them: contact tracing works
    kiosk_files = [log] + list((tmp_path / "state").iterdir())
    for path in kiosk_files:
        data = path.read_bytes()
        for number in people:
            assert number.encode() not in data, f"{number[-4:]} in clear in {path.name}"
    assert b"decision" in log.read_bytes()  # the log did talk about them, masked

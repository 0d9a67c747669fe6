"""Sync to the collector service over loopback: exactly once in effect,
whatever the network does; numbers readable only by the collector's audited
trace."""
import datetime as dt
import os
import random
import threading
import time

import httpx
import pytest

from collector.trace import trace
from kiosk.servers.collector import keygen, main as collector_main
from kiosk.app.config import Section
from kiosk.core.errors import SyncError
from kiosk.services.sealing import generate_keypair
from kiosk.servers.status_server import StatusServer
from kiosk.app.sync_command import main_sync
from kiosk.services.sync import Syncer, backoff_delay
from tests.collector_server import Collector
from tests.conftest import (Daemon, GREEN_IIN, decision, make_config, wait_until,
                            write_kiosk_toml)
from tests.iins import make_iin


pytestmark = pytest.mark.usefixtures("no_threads_left")


@pytest.fixture
def collector(tmp_path, keys):
    with Collector(str(tmp_path / "collector.sqlite"), tokens={"door-1": "tok"}) as c:
        yield c


@pytest.fixture
def syncers():
    made = []

    def make(journal, collector, **kwargs):
        made.append(Syncer(journal, collector.url, "door-1", "tok", **kwargs))
        return made[-1]

    yield make
    for syncer in made:
        syncer.stop()


def fill(journal, count):
    decisions = [decision() for _ in range(count)]
    for d in decisions:
        journal.append(d)
    return sorted(d.id for d in decisions)


def test_backlog_is_synced_in_batches_and_marked(journal, collector, syncers):
    ids = fill(journal, 23)
    progress = []
    result = syncers(journal, collector, batch_size=5).sync_once(
        progress=lambda done, total: progress.append((done, total)))
    assert result == (23, 23, 0)  # (sent, stored, duplicates)
    assert progress == [(5, 23), (10, 23), (15, 23), (20, 23), (23, 23)]
    assert journal.backlog() == 0 and sorted(collector.event_ids()) == ids


def test_collector_is_idempotent_and_refuses_bad_requests(journal, collector):
    journal.append(decision())
    events = journal.unsynced(10)
    url = f"{collector.url}/v1/kiosks/door-1/events"
    with httpx.Client(headers={"Authorization": "Bearer tok"}) as client:
        first = client.post(url, json={"events": events}).json()
        again = client.post(url, json={"events": events}).json()
        assert (first["stored"], first["duplicates"]) == ([events[0]["id"]], [])
        assert (again["stored"], again["duplicates"]) == ([], [events[0]["id"]])
        assert client.post(url, json={"nope": 1}).status_code == 400
        assert client.post(url, content=b"{not json").status_code == 400
        assert client.post(url, json={"events": [{"no": "id"}]}).status_code == 400
        assert client.post(f"{collector.url}/v1/elsewhere", json={}).status_code == 404
        # a token is good for its own kiosk only
        assert client.post(f"{collector.url}/v1/kiosks/door-2/events",
                           json={"events": events}).status_code == 401
    assert httpx.post(url, json={"events": events},
                      headers={"Authorization": "Bearer x"}).status_code == 401
    assert collector.event_ids() == [events[0]["id"]]


def test_a_bad_token_is_a_sync_error_and_nothing_is_marked(journal, collector):
    journal.append(decision())
    syncer = Syncer(journal, collector.url, "door-1", "wrong")
    with pytest.raises(SyncError, match="401"):
        syncer.sync_once()
    syncer.stop()
    assert journal.backlog() == 1 and syncer.status()["failures"] == 1


@pytest.mark.parametrize("fault", ["error:503", "drop", "store-drop"])
def test_collector_down_then_up_loses_nothing_and_doubles_nothing(journal, collector, syncers, fault):
    ids = fill(journal, 10)
    syncer = syncers(journal, collector, batch_size=4)
    collector.fault = fault
    with pytest.raises(SyncError):
        syncer.sync_once()
    assert journal.backlog() == 10 and syncer.status()["last_error"]
    collector.fault = ""
    sent, stored, duplicates = syncer.sync_once()
    assert sent == stored + duplicates == 10 and journal.backlog() == 0
    assert sorted(collector.event_ids()) == ids  # each once
    assert syncer.status()["last_error"] == "" and syncer.status()["last_success"]


def test_death_between_collector_commit_and_kiosk_mark(journal, collector, syncers):
    """The collector stored and committed the batch, but the answer never
    reached the kiosk (connection dropped): the next sync sends the rows
    again, the collector calls them duplicates, and holds each once."""
    ids = fill(journal, 6)
    syncer = syncers(journal, collector, batch_size=4)
    collector.fault = "store-drop"
    with pytest.raises(SyncError):
        syncer.sync_once()
    assert journal.backlog() == 6 and len(collector.event_ids()) == 4  # stored, not marked
    collector.fault = ""
    assert syncer.sync_once() == (6, 2, 4)
    assert sorted(collector.event_ids()) == ids and journal.backlog() == 0


def unsealed(collector, private_key: str) -> set:
    """What the audited trace opens for the collector's whole venue and time."""
    wide = dict(since=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc),
                until=dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc))
    return {row["number"] for row in trace(collector.storage, venue="venue-1", operator="test",
                                           reason="test", private_key_b64=private_key, **wide)}


def test_numbers_stay_sealed_at_the_collector_until_an_audited_trace(journal, tmp_path, keys):
    journal.append(decision())
    events = journal.unsynced(1)
    assert GREEN_IIN not in repr(events)  # nothing in clear on the wire either
    with Collector(str(tmp_path / "collector.sqlite"), tokens={"k": "t"}) as collector:
        httpx.post(f"{collector.url}/v1/kiosks/k/events", json={"events": events},
                   headers={"Authorization": "Bearer t"}).raise_for_status()
        assert collector.events()[0]["sealed"] and "number" not in collector.events()[0]
        assert unsealed(collector, generate_keypair()[0]) == {None}  # another key opens nothing
        assert unsealed(collector, keys[0]) == {GREEN_IIN}
        assert len(collector.storage.trace_log()) == 2
    assert GREEN_IIN.encode() not in (tmp_path / "collector.sqlite").read_bytes()


def test_backoff_is_bounded_and_jittered():
    delays = [backoff_delay(n, random.Random(7), cap=300) for n in range(1, 40)]
    assert delays == [backoff_delay(n, random.Random(7), cap=300) for n in range(1, 40)]
    assert all(0 <= d <= min(300, 2 ** n) for n, d in zip(range(1, 40), delays))
    rng = random.Random(1)
    many = [backoff_delay(20, rng, cap=300) for _ in range(2000)]
    assert max(many) <= 300 and min(many) < 30  # full jitter: anywhere in [0, cap]
    assert len({round(d, 6) for d in many}) == len(many)  # not a fixed ladder
    assert sum(many) / len(many) == pytest.approx(150, rel=0.1)  # uniform: mean cap/2
    assert backoff_delay(10**6, rng) <= 300 and backoff_delay(0, rng) <= 1


def test_background_worker_retries_then_syncs(journal, collector):
    collector.fault = "error:503"
    journal.append(decision())
    syncer = Syncer(journal, collector.url, "door-1", "tok", interval=0.1, max_backoff=0.2,
                    rng=random.Random(3))
    synced = []
    syncer.when_synced = synced.append
    syncer.start()
    syncer.start()  # a second start does not add a second worker
    assert [t.name for t in threading.enumerate()].count("sync") == 1
    deadline = time.monotonic() + 10
    while syncer.failures < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    collector.fault = ""
    while journal.backlog() and time.monotonic() < deadline + 10:
        time.sleep(0.02)
    syncer.stop()
    assert journal.backlog() == 0 and syncer.failures == 0 and synced == [1]
    assert not syncer.status()["running"]


def test_appending_while_the_worker_syncs_lands_everything_once(journal, collector):
    syncer = Syncer(journal, collector.url, "door-1", "tok", interval=0.01, batch_size=13)
    syncer.start()
    ids = fill(journal, 300)
    deadline = time.monotonic() + 20
    while journal.backlog() and time.monotonic() < deadline:
        time.sleep(0.02)
    syncer.stop()
    assert sorted(collector.event_ids()) == ids and journal.backlog() == 0
    assert journal.integrity_check() == "ok"


def _cfg(tmp_path, url):
    return make_config(f'[kiosk]\nid = "door-1"\nstate_dir = "{tmp_path / "state"}"\n'
                       f'[sync]\nurl = "{url}"\nbatch_size = 4\n')


SECRETS = Section({"status_token": "", "person_key": "pk", "sync_token": "tok", "staff": []})


def test_the_sync_command_shows_progress_then_the_backlog(tmp_path, collector, capsys):
    from kiosk.app.wiring import build_journal
    cfg = _cfg(tmp_path, collector.url)
    journal, _ = build_journal(cfg, SECRETS)
    fill(journal, 10)
    journal.close()
    assert main_sync(cfg, SECRETS, status_only=True) == 0
    assert "backlog: 10" in capsys.readouterr().out
    assert main_sync(cfg, SECRETS) == 0
    err = capsys.readouterr().err
    assert "synced 4/10 [============" in err and "synced 10/10 [" + "=" * 30 + "]" in err
    collector.fault = "error:503"
    fill_journal, _ = build_journal(cfg, SECRETS)
    fill(fill_journal, 1)
    fill_journal.close()
    assert main_sync(cfg, SECRETS) == 1 and "503" in capsys.readouterr().err
    assert main_sync(_cfg(tmp_path, ""), SECRETS) == 1


def test_kiosk_keygen_and_the_moved_collector(capsys):
    assert keygen() == 0 and collector_main(["--keygen"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and lines[0].startswith("private") and lines[1].startswith("public")
    assert collector_main(["--db", "x"]) == 2 and "ashyq-collector" in capsys.readouterr().err


def test_numbers_in_clear_nowhere_but_in_the_collectors_trace(tmp_path, keys):
    """The daemon's journal files and log, and the collector: search them all."""
    people = [make_iin(f"77{m:02d}15", serial=3000 + m) for m in range(1, 6)]
    master, slave = os.openpty()
    with StatusServer({n: {"colour": "green", "name": ""} for n in people}, token="s") as status, \
            Collector(str(tmp_path / "collector.sqlite"), tokens={"door-1": "tok"}) as collector:
        config = write_kiosk_toml(
            tmp_path, status_url=status.url, scanner=os.ttyname(slave),
            secrets={"status_token": "s", "sync_token": "tok"},
            kiosk={"id": "door-1", "log_level": "debug"}, cache={"enabled": True},
            sync={"url": collector.url, "interval": 1, "collector_public_key": keys[1]})
        log = tmp_path / "daemon.log"
        with open(log, "wb") as out:
            daemon = Daemon(config, log=out).start()  # READY: the scanner is open
            try:
                for number in people:
                    os.write(master, number.encode() + b"\r")
                assert wait_until(lambda: len(collector.event_ids()) >= len(people), every=0.1)
                daemon.terminate()
            finally:
                daemon.close()
        traced = unsealed(collector, keys[0])
    os.close(master)
    os.close(slave)
    assert traced == set(people)  # the collector's trace can read them: contact tracing works
    kiosk_files = [log, tmp_path / "collector.sqlite"] + list((tmp_path / "state").iterdir())
    for path in kiosk_files:
        data = path.read_bytes()
        for number in people:
            assert number.encode() not in data, f"{number[-4:]} in clear in {path.name}"
    assert b"decision" in log.read_bytes()  # the log did talk about them, masked

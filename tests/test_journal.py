"""The journal on real SQLite files: durable rows, no clear numbers, migrations."""
import datetime as dt
import sqlite3
import threading

import pytest

from kiosk.errors import JournalError
from kiosk.journal import MIGRATIONS, Journal, _v1
from kiosk.sealing import person_hash, unseal
from tests.conftest import GREEN_IIN, JOURNAL_KEY as KEY, WEDNESDAY, decision



def test_rows_hold_hash_last_four_and_sealed_number(journal, keys):
    journal.append(decision())
    row, = journal.recent()
    assert row["person"] == person_hash(GREEN_IIN, KEY)
    assert row["masked"].endswith("1427") and GREEN_IIN not in row["masked"]
    assert unseal(row["sealed"], keys[0]) == GREEN_IIN
    assert row["at"].endswith("+00:00") and row["synced_at"] is None
    assert (row["decision"], row["colour"], row["latency_ms"]) == ("admit", "green", 12.5)


def test_no_clear_number_anywhere_in_the_files(journal, tmp_path):
    for _ in range(20):
        journal.append(decision())
    journal.close()
    for path in tmp_path.iterdir():
        assert GREEN_IIN.encode() not in path.read_bytes(), path.name


def test_wal_and_full_sync(journal):
    assert journal.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert journal.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_sync_marks_and_backlog(journal):
    first, second = decision(), decision()
    journal.append(first)
    journal.append(second)
    assert journal.backlog() == 2
    events = journal.unsynced(10)
    assert [e["id"] for e in events] == [first.id, second.id] and events[0]["extra"] == {"k": 1}
    journal.mark_synced([first.id])
    assert [e["id"] for e in journal.unsynced(10)] == [second.id]


def test_purge_keeps_unsynced_rows(journal):
    old = WEDNESDAY - dt.timedelta(days=100)
    synced, unsynced = decision(at=old), decision(at=old)
    journal.append(synced)
    journal.append(unsynced)
    journal.append(decision())
    journal.mark_synced([synced.id])
    assert journal.purge(90, now=WEDNESDAY) == 1
    assert {r["id"] for r in journal.recent()} >= {unsynced.id}


def test_a_version_1_file_is_migrated(tmp_path):
    path = str(tmp_path / "old.sqlite")
    conn = sqlite3.connect(path)
    import sqlite_utils
    _v1(sqlite_utils.Database(conn))
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    journal = Journal(path, person_key=KEY)
    assert journal.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert "statuses" in journal.db.table_names()
    journal.close()


def test_appends_while_another_thread_syncs(journal):
    done = threading.Event()
    marked = []

    def syncer():
        while not done.is_set() or journal.backlog():
            batch = [e["id"] for e in journal.unsynced(7)]
            journal.mark_synced(batch)
            marked.extend(batch)

    thread = threading.Thread(target=syncer)
    thread.start()
    for _ in range(200):
        journal.append(decision())
    done.set()
    thread.join(timeout=30)
    assert len(marked) == 200 == len(set(marked)) and journal.backlog() == 0
    assert journal.integrity_check() == "ok"


def test_unwritable_journal_is_a_journal_error(tmp_path):
    with pytest.raises(JournalError):
        Journal(str(tmp_path / "missing-dir" / "j.sqlite"), person_key=KEY)


def test_the_daemon_applies_retention_at_start(tmp_path):
    """Synced rows past retention go when the app starts; unsynced ones stay."""
    from gpiozero.pins.mock import MockFactory

    from drivers.signals import Signals
    from kiosk.config import Section
    from kiosk.wiring import build_app, build_journal
    from tests.conftest import make_config
    cfg = make_config(f'[kiosk]\nstate_dir = "{tmp_path}"\n[scanner]\nenabled = false\n'
                      '[display]\nenabled = false\n[journal]\nretention_days = 30\n')
    secrets = Section({"status_token": "", "person_key": "k", "sync_token": "", "staff": []})
    journal, _ = build_journal(cfg, secrets)
    old = WEDNESDAY - dt.timedelta(days=400)
    synced, unsynced = decision(at=old), decision(at=old)
    journal.append(synced)
    journal.append(unsynced)
    journal.mark_synced([synced.id])
    journal.close()
    app = build_app(cfg, secrets, signals=Signals(pin_factory=MockFactory()))
    app.start()
    app.close()
    journal, _ = build_journal(cfg, secrets)
    assert [r["id"] for r in journal.recent()] == [unsynced.id]
    journal.close()

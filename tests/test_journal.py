"""The journal on real SQLite files: durable rows, no clear numbers, migrations,
one thread appending while another syncs."""
import datetime as dt
import os
import sqlite3
import subprocess
import sys
import threading

import pytest
import sqlite_utils

from kiosk.core.errors import JournalError
from kiosk.services.journal import COLUMNS, Journal
from kiosk.services.journal_schema import MIGRATIONS, _v1
from kiosk.services.sealing import load_or_create_key, person_hash, unseal
from tests.conftest import GREEN_IIN, JOURNAL_KEY as KEY, WEDNESDAY, decision


pytestmark = pytest.mark.usefixtures("no_threads_left")


def test_the_table_has_the_documented_columns(journal):
    names = [c.name for c in journal.db["decisions"].columns]
    assert names == list(COLUMNS)
    assert journal.db["decisions"].pks == ["id"]


def test_rows_hold_hash_last_four_and_sealed_number(journal, keys):
    journal.append(decision())
    row, = journal.recent()
    assert row["person"] == person_hash(GREEN_IIN, KEY)
    assert row["masked"].endswith("1427") and GREEN_IIN not in row["masked"]
    assert unseal(row["sealed"], keys[0]) == GREEN_IIN
    assert row["at"] == "2026-11-18T14:30:00.000+00:00" and row["synced_at"] is None
    assert (row["decision"], row["colour"], row["latency_ms"]) == ("admit", "green", 12.5)


def test_without_a_collector_key_nothing_is_sealed(tmp_path):
    journal = Journal(str(tmp_path / "j.sqlite"), person_key=KEY)
    journal.append(decision())
    assert journal.recent()[0]["sealed"] is None
    journal.close()


def _kiosk_file_bytes(folder):
    return {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}


def test_no_clear_number_anywhere_in_the_file_or_its_wal(journal, tmp_path):
    from kiosk.core.model import Decision
    leaky = Decision(id="leaky", at=WEDNESDAY, kind="iin", identity=decision().identity,
                     colour="green", decision="admit", reason=f"typed {GREEN_IIN}",
                     extra={"note": f"staff typed {GREEN_IIN}"})
    journal.append(leaky)
    for _ in range(20):
        journal.append(decision())
    files = _kiosk_file_bytes(tmp_path)
    assert "journal.sqlite-wal" in files  # the rows are in the WAL while open: search it too
    journal.close()
    files.update(_kiosk_file_bytes(tmp_path))
    for name, data in files.items():
        assert GREEN_IIN.encode() not in data, name
        assert GREEN_IIN.encode("utf-16-le") not in data, name
    reopened = Journal(str(tmp_path / "journal.sqlite"), person_key=KEY)
    row = reopened._read("SELECT reason, extra FROM decisions WHERE id = 'leaky'")[0]
    reopened.close()
    assert row["reason"].endswith("1427") and "1427" in row["extra"]  # masked, not dropped


def test_every_threads_connection_is_wal_and_full(journal):
    seen = []

    def look():
        conn = journal._conn()
        seen.append((conn.execute("PRAGMA journal_mode").fetchone()[0],
                     conn.execute("PRAGMA synchronous").fetchone()[0]))

    look()
    thread = threading.Thread(target=look)
    thread.start()
    thread.join()
    assert seen == [("wal", 2), ("wal", 2)]  # 2 = FULL


def test_an_append_is_on_disk_when_it_returns(tmp_path):
    """A process that dies right after append() (no close, no exit handlers)
    still leaves the row in the file."""
    path = tmp_path / "j.sqlite"
    code = ("import os, sys; sys.path.insert(0, os.getcwd()); from kiosk.services.journal import Journal; "
            "from tests.conftest import decision; "
            f"j = Journal({str(path)!r}, person_key=b'k'); j.append(decision()); os._exit(0)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=os.getcwd(), timeout=30)
    journal = Journal(str(path), person_key=b"k")
    assert journal.backlog() == 1 and journal.integrity_check() == "ok"
    journal.close()


def test_sync_marks_and_backlog(journal):
    first, second = decision(), decision(at=WEDNESDAY + dt.timedelta(seconds=1))
    journal.append(second)
    journal.append(first)  # journalled later, happened earlier: still sent first
    assert journal.backlog() == 2
    events = journal.unsynced(10)
    assert [e["id"] for e in events] == [first.id, second.id] and events[0]["extra"] == {"k": 1}
    assert set(events[0]) == set(COLUMNS) - {"synced_at"}
    assert journal.mark_synced([first.id]) == 1
    assert journal.mark_synced([first.id]) == 0  # marking twice changes nothing
    assert [e["id"] for e in journal.unsynced(10)] == [second.id] and journal.backlog() == 1
    assert journal.last_synced() is not None


def test_purge_keeps_unsynced_rows(journal):
    old = WEDNESDAY - dt.timedelta(days=100)
    synced, unsynced, young = decision(at=old), decision(at=old), decision()
    for d in (synced, unsynced, young):
        journal.append(d)
    journal.mark_synced([synced.id, young.id])
    assert journal.purge(90, now=WEDNESDAY) == 1
    assert {r["id"] for r in journal.recent()} == {unsynced.id, young.id}
    assert journal.purge(0, now=WEDNESDAY + dt.timedelta(days=1)) == 1  # young, synced
    assert [r["id"] for r in journal.recent()] == [unsynced.id]  # never an unsynced row


def test_a_version_1_file_is_migrated(tmp_path):
    path = str(tmp_path / "old.sqlite")
    conn = sqlite3.connect(path)
    _v1(sqlite_utils.Database(conn))
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO decisions (id, at, kind, colour, decision, reason) "
                 "VALUES ('old-row', '2026-01-01T00:00:00.000+00:00', 'iin', 'red', 'deny', 'red')")
    conn.commit()
    conn.close()
    journal = Journal(path, person_key=KEY)
    assert journal.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 3
    assert "statuses" in journal.db.table_names()
    assert "decisions_at" in {i.name for i in journal.db["decisions"].indexes}
    assert [e["id"] for e in journal.unsynced(5)] == ["old-row"]  # the data came along
    journal.close()
    assert Journal(path, person_key=KEY).version == 3  # opening again is a no-op


def test_a_file_from_newer_code_is_refused(tmp_path):
    path = str(tmp_path / "new.sqlite")
    Journal(path, person_key=KEY).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(JournalError, match="newer"):
        Journal(path, person_key=KEY)


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
    appended = [decision() for _ in range(300)]
    for d in appended:
        journal.append(d)
    done.set()
    thread.join(timeout=30)
    assert sorted(marked) == sorted(d.id for d in appended)  # each once, none lost
    assert journal.backlog() == 0 and journal.integrity_check() == "ok"


def test_errors_are_journal_errors(tmp_path, journal):
    with pytest.raises(JournalError):
        Journal(str(tmp_path / "missing-dir" / "j.sqlite"), person_key=KEY)
    same = decision()
    journal.append(same)
    with pytest.raises(JournalError):
        journal.append(same)  # the id is the primary key
    assert journal.backlog() == 1
    journal.close()
    with pytest.raises(JournalError):
        journal.backlog()


def test_group_appends_are_one_transaction(journal):
    same = decision()
    with pytest.raises(JournalError):
        journal.append_all([decision(), same, same])
    assert journal.backlog() == 0  # all or nothing
    journal.append_all([decision(), decision()])
    assert journal.backlog() == 2


def test_person_key_file_is_private_and_stable(tmp_path):
    path = str(tmp_path / "person.key")
    key = load_or_create_key(path)
    assert len(key) == 32 and os.stat(path).st_mode & 0o777 == 0o600
    assert load_or_create_key(path) == key
    assert [p.name for p in tmp_path.iterdir()] == ["person.key"]  # no temporary left
    (tmp_path / "short.key").write_bytes(b"x")
    with pytest.raises(JournalError):
        load_or_create_key(str(tmp_path / "short.key"))


def test_the_daemon_applies_retention_at_start(tmp_path):
    """Synced rows past retention go when the app starts; unsynced ones stay."""
    from gpiozero.pins.mock import MockFactory

    from drivers.signals import Signals
    from kiosk.app.config import Section
    from kiosk.app.wiring import build_app, build_journal
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


def test_a_replaced_or_deleted_file_is_noticed_not_written_into(tmp_path):
    path = tmp_path / "journal.sqlite"
    journal = Journal(str(path), person_key=KEY)
    journal.append(decision())
    os.rename(path, tmp_path / "elsewhere.sqlite")  # the file we hold is no longer at our path
    with pytest.raises(JournalError, match="deleted"):
        journal.append(decision())
    Journal(str(path), person_key=KEY).close()  # another file now stands there
    with pytest.raises(JournalError, match="replaced"):
        journal.check_file()
    journal.close()


def test_preflight_needs_a_writable_folder_with_room(tmp_path):
    from kiosk.services.journal import preflight
    preflight(str(tmp_path / "new"))  # created, probed, cleaned up
    assert os.listdir(tmp_path / "new") == []
    with pytest.raises(JournalError, match="KiB free"):
        preflight(str(tmp_path), min_free=1 << 62)


def test_lookups_since_counts_only_decisions_that_asked_the_service(journal):
    import uuid

    from kiosk.core.documents import parse
    from kiosk.core.model import Decision
    identity = parse(GREEN_IIN.encode(), today=WEDNESDAY.date())

    def row(colour, reason, minutes_ago, kind="iin"):
        return Decision(id=str(uuid.uuid4()), at=WEDNESDAY - dt.timedelta(minutes=minutes_ago),
                        kind=kind, identity=identity if kind != "none" else None, colour=colour,
                        decision="admit", reason=reason)

    journal.append_all([row("green", "green", 0.5), row("unknown", "lookup-timeout", 0.2),
                        row("unknown", "exempt-under-5", 0.1), row("unknown", "rate-limited", 0.1),
                        row("unknown", "staff-admit", 0.1, kind="none"), row("red", "red", 5)])
    made = journal.lookups_since(WEDNESDAY - dt.timedelta(minutes=1))
    assert len(made) == 2 and made == sorted(made)

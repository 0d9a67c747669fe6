"""The storage interface, the same tests on SQLite and on a real PostgreSQL."""
import datetime as dt

import pytest

from collector.protocol import event_rows, hash_token
from collector.storage import open_storage
from collector.storage.migrations import LATEST
from tests.pg import postgres_server, storage, storage_url  # noqa: F401 - fixtures

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 18, 14, 30, tzinfo=UTC)


def rows(kiosk, ids, at="2026-11-18T14:30:00.000+00:00", **fields):
    return event_rows(kiosk, {"events": [{"id": i, "at": at, **fields} for i in ids]}, NOW)


def test_migrating_twice_is_a_no_op(storage_url):
    with open_storage(storage_url) as first:
        first.put_kiosk("door-1", "h")
    with open_storage(storage_url) as again:
        assert again.migrate() == LATEST and [k["kiosk_id"] for k in again.kiosks()] == ["door-1"]


def test_ingest_is_idempotent_per_kiosk(storage):
    storage.put_kiosk("door-1", hash_token("a"), venue="cafe")
    storage.put_kiosk("door-2", hash_token("b"), venue="cafe")
    assert sorted(storage.ingest(rows("door-1", ["e1", "e2"], decision="admit"))) == ["e1", "e2"]
    assert storage.ingest(rows("door-1", ["e2", "e3"], decision="admit")) == ["e3"]
    # The same id from another kiosk is another event: one kiosk cannot
    # suppress another's by posting its id first.
    assert storage.ingest(rows("door-2", ["e1"], decision="deny")) == ["e1"]
    assert sorted(storage.event_ids("door-1")) == ["e1", "e2", "e3"]
    assert storage.event_ids("door-2") == ["e1"]
    counts = storage.counts(since=NOW - dt.timedelta(hours=1), until=NOW + dt.timedelta(hours=1),
                            venue="cafe")
    assert {(c["kiosk_id"], c["decision"], c["n"]) for c in counts} == {("door-1", "admit", 3),
                                                                       ("door-2", "deny", 1)}
    assert counts[0]["hour"] == NOW.replace(minute=0)


def test_a_large_batch_is_one_call(storage):
    storage.put_kiosk("door-1", "h")
    ids = [f"id-{n:05d}" for n in range(10_000)]
    assert len(storage.ingest(rows("door-1", ids))) == 10_000
    assert storage.ingest(rows("door-1", ids)) == []
    assert len(storage.event_ids()) == 10_000


@pytest.mark.parametrize("size", [3, 1_000])  # PostgreSQL: one statement of arrays, or COPY first
def test_a_resent_batch_counts_nothing_twice(storage, size):
    """Hours by the event's own time (else its arrival), only what was newly
    stored counted, and a batch half resent adds only its new half."""
    storage.put_kiosk("door-1", "h", venue="cafe")
    ids = [f"e{n:05d}" for n in range(size)]
    early = (NOW - dt.timedelta(hours=2)).isoformat()
    body = {"events": [{"id": i, "decision": "admit" if n % 2 else "deny", "reason": "r",
                        "at": early if n % 3 == 0 else None} for n, i in enumerate(ids)]}
    assert len(storage.ingest(event_rows("door-1", body, NOW))) == size
    resent = {"events": body["events"][size // 2:] + [{"id": "extra", "decision": "admit", "reason": "r"}]}
    assert storage.ingest(event_rows("door-1", resent, NOW)) == ["extra"]
    counts = storage.counts(since=NOW - dt.timedelta(hours=3), until=NOW + dt.timedelta(hours=1))
    expected: dict = {}
    for n, event in enumerate(body["events"] + [resent["events"][-1]]):
        hour = (NOW - dt.timedelta(hours=2) if n % 3 == 0 and n < size else NOW).replace(minute=0)
        key = (hour, event["decision"])
        expected[key] = expected.get(key, 0) + 1
    assert {(c["hour"], c["decision"]): c["n"] for c in counts} == expected


def test_events_keep_the_sealed_box_and_no_clear_number(storage):
    storage.put_kiosk("door-1", "h")
    storage.ingest(event_rows("door-1", {"events": [
        {"id": "x", "sealed": "c2VhbGVk", "masked": "••••1427", "number": "871008401427",
         "extra": {"group": "g1"}, "latency_ms": "fast", "cached": True}]}, NOW))
    (event,) = storage.events()
    assert event["sealed"] == "c2VhbGVk" and event["masked"] == "••••1427"
    assert "number" not in event and "871008401427" not in repr(event)
    assert event["extra"] == {"group": "g1"} and event["latency_ms"] is None and event["cached"] == 1


def test_heartbeats_kiosks_and_maintenance(storage):
    storage.put_kiosk("door-1", hash_token("a"), venue="cafe", name="front door")
    assert storage.token_hash("door-1") == hash_token("a") and storage.token_hash("nope") is None
    assert storage.token_hashes() == {"door-1": hash_token("a")}
    assert storage.kiosks()[0]["last_seen"] is None
    storage.record_heartbeat("door-1", {"version": "0.1.0", "backlog": 3}, NOW)
    storage.record_heartbeat("door-1", {"version": "0.1.1", "backlog": 0}, NOW + dt.timedelta(seconds=30))
    (kiosk,) = storage.kiosks("cafe")
    assert kiosk["last_seen"] == NOW + dt.timedelta(seconds=30)
    assert kiosk["last_heartbeat"] == {"version": "0.1.1", "backlog": 0}
    assert [b["data"]["version"] for b in storage.heartbeats("door-1")] == ["0.1.1", "0.1.0"]
    assert storage.set_maintenance("door-1", True) and storage.kiosks()[0]["maintenance"] is True
    assert not storage.set_maintenance("ghost", True)
    assert storage.kiosks("elsewhere") == []


def test_heartbeats_in_a_batch_keep_each_kiosks_newest(storage):
    for kiosk in ("door-1", "door-2"):
        storage.put_kiosk(kiosk, "h")
    later = NOW + dt.timedelta(seconds=30)
    storage.record_heartbeats([("door-1", {"n": 2}, later), ("door-1", {"n": 1}, NOW),
                               ("door-2", {"n": 3}, NOW), ("ghost", {"n": 4}, NOW)])
    latest = {k["kiosk_id"]: (k["last_heartbeat"], k["last_seen"]) for k in storage.kiosks()}
    assert latest == {"door-1": ({"n": 2}, later), "door-2": ({"n": 3}, NOW)}
    assert [b["data"]["n"] for b in storage.heartbeats("door-1")] == [2, 1]


def test_purge_drops_old_events_and_heartbeats_but_keeps_counts(storage):
    storage.put_kiosk("door-1", "h", venue="cafe")
    storage.ingest(rows("door-1", ["old"], decision="admit"))
    storage.record_heartbeat("door-1", {}, NOW)
    assert storage.purge(NOW + dt.timedelta(seconds=1)) == {"events": 1, "heartbeats": 1}
    assert storage.event_ids() == [] and storage.heartbeats("door-1") == []
    assert storage.counts(since=NOW - dt.timedelta(days=1), until=NOW + dt.timedelta(days=1))[0]["n"] == 1


def test_trace_log_records_each_trace(storage):
    trace_id = storage.record_trace(operator="A. Officer", reason="case 1", venue="cafe",
                                    since=NOW - dt.timedelta(hours=2), until=NOW, at=NOW)
    storage.finish_trace(trace_id, 3)
    (entry,) = storage.trace_log()
    assert (entry["operator"], entry["venue"], entry["rows"], entry["since"]) == \
        ("A. Officer", "cafe", 3, NOW - dt.timedelta(hours=2))

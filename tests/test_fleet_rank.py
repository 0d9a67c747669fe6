"""The fleet list ranked, counted and paged by the database (storage/fleet.py)
agrees with the health rules in Python (collector/health.py), on SQLite and
on a real PostgreSQL; a database from before the summary columns is brought
up to date; decision totals count what was stored, once."""
import datetime as dt
import json
import random

import pytest

from collector.health import RANK, STATES, count
from collector.protocol import event_rows
from collector.storage import open_storage
from collector.storage.migrations import statements
from collector.web import views
from tests.pg import postgres_server, storage, storage_url  # noqa: F401 - fixtures

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 18, 14, 30, tzinfo=UTC)
INTERVAL = 30


def heartbeat(pick: random.Random) -> dict:
    """A heartbeat with any mix of what a kiosk (or a broken one) may send."""
    if pick.random() < 0.04:
        return {}
    beat = {"devices": pick.choice([{"scanner": pick.choice([True, False, None]), "camera": pick.choice([True, None])},
                                    "scanner", [False], None]),
            "clock_synced": pick.choice([True, False, None]), "journal_ok": pick.choice([True, False, None]),
            "relay_errors": pick.choice([0, 2, 2.0, 0.5, None, "x", True]),
            "backlog": pick.choice([0, 7, 1000, 1001, 1001.0, 2e3, 7.5, 1e16, -5, 50_000, None, "many", True]),
            "last_sync": pick.choice([(NOW - dt.timedelta(minutes=5)).isoformat(),
                                      (NOW - dt.timedelta(minutes=61)).isoformat(),
                                      (NOW - dt.timedelta(minutes=59)).replace(tzinfo=None).isoformat(),
                                      "2026-13-99", None, 12]),
            "version": pick.choice(["0.1.0", "0.2", "0.2.0", "0.10", "0.10.1", "1.0.0-rc1", "abc", None,
                                    "99999999999.1"])}
    return {k: v for k, v in beat.items() if v is not None}


@pytest.fixture
def fleet(storage):
    pick = random.Random(16)
    for i in range(240):
        kiosk = f"k{i:03d}"
        storage.put_kiosk(kiosk, "h", venue=f"v{i % 5}")
        seen = pick.choice([None, NOW - dt.timedelta(seconds=10), NOW - dt.timedelta(seconds=200)])
        if seen is not None:
            storage.record_heartbeat(kiosk, heartbeat(pick), seen)
        if pick.random() < 0.08:
            storage.set_maintenance(kiosk, True)
    return storage


def python_order(storage, min_version, venues=None):
    rows = views.fleet_rows([k for k in storage.kiosks() if venues is None or k["venue"] in venues],
                            NOW, INTERVAL, min_version)
    return [(r["kiosk_id"], views.rank_of(r)) for r in rows]


@pytest.mark.parametrize("min_version", ["", "0.2", "0.10.1"])
def test_the_database_ranks_every_kiosk_as_the_health_rules_do(fleet, min_version):
    expected = python_order(fleet, min_version)
    ranked = fleet.fleet(now=NOW, interval=INTERVAL, min_version=min_version, limit=1000)
    assert [(k["kiosk_id"], k["rank"]) for k in ranked] == expected
    assert {rank for _, rank in expected} == set(RANK.values())  # every rank was tried
    census = fleet.fleet_census(now=NOW, interval=INTERVAL, min_version=min_version)
    rows = views.fleet_rows(fleet.kiosks(), NOW, INTERVAL, min_version)
    assert {s: census[s] for s in STATES} == {s: sum(r["state"] == s for r in rows) for s in STATES}
    assert census["troubled"] == sum(views.rank_of(r) == RANK["troubled"] for r in rows)
    assert census["backlog"] == sum(n for r in rows if (n := count(r["backlog"])) is not None and 0 <= n < 2**53)


def test_a_screen_a_state_and_a_managers_venues(fleet):
    everything = python_order(fleet, "0.2")
    asked = {"now": NOW, "interval": INTERVAL, "min_version": "0.2"}
    screens = [fleet.fleet(**asked, offset=start, limit=100) for start in (0, 100, 200)]
    assert [(k["kiosk_id"], k["rank"]) for screen in screens for k in screen] == everything
    assert [len(s) for s in screens] == [100, 100, 40]
    online = fleet.fleet(**asked, state="online", limit=1000)
    assert {k["rank"] for k in online} == {RANK["online"], RANK["troubled"]}
    census = fleet.fleet_census(**asked)
    assert len(online) == census["online"]
    for state in ("offline", "unknown", "maintenance"):
        assert len(fleet.fleet(**asked, state=state, limit=1000)) == census[state]
    mine = fleet.fleet(**asked, venues=["v1", "v3"], limit=1000)
    assert [(k["kiosk_id"], k["rank"]) for k in mine] == python_order(fleet, "0.2", {"v1", "v3"})
    assert sum(fleet.fleet_census(**asked, venues=["v1", "v3"])[s] for s in STATES) == 96
    assert fleet.fleet(**asked, venues=[]) == [] and fleet.fleet_census(**asked, venues=[])["online"] == 0
    assert mine[0]["last_heartbeat"] == fleet.kiosk(mine[0]["kiosk_id"])["last_heartbeat"]


def test_a_database_from_before_the_summaries_is_brought_up_to_date(storage_url):
    """Steps 4 and 5 on a database that already holds kiosks and counts: the
    totals start from the counts, each kiosk's summary from its last
    heartbeat, without waiting for the next one, and its venue history from
    where it stands."""
    beat = {"version": "0.1.0", "devices": {"scanner": False}, "backlog": 12}
    if storage_url.startswith("postgresql"):
        from psycopg.types.json import Jsonb

        from collector.storage.postgres import PostgresStorage
        old, stored = PostgresStorage(storage_url), Jsonb(beat)
    else:
        from collector.storage.sqlite import SqliteStorage
        old, stored = SqliteStorage(storage_url), json.dumps(beat)
    with old:
        assert old._migrate(lambda current: [s for s in statements(old.dialect, current) if s[0] <= 3], 3) == 3
        old._tx(lambda conn: [
            old._exec(conn, "INSERT INTO kiosks (kiosk_id, token_hash, venue, created_at, last_seen, "
                      "last_heartbeat) VALUES (?, 'h', 'cafe', ?, ?, ?)",
                      ("door-1", old._stamp(NOW), old._stamp(NOW), stored)),
            old._exec(conn, "INSERT INTO counts (kiosk_id, hour, decision, reason, n) VALUES "
                      "('door-1', ?, 'admit', 'green', 40), ('door-1', ?, 'deny', 'red', 2)",
                      (old._stamp(NOW), old._stamp(NOW)))])
    with open_storage(storage_url) as upgraded:
        (row,) = upgraded.fleet(now=NOW, interval=INTERVAL)
        assert row["rank"] == RANK["troubled"]
        assert upgraded.fleet_census(now=NOW, interval=INTERVAL)["backlog"] == 12
        assert upgraded.decision_totals() == {"admit": 40, "deny": 2}
        upgraded.record_heartbeat("door-1", {"version": "0.2.0"}, NOW)
        assert upgraded.fleet(now=NOW, interval=INTERVAL)[0]["rank"] == RANK["online"]
        # Step 5: the kiosk was at the cafe all along, as far as a trace goes.
        upgraded.ingest(event_rows("door-1", {"events": [{"id": "e1", "at": "2020-01-01T00:00+00:00"}]}, NOW))
        assert [e["id"] for e in upgraded.sealed_events("cafe", dt.datetime(2019, 1, 1, tzinfo=UTC), NOW)] == ["e1"]
        assert upgraded.sealed_events("bar", dt.datetime(2019, 1, 1, tzinfo=UTC), NOW) == []
    with open_storage(storage_url) as again:  # the next start leaves a newer summary alone
        assert again.fleet(now=NOW, interval=INTERVAL)[0]["rank"] == RANK["online"]


def test_decision_totals_count_what_was_stored_once(storage):
    storage.put_kiosk("door-1", "h")
    storage.put_kiosk("door-2", "h")

    def batch(kiosk, ids, decision):
        return event_rows(kiosk, {"events": [{"id": i, "decision": decision} for i in ids]}, NOW)
    storage.ingest(batch("door-1", [f"a{i}" for i in range(100)], "admit"))
    storage.ingest(batch("door-1", [f"a{i}" for i in range(50, 150)], "admit"))  # half resent
    storage.ingest_pairs(batch("door-2", ["a1", "x"], "deny") + batch("door-1", ["a1", "n"], None))
    assert storage.decision_totals() == {"admit": 150, "deny": 2, "": 1}

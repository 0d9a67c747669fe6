"""Venue occupancy at the collector, on SQLite and on a real PostgreSQL: each
door's counts kept idempotently per period, the venue's figure in the
heartbeat answer, the JSON endpoint the fleet page reads."""
import datetime as dt

import httpx
import pytest

from collector.app import Settings
from collector.protocol import hash_token
from tests.collector_server import Collector
from tests.pg import postgres_server, storage, storage_url  # noqa: F401 - fixtures

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 18, 14, 30, tzinfo=UTC)
DAY = "2026-11-18"


def report(door="entry", entries=0, exits=0, adjust=0, changes=None, period=DAY):
    changes = entries + exits + abs(adjust) if changes is None else changes
    return {"period": period, "door": door, "entries": entries, "exits": exits, "adjust": adjust,
            "changes": changes}


def test_each_door_counts_once_per_period_and_a_late_beat_changes_nothing(storage):
    for kiosk in ("in-1", "in-2", "out-1"):
        storage.put_kiosk(kiosk, hash_token("t"), venue="cinema")
    storage.put_kiosk("elsewhere", hash_token("t"), venue="cafe")
    storage.record_occupancy("in-1", report(entries=5), NOW)
    newer = report(entries=7)
    assert storage.record_occupancy("in-1", newer, NOW) == \
        {"period": DAY, "total": 7, "limit": None, "doors": 1}
    storage.record_occupancy("in-1", newer, NOW)  # the same beat again
    storage.record_occupancy("in-1", report(entries=5), NOW)  # an older one, late
    storage.record_occupancy("in-2", report(entries=4), NOW)
    storage.record_occupancy("elsewhere", report(entries=50), NOW)
    answer = storage.record_occupancy("out-1", report("exit", exits=3), NOW)
    assert answer == {"period": DAY, "total": 8, "limit": None, "doors": 2}
    # Another day is another count (the reset at closing time).
    assert storage.record_occupancy("in-1", report(entries=1, period="2026-11-19"), NOW)["total"] == 1
    figure = storage.venue_occupancy("cinema", DAY)
    assert figure["total"] == 8
    assert [(d["kiosk_id"], d["entries"], d["exits"]) for d in figure["doors"]] == \
        [("in-1", 7, 0), ("in-2", 4, 0), ("out-1", 0, 3)]
    assert storage.venue_occupancy("cinema")["period"] == "2026-11-19"  # the latest
    # The day's curve: one point per change, none for the repeats.
    assert [h["total"] for h in storage.occupancy_history("cinema", DAY)] == [5, 7, 11, 8]


def test_a_venue_manager_limit_goes_back_to_the_doors(storage):
    storage.put_kiosk("in-1", hash_token("t"), venue="cinema")
    storage.set_venue_limit("cinema", limit="40%", capacity=300, by="manager")
    assert storage.record_occupancy("in-1", report(entries=1), NOW)["limit"] == 120
    assert storage.venue_occupancy("cinema")["limit_text"] == "40%"
    storage.set_venue_limit("cinema", limit="")
    assert storage.record_occupancy("in-1", report(entries=2), NOW)["limit"] is None


@pytest.fixture
def served(storage_url):
    with Collector(storage_url, tokens={"in-1": "a", "out-1": "b"},
                   venue="cinema", settings=Settings(), proxy=False) as collector:
        yield collector


def test_the_heartbeat_answer_carries_the_venue_total(served):
    beat = lambda kiosk, token, counts: httpx.post(
        f"{served.direct_url}/v1/kiosks/{kiosk}/heartbeat", json={"occupancy": counts},
        headers={"Authorization": f"Bearer {token}"})
    beat("in-1", "a", report(entries=9))
    answer = beat("out-1", "b", report("exit", exits=2)).json()
    assert answer["occupancy"] == {"period": DAY, "total": 7, "limit": None, "doors": 1}
    assert "occupancy" not in beat("in-1", "a", None).json()  # an older kiosk: no change
    bad = beat("in-1", "a", {**report(), "entries": -1})
    assert bad.status_code == 400 and "entries" in bad.json()["error"]
    figure = httpx.get(f"{served.direct_url}/api/venues/cinema/occupancy",
                       headers={"Authorization": "Bearer b"}).json()
    assert (figure["total"], len(figure["doors"]), len(figure["history"])) == (7, 2, 2)
    refused = httpx.get(f"{served.direct_url}/api/venues/cinema/occupancy")
    assert refused.status_code == 401 and "error" in refused.json()
    nul = httpx.get(f"{served.direct_url}/api/venues/cin%00ema/occupancy", headers={"Authorization": "Bearer b"})
    assert nul.status_code == 401 and "error" in nul.json()


def test_a_limit_that_makes_no_sense_is_refused(storage):
    for limit, capacity in (("forty", 0), ("40%", 0), ("-3", 0), ("150%", 100), ("1" + "0" * 30, 0),
                            ("50%", 10**30), ("50%", -5)):
        with pytest.raises(ValueError):
            storage.set_venue_limit("cinema", limit=limit, capacity=capacity)

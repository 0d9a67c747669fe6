"""Venue occupancy in the pure core: the count, the limit, and what the
machine does with them (issue 17), driven event by event with a hand clock."""
import datetime as dt

import pytest

from kiosk.core.door import counts_from_rows
from kiosk.core.errors import ConfigError
from kiosk.core.model import Journal, KeyPressed, Passed, PulseRelay, RelayOff, Status
from kiosk.core.occupancy import Counts, Heard, Occupancy, parse_limit, period_of, period_start
from kiosk.core.staff import hash_pin
from tests.conftest import ALMATY, GREEN_IIN, SECOND_PASS_IIN, make_config
from tests.iins import make_iin
from tests.test_machine import Door, of, screen

PIN = "4321"
STAFF = [{"id": "aigerim", "pin": hash_pin(PIN)}]
LIMITED = '[venue]\nlimit = 2\nclosing_time = "23:00"\n'


def rows(actions):
    return [a.decision for a in of(actions, Journal)]


# ---- the counting rules ---------------------------------------------------------

@pytest.mark.parametrize("value, capacity, limit", [
    ("", 0, None), (0, 0, None), (120, 0, 120), ("120", 0, 120), ("40%", 300, 120),
    ("50 %", 3, 1), ("0.1%", 10, 1)])
def test_limits_as_people_or_a_share_of_capacity(value, capacity, limit):
    assert parse_limit(value, capacity) == limit


@pytest.mark.parametrize("value, capacity, words", [
    ("40%", 0, "capacity"), ("140%", 100, "between 0 and 100"), ("forty", 0, "not a limit"),
    ("12.5", 0, "whole number"), (True, 0, "not a limit")])
def test_bad_limits_say_what_is_wrong(value, capacity, words):
    with pytest.raises(ValueError, match=words):
        parse_limit(value, capacity)


def test_check_config_validates_the_door_and_venue():
    cfg = make_config('[door]\nkind = "exit"\n[venue]\ncapacity = 300\nlimit = "40%"\n'
                      'closing_time = "02:30"\n')
    assert (cfg.door.kind, cfg.venue.limit, cfg.venue.closing_time) == ("exit", "40%", "02:30")
    with pytest.raises(ConfigError) as caught:
        make_config('[door]\nkind = "sideways"\nexit_count = "sensor"\n'
                    '[venue]\nlimit = "40%"\nclosing_time = "25:61"\n')
    text = str(caught.value)
    for words in ("door.kind", "venue.limit", "capacity", "venue.closing_time"):
        assert words in text
    with pytest.raises(ConfigError, match="passage_pin"):
        make_config('[door]\nkind = "exit"\nexit_count = "sensor"\n')


def test_the_business_day_ends_at_the_closing_time():
    late = dt.datetime(2026, 11, 19, 1, 30, tzinfo=ALMATY)
    assert period_of(late, "02:00") == "2026-11-18" and period_of(late, "00:00") == "2026-11-19"
    assert period_start(late, "02:00") == dt.datetime(2026, 11, 18, 2, 0, tzinfo=ALMATY)


def test_a_door_adds_its_own_counts_to_the_total_it_last_heard():
    occ = Occupancy(limit=10)
    occ.roll(dt.datetime(2026, 11, 18, 12, 0))
    occ.count("in"), occ.count("in")
    sent = occ.counts
    occ.count("in")  # after the beat left
    occ.heard(Heard(period="2026-11-18", total=7, doors=3, sent=sent))  # 5 from other doors
    assert (occ.total, occ.is_estimate) == (8, False)
    occ.heard(Heard())  # offline: last known total plus own counts
    occ.count("out")
    assert (occ.total, occ.is_estimate) == (7, True)


def test_never_below_zero_and_a_repeated_answer_changes_nothing():
    occ = Occupancy()
    occ.roll(dt.datetime(2026, 11, 18, 12, 0))
    occ.count("out"), occ.count("out")
    assert occ.total == 0
    answer = Heard(period="2026-11-18", total=0, sent=occ.counts)
    occ.heard(answer), occ.heard(answer)
    assert occ.total == 0


def test_near_the_limit_a_door_admits_only_on_a_total_heard_after_the_scan():
    """The overshoot bound's mechanism (kiosk/core/occupancy.py)."""
    occ = Occupancy(limit=10)
    occ.roll(dt.datetime(2026, 11, 18, 12, 0))
    occ.heard(Heard(period="2026-11-18", total=6, doors=3, sent=occ.counts, asked=100.0))
    assert occ.admission(started=101.0) == "ok"  # 6 + 3 doors < 10: far enough
    occ.count("in")
    assert occ.admission(started=102.0) == "wait"  # 7 + 3 >= 10: the latest total first
    occ.heard(Heard(period="2026-11-18", total=9, doors=3, sent=occ.counts, asked=102.5))
    assert occ.admission(started=102.0) == "ok"  # heard after the scan: two came in elsewhere
    occ.count("in")
    assert occ.admission(started=103.0) == "full" and occ.is_full()
    occ.heard(Heard())  # offline: the estimate decides, nothing to wait for
    occ.count("out")
    assert occ.admission(started=104.0) == "ok" and occ.is_estimate


def test_counts_are_rebuilt_from_journal_rows():
    extras = [{"count": "in", "delta": 1}, {"count": "in", "delta": 1}, {"count": "out", "delta": 1},
              {"count": "adjust", "delta": -3}, {"period": "x"}]
    assert counts_from_rows("2026-11-18", extras) == Counts("2026-11-18", 2, 1, -3, 4)


# ---- the machine ------------------------------------------------------------------

def test_at_the_limit_an_entry_door_shows_venue_full_and_stays_shut(clock):
    door = Door(clock, LIMITED, staff=STAFF)
    first = door.visit(GREEN_IIN, "green")
    assert of(first, Journal)[0].decision.extra["count"] == "in"
    door.wait(10)
    door.visit(SECOND_PASS_IIN, "green")
    door.wait(10)
    actions = door.scan(make_iin("900101", serial=1234) + "\r")  # a third: no lookup, wait
    assert screen(actions).kind == "venue-full" and not of(actions, PulseRelay)
    assert of(actions, RelayOff)
    row, = rows(actions)
    assert (row.decision, row.reason, row.extra["occupancy"]) == ("staff", "venue-full", 2)
    idle = door.kiosk.idle_screen().screen
    assert (idle.occupancy, idle.limit, idle.estimate) == (2, 2, True)


def test_staff_can_admit_once_at_the_limit_and_it_counts(clock):
    door = Door(clock, '[venue]\nlimit = 1\n', staff=STAFF)
    door.visit(GREEN_IIN, "green")
    door.wait(10)
    for key in PIN + "#" + "1":
        actions = door.send(KeyPressed(key))
    assert of(actions, PulseRelay)
    row, = rows(actions)
    assert (row.reason, row.staff_id, row.extra["count"]) == ("staff-admit", "aigerim", "in")
    assert door.kiosk.door.occupancy.total == 2


def test_near_the_limit_the_admit_waits_for_the_venue_total(clock):
    door = Door(clock, '[venue]\nlimit = 3\n')
    occ = door.kiosk.door.occupancy
    door.wait(0.1)
    door.send(Heard(period="2026-11-18", total=1, doors=2, sent=occ.counts, asked=clock().mono))
    clock.advance(1)
    looked = door.scan(GREEN_IIN + "\r")
    assert door.answer(looked, Status("green")) == []  # 1 + 2 doors >= 3: held
    actions = door.send(Heard(period="2026-11-18", total=1, doors=2, sent=occ.counts,
                              asked=clock().mono))
    assert of(actions, PulseRelay) and occ.total == 2
    door.wait(10)
    assert door.answer(door.scan(SECOND_PASS_IIN + "\r"), Status("green")) == []
    actions = door.wait(5)  # no total heard before the deadline: the visitor waits
    assert screen(actions).kind == "venue-full" and rows(actions)[-1].reason == "venue-full"


def test_when_occupancy_drops_the_next_scan_is_admitted(clock):
    door = Door(clock, '[venue]\nlimit = 1\n')
    door.visit(GREEN_IIN, "green")
    door.wait(10)
    assert screen(door.scan(SECOND_PASS_IIN + "\r")).kind == "venue-full"
    door.wait(10)
    occ = door.kiosk.door.occupancy
    # Another door let one out: the collector's answer says so.
    door.send(Heard(period=occ.counts.period, total=0, doors=1, sent=occ.counts,
                    asked=clock().mono))
    actions = door.visit(SECOND_PASS_IIN, "green")
    assert of(actions, PulseRelay)


def test_an_exit_door_counts_admitted_exit_scans_out(clock):
    door = Door(clock, '[door]\nkind = "exit"\n[venue]\nlimit = 1\n')
    actions = door.visit(GREEN_IIN, "green")
    assert rows(actions)[0].extra == {"count": "out", "delta": 1}
    assert door.kiosk.door.occupancy.counts.exits == 1


def test_with_a_passage_sensor_entries_count_on_passage(clock):
    door = Door(clock, '[signals]\npassage_pin = 5\n[door]\nkind = "both"\n')
    admitted = door.visit(GREEN_IIN, "green")
    assert "count" not in rows(admitted)[0].extra
    row, = rows(door.send(Passed()))
    assert (row.reason, row.extra["count"], row.extra["decision_id"]) == \
        ("passage-sensed", "in", rows(admitted)[0].id)
    row, = rows(door.send(Passed(free=True)))  # the free way out of a "both" door
    assert (row.reason, row.extra["count"]) == ("passage-out", "out")
    assert door.kiosk.door.occupancy.counts == Counts(door.kiosk.door.occupancy.counts.period,
                                                      1, 1, 0, 2)


def test_the_count_resets_at_closing_time_on_the_record(clock):
    clock.wall = dt.datetime(2026, 11, 18, 22, 59, 50, tzinfo=ALMATY)
    door = Door(clock, LIMITED)
    door.wait(0.1)
    door.visit(GREEN_IIN, "green")
    assert door.kiosk.door.occupancy.total == 1
    actions = door.wait(20)  # 23:00:10
    row, = rows(actions)
    assert (row.reason, row.extra["period"], row.extra["total"]) == \
        ("occupancy-reset", "2026-11-18", 1)
    assert door.kiosk.door.occupancy.total == 0
    assert door.kiosk.door.occupancy.counts.period == "2026-11-19"


def test_staff_set_the_count_they_made_with_their_id_on_the_row(clock):
    door = Door(clock, LIMITED, staff=STAFF)
    door.visit(GREEN_IIN, "green")
    door.wait(10)
    for key in PIN + "#" + "7" + "0" + "#":
        actions = door.send(KeyPressed(key))
    row, = rows(actions)
    assert (row.reason, row.staff_id, row.extra) == \
        ("occupancy-set", "aigerim", {"count": "adjust", "delta": -1, "total": 0})
    assert door.kiosk.door.occupancy.total == 0


# ---- where people look ----------------------------------------------------------

@pytest.mark.parametrize("estimate", [False, True])
def test_the_idle_screen_of_an_entry_door_shows_n_of_m(estimate):
    from drivers.gallery import render
    from kiosk.core.model import Screen
    record = []
    render(Screen("idle", language="en", occupancy=37, limit=40, estimate=estimate), (800, 480),
           record=record)
    text = " ".join(d.text for d in record if d.text)
    assert "37 / 40" in text and "inside" in text
    assert ("estimate" in text) is estimate


# ---- the whole application: journal rows in a real SQLite file ----------------

@pytest.fixture
def app(tmp_path):
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    from kiosk.app.config import Section
    from kiosk.app.wiring import build_app
    Device.pin_factory = MockFactory()
    cfg = make_config(f'[kiosk]\nstate_dir = "{tmp_path}"\n[scanner]\nenabled = false\n'
                      '[signals]\npin_factory = "mock"\n[display]\nenabled = false\n'
                      '[venue]\nlimit = 50\nclosing_time = "23:00"\n')
    secrets = Section({"status_token": "", "person_key": "k", "sync_token": "", "staff": STAFF})
    made = build_app(cfg, secrets)
    made.start()
    yield made
    made.close()
    Device.pin_factory.reset()


def journal_rows(app, reason):
    import json
    import sqlite3
    with sqlite3.connect(app.journal.path) as db:
        db.row_factory = sqlite3.Row
        rows = [dict(r) for r in db.execute("SELECT * FROM decisions WHERE reason = ?", (reason,))]
    return [{**r, "extra": json.loads(r["extra"]) if r["extra"] else {}} for r in rows]


def test_staff_adjustment_and_the_closing_reset_are_journalled(app):
    import time

    from kiosk.app import housekeeping
    from kiosk.core.model import Now
    for key in PIN + "#" + "7" + "42" + "#":
        app.key(key)
    app.step(0)
    row, = journal_rows(app, "occupancy-set")
    assert (row["staff_id"], row["extra"]["total"], row["extra"]["delta"]) == ("aigerim", 42, 42)
    assert app.kiosk.door.occupancy.total == 42
    # The count survives a restart, rebuilt from those rows.
    app.kiosk.door.occupancy.counts = Counts(app.kiosk.door.occupancy.counts.period)
    housekeeping.restore_occupancy(app.journal, app.kiosk.door.occupancy, app.now())
    assert app.kiosk.door.occupancy.total == 42
    # Closing time: told the time, as the core always is.
    closing = period_start(dt.datetime.now(ALMATY), "23:00") + dt.timedelta(days=1, seconds=1)
    app.now = lambda: Now(time.monotonic(), closing, True)
    app.step(0)
    row, = journal_rows(app, "occupancy-reset")
    assert (row["decision"], row["extra"]["total"]) == ("staff", 42)
    assert app.kiosk.door.occupancy.total == 0
    housekeeping.restore_occupancy(app.journal, app.kiosk.door.occupancy, app.now())  # none yet
    assert app.kiosk.door.occupancy.total == 0


def test_an_exit_door_sends_its_scans_with_type_exit():
    from kiosk.app.config import Section
    from kiosk.core.documents import parse
    from kiosk.services.status import StatusClient
    secrets = Section({"status_token": "t"})
    for kind, sent in (("exit", "exit"), ("entry", "entry"), ("both", "entry")):
        client = StatusClient.from_config(make_config(f'[door]\nkind = "{kind}"\n'), secrets)
        assert client.body(parse(GREEN_IIN.encode(), today=dt.date.today()))["Type"] == sent
        client.close()


def test_the_collector_answer_is_read_defensively():
    from kiosk.services.heartbeat import heard
    sent = {"door": "entry", "limit": 5, **Counts("2026-11-18", 3, 1, 0, 4).as_json()}
    event = heard({"period": "2026-11-18", "total": 9, "limit": None, "doors": 3}, sent, 7.5)
    assert (event.total, event.limit, event.doors, event.sent.entries, event.asked) == \
        (9, None, 3, 3, 7.5)
    odd = heard({"period": 5, "total": 2, "limit": True, "doors": 0}, sent)
    assert (odd.total, odd.limit, odd.doors) == (2, None, 1)
    assert heard({"total": "many"}, sent).total is None  # untrusted: an estimate, as offline
    assert heard(None, sent).sent is None  # an older collector: live, nothing to learn

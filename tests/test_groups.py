"""Issue 12, item 5: group entry keeps its promise, all or nothing, every
member journalled: scans keep the staff session alive, a party that cannot
finish is closed with a row per member and the door shut, one person fills
one place, the door holds for N passages, and a refused party shows every
member's refund reference."""
import pytest

from drivers.signals import Signals
from kiosk.core.model import Journal, Lookup, LookupDone, Passed, PulseRelay, Signal, Status
from tests.conftest import GREEN_IIN, SECOND_PASS_IIN
from tests.iins import make_iin
from tests.test_machine import of, screen
from tests.test_signals import factory, levels  # noqa: F401 - the fixture
from tests.test_staff import STAFF, StaffDoor, rows

THIRD_IIN = make_iin("900101")
IDLE = 30  # keypad.session_idle_seconds default


@pytest.fixture
def door(clock):
    door = StaffDoor(clock, staff=STAFF)
    door.login()
    return door


def start_group(door, size):
    assert rows(door.keys("5", str(size), "enter"))[0].reason == f"group-start-{size}"


def test_scans_keep_the_staff_session_alive(door):
    start_group(door, 3)
    for number in (GREEN_IIN, SECOND_PASS_IIN):
        assert not rows(door.wait(IDLE - 5))  # no key for longer than the idle period in all
        door.visit(number, "green")
    assert not rows(door.wait(IDLE - 5))
    done = door.visit(THIRD_IIN, "green")
    assert [r.reason for r in rows(done)] == ["group-green"] * 3
    assert of(done, PulseRelay)


def test_an_idle_session_closes_the_party_with_a_row_per_member_and_the_door_shut(door):
    start_group(door, 3)
    door.visit(GREEN_IIN, "green")
    door.visit(SECOND_PASS_IIN, "blue")
    ended = door.wait(IDLE + 1)
    members = [r for r in rows(ended) if r.identity is not None]
    assert [(r.decision, r.reason) for r in members] == [("deny", "group-abandoned")] * 2
    assert {r.identity.number for r in members} == {GREEN_IIN, SECOND_PASS_IIN}
    assert len({r.extra["group"] for r in members}) == 1 and all(r.staff_id for r in members)
    assert rows(ended)[-1].reason == "session-end-session-idle"
    assert not of(ended, PulseRelay) and Signal("deny") in ended
    assert sorted(screen(ended).references) == sorted(r.reference for r in members)


def test_a_member_being_looked_up_when_the_session_ends_is_journalled_too(door):
    start_group(door, 2)
    door.visit(GREEN_IIN, "green")
    asked = door.scan(SECOND_PASS_IIN + "\r")
    lookup, = of(asked, Lookup)
    ended = door.keys("*")  # staff close the session mid-lookup
    members = [r for r in rows(ended) if r.identity is not None]
    assert [r.identity.number for r in members] == [GREEN_IIN, SECOND_PASS_IIN]
    assert all(r.reason == "group-abandoned" and r.decision == "deny" for r in members)
    assert not of(ended, PulseRelay)
    late = door.send(LookupDone(lookup.request, Status("green")))
    assert not of(late, PulseRelay) and not rows(late)  # the late answer opens nothing


def test_starting_another_party_closes_the_unfinished_one_on_the_record(door):
    start_group(door, 3)
    door.visit(GREEN_IIN, "green")
    replaced = door.keys("5", "2", "enter")
    assert [r.reason for r in rows(replaced)] == ["group-abandoned", "group-start-2"]
    assert not of(replaced, PulseRelay)


def test_one_person_fills_one_place(door):
    start_group(door, 2)
    door.visit(GREEN_IIN, "green")
    again = door.scan(GREEN_IIN + "\r")
    assert not of(again, Lookup) and not rows(again)
    assert screen(again).reason == "group-duplicate" and screen(again).group_left == 1
    done = door.visit(SECOND_PASS_IIN, "green")
    assert [r.identity.number for r in rows(done)] == [GREEN_IIN, SECOND_PASS_IIN]


def test_an_admitted_party_holds_the_door_for_one_passage_each(door):
    start_group(door, 3)
    door.visit(GREEN_IIN, "green")
    door.visit(SECOND_PASS_IIN, "green")
    done = door.visit(THIRD_IIN, "green")
    pulse, = of(done, PulseRelay)
    assert pulse.passages == 3
    admitted = rows(done)[-1].id
    passages = [of(door.send(Passed()), Journal) for _ in range(4)]
    assert [len(p) for p in passages] == [1, 1, 1, 0]  # three people, then nobody
    assert all(p[0].decision.extra["decision_id"] == admitted for p in passages[:3])


def test_a_refused_party_shows_every_members_refund_reference(door):
    start_group(door, 3)
    door.visit(GREEN_IIN, "green")
    refused = door.visit(SECOND_PASS_IIN, "red")
    references = [r.reference for r in rows(refused)]
    assert len(references) == 2 and all(references)
    assert list(screen(refused).references) == references


def test_the_relay_stays_released_until_n_passages(factory):
    signals = Signals(pin_factory=factory, pulse_seconds=5, passage_pin=5)
    passed = []
    signals.when_passed = lambda: passed.append(signals.is_relay_on)
    beam = factory.pin(5)
    signals.pulse_relay(9, passages=3)
    for _ in range(3):
        beam.drive_low()
        beam.drive_high()
    assert passed == [True, True, False]  # open for the first two, shut after the third
    assert levels(factory.pin(23)) == [False, True, False]
    signals.pulse_relay()  # one visitor: the first passage shuts it, as before
    beam.drive_low()
    assert passed[-1] is False
    signals.close()

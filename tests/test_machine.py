"""The pure state machine, driven event by event with a hand-held clock."""
import pytest

from kiosk.core.machine import MAX_QUEUE, Kiosk
from kiosk.core.model import (Failure, Journal, Lookup, LookupDone, Passed, PulseRelay, Scanned,
                         ServiceHealth, Show, Signal, Status, Tick)
from tests.conftest import GREEN_IIN, SECOND_PASS_IIN, make_config
from tests.iins import make_iin


def of(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


def screen(actions):
    shows = of(actions, Show)
    return shows[-1].screen if shows else None


class Door:
    """A kiosk plus its clock, with the chores of feeding it."""

    def __init__(self, clock, extra="", staff=()):
        self.clock = clock
        self.kiosk = Kiosk(make_config(extra), staff)

    def send(self, event):
        return self.kiosk.handle(event, self.clock())

    def scan(self, payload):
        return self.send(Scanned(payload.encode() if isinstance(payload, str) else payload))

    def answer(self, actions, outcome):
        lookup, = of(actions, Lookup)
        return self.send(LookupDone(lookup.request, outcome))

    def visit(self, number, colour):
        return self.answer(self.scan(number + "\r"), Status(colour) if colour else Failure("refused"))

    def wait(self, seconds):
        self.clock.advance(seconds)
        return self.send(Tick())


@pytest.fixture
def door(clock):
    return Door(clock)


def test_green_is_journalled_first_then_relay_then_screen(door):
    actions = door.scan(GREEN_IIN + "\r")
    assert [type(a) for a in actions] == [Lookup, Show]
    assert screen(actions).kind == "checking"
    actions = door.answer(actions, Status("green"))
    assert [type(a) for a in actions] == [Journal, PulseRelay, Signal, Show]
    decision = of(actions, Journal)[0].decision
    assert (decision.decision, decision.colour, decision.kind) == ("admit", "green", "iin")
    assert screen(actions).masked.endswith("1427") and GREEN_IIN not in repr(actions)


@pytest.mark.parametrize("colour, verdict, opens", [
    ("green", "admit", True), ("blue", "admit", True), ("yellow", "deny", False), ("red", "deny", False)])
def test_each_colour(door, colour, verdict, opens):
    actions = door.visit(GREEN_IIN, colour)
    assert bool(of(actions, PulseRelay)) is opens
    assert of(actions, Journal)[0].decision.decision == verdict


def test_deny_carries_a_refund_reference_on_screen_and_in_the_journal(door):
    actions = door.visit(GREEN_IIN, "red")
    decision = of(actions, Journal)[0].decision
    assert decision.reference and len(decision.reference) == 9
    assert screen(actions).reference == decision.reference
    assert screen(actions).at is not None


@pytest.mark.parametrize("cause", ["timeout", "refused", "http-500", "not-json", "unknown-status"])
def test_failed_lookup_never_opens(door, cause):
    actions = door.answer(door.scan(GREEN_IIN + "\r"), Failure(cause))
    assert not of(actions, PulseRelay)
    assert of(actions, Journal)[0].decision.decision == "staff"
    assert of(actions, Journal)[0].decision.reason == f"lookup-{cause}"


def test_no_answer_is_decided_at_the_deadline_and_a_late_answer_is_ignored(door):
    first = door.scan(GREEN_IIN + "\r")
    assert not door.wait(1.0)
    actions = door.wait(1.0)  # past 1.5 s + slack
    assert of(actions, Journal)[0].decision.reason == "lookup-timeout"
    assert not of(actions, PulseRelay)
    assert door.answer(first, Status("green")) == []


def test_same_person_does_not_open_twice_within_the_guard(door):
    assert of(door.visit(GREEN_IIN, "green"), PulseRelay)
    door.wait(5)
    again = door.scan(b"]C0" + GREEN_IIN.encode() + b"\r\n")  # same person, other bytes
    assert not of(again, Lookup) and not of(again, PulseRelay)
    assert screen(again).reason == "repeat"
    door.wait(6)
    assert of(door.scan(GREEN_IIN), Lookup)


def test_another_person_is_not_guarded(door):
    door.visit(GREEN_IIN, "green")
    door.wait(5)
    assert of(door.visit(SECOND_PASS_IIN, "green"), PulseRelay)


def test_bad_scan_is_refused_with_its_reason_and_not_journalled(door):
    actions = door.scan(b"871008401428\r")
    assert screen(actions).kind == "refused"
    assert screen(actions).reason == "bad-check-digit"
    assert not of(actions, Journal) and not of(actions, Lookup)


def test_scan_during_lookup_is_queued_not_dropped(door):
    first = door.scan(GREEN_IIN)
    queued = door.scan(SECOND_PASS_IIN)
    assert screen(queued).kind == "busy" and not of(queued, Lookup)
    decided = door.answer(first, Status("green"))
    assert of(decided, PulseRelay)  # the first visitor's door opens first
    assert screen(decided).kind == "checking"
    assert of(decided, Lookup)[0].identity.number == SECOND_PASS_IIN


def test_a_full_queue_says_so_on_screen(door):
    door.scan(GREEN_IIN)
    for _ in range(MAX_QUEUE):
        door.scan(SECOND_PASS_IIN)
    assert screen(door.scan(SECOND_PASS_IIN)).reason == "queue-full"


def test_rate_limit_is_journalled_and_shown(clock):
    door = Door(clock, "rate_per_minute = 2\n")  # lands in [status]
    door.visit(GREEN_IIN, "red")
    door.wait(6)
    door.visit(SECOND_PASS_IIN, "red")
    door.wait(6)
    actions = door.scan(make_iin("900101"))
    assert not of(actions, Lookup)
    assert of(actions, Journal)[0].decision.reason == "rate-limited"
    door.wait(60)
    assert of(door.scan(make_iin("900101")), Lookup)


def test_young_child_is_admitted_without_lookup(door):
    child = make_iin("240315", century=5)
    actions = door.scan(child)
    assert not of(actions, Lookup) and of(actions, PulseRelay)
    assert of(actions, Journal)[0].decision.reason == "exempt-under-5"


def test_result_screen_returns_to_idle(door):
    door.visit(GREEN_IIN, "green")
    assert door.wait(1) == []
    assert screen(door.wait(5)).kind == "idle"


def test_offline_banner_follows_service_health(door):
    assert screen(door.send(ServiceHealth(False))).online is False
    assert screen(door.send(ServiceHealth(True))).online is True


def test_passage_sensor_is_recorded_against_the_admission(door):
    admitted = of(door.visit(GREEN_IIN, "green"), Journal)[0].decision
    row = of(door.send(Passed()), Journal)[0].decision
    assert row.extra["decision_id"] == admitted.id and row.reason == "passage-sensed"
    assert door.send(Passed()) == []  # a second passage is not another admission


def test_unsynchronised_clock_is_flagged_on_rows(door, clock):
    clock.synced = False
    decision = of(door.visit(GREEN_IIN, "green"), Journal)[0].decision
    assert decision.clock_synced is False and decision.mono == clock.mono

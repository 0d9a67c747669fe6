"""Staff at the keypad: PINs, lockout, session, menu, manual entry, groups."""
import pytest

from kiosk.core.model import Journal, KeyPressed, Lookup, LookupDone, PulseRelay, Status
from kiosk.core.staff import StaffDesk, hash_pin, verify_pin
from tests.conftest import GREEN_IIN, SECOND_PASS_IIN
from tests.iins import make_iin
from tests.test_machine import Door, of, screen

PIN = "2468"
STAFF = [{"id": "aigerim", "pin": hash_pin(PIN)}]


def rows(actions):
    return [a.decision for a in of(actions, Journal)]


class StaffDoor(Door):
    def keys(self, *keys):
        actions = []
        for key in keys:
            actions += self.send(KeyPressed(key))
        return actions

    def login(self):
        return self.keys(*PIN, "enter")


@pytest.fixture
def door(clock):
    return StaffDoor(clock, staff=STAFF)


def test_pins_are_salted_scrypt_hashes():
    first, second = hash_pin(PIN), hash_pin(PIN)
    assert first.startswith("scrypt$") and first != second and PIN not in first
    assert verify_pin(PIN, first) and not verify_pin("1357", first)
    assert not verify_pin(PIN, "garbage")


def test_typed_numbers_show_only_their_last_four():
    desk = StaffDesk(STAFF)
    for key in PIN:
        desk.press(key, 0)
    assert desk.shown_typed == "\u2022" * 4  # a PIN shows nothing
    desk.press("enter", 0)
    desk.press("3", 0)
    for key in GREEN_IIN:
        desk.press(key, 0)
    assert desk.shown_typed.endswith("1427") and GREEN_IIN[:8] not in desk.shown_typed


def test_login_opens_a_staff_session_on_the_record(door):
    actions = door.login()
    assert rows(actions)[0].reason == "session-start"
    assert rows(actions)[0].staff_id == "aigerim"
    assert screen(actions).kind == "staff" and screen(actions).staff_id == "aigerim"


def test_admit_once_pulses_and_is_audited(door):
    door.login()
    actions = door.keys("1")
    assert of(actions, PulseRelay)
    row, = rows(actions)
    assert (row.decision, row.reason, row.staff_id) == ("admit", "staff-admit", "aigerim")


def test_deny_is_audited_with_a_reference(door):
    door.login()
    row, = rows(door.keys("2"))
    assert (row.decision, row.reason, row.staff_id) == ("deny", "staff-deny", "aigerim")
    assert row.reference


def test_five_wrong_pins_lock_the_keypad(door):
    for attempt in range(4):
        assert rows(door.keys("1", "1", "1", "1", "enter"))[0].reason == f"pin-wrong-{attempt + 1}"
    locked = door.keys("1", "1", "1", "1", "enter")
    assert rows(locked)[0].reason == "keypad-locked"
    assert screen(door.login()).kind == "locked"  # even the right PIN, while locked
    door.wait(301)
    assert rows(door.login())[0].reason == "session-start"


def test_manual_entry_needs_a_session_and_is_looked_up_with_the_staff_id(door):
    assert not of(door.keys(*GREEN_IIN, "enter"), Lookup)  # no session: digits are a PIN
    door.login()
    actions = door.keys("3", *GREEN_IIN, "enter")
    lookup, = of(actions, Lookup)
    actions = door.send(LookupDone(lookup.request, Status("green")))
    row, = rows(actions)
    assert (row.decision, row.staff_id, row.kind) == ("admit", "aigerim", "iin")


def test_manual_entry_with_a_bad_check_digit_is_refused(door):
    door.login()
    actions = door.keys("3", *"871008401428", "enter")
    assert screen(actions).reason == "bad-check-digit" and not of(actions, Lookup)


def test_resolve_see_staff_after_a_pcr_certificate(clock):
    door = StaffDoor(clock, '[[policy.rules]]\nstaff = ["blue"]\n', staff=STAFF)
    first = door.visit(GREEN_IIN, "blue")
    assert rows(first)[0].decision == "staff" and not of(first, PulseRelay)
    door.login()
    actions = door.keys("4")
    row, = rows(actions)
    assert of(actions, PulseRelay)
    assert (row.decision, row.reason, row.colour, row.staff_id) == \
        ("admit", "staff-resolved", "blue", "aigerim")
    assert screen(door.keys("4")).reason == "nothing-to-resolve"


def test_group_is_admitted_together(door):
    door.login()
    assert rows(door.keys("5", "2", "enter"))[0].reason == "group-start-2"
    first = door.visit(GREEN_IIN, "green")
    assert not of(first, PulseRelay) and not rows(first)
    assert screen(first).group_left == 1
    done = door.visit(SECOND_PASS_IIN, "blue")
    assert len(of(done, PulseRelay)) == 1 and of(done, PulseRelay)[0].seconds == 6.0
    assert [r.decision for r in rows(done)] == ["admit", "admit"]
    assert len({r.extra["group"] for r in rows(done)}) == 1


def test_group_is_refused_together_when_one_member_is_refused(door):
    door.login()
    door.keys("5", "3", "enter")
    door.visit(GREEN_IIN, "green")
    refused = door.visit(SECOND_PASS_IIN, "red")
    assert not of(refused, PulseRelay)
    assert [r.decision for r in rows(refused)] == ["deny", "deny"]
    door.wait(6)
    assert of(door.visit(make_iin("900101"), "green"), PulseRelay)  # the group is over


def test_language_switch_and_idle_timeout_are_audited(door):
    door.login()
    actions = door.keys("6")
    assert rows(actions)[0].reason == "language-ru" and screen(actions).language == "ru"
    ended = door.wait(31)
    assert rows(ended)[0].reason == "session-end-session-idle"
    assert screen(ended).kind == "idle"

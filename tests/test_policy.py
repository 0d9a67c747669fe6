import datetime as dt

from hypothesis import given, strategies as st

from kiosk.core.model import Failure, Identity, Status
from kiosk.core.policy import before_lookup, decide, rule_applies
from tests.conftest import ALMATY, WEDNESDAY, make_config

SATURDAY = dt.datetime(2026, 11, 21, 19, 0, tzinfo=ALMATY)
ADULT = Identity("iin", "871008401427", "871008401427", dt.date(1987, 10, 8), "KAZ")
CHILD = Identity("iin", "240101512345", "240101512345", dt.date(2024, 1, 1), "KAZ")
FOREIGNER = Identity("passport", "N1234567", None, dt.date(1990, 1, 1), "RUS")

CINEMA = '''[[policy.rules]]
name = "weekend"
days = ["sat", "sun"]
deny = ["blue"]
'''


def verdict(colour, policy, when=WEDNESDAY):
    return decide(ADULT, Status(colour), policy, when)


def test_default_rule_admits_green_and_blue_denies_yellow_and_red(cfg):
    assert [verdict(c, cfg.policy).decision for c in ("green", "blue", "yellow", "red")] == \
        ["admit", "admit", "deny", "deny"]


def test_cinema_admits_only_green_at_the_weekend():
    policy = make_config(CINEMA).policy
    assert verdict("blue", policy, WEDNESDAY).decision == "admit"
    saturday = verdict("blue", policy, SATURDAY)
    assert (saturday.decision, saturday.reason) == ("deny", "blue-weekend")
    assert verdict("green", policy, SATURDAY).decision == "admit"


def test_puppet_theatre_sends_blue_to_staff():
    policy = make_config('[[policy.rules]]\nname = "pcr"\nstaff = ["blue"]\n').policy
    assert verdict("blue", policy).decision == "staff"


def test_time_window_over_midnight():
    rule = {"days": ["fri"], "from": "22:00", "to": "02:00"}
    friday_late = dt.datetime(2026, 11, 20, 23, 0)
    saturday_early = dt.datetime(2026, 11, 21, 1, 0)
    saturday_late = dt.datetime(2026, 11, 21, 23, 0)
    assert rule_applies(rule, friday_late)
    assert rule_applies(rule, saturday_early)
    assert not rule_applies(rule, saturday_late)


def test_children_under_five_need_no_check(cfg):
    assert before_lookup(CHILD, cfg.policy, WEDNESDAY).decision == "admit"
    assert before_lookup(ADULT, cfg.policy, WEDNESDAY) is None
    off = make_config("[policy]\nexempt_under_years = 0\n").policy
    assert before_lookup(CHILD, off, WEDNESDAY) is None


def test_foreign_passports_lookup_or_staff(cfg):
    assert before_lookup(FOREIGNER, cfg.policy, WEDNESDAY) is None
    staff = make_config('[policy]\nforeign_passports = "staff"\n').policy
    assert before_lookup(FOREIGNER, staff, WEDNESDAY).decision == "staff"


def test_failed_lookup_goes_to_staff_by_default(cfg):
    result = decide(ADULT, Failure("timeout"), cfg.policy, WEDNESDAY)
    assert (result.decision, result.reason) == ("staff", "lookup-timeout")
    deny = make_config('[policy]\non_failure = "deny"\n').policy
    assert decide(ADULT, Failure("http-500"), deny, WEDNESDAY).decision == "deny"


def test_unplaced_colour_goes_to_staff():
    policy = make_config('[policy]\nadmit = ["green"]\ndeny = ["red"]\n').policy
    assert verdict("blue", policy).decision == "staff"


def test_cached_status_is_marked_in_the_reason(cfg):
    assert decide(ADULT, Status("green", cached=True), cfg.policy, WEDNESDAY).reason == "green-cached"


@given(cause=st.text(min_size=1, max_size=20),
       on_failure=st.sampled_from(["staff", "deny", "admit-if-cached"]),
       admit=st.lists(st.sampled_from(["green", "blue", "yellow", "red"]), unique=True),
       hour=st.integers(0, 23), day=st.integers(0, 6))
def test_a_failed_lookup_never_admits_under_any_policy(cause, on_failure, admit, hour, day):
    cache = "[cache]\nenabled = true\n" if on_failure == "admit-if-cached" else ""
    policy = make_config(f'[policy]\non_failure = "{on_failure}"\nadmit = {admit!r}\n'
                         '[[policy.rules]]\nadmit = ["green", "blue", "yellow", "red"]\n'
                         .replace("'", '"') + cache).policy
    when = dt.datetime(2026, 11, 16 + day, hour, 0, tzinfo=ALMATY)
    assert decide(ADULT, Failure(cause), policy, when).decision != "admit"

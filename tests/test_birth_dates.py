"""Issue 12, items 1 and 2: birth dates, centuries and ICAO strictness.

Expected answers come from DESIGN.md's IIN rule (tests/iins.py builds IINs
from it, not from the parser) and from ICAO 9303: an MRZ year has two digits
and no century; "<<" marks an unknown year, month or day (9303-3); document
codes (9303-4/5/6); issuing state and nationality are letters and fillers
only; a document is valid through its expiry day.
"""
import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st

from kiosk.app.config import load_text
from kiosk.core.documents import parse, parse_typed
from kiosk.core.errors import DocumentError
from kiosk.core.policy import before_lookup
from tests.iins import check_digit, iin_born, make_iin
from tests.test_mrz import td1, td2, td3

TODAY = dt.date(2026, 11, 23)


def refused(payload: str, today=TODAY) -> str:
    with pytest.raises(DocumentError) as info:
        parse(payload.encode(), today=today)
    return info.value.reason


def kaz_card(iin: str, birth_field: str = "", expiry: str = "300101") -> str:
    return td1("N01234567", code="ID", issuer="KAZ", optional=iin, birth=birth_field or iin[:6],
               expiry=expiry, nationality="KAZ")


def kaz_passport(iin: str, birth_field: str = "", expiry: str = "300101") -> str:
    return td3("N7654321", issuer="KAZ", nationality="KAZ", birth=birth_field or iin[:6],
               expiry=expiry, personal=iin)


def policy(extra: str = ""):
    return load_text('[status]\nbase_url = "http://x"\n[policy]\n' + extra).policy


# ---- item 1: born after the day of the scan ----------------------------------

def test_the_issues_examples_are_valid_iins_born_in_the_future():
    assert check_digit("99123150000") == 6  # 991231500006: 2099-12-31 by the rule
    assert refused("991231500006") == "born-in-future"
    assert refused(iin_born(dt.date(2030, 1, 1))) == "born-in-future"


@pytest.mark.parametrize("make", [lambda n: n, kaz_card, kaz_passport],
                         ids=["bare", "id-card", "passport"])
def test_born_tomorrow_is_refused_born_today_is_not(make):
    tomorrow = iin_born(TODAY + dt.timedelta(days=1))
    assert refused(make(tomorrow)) == "born-in-future"
    today = iin_born(TODAY, female=True)
    assert parse(make(today).encode(), today=TODAY).birth_date == TODAY
    # the same code is fine once its day has come
    assert parse(make(tomorrow).encode(), today=TODAY + dt.timedelta(days=1)).iin == tomorrow


def test_a_typed_iin_born_in_the_future_is_refused():
    with pytest.raises(DocumentError) as info:
        parse_typed(iin_born(dt.date(2027, 1, 1)), today=TODAY)
    assert info.value.reason == "born-in-future"


def test_a_future_iin_never_reaches_the_under_five_exemption():
    # it is refused at the parser; a real toddler is still exempt
    assert refused(iin_born(dt.date(2026, 12, 1))) == "born-in-future"
    toddler = parse(iin_born(dt.date(2024, 3, 15)).encode(), today=TODAY)
    assert before_lookup(toddler, policy(), dt.datetime(2026, 11, 23, 12)).reason == "exempt-under-5"


# ---- item 1: the IIN's century wins over the MRZ's two-digit year -------------

def test_a_kazakh_id_card_of_someone_born_in_1924_is_accepted():
    iin = make_iin("240101", century=3)  # 7th digit 3: the 1900s
    card = parse(kaz_card(iin).encode(), today=TODAY)
    assert (card.iin, card.birth_date) == (iin, dt.date(1924, 1, 1))


def test_a_kazakh_passport_holder_born_1926_is_100_not_a_baby():
    iin = make_iin("260601", century=4)
    holder = parse(kaz_passport(iin).encode(), today=TODAY)
    assert holder.birth_date == dt.date(1926, 6, 1)
    assert before_lookup(holder, policy(), dt.datetime(2026, 11, 23, 12)) is None  # looked up


def test_a_kazakh_passport_whose_mrz_birth_disagrees_with_its_iin_is_refused():
    iin = make_iin("871008", century=3)
    assert refused(kaz_passport(iin, birth_field="871009")) == "mrz-iin-mismatch"
    assert refused(kaz_card(iin, birth_field="881008")) == "mrz-iin-mismatch"


@pytest.mark.parametrize("make", [kaz_card, kaz_passport], ids=["id-card", "passport"])
def test_a_partly_unknown_mrz_birth_date_is_still_checked_against_the_iin(make):
    iin = make_iin("871008", century=3)
    for known in ("87<<<<", "8710<<", "<<1008", "<<<<<<"):
        assert parse(make(iin, birth_field=known).encode(), today=TODAY).birth_date == \
            dt.date(1987, 10, 8)
    for wrong in ("88<<<<", "8711<<", "<<1009"):
        assert refused(make(iin, birth_field=wrong)) == "mrz-iin-mismatch"


# ---- item 2: strict where ICAO is strict ----------------------------------------

@pytest.mark.parametrize("field", ["issuer", "nationality"])
@pytest.mark.parametrize("value", ["K4Z", "12<", "<AZ", "A<B"])
def test_state_codes_are_letters_and_fillers_only(field, value):
    for build in (td1, td2, td3):
        assert refused(build(**{field: value})) == f"mrz-bad-{field}"
    assert parse(td3(**{field: "D<<"}).encode(), today=TODAY)  # Germany (9303-3)


@pytest.mark.parametrize("code, accepted", [
    ("I<", True), ("ID", True), ("A<", True), ("C<", True), ("AC", True),
    ("P<", False), ("V<", False), ("IV", False), ("AI", False), ("I1", False), ("X<", False)])
def test_td1_and_td2_document_codes(code, accepted):
    for build in (td1, td2):
        if accepted:
            assert parse(build(code=code).encode(), today=TODAY)
        else:
            assert refused(build(code=code)) == "mrz-bad-type"


# ---- item 2: expiry kept on the identity; refused only where the venue says --

def test_expiry_is_on_the_identity_and_refuse_expired_is_the_venues_choice():
    iin = make_iin("871008", century=3)
    expired = parse(kaz_card(iin, expiry="261122").encode(), today=TODAY)
    valid = parse(kaz_card(iin, expiry="261123").encode(), today=TODAY)
    assert (expired.expiry_date, valid.expiry_date) == (dt.date(2026, 11, 22), dt.date(2026, 11, 23))
    assert expired.as_json()["expiry_date"] == "2026-11-22"
    when = dt.datetime(2026, 11, 23, 12)
    assert before_lookup(expired, policy(), when) is None  # default: an expired ID still identifies
    strict = policy("refuse_expired = true\n")
    assert before_lookup(expired, strict, when).reason == "expired"
    assert before_lookup(expired, strict, when).decision == "deny"
    assert before_lookup(valid, strict, when) is None  # valid through its expiry day
    assert before_lookup(parse(iin.encode(), today=TODAY), strict, when) is None  # no expiry


# ---- the property from the issue's "Done when" ----------------------------------

FORMS = {"bare": lambda n, field: n, "id-card": kaz_card, "passport": kaz_passport}


@settings(max_examples=300, deadline=None)
@given(scan_day=st.dates(dt.date(1990, 1, 1), dt.date(2099, 12, 31)),
       born=st.dates(dt.date(1800, 1, 1), dt.date(2099, 12, 31)),
       female=st.booleans(), serial=st.integers(0, 9999), form=st.sampled_from(sorted(FORMS)),
       unknown=st.sets(st.sampled_from([0, 2, 4])),
       other=st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31)))
def test_no_iin_born_after_the_scan_is_accepted_and_birth_dates_agree(
        scan_day, born, female, serial, form, unknown, other):
    iin = iin_born(born, female=female, serial=serial)
    # The MRZ's birth field: the IIN's own date, or another day, with some
    # pairs marked unknown; the expiry a valid one near the scan day.
    field = (born if serial % 2 else other).strftime("%y%m%d")
    field = "".join("<<" if i in unknown else field[i:i + 2] for i in (0, 2, 4))
    expiry = (scan_day + dt.timedelta(days=365)).strftime("%y%m%d")
    payload = iin if form == "bare" else FORMS[form](iin, field, expiry)
    try:
        identity = parse(payload.encode(), today=scan_day)
    except DocumentError as exc:
        if born > scan_day and (form == "bare" or serial % 2):
            # The MRZ agrees with the IIN, so the future date is the reason
            # (where they disagree, the card may be refused for that first).
            assert exc.reason == "born-in-future"
        return
    assert born <= scan_day, "an IIN born after the day of the scan was accepted"
    assert identity.iin == iin and identity.birth_date == born
    if form != "bare":  # every pair the MRZ knows is the IIN's
        assert all(field[i:i + 2] in ("<<", iin[i:i + 2]) for i in (0, 2, 4))


def test_an_expired_document_refused_by_the_venue_says_so_on_screen(clock):
    import os
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame

    from drivers.screens import Context, draw
    from kiosk.core.model import Lookup, PulseRelay, Scanned
    from tests.test_machine import Door, of, screen

    yesterday = (clock.wall - dt.timedelta(days=1)).strftime("%y%m%d")
    expired = kaz_card(make_iin("871008", century=3), expiry=yesterday)
    strict = Door(clock, extra="[policy]\nrefuse_expired = true\n")
    actions = strict.send(Scanned(expired.encode()))
    shown = screen(actions)
    assert not of(actions, Lookup) and not of(actions, PulseRelay)
    assert (shown.verdict, shown.reason) == ("deny", "expired") and shown.reference
    # the default venue looks the holder up: an expired ID still identifies
    assert of(Door(clock).send(Scanned(expired.encode())), Lookup)
    pygame.font.init()
    pixels = []
    for reason in ("expired", "red"):
        surface = pygame.Surface((800, 480))
        draw(surface, shown.__class__(**{**shown.__dict__, "reason": reason}),
             Context(venue="V", kiosk_id="k", now=shown.at))
        pixels.append(pygame.image.tobytes(surface, "RGB"))
    assert pixels[0] != pixels[1]  # the reason is drawn, not only the colour

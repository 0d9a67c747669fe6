"""ICAO 9303 MRZs: the standard's own specimens, every check digit of TD1, TD2
and TD3 corrupted in turn, long document numbers, two-digit years, and the
builders other tests use to make valid MRZs from fields."""
import datetime as dt
import doctest

import pytest
from hypothesis import given, strategies as st

import kiosk.core.mrz
from kiosk.core.errors import DocumentError
from kiosk.core.mrz import compute_check as check, mrz_lines, read_mrz

TODAY = dt.date(2026, 11, 23)
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<"


# ---- builders: fields in, a valid MRZ out -----------------------------------

def pad(value: str, width: int) -> str:
    return (value + "<" * width)[:width]


def _number(number: str, optional: str) -> tuple[str, str]:
    """Document number field + its check, and the optional data; a number
    over 9 characters continues in the optional data (9303-5 4.2.4 j)."""
    if len(number) > 9:
        return number[:9] + "<", number[9:] + check(number) + optional
    return pad(number, 9) + check(pad(number, 9)), optional


def td1(number="D23145890", *, code="I<", issuer="UTO", optional="", birth="740812",
        sex="F", expiry="120415", nationality="UTO", optional_2="",
        names="ERIKSSON<<ANNA<MARIA") -> str:
    doc, optional = _number(number, optional)
    upper = pad(code, 2) + issuer + doc + pad(optional, 15)
    middle = birth + check(birth) + sex + expiry + check(expiry) + pad(nationality, 3) + \
        pad(optional_2, 11)
    middle += check(upper[5:30] + middle[0:7] + middle[8:15] + middle[18:29])
    return "\n".join((upper, middle, pad(names, 30)))


def td2(number="D23145890", *, code="I<", issuer="UTO", birth="740812", sex="F",
        expiry="120415", nationality="UTO", optional="", names="ERIKSSON<<ANNA<MARIA") -> str:
    doc, optional = _number(number, optional)
    lower = doc + pad(nationality, 3) + birth + check(birth) + sex + expiry + check(expiry) + \
        pad(optional, 7)
    lower += check(lower[0:10] + lower[13:20] + lower[21:35])
    return pad(code, 2) + issuer + pad(names, 31) + "\n" + lower


def td3(number="L898902C3", *, issuer="UTO", birth="740812", sex="F", expiry="120415",
        nationality="UTO", personal="ZE184226B", names="ERIKSSON<<ANNA<MARIA") -> str:
    doc, _ = _number(number, "")
    personal = pad(personal, 14)
    lower = doc + pad(nationality, 3) + birth + check(birth) + sex + expiry + check(expiry) + \
        personal + (check(personal) if personal.strip("<") else "<")
    lower += check(lower[0:10] + lower[13:20] + lower[21:43])
    return "P<" + issuer + pad(names, 39) + "\n" + lower


def corrupt(mrz: str, line: int, index: int) -> str:
    """The MRZ with one digit changed (a misread or an edit)."""
    lines = mrz.split("\n")
    digit = lines[line][index]
    lines[line] = lines[line][:index] + str((int(digit) + 1) % 10) + lines[line][index + 1:]
    return "\n".join(lines)


def reason(text: str) -> str:
    with pytest.raises(DocumentError) as info:
        read_mrz(text, today=TODAY)
    return info.value.reason


# ---- the standard's specimens (an oracle this code did not write) -----------

SPECIMENS = {
    "TD1": "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\n"
           "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
    "TD2": "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6",
    "TD3": "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
           "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
}


@pytest.mark.parametrize("shape", SPECIMENS)
def test_icao_specimens_read_and_our_builders_reproduce_them(shape):
    mrz = read_mrz(SPECIMENS[shape], today=TODAY)
    assert (mrz.format, mrz.issuer, mrz.nationality, mrz.sex) == (shape, "UTO", "UTO", "F")
    assert (mrz.birth_date, mrz.expiry_date) == (dt.date(1974, 8, 12), dt.date(2012, 4, 15))
    assert mrz.number == ("L898902C3" if shape == "TD3" else "D23145890")
    assert {"TD1": td1, "TD2": td2, "TD3": td3}[shape]() == SPECIMENS[shape]


def test_a_long_document_number_continues_in_the_optional_data():
    specimen = "I<UTOD23145890<7349<<<<<<<<<<<\n3407127M9507122UTO<<<<<<<<<<<2\n" \
               "STEVENSON<<PETER<JOHN<<<<<<<<<"
    assert read_mrz(specimen, today=TODAY).number == "D23145890734"
    assert td1("D23145890734", birth="340712", sex="M", expiry="950712",
               names="STEVENSON<<PETER<JOHN") == specimen
    assert reason(corrupt(specimen, 0, 18)) == "mrz-bad-check-document"
    two = td2("D23145890734")
    assert read_mrz(two, today=TODAY).number == "D23145890734"
    assert reason(corrupt(two, 1, 31)) == "mrz-bad-check-document"


# ---- every check digit, corrupted in turn -------------------------------------

KAZ_CARD = td1("N01234567", code="ID", issuer="KAZ", optional="871008401427",
               birth="871008", sex="F", expiry="300101", nationality="KAZ")
PASSPORT = td3("N1234567", issuer="RUS", nationality="RUS", personal="AB12345")
CHECKS = {
    "TD1": [(0, 14, "document"), (1, 6, "birth"), (1, 14, "expiry"), (1, 29, "composite")],
    "TD2": [(1, 9, "document"), (1, 19, "birth"), (1, 27, "expiry"), (1, 35, "composite")],
    "TD3": [(1, 9, "document"), (1, 19, "birth"), (1, 27, "expiry"), (1, 42, "optional"),
            (1, 43, "composite")],
}


@pytest.mark.parametrize("mrz, line, index, field", [
    (mrz, line, index, field)
    for mrz, shape in ((KAZ_CARD, "TD1"), (td2(), "TD2"), (PASSPORT, "TD3"))
    for line, index, field in CHECKS[shape]])
def test_every_check_digit_is_verified(mrz, line, index, field):
    read_mrz(mrz, today=TODAY)  # valid as built
    assert reason(corrupt(mrz, line, index)) == f"mrz-bad-check-{field}"


def test_composite_catches_a_change_no_field_check_covers():
    # TD1 line 1 optional data (the Kazakh IIN) has no check digit of its own
    assert reason(corrupt(KAZ_CARD, 0, 20)) == "mrz-bad-check-composite"


def test_an_unused_personal_number_may_have_a_filler_or_zero_check():
    empty = td3(personal="")
    assert empty.split("\n")[1][42] == "<"
    assert read_mrz(empty, today=TODAY).optional == "<" * 14
    assert read_mrz(empty[:-2] + "0" + empty[-1], today=TODAY).optional == "<" * 14


@given(st.sampled_from(["TD3", "TD2"]), st.text("ABCDEFGHJKLMNPRSTUVWXYZ0123456789", min_size=1,
                                                max_size=9),
       st.dates(dt.date(1927, 11, 24), TODAY), st.dates(dt.date(1980, 1, 1), dt.date(2070, 12, 31)),
       st.data())
def test_one_changed_character_in_a_checked_field_is_caught(shape, number, birth, expiry, data):
    build = td3 if shape == "TD3" else td2
    mrz = build(number, birth=birth.strftime("%y%m%d"), expiry=expiry.strftime("%y%m%d"))
    read = read_mrz(mrz, today=TODAY)
    assert (read.number, read.birth_date, read.expiry_date) == (number, birth, expiry)
    fields = {"document": range(0, 9), "birth": range(13, 19), "expiry": range(21, 27)}
    field = data.draw(st.sampled_from(sorted(fields)))
    index = data.draw(st.sampled_from(fields[field]))
    old = mrz.split("\n")[1][index]
    value = kiosk.core.mrz.char_value
    # 7-3-1 weights catch any change whose value differs by other than a multiple of 10
    new = data.draw(st.sampled_from([c for c in ALPHABET if (value(c) - value(old)) % 10]))
    upper, lower = mrz.split("\n")
    assert reason(upper + "\n" + lower[:index] + new + lower[index + 1:]) == f"mrz-bad-check-{field}"


# ---- dates: two-digit years, unknown parts, expiry is exposed, not judged ----

def test_a_birth_year_in_the_future_is_last_century():
    assert read_mrz(td3(birth="261231"), today=TODAY).birth_date == dt.date(1926, 12, 31)
    assert read_mrz(td3(birth="261123"), today=TODAY).birth_date == dt.date(2026, 11, 23)
    assert read_mrz(td3(birth="050101"), today=TODAY).birth_date == dt.date(2005, 1, 1)


def test_expiry_is_read_within_fifty_years_and_an_expired_document_is_not_refused():
    assert read_mrz(td3(expiry="991231"), today=TODAY).expiry_date == dt.date(1999, 12, 31)
    assert read_mrz(td3(expiry="350101"), today=TODAY).expiry_date == dt.date(2035, 1, 1)
    assert read_mrz(td3(expiry="200101"), today=TODAY).expiry_date == dt.date(2020, 1, 1)


def test_an_unknown_birth_date_is_none_and_an_impossible_one_refused():
    assert read_mrz(td3(birth="74<<<<"), today=TODAY).birth_date is None
    assert read_mrz(td3(birth="7408<<"), today=TODAY).birth_date is None
    assert reason(td3(birth="741332")) == "mrz-bad-birth"
    assert reason(td3(birth="0002<9")) == "mrz-bad-birth"
    assert reason(td3(expiry="210229")) == "mrz-bad-expiry"
    assert reason(td1(birth="AB0812")) == "mrz-bad-birth"


# ---- shape, characters, document type ---------------------------------------

def test_malformed_mrzs_have_their_own_reasons():
    assert reason(KAZ_CARD[:-1]) == "mrz-bad-length"
    assert reason(PASSPORT.split("\n")[1]) == "mrz-bad-length"  # one line of two
    assert reason(KAZ_CARD.replace("ERIKSSON", "ERIKSS\u00d6N")) == "mrz-bad-chars"
    assert reason(KAZ_CARD.lower()) == "mrz-bad-chars"
    assert reason("V" + PASSPORT[1:]) == "mrz-bad-type"  # a visa is not a passport
    assert reason(td3(number="")) == "mrz-no-number"


def test_lines_run_together_are_split_and_other_text_is_not_an_mrz():
    assert mrz_lines(PASSPORT.replace("\n", "")) == PASSPORT.split("\n")
    assert read_mrz(KAZ_CARD.replace("\n", ""), today=TODAY).issuer == "KAZ"
    assert mrz_lines("871008401427") is None
    assert mrz_lines("a<b\nc\nd\ne") is None


def test_a_read_mrz_never_prints_its_number():
    mrz = read_mrz(KAZ_CARD, today=TODAY)
    assert mrz.number == "N01234567" and "N0123" not in repr(mrz) and "4567" in repr(mrz)


def test_demo_builders_make_mrzs_that_read_back():
    card = read_mrz(kiosk.core.mrz.id_card_mrz("871008401427", "N01234567", dt.date(2030, 1, 1)),
                    today=TODAY)
    assert (card.format, card.optional[:12], card.birth_date) == \
        ("TD1", "871008401427", dt.date(1987, 10, 8))
    passport = read_mrz(kiosk.core.mrz.passport_mrz("N1234567", "RUS"), today=TODAY)
    assert (passport.format, passport.number, passport.nationality) == ("TD3", "N1234567", "RUS")


def test_docstring_examples_hold():
    assert doctest.testmod(kiosk.core.mrz).failed == 0

"""Payloads to identities: every refusal reason, every MRZ check digit, and a
property that no byte string makes the parser raise anything but our error."""
import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st

from kiosk.documents import age_on, clean, iin_check_digit, parse, parse_typed
from kiosk.errors import DocumentError
from kiosk.mrz import compute_check, id_card_mrz, passport_mrz
from tests.iins import make_iin

TODAY = dt.date(2026, 11, 23)


def reason(payload, **kwargs):
    with pytest.raises(DocumentError) as info:
        parse(payload, today=TODAY, **kwargs)
    assert "871008401" not in str(info.value)  # never the number in a message
    return info.value.reason


def test_published_examples():
    first = parse(b"871008401427")
    assert (first.kind, first.birth_date, first.country) == ("iin", dt.date(1987, 10, 8), "KAZ")
    assert iin_check_digit("06121160001") == 2  # needs the second pass
    assert parse(b"061211600012").birth_date == dt.date(2006, 12, 11)
    assert reason(b"821214240092") == "bad-check-digit"  # both passes give 10


@pytest.mark.parametrize("payload, expected", [
    (b"871008401428", "bad-check-digit"),
    (b"980440000006", "not-a-person"),  # a BIN: 5th digit 4
    (make_iin("871308").encode(), "bad-date"),  # month 13
    (make_iin("870230").encode(), "bad-date"),  # 30 February
    (make_iin("871008", century=7).encode(), "bad-century"),
    (make_iin("871008", century=0).encode(), "bad-century"),
    (b"87100840142", "wrong-length"),
    (b"", "empty"),
    (b"\r\n \x00", "empty"),
    (b"\xff\xfe871008401427", "not-utf8"),
    (b"1" * 600, "too-long"),
    (b"hello", "unrecognised"),
])
def test_each_refusal_reason(payload, expected):
    assert reason(payload) == expected


@pytest.mark.parametrize("noise", [b"%s\r", b"%s\n", b"%s\r\n", b"  %s  ", b"]C0%s", b"]L2%s\r\n",
                                   b"]Q1%s", b"\x00%s\x00", b"\x02%s\x03"])
def test_scanner_noise_is_removed(noise):
    assert parse(noise % b"871008401427").number == "871008401427"


def test_centuries_and_age():
    assert parse(make_iin("990101", century=2).encode()).birth_date.year == 1899
    child = parse(make_iin("240315", century=6).encode())
    assert child.birth_date == dt.date(2024, 3, 15)
    assert age_on(child.birth_date, TODAY) == 2
    assert age_on(dt.date(2000, 2, 29), dt.date(2001, 2, 28)) == 0
    assert age_on(dt.date(2000, 2, 29), dt.date(2001, 3, 1)) == 1


def test_id_card_mrz_gives_the_iin():
    mrz = id_card_mrz("871008401427", "N01234567", dt.date(2030, 1, 1))
    identity = parse(mrz.encode() + b"\r")
    assert (identity.kind, identity.number, identity.iin) == ("id-card", "871008401427", "871008401427")
    assert parse(mrz.replace("\n", "\r\n").encode()).iin == "871008401427"


def test_passport_mrz():
    identity = parse(passport_mrz("N1234567", "RUS", birth=dt.date(1990, 5, 17)).encode())
    assert (identity.kind, identity.number, identity.iin, identity.country) == \
        ("passport", "N1234567", None, "RUS")
    assert identity.birth_date == dt.date(1990, 5, 17)
    kazakh = parse(passport_mrz("N7654321", "KAZ", birth=dt.date(1987, 10, 8),
                                personal="871008401427").encode())
    assert kazakh.iin == "871008401427"


def td2(number="X1234567", country="UTO"):
    upper = f"I<{country}TESTOV<<TEST".ljust(36, "<")
    doc = number.ljust(9, "<")
    lower = doc + compute_check(doc) + country + "9001011" + "M" + "3101012" + "<" * 7
    lower = lower[:13] + lower[13:19] + compute_check(lower[13:19]) + lower[20] + lower[21:27] + \
        compute_check(lower[21:27]) + lower[28:35]
    return upper + "\n" + lower + compute_check(lower[0:10] + lower[13:20] + lower[21:35])


def test_td2_mrz():
    identity = parse(td2().encode())
    assert (identity.kind, identity.number, identity.country) == ("passport", "X1234567", "UTO")


def corrupt(mrz: str, line: int, index: int) -> bytes:
    lines = mrz.split("\n")
    digit = lines[line][index]
    lines[line] = lines[line][:index] + str((int(digit) + 1) % 10) + lines[line][index + 1:]
    return "\n".join(lines).encode()


TD1 = id_card_mrz("871008401427", "N01234567", dt.date(2030, 1, 1))
TD3 = passport_mrz("N1234567", "RUS", personal="AB12345")


@pytest.mark.parametrize("mrz, line, index, expected", [
    (TD1, 0, 14, "mrz-bad-check-document"), (TD1, 1, 6, "mrz-bad-check-birth"),
    (TD1, 1, 14, "mrz-bad-check-expiry"), (TD1, 1, 29, "mrz-bad-check-composite"),
    (TD3, 1, 9, "mrz-bad-check-document"), (TD3, 1, 19, "mrz-bad-check-birth"),
    (TD3, 1, 27, "mrz-bad-check-expiry"), (TD3, 1, 42, "mrz-bad-check-optional"),
    (TD3, 1, 43, "mrz-bad-check-composite"),
])
def test_every_mrz_check_digit_is_verified(mrz, line, index, expected):
    assert reason(corrupt(mrz, line, index)) == expected


def test_malformed_mrz_reasons():
    assert reason(TD1[:-1].encode()) == "mrz-bad-length"
    assert reason(TD1.replace("TESTOV", "TESTöV").encode()) == "mrz-bad-chars"


def test_typed_numbers():
    assert parse_typed("871008401427").kind == "iin"
    assert parse_typed("n1234567", country="RUS").number == "N1234567"
    with pytest.raises(DocumentError) as info:
        parse_typed("12")
    assert info.value.reason == "bad-passport-number"
    with pytest.raises(DocumentError) as info:
        parse_typed("871008401428")
    assert info.value.reason == "bad-check-digit"


def test_clean_keeps_mrz_lines():
    assert clean(b"]L2AAA<\r\nBBB<\r\n") == "AAA<\nBBB<"


@settings(max_examples=500)
@given(st.binary(max_size=2000))
def test_no_bytes_make_the_parser_raise_anything_but_document_error(payload):
    try:
        parse(payload, today=TODAY)
    except DocumentError:
        pass


@given(st.dates(dt.date(1900, 1, 1), dt.date(2025, 12, 31)), st.integers(0, 9999),
       st.sampled_from([b"%s", b"%s\r", b"%s\r\n", b" %s\n", b"]C0%s\r"]))
def test_valid_iins_round_trip_through_noise(birth, serial, noise):
    century = {1800: 1, 1900: 3, 2000: 5}[birth.year // 100 * 100]
    first11 = birth.strftime("%y%m%d") + str(century) + f"{serial:04d}"
    check = iin_check_digit(first11)
    if check is None or first11[4] in "456":
        return
    iin = first11 + str(check)
    identity = parse(noise % iin.encode(), today=TODAY)
    assert (identity.number, identity.birth_date) == (iin, birth)

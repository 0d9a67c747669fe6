"""ICAO 9303 machine-readable zones: TD1 (ID cards, 3 x 30), TD2 (2 x 36)
and TD3 (passports, 2 x 44). Every check digit is verified, the composite
too. Pure functions; the builders at the end are the inverse, for the demo
and the tests.

    >>> mrz = id_card_mrz("871008401427", "N01234567", dt.date(2030, 1, 1))
    >>> identity_from_mrz(mrz, today=dt.date(2026, 11, 23)).kind
    'id-card'

Field positions below are 0-based slices of the 1-based positions in the
standard (e.g. TD1 line 1 positions 16-27, the Kazakh IIN, is [15:27]).
"""
from __future__ import annotations

import datetime as dt
import re

from .documents import check_iin, iin_birth_date
from .errors import DocumentError
from .model import Identity

SHAPES = {(30, 30, 30): "TD1", (36, 36): "TD2", (44, 44): "TD3"}
MRZ_CHARS = re.compile(r"^[A-Z0-9<]+$")
WEIGHTS = (7, 3, 1)


def char_value(c: str) -> int:
    if c.isdigit():
        return int(c)
    if c == "<":
        return 0
    return ord(c) - ord("A") + 10


def compute_check(field: str) -> str:
    return str(sum(char_value(c) * WEIGHTS[i % 3] for i, c in enumerate(field)) % 10)


def looks_like_mrz(text: str) -> bool:
    """Two or three lines with a filler: an MRZ attempt, judged by
    :func:`identity_from_mrz` so a bad one gets a specific reason."""
    return text.count("\n") in (1, 2) and "<" in text


def _verify(field: str, check: str, name: str, *, optional: bool = False) -> None:
    if optional and check == "<" and set(field) <= {"<"}:
        return
    if compute_check(field) != check:
        raise DocumentError(f"mrz-bad-check-{name}", f"MRZ {name} check digit does not match")


def _date(yymmdd: str, name: str, *, birth: bool, today: dt.date) -> dt.date:
    if not yymmdd.isdigit():
        raise DocumentError(f"mrz-bad-{name}", f"MRZ {name} date is not digits")
    year = 2000 + int(yymmdd[:2])
    if birth and year > today.year:
        year -= 100
    try:
        return dt.date(year, int(yymmdd[2:4]), int(yymmdd[4:6]))
    except ValueError:
        raise DocumentError(f"mrz-bad-{name}", f"MRZ {name} date does not exist") from None


def _strip(field: str) -> str:
    return field.replace("<", "")


def identity_from_mrz(text: str, *, today: dt.date) -> Identity:
    lines = text.split("\n")
    shape = SHAPES.get(tuple(len(line) for line in lines))
    if shape is None:
        raise DocumentError("mrz-bad-length", "MRZ lines are not 3x30, 2x36 or 2x44 characters")
    if not all(MRZ_CHARS.match(line) for line in lines):
        raise DocumentError("mrz-bad-chars", "MRZ has characters outside A-Z, 0-9 and <")
    return _td1(lines, today) if shape == "TD1" else _td2_td3(lines, today)


def _td1(lines: list[str], today: dt.date) -> Identity:
    upper, middle, _ = lines
    _verify(upper[5:14], upper[14], "document")
    _verify(middle[0:6], middle[6], "birth")
    _verify(middle[8:14], middle[14], "expiry")
    _verify(upper[5:30] + middle[0:7] + middle[8:15] + middle[18:29], middle[29], "composite")
    birth = _date(middle[0:6], "birth", birth=True, today=today)
    _date(middle[8:14], "expiry", birth=False, today=today)
    nationality = _strip(middle[15:18])
    issuer = _strip(upper[2:5])
    optional = upper[15:27]
    if issuer == "KAZ" and optional.isdigit():
        check_iin(optional)
        if iin_birth_date(optional) != birth:
            raise DocumentError("mrz-iin-mismatch", "the IIN's birth date differs from the MRZ's")
        return Identity("id-card", optional, optional, birth, "KAZ")
    return Identity("id-card", _strip(upper[5:14]), None, birth, nationality or issuer)


def _td2_td3(lines: list[str], today: dt.date) -> Identity:
    upper, lower = lines
    td3 = len(lower) == 44
    _verify(lower[0:9], lower[9], "document")
    _verify(lower[13:19], lower[19], "birth")
    _verify(lower[21:27], lower[27], "expiry")
    if td3:
        _verify(lower[28:42], lower[42], "optional", optional=True)
        composite = lower[0:10] + lower[13:20] + lower[21:43]
    else:
        composite = lower[0:10] + lower[13:20] + lower[21:35]
    _verify(composite, lower[-1], "composite")
    birth = _date(lower[13:19], "birth", birth=True, today=today)
    _date(lower[21:27], "expiry", birth=False, today=today)
    nationality = _strip(lower[10:13])
    personal = _strip(lower[28:42] if td3 else lower[28:35])
    iin = None
    if nationality == "KAZ" and len(personal) == 12 and personal.isdigit():
        try:
            check_iin(personal)
            iin = personal
        except DocumentError:
            iin = None  # a foreign personal number is not ours to judge
    return Identity("passport", _strip(lower[0:9]), iin, birth, nationality)


# ---- builders: fields in, a valid MRZ out -----------------------------------

def _pad(value: str, width: int) -> str:
    return (value + "<" * width)[:width]


def _yymmdd(day: dt.date) -> str:
    return day.strftime("%y%m%d")


def id_card_mrz(iin: str, document: str, expiry: dt.date, *, surname="TESTOV",
                given="TEST", sex="M") -> str:
    """A Kazakh ID card's TD1 MRZ with the IIN in line 1's optional data."""
    birth = iin_birth_date(iin)
    number = _pad(document, 9)
    upper = "IDKAZ" + number + compute_check(number) + _pad(iin, 15)
    middle = _yymmdd(birth) + compute_check(_yymmdd(birth)) + sex + _yymmdd(expiry) + \
        compute_check(_yymmdd(expiry)) + "KAZ" + "<" * 11
    middle += compute_check(upper[5:30] + middle[0:7] + middle[8:15] + middle[18:29])
    lower = _pad(f"{surname}<<{given}", 30)
    return "\n".join((upper, middle, lower))


def passport_mrz(number: str, country: str, *, birth: dt.date = dt.date(1990, 1, 1),
                 expiry: dt.date = dt.date(2031, 1, 1), personal: str = "",
                 surname="TESTOV", given="TEST", sex="M") -> str:
    """A passport's TD3 MRZ."""
    upper = _pad(f"P<{country}{surname}<<{given}", 44)
    doc = _pad(number, 9)
    personal = _pad(personal, 14)
    personal_check = compute_check(personal) if personal.strip("<") else "<"
    lower = doc + compute_check(doc) + country + _yymmdd(birth) + compute_check(_yymmdd(birth)) + \
        sex + _yymmdd(expiry) + compute_check(_yymmdd(expiry)) + personal + personal_check
    lower += compute_check(lower[0:10] + lower[13:20] + lower[21:43])
    return upper + "\n" + lower

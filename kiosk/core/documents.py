"""Payload bytes from any scanner, or text typed by staff, become an
:class:`~kiosk.core.model.Identity` or a :class:`~kiosk.core.errors.DocumentError`
with a stable ``reason``. Pure: no I/O, and "today" (the day of the scan,
in the venue's time zone) is always given, never read: an IIN born after
it is refused, whatever else is right about it.

    >>> parse(b"]C0871008401427\\r\\n", today=dt.date(2026, 11, 23)).birth_date
    datetime.date(1987, 10, 8)
    >>> parse(b"821214240092", today=dt.date(2026, 11, 23))
    Traceback (most recent call last):
    kiosk.core.errors.DocumentError: check digit does not match (not a valid IIN)

IIN rules (DESIGN.md): 12 digits, YYMMDD, the 7th digit gives century and
sex, a check digit over two weight passes. A BIN has the same shape and check
digit, but its 5th digit is its type, 4, 5 or 6, where an IIN has the first
digit of the birth day (0-3); a BIN is never a person. MRZs are read by
:mod:`kiosk.core.mrz`; this module decides what they mean for a Kazakh venue.
No message here ever holds a whole number (privacy).
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Optional

from kiosk.core.errors import DocumentError
from kiosk.core.model import Identity
from kiosk.core.mrz import Mrz, mrz_lines, read_mrz

PASS_1 = tuple(range(1, 12))
PASS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
CENTURIES = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}
BIN_TYPES = "456"
# ']' + symbology letter + modifier: ]C0 Code 128, ]L2 PDF417, ]Q1 QR, ]d2 DataMatrix ...
AIM_PREFIX = re.compile(r"\][A-Za-z][0-9A-Za-z]")
PASSPORT_NUMBER = re.compile(r"[A-Z0-9]{6,9}")
COUNTRY = re.compile(r"[A-Z]{1,3}")


def clean(payload: bytes, max_length: int = 512) -> str:
    """The text of a scan without scanner noise: terminators, surrounding
    whitespace, control and invisible format characters (NUL, STX/ETX, a
    BOM), an AIM symbology prefix. MRZ lines survive, joined by "\\n".

    >>> clean(b"\\x02]L2P<UTO<<<\\r\\nL898902C36\\r\\n\\x03")
    'P<UTO<<<\\nL898902C36'
    """
    if len(payload) > max_length:  # before decoding: a flood costs nothing
        raise DocumentError("too-long", f"scan is {len(payload)} bytes, longer than the "
                            f"limit of {max_length}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise DocumentError("not-utf8", "scan is not text (bytes that are not UTF-8)") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(c for c in text if c == "\n" or unicodedata.category(c) not in ("Cc", "Cf"))
    text = text.strip()
    if AIM_PREFIX.match(text):
        text = text[3:]
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if not lines:
        raise DocumentError("empty", "scan is empty (only noise or whitespace)")
    return "\n".join(lines)


def iin_check_digit(first11: str) -> Optional[int]:
    """The check digit for an IIN's first 11 digits, or None when both
    weight passes give 10 (no IIN starts so).

    >>> iin_check_digit("87100840142"), iin_check_digit("06121160001")
    (7, 2)
    """
    digits = [int(c) for c in first11]
    for weights in (PASS_1, PASS_2):
        check = sum(d * w for d, w in zip(digits, weights)) % 11
        if check != 10:
            return check
    return None


def check_iin(digits: str, today: Optional[dt.date] = None) -> None:
    """Raise DocumentError with the specific reason a string is not a
    person's IIN: not-digits, wrong-length, bad-check-digit, not-a-person,
    bad-century, bad-date, and born-in-future when ``today`` is given and
    the birth date is after it (anyone can make such a code, and as a child
    under the exemption age it would open the door with no lookup).

    >>> check_iin("871008401427", dt.date(2026, 11, 23))  # valid: nothing happens
    """
    if not (digits.isascii() and digits.isdigit()):
        raise DocumentError("not-digits", "an IIN has only digits")
    if len(digits) != 12:
        raise DocumentError("wrong-length", f"an IIN has 12 digits, this has {len(digits)}")
    if iin_check_digit(digits[:11]) != int(digits[11]):
        raise DocumentError("bad-check-digit", "check digit does not match (not a valid IIN)")
    if digits[4] in BIN_TYPES:
        raise DocumentError("not-a-person", "this is a company number (BIN), not a person")
    born = iin_birth_date(digits)
    if today is not None and born > today:
        raise DocumentError("born-in-future", "the birth date in the IIN is after today")


def iin_birth_date(iin: str) -> dt.date:
    """The birth date an IIN encodes (century from its 7th digit).

    >>> iin_birth_date("061211600012")
    datetime.date(2006, 12, 11)
    """
    century = CENTURIES.get(iin[6:7])
    if century is None:
        raise DocumentError("bad-century", "the 7th digit (century and sex) must be 1 to 6")
    try:
        return dt.date(century + int(iin[0:2]), int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        raise DocumentError("bad-date", "the birth date in the IIN does not exist") from None


def iin_sex(iin: str) -> str:
    """'M' for an odd 7th digit, 'F' for an even one.

    >>> iin_sex("871008401427")
    'F'
    """
    if iin[6:7] not in CENTURIES:
        raise DocumentError("bad-century", "the 7th digit (century and sex) must be 1 to 6")
    return "M" if int(iin[6]) % 2 else "F"


def age_on(birth: dt.date, on: dt.date) -> int:
    """Whole years on a day; a 29 February birthday comes on 1 March in
    common years.

    >>> age_on(dt.date(2000, 2, 29), dt.date(2001, 2, 28))
    0
    """
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def identity_from_iin(iin: str, today: dt.date, kind: str = "iin") -> Identity:
    check_iin(iin, today)
    return Identity(kind=kind, number=iin, iin=iin, birth_date=iin_birth_date(iin), country="KAZ")


def birth_matches(mrz_yymmdd: str, iin: str) -> bool:
    """Whether an MRZ birth field agrees with an IIN's first six digits.

    Compared as YYMMDD text: the MRZ's two-digit year has no century (the
    IIN's 7th digit does), and a pair the MRZ marks unknown ("<<") agrees
    with anything while the known pairs must still match.

    >>> birth_matches("2401<<", "240101312345"), birth_matches("240102", "240101312345")
    (True, False)
    """
    return all(mrz_yymmdd[i:i + 2] in ("<<", iin[i:i + 2]) for i in (0, 2, 4))


def identity_from_mrz(mrz: Mrz, today: dt.date) -> Identity:
    """A Kazakh ID card is its holder's IIN; any other MRZ is its document
    number, with the IIN only when a Kazakh passport's personal number is one.
    Where there is an IIN, its birth date (and century) is the identity's,
    and the MRZ's birth date must agree with it."""
    if mrz.format == "TD1":
        candidate = mrz.optional[:12] if mrz.issuer == "KAZ" and mrz.optional[:12].isdigit() else None
        kind = "id-card"
    else:
        personal = mrz.optional.replace("<", "")
        candidate = personal if mrz.nationality == "KAZ" and _looks_like_iin(personal) else None
        kind = "passport"
    if candidate is None:
        return Identity(kind, mrz.number, None, mrz.birth_date, mrz.nationality or mrz.issuer,
                        expiry_date=mrz.expiry_date)
    check_iin(candidate, today)
    if not birth_matches(mrz.birth_field, candidate):
        raise DocumentError("mrz-iin-mismatch", "the IIN's birth date is not the MRZ's birth date")
    number = candidate if kind == "id-card" else mrz.number
    return Identity(kind, number, candidate, iin_birth_date(candidate), "KAZ",
                    expiry_date=mrz.expiry_date)


def _looks_like_iin(text: str) -> bool:
    """12 digits with a valid check digit: a passport's personal number that
    is meant as an IIN (anything else there is not ours to judge). One that
    is then a BIN, an impossible date or born in the future is refused."""
    return len(text) == 12 and text.isascii() and text.isdigit() and \
        iin_check_digit(text[:11]) == int(text[11])


def parse(payload: bytes, *, today: dt.date, max_length: int = 512) -> Identity:
    """The identity in a scan: a bare IIN, an ID card's TD1 MRZ, or a
    passport's TD3/TD2 MRZ, as of ``today`` (the day of the scan). Raises
    DocumentError and nothing else.

    >>> parse(b"871008401427\\r", today=dt.date(2026, 11, 23)).kind
    'iin'
    """
    text = clean(payload, max_length)
    lines = mrz_lines(text)
    if lines is not None:
        return identity_from_mrz(read_mrz("\n".join(lines), today=today), today)
    if text.isascii() and text.isdigit():
        return identity_from_iin(text, today)
    raise DocumentError("unrecognised", "not an IIN, ID-card MRZ or passport MRZ")


def parse_typed(text: str, *, today: dt.date, country: Optional[str] = None) -> Identity:
    """A number staff typed: 12 digits are an IIN (refused if born after
    ``today``), anything else a passport number (6-9 letters and digits) of
    ``country`` (an ICAO code, or None).

    >>> parse_typed("n 1234567", country="rus", today=dt.date(2026, 11, 23)).number
    'N1234567'
    """
    text = "".join(text.split()).upper()
    if not text:
        raise DocumentError("empty", "nothing was typed")
    if text.isascii() and text.isdigit():
        if len(text) == 12:
            return identity_from_iin(text, today)
        if len(text) in (11, 13):
            check_iin(text)  # a mistyped IIN: say so, not "bad passport number"
    if not PASSPORT_NUMBER.fullmatch(text):
        raise DocumentError("bad-passport-number", "a passport number has 6 to 9 letters and digits")
    if country is not None:
        country = country.strip().upper()
        if not COUNTRY.fullmatch(country):
            raise DocumentError("bad-country", "a country is a 3-letter ICAO code like RUS")
    return Identity(kind="passport", number=text, iin=None, birth_date=None, country=country)

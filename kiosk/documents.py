"""Payload bytes from any scanner, or text typed by staff, become an
:class:`~kiosk.model.Identity` or a :class:`~kiosk.errors.DocumentError`
with a stable reason. Pure: no I/O, and "today" is given, never read.

    >>> parse(b"]C0871008401427\\r\\n").birth_date
    datetime.date(1987, 10, 8)
    >>> parse(b"821214240092")
    Traceback (most recent call last):
    kiosk.errors.DocumentError: check digit does not match (not a valid IIN)

IIN rules (DESIGN.md): 12 digits, YYMMDD, the 7th digit gives century and
sex, a check digit over two weight passes. A BIN has the same shape but its
5th digit is 4, 5 or 6 (a month cannot start so), and a BIN is never a person.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Optional

from .errors import DocumentError
from .model import Identity

PASS_1 = tuple(range(1, 12))
PASS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
CENTURIES = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}
# ']' + symbology letter + modifier: ]C0 Code 128, ]L2 PDF417, ]Q1 QR, ]d2 DataMatrix ...
AIM_PREFIX = re.compile(rb"^\][A-Za-z][0-9A-Za-z]")
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
PASSPORT_NUMBER = re.compile(r"^[A-Z0-9]{6,9}$")


def iin_check_digit(first11: str) -> Optional[int]:
    """The check digit for 11 digits, or None when both passes give 10."""
    digits = [int(c) for c in first11]
    for weights in (PASS_1, PASS_2):
        check = sum(d * w for d, w in zip(digits, weights)) % 11
        if check != 10:
            return check
    return None


def clean(payload: bytes, max_length: int = 512) -> str:
    """Scanner noise removed: terminators, spaces, an AIM symbology prefix,
    NUL and control bytes. MRZ line breaks survive as "\\n"."""
    if len(payload) > max_length:
        raise DocumentError("too-long", f"scan is {len(payload)} bytes, more than {max_length}")
    payload = payload.strip(b" \t\r\n\x00")
    payload = AIM_PREFIX.sub(b"", payload)
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise DocumentError("not-utf8", "scan is not text (bytes that are not UTF-8)") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = CONTROL.sub("", text)
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if not lines:
        raise DocumentError("empty", "scan is empty")
    return "\n".join(lines)


def iin_birth_date(iin: str) -> dt.date:
    century = CENTURIES.get(iin[6])
    if century is None:
        raise DocumentError("bad-century", "7th digit is not a century and sex code (1-6)")
    try:
        return dt.date(century + int(iin[0:2]), int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        raise DocumentError("bad-date", "the birth date in the IIN does not exist") from None


def age_on(birth: dt.date, on: dt.date) -> int:
    """Whole years; a 29 February birthday counts from 1 March in common years."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def iin_sex(iin: str) -> str:
    return "M" if int(iin[6]) % 2 else "F"


def check_iin(digits: str) -> None:
    """Raise DocumentError with the specific reason a number is not a person's IIN."""
    if not digits.isdigit() or not digits.isascii():
        raise DocumentError("not-digits", "an IIN has only digits")
    if len(digits) != 12:
        raise DocumentError("wrong-length", f"an IIN has 12 digits, this has {len(digits)}")
    if iin_check_digit(digits[:11]) != int(digits[11]):
        raise DocumentError("bad-check-digit", "check digit does not match (not a valid IIN)")
    if digits[4] in "456":
        raise DocumentError("not-a-person", "this is a company number (BIN), not a person")
    iin_birth_date(digits)


def identity_from_iin(iin: str, kind: str = "iin") -> Identity:
    check_iin(iin)
    return Identity(kind=kind, number=iin, iin=iin, birth_date=iin_birth_date(iin), country="KAZ")


def parse(payload: bytes, *, max_length: int = 512,
          today: Optional[dt.date] = None) -> Identity:
    """The identity in a scan: a bare IIN, an ID card's TD1 MRZ, or a
    passport's TD3/TD2 MRZ."""
    from .mrz import identity_from_mrz, looks_like_mrz
    text = clean(payload, max_length)
    if looks_like_mrz(text):
        return identity_from_mrz(text, today=today or dt.date.today())
    if "\n" not in text and text.isdigit():
        return identity_from_iin(text)
    raise DocumentError("unrecognised", "not an IIN, ID-card MRZ or passport MRZ")


def parse_typed(text: str, *, country: Optional[str] = None,
                today: Optional[dt.date] = None) -> Identity:
    """A number staff typed: 12 digits are an IIN, anything else a passport
    number (6-9 letters and digits)."""
    text = text.strip().upper().replace(" ", "")
    if text.isdigit() and len(text) == 12:
        return identity_from_iin(text)
    if text.isdigit() and len(text) in (11, 13):
        check_iin(text)  # a mistyped IIN: say so, not "bad passport"
    if not PASSPORT_NUMBER.match(text):
        raise DocumentError("bad-passport-number", "a passport number has 6 to 9 letters and digits")
    return Identity(kind="passport", number=text, iin=None, birth_date=None, country=country)

"""ICAO 9303 machine-readable zones: TD1 (ID cards, 3 x 30), TD2 (2 x 36)
and TD3 (passports, 2 x 44), read into an :class:`Mrz` with every check
digit verified, the composite too. Pure: "today" is given, never read.

This module knows ICAO only; what a Kazakh IIN in the optional data means is
:mod:`kiosk.core.documents`' business.

    >>> mrz = read_mrz("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\\n"
    ...                "L898902C36UTO7408122F1204159ZE184226B<<<<<10", today=dt.date(2026, 1, 1))
    >>> mrz.format, mrz.nationality, mrz.birth_date, mrz.expiry_date
    ('TD3', 'UTO', datetime.date(1974, 8, 12), datetime.date(2012, 4, 15))

Field positions below are 0-based slices of the standard's 1-based positions
(TD1 line 1 positions 16-30, the optional data, is ``[15:30]``). An expired
document is read, not refused: expiry is policy, and it is exposed here.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Optional

from kiosk.core.errors import DocumentError
from kiosk.core.model import mask

LINES = {30: 3, 36: 2, 44: 2}  # line length -> lines in the document (TD1, TD2, TD3)
SHAPES = {(30, 30, 30): "TD1", (36, 36): "TD2", (44, 44): "TD3"}
assert all((width,) * count in SHAPES for width, count in LINES.items())
# Document codes by format. 9303-5 (TD1) and 9303-6 (TD2): the first
# character is A, C or I; the second is the issuer's choice except that V
# is never used and I never follows A. 9303-4 (TD3): P, then the issuer's
# letter or a filler. A visa (V, MRV-A/B) has a passport's shape but names
# no person's own document.
CODES = {
    "TD1": re.compile(r"[ACI][A-UW-Z<]"),
    "TD2": re.compile(r"[ACI][A-UW-Z<]"),
    "TD3": re.compile(r"P[A-Z<]"),
}
# Issuing state and nationality: three letters, or fewer padded with '<'
# (9303-3: "D<<" for Germany); never a digit, never a letter after a filler.
STATE = re.compile(r"[A-Z]*<*")
MRZ_LINE = re.compile(r"[A-Z0-9<]+")
WEIGHTS = (7, 3, 1)


@dataclass(frozen=True)
class Mrz:
    """One machine-readable zone, check digits verified, fillers stripped
    from the codes and the number. ``optional`` keeps its fillers and its
    positions (TD1 line 1 after the number; TD3 personal number; TD2 optional
    data); ``optional_2`` is TD1 line 2's optional data. A date the document
    marks unknown (fillers) is None; ``birth_field`` keeps the birth date as
    written (YYMMDD, fillers and all), for comparison with an IIN, whose
    century the two-digit year does not carry."""

    format: str
    code: str
    issuer: str
    number: str
    nationality: str
    birth_date: Optional[dt.date]
    sex: str
    expiry_date: Optional[dt.date]
    optional: str
    optional_2: str = ""
    birth_field: str = ""

    def __repr__(self) -> str:  # a document number is never printed in clear
        return (f"Mrz(format={self.format!r}, issuer={self.issuer!r}, "
                f"number={mask(self.number)!r}, expiry_date={self.expiry_date!r})")


def char_value(c: str) -> int:
    """'0'-'9' are themselves, 'A'-'Z' 10-35, '<' 0."""
    if "0" <= c <= "9":
        return ord(c) - ord("0")
    if c == "<":
        return 0
    return ord(c) - ord("A") + 10


def compute_check(field: str) -> str:
    """The check digit over an MRZ field: weights 7, 3, 1, sum mod 10.

    >>> compute_check("L898902C3")
    '6'
    """
    return str(sum(char_value(c) * WEIGHTS[i % 3] for i, c in enumerate(field)) % 10)


def mrz_lines(text: str) -> Optional[list[str]]:
    """The lines of an MRZ attempt, or None when the text is not one.

    Two or three lines with a filler are an attempt (judged by
    :func:`read_mrz`, so a bad one gets a specific reason); so is one line
    holding a whole MRZ run together (72, 88 or 90 MRZ characters, as some
    readers send it) or a single MRZ line on its own (refused as too short).
    """
    lines = text.split("\n")
    if len(lines) in (2, 3) and "<" in text:
        return lines
    if len(lines) == 1 and "<" in text and MRZ_LINE.fullmatch(text):
        for width, count in LINES.items():
            if len(text) == width * count:
                return [text[i:i + width] for i in range(0, len(text), width)]
        if len(text) in LINES:
            return [text]
    return None


def read_mrz(text: str, *, today: dt.date) -> Mrz:
    """Read and verify one MRZ (lines separated by "\\n"); DocumentError
    with an ``mrz-...`` reason otherwise."""
    lines = mrz_lines(text) or text.split("\n")
    shape = SHAPES.get(tuple(len(line) for line in lines))
    if shape is None:
        raise DocumentError("mrz-bad-length", "MRZ lines are not 3 x 30, 2 x 36 or 2 x 44 "
                            "characters (part of it was not read?)")
    if not all(MRZ_LINE.fullmatch(line) for line in lines):
        raise DocumentError("mrz-bad-chars", "MRZ has characters other than A-Z, 0-9 and <")
    if not CODES[shape].fullmatch(lines[0][0:2]) or lines[0][0:2] == "AI":
        raise DocumentError("mrz-bad-type", "MRZ is not a passport's or an ID card's "
                            "(a visa or another document?)")
    mrz = _td1(lines, today) if shape == "TD1" else _td2_td3(lines, shape, today)
    for field, written in (("issuer", lines[0][2:5]), ("nationality", _nationality(lines, shape))):
        if not STATE.fullmatch(written):
            raise DocumentError(f"mrz-bad-{field}",
                                f"MRZ {field.replace('issuer', 'issuing state')} is not a "
                                "three-letter code")
    return mrz


def _nationality(lines: list[str], shape: str) -> str:
    return lines[1][15:18] if shape == "TD1" else lines[1][10:13]


def _verify(field: str, check: str, name: str) -> None:
    if compute_check(field) != check:
        raise DocumentError(f"mrz-bad-check-{name}",
                            f"MRZ {_NAMES[name]} check digit does not match (misread or altered)")


_NAMES = {"document": "document number", "birth": "birth date", "expiry": "expiry date",
          "optional": "personal number", "composite": "composite"}


def _number(principal: str, check: str, optional: str) -> tuple[str, str]:
    """The document number and the optional data left after it.

    A number longer than 9 characters has '<' in place of its check digit and
    continues at the start of the optional data, ending in its check digit
    (9303 part 5, 4.2.4 note j).
    """
    if check == "<" and "<" not in principal and optional[:1] not in ("", "<"):
        extension = optional.split("<", 1)[0]
        if len(extension) < 2:
            raise DocumentError("mrz-bad-check-document",
                                "MRZ long document number has no check digit")
        _verify(principal + extension[:-1], extension[-1], "document")
        number, optional = principal + extension[:-1], optional[len(extension):]
    else:
        _verify(principal, check, "document")
        number = principal
    number = number.replace("<", "")
    if not number:
        raise DocumentError("mrz-no-number", "MRZ has no document number")
    return number, optional


def _date(yymmdd: str, name: str, *, today: dt.date) -> Optional[dt.date]:
    """A birth date is never in the future: a two-digit year that would be
    is the previous century's. An expiry date lies within 50 years of today
    either way (a card from 1999 expired; one "until 2099" does not exist)."""
    pairs = (yymmdd[0:2], yymmdd[2:4], yymmdd[4:6])
    if "<<" in pairs and all(p == "<<" or p.isdigit() for p in pairs):
        return None  # 9303: "<<" for a year, month or day that is not known
    if not yymmdd.isdigit():
        raise DocumentError(f"mrz-bad-{name}", f"MRZ {_NAMES[name]} is not a date")
    year, month, day = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6])
    centuries: tuple[int, ...]
    if name == "birth":
        centuries = (2000, 1900)
    else:
        centuries = (2000, 1900) if 2000 + year <= today.year + 50 else (1900,)
    for century in centuries:
        try:
            date = dt.date(century + year, month, day)
        except ValueError:
            raise DocumentError(f"mrz-bad-{name}",
                                f"MRZ {_NAMES[name]} does not exist") from None
        if name != "birth" or date <= today:
            return date
    raise DocumentError("mrz-bad-birth", "MRZ birth date is in the future")


def _td1(lines: list[str], today: dt.date) -> Mrz:
    upper, middle, _ = lines
    number, optional = _number(upper[5:14], upper[14], upper[15:30])
    _verify(middle[0:6], middle[6], "birth")
    _verify(middle[8:14], middle[14], "expiry")
    _verify(upper[5:30] + middle[0:7] + middle[8:15] + middle[18:29], middle[29], "composite")
    return Mrz(format="TD1", code=upper[0:2].replace("<", ""), issuer=upper[2:5].replace("<", ""),
               number=number, nationality=middle[15:18].replace("<", ""),
               birth_date=_date(middle[0:6], "birth", today=today), sex=middle[7],
               expiry_date=_date(middle[8:14], "expiry", today=today),
               optional=optional, optional_2=middle[18:29], birth_field=middle[0:6])


def _td2_td3(lines: list[str], shape: str, today: dt.date) -> Mrz:
    upper, lower = lines
    if shape == "TD3":
        number, _ = _number(lower[0:9], lower[9], "")  # TD3 has no long numbers
        optional = lower[28:42]
        # an unused personal number may carry '<' as its check digit (9303-4)
        if not (lower[42] == "<" and set(optional) == {"<"}):
            _verify(optional, lower[42], "optional")
        composite = lower[0:10] + lower[13:20] + lower[21:43]
    else:
        number, optional = _number(lower[0:9], lower[9], lower[28:35])
        composite = lower[0:10] + lower[13:20] + lower[21:35]
    _verify(lower[13:19], lower[19], "birth")
    _verify(lower[21:27], lower[27], "expiry")
    _verify(composite, lower[-1], "composite")
    return Mrz(format=shape, code=upper[0:2].replace("<", ""), issuer=upper[2:5].replace("<", ""),
               number=number, nationality=lower[10:13].replace("<", ""),
               birth_date=_date(lower[13:19], "birth", today=today), sex=lower[20],
               expiry_date=_date(lower[21:27], "expiry", today=today), optional=optional,
               birth_field=lower[13:19])


# ---- builders: fields in, a valid MRZ out (for the demo) ---------------------

def _pad(value: str, width: int) -> str:
    return (value + "<" * width)[:width]


def _yymmdd(day: dt.date) -> str:
    return day.strftime("%y%m%d")


def id_card_mrz(iin: str, document: str, expiry: dt.date, *, surname: str = "TESTOV",
                given: str = "TEST", sex: str = "M") -> str:
    """A Kazakh ID card's TD1 MRZ with the IIN in line 1's optional data
    (the IIN's first six digits are the birth date, as the MRZ writes it)."""
    number = _pad(document, 9)
    upper = "IDKAZ" + number + compute_check(number) + _pad(iin, 15)
    middle = iin[:6] + compute_check(iin[:6]) + sex + _yymmdd(expiry) + \
        compute_check(_yymmdd(expiry)) + "KAZ" + "<" * 11
    middle += compute_check(upper[5:30] + middle[0:7] + middle[8:15] + middle[18:29])
    return "\n".join((upper, middle, _pad(f"{surname}<<{given}", 30)))


def passport_mrz(number: str, country: str, *, birth: dt.date = dt.date(1990, 1, 1),
                 expiry: dt.date = dt.date(2031, 1, 1), personal: str = "",
                 surname: str = "TESTOV", given: str = "TEST", sex: str = "M") -> str:
    """A passport's TD3 MRZ."""
    upper = _pad(f"P<{country}{surname}<<{given}", 44)
    doc, personal = _pad(number, 9), _pad(personal, 14)
    lower = doc + compute_check(doc) + country + _yymmdd(birth) + compute_check(_yymmdd(birth)) + \
        sex + _yymmdd(expiry) + compute_check(_yymmdd(expiry)) + personal + \
        (compute_check(personal) if personal.strip("<") else "<")
    lower += compute_check(lower[0:10] + lower[13:20] + lower[21:43])
    return upper + "\n" + lower

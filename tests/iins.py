"""Valid test IINs built from their parts by DESIGN.md's rule, written here
independently of kiosk.core.documents, so tests can name people by what matters
(birth date, century, sex, serial) and the parser is judged by the rule, not
by itself. (The rule is checked against DESIGN.md's published examples in
test_documents.py.)"""
import datetime as dt
from typing import Optional

PASS_1 = range(1, 12)
PASS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
# DESIGN.md: 7th digit 1/2 = 1800s, 3/4 = 1900s, 5/6 = 2000s; odd = male.
CENTURY_DIGITS = {1800: (1, 2), 1900: (3, 4), 2000: (5, 6)}


def check_digit(first11: str) -> Optional[int]:
    """sum(d[i] * w[i]) mod 11 with w = 1..11, then with 3..11,1,2; None
    when both give 10 (no such IIN)."""
    digits = [int(c) for c in first11]
    for weights in (PASS_1, PASS_2):
        check = sum(d * w for d, w in zip(digits, weights)) % 11
        if check != 10:
            return check
    return None


def make_iin(yymmdd: str, century: int = 3, serial: int = 1234) -> str:
    """The first valid IIN for this birth date at or after ``serial``."""
    for s in range(serial, serial + 100):
        first11 = f"{yymmdd}{century}{s % 10000:04d}"
        check = check_digit(first11)
        if check is not None:
            return first11 + str(check)
    raise ValueError("no valid serial")


def iin_born(day: dt.date, *, female: bool = False, serial: int = 1234) -> str:
    """A valid IIN of someone born on ``day`` (1800-2099)."""
    return make_iin(day.strftime("%y%m%d"), CENTURY_DIGITS[day.year // 100 * 100][female], serial)

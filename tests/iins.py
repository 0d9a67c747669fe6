"""Valid test IINs built from their parts, so tests can name people by what
matters: birth date, century, serial. (The check digit itself is tested
against DESIGN.md's published examples in test_documents.py.)"""
from kiosk.core.documents import iin_check_digit as check_digit


def make_iin(yymmdd: str, century: int = 3, serial: int = 1234) -> str:
    """The first valid IIN for this birth date at or after ``serial``."""
    for s in range(serial, serial + 100):
        first11 = f"{yymmdd}{century}{s:04d}"
        check = check_digit(first11)
        if check is not None:
            return first11 + str(check)
    raise ValueError("no valid serial")

"""Valid test IINs built from their parts (check digit per DESIGN.md), so
tests can name people by what matters: birth date, century, serial."""
W1 = list(range(1, 12))
W2 = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]


def check_digit(first11: str):
    digits = [int(c) for c in first11]
    for weights in (W1, W2):
        check = sum(d * w for d, w in zip(digits, weights)) % 11
        if check != 10:
            return check
    return None


def make_iin(yymmdd: str, century: int = 3, serial: int = 1234) -> str:
    """The first valid IIN for this birth date at or after ``serial``."""
    for s in range(serial, serial + 100):
        first11 = f"{yymmdd}{century}{s:04d}"
        check = check_digit(first11)
        if check is not None:
            return first11 + str(check)
    raise ValueError("no valid serial")

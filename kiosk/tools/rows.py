"""What every doctor check returns: one row of the technician's table."""
from __future__ import annotations

import pwd
from typing import NamedTuple


class Row(NamedTuple):
    check: str
    result: str  # OK | WARN | FAIL
    detail: str


def user_name(uid: int) -> str:
    """The account name for ``uid``, or the number if it has none."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)

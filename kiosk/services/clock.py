"""Is the system clock synchronised? A Raspberry Pi has no battery clock, so
until NTP has set it after boot, wall-clock times are guesses: the journal
flags such rows and the idle screen says so.

The kernel knows: adjtimex() returns TIME_ERROR (5) while the clock is
unsynchronised, which is what timedatectl's NTPSynchronized reads too.

    >>> is_clock_synchronised() in (True, False, None)
    True
"""
from __future__ import annotations

import ctypes
import ctypes.util
from typing import Optional

TIME_ERROR = 5


class _Timex(ctypes.Structure):
    # struct timex from <sys/timex.h>: modes, then fields we do not read, padded.
    _fields_ = [("modes", ctypes.c_uint), ("_rest", ctypes.c_long * 50)]


def is_clock_synchronised() -> Optional[bool]:
    """True or False from the kernel, None where it cannot be asked."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        state = libc.adjtimex(ctypes.byref(_Timex()))
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    return state != TIME_ERROR

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
import shutil
import subprocess
from typing import Optional

TIME_ERROR = 5


class _Timex(ctypes.Structure):
    # struct timex from <sys/timex.h>: modes, then fields we do not read, padded.
    _fields_ = [("modes", ctypes.c_uint), ("_rest", ctypes.c_long * 50)]


def is_clock_synchronised(*, ask_timesyncd: bool = False) -> Optional[bool]:
    """True or False, None where nobody can tell.

    The daemon asks the kernel only (cheap, no process started); the doctor
    asks ``ask_timesyncd`` first: timedatectl says what systemd-timesyncd
    reports, with the kernel as the fallback where there is no systemd.
    """
    if ask_timesyncd:
        said = _timedatectl()
        if said is not None:
            return said
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        state = libc.adjtimex(ctypes.byref(_Timex()))
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    return state != TIME_ERROR


def _timedatectl() -> Optional[bool]:
    tool = shutil.which("timedatectl")
    if not tool:
        return None
    try:
        run = subprocess.run([tool, "show", "-p", "NTPSynchronized", "--value"],
                             capture_output=True, text=True, timeout=3, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if run.returncode == 0 and run.stdout.strip() in ("yes", "no"):
        return run.stdout.strip() == "yes"
    return None

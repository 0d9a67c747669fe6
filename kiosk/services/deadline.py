"""One deadline for a whole HTTP exchange, however a server paces it.

httpx's timeouts bound each phase (connect, each read), not their sum: a
server that drips a byte just inside every read timeout stretches a lookup
without end. :class:`Watchdog` bounds the sum: armed with the deadline, it
shuts the watched socket down when the deadline passes, which wakes the
blocked read at once.
"""
from __future__ import annotations

import socket
import threading
import time
from typing import Optional


class Watchdog:
    """Shuts down the watched socket when the armed deadline passes.

    One thread per client, started on first use, so a lookup costs no thread
    start. ``disarm`` says whether it fired: then the lookup timed out,
    whatever error the shut-down socket produced on the way out.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._end: Optional[float] = None
        self._sock: Optional[socket.socket] = None
        self._fired = False
        self._closed = False
        self._thread: Optional[threading.Thread] = None

    def arm(self, end: float) -> None:
        with self._cond:
            self._end, self._fired = end, False
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="status-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()

    def watch(self, sock: Optional[socket.socket]) -> None:
        with self._cond:
            self._sock = sock

    def disarm(self) -> bool:
        with self._cond:
            self._end = None
            fired, self._fired = self._fired, False
            return fired

    def close(self) -> None:
        with self._cond:
            self._closed, self._end = True, None
            self._cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=5)

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                if self._end is None:
                    self._cond.wait()
                    continue
                left = self._end - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                self._end, self._fired = None, True
                if self._sock is not None:
                    try:
                        # The plain socket call: shutdown wakes a blocked recv
                        # (close would not), and SSLSocket's own shutdown would
                        # tear its TLS state from under the reading thread.
                        socket.socket.shutdown(self._sock, socket.SHUT_RDWR)
                    except OSError:
                        pass  # already closed: nothing left to cut

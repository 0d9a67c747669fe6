"""Test-only gpiozero pins whose levels are kept in files.

A kernel GPIO line keeps its level after the process that set it dies; a
MockPin does not outlive its process. With ``signals.pin_factory = "mock"``
and ASHYQ_MOCK_PIN_DIR set, drivers.signals.make_pin_factory loads
:class:`FilePin` by name (ASHYQ_MOCK_PIN_CLASS, default
``tests.file_pins:FilePin``) and each output pin's level is written to
ASHYQ_MOCK_PIN_DIR/GPIO<n>, so a test can SIGKILL the daemon mid-pulse and
show that ``safe-state`` drives the relay off. It lives under tests/ so that
no production module carries a test double.
"""
import os
import time

from gpiozero.pins.mock import MockPin


class FilePin(MockPin):
    """A mock pin whose level is written to ASHYQ_MOCK_PIN_DIR/GPIO<n>, and
    each change appended to GPIO<n>.log as "<time.monotonic()> <level>", so
    a test can see every opening of a killed daemon's relay, however short."""

    def _path(self) -> str:
        return os.path.join(os.environ["ASHYQ_MOCK_PIN_DIR"], f"GPIO{self.info.name[4:]}")

    def _record(self) -> None:
        if self._function == "output":
            with open(self._path(), "w") as handle:
                handle.write("1" if self._state else "0")

    def _change_state(self, value):
        if self._function == "output" and bool(value) != bool(self._state):
            # Logged before the line moves: a kill in between shows an opening
            # that never happened, never the other way round.
            line = f"{time.monotonic():.6f} {1 if value else 0}\n".encode()
            fd = os.open(self._path() + ".log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)  # one write of a short line: whole, even under SIGKILL
            finally:
                os.close(fd)
        changed = super()._change_state(value)
        self._record()
        return changed

    def _set_function(self, value):
        super()._set_function(value)
        self._record()

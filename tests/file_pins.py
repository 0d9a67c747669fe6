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

from gpiozero.pins.mock import MockPin


class FilePin(MockPin):
    """A mock pin whose level is written to ASHYQ_MOCK_PIN_DIR/GPIO<n>."""

    def _record(self) -> None:
        if self._function == "output":
            path = os.path.join(os.environ["ASHYQ_MOCK_PIN_DIR"], f"GPIO{self.info.name[4:]}")
            with open(path, "w") as handle:
                handle.write("1" if self._state else "0")

    def _change_state(self, value):
        changed = super()._change_state(value)
        self._record()
        return changed

    def _set_function(self, value):
        super()._set_function(value)
        self._record()

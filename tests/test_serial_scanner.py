"""The serial scanner over pyserial's loop:// and real pseudo-terminals.

Waits have timeouts; nothing asserts how long anything took.
"""
import logging
import os
import queue
import threading
import time

import pytest

from drivers.serial_scanner import SerialScanner
from kiosk.core.errors import DeviceError

pytestmark = pytest.mark.usefixtures("no_threads_left")


@pytest.fixture
def received():
    return queue.Queue()


class Pty:
    """A pseudo-terminal standing in for a USB scanner: write to ``master``
    as the scanner would; ``path`` is the device node the driver opens."""

    def __init__(self):
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        # The test's own slave fd too, or the kernel keeps the line open.
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


@pytest.fixture
def pty():
    device = Pty()
    yield device
    device.close()


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def scanner_on(port, received, **options):
    scanner = SerialScanner(port, reconnect_interval=options.pop("reconnect_interval", 0.1),
                            **options)
    scanner.when_scanned = received.put
    scanner.start()
    assert scanner.wait_connected(5)
    return scanner


def test_loop_url_round_trip(received):
    with scanner_on("loop://", received) as scanner:
        assert scanner.is_connected
        scanner.serial_instance.write(b"871008401427\r")
        assert received.get(timeout=5) == b"871008401427"
    assert not scanner.is_connected and scanner.serial_instance is None


def test_pseudo_terminal(received, pty):
    with scanner_on(pty.path, received, terminator="CRLF"):
        pty.write(b"]C0871008401427\r\n")
        pty.write(b"0612116")
        pty.write(b"00012\r\n")
        assert received.get(timeout=5) == b"]C0871008401427"
        assert received.get(timeout=5) == b"061211600012"


def test_scanner_without_terminator_is_framed_on_silence(received, pty):
    with scanner_on(pty.path, received, terminator="none", idle_timeout=0.1):
        pty.write(b"8710084")
        pty.write(b"01427")
        assert received.get(timeout=5) == b"871008401427"


def test_td1_mrz_read_line_by_line_is_one_scan(received, pty):
    lines = [b"IDKAZN012345679871008401427<<<", b"8710086M3001019KAZ<<<<<<<<<<<6",
             b"TESTOV<<TEST<<<<<<<<<<<<<<<<<<"]
    with scanner_on(pty.path, received, terminator="LF"):
        for line in lines:
            pty.write(line + b"\n")
        assert received.get(timeout=5) == b"\n".join(lines)


def test_unplug_and_replug(tmp_path, received, caplog):
    """The device node vanishes and comes back as a new pseudo-terminal."""
    caplog.set_level(logging.INFO, logger="ashyq.scanner")
    link = tmp_path / "ashyq-scanner"
    device = Pty()
    link.symlink_to(device.path)
    events = queue.Queue()
    # A long idle_timeout keeps the half-sent code below pending until the loss.
    scanner = SerialScanner(str(link), reconnect_interval=0.05, idle_timeout=5)
    scanner.when_scanned = received.put
    scanner.when_disconnected = lambda: events.put("disconnected")
    scanner.when_connected = lambda: events.put("connected")
    try:
        scanner.start()
        assert events.get(timeout=5) == "connected"
        device.write(b"111\r")
        assert received.get(timeout=5) == b"111"

        device.write(b"22")  # the cable is pulled mid-code
        assert wait_until(lambda: scanner.framer.is_pending)
        # Unplug: the node goes first, so a reconnect racing the loss on a slow
        # machine cannot reopen the old pseudo-terminal; then reads see EIO / EOF.
        link.unlink()
        device.close()
        assert events.get(timeout=5) == "disconnected"
        assert not scanner.is_connected
        assert received.get(timeout=5) == b"22"  # handed on for the parser to refuse
        # Let the reader retry against the missing node a few times.
        assert not scanner.wait_connected(0.3)

        device = Pty()  # plug back in
        link.symlink_to(device.path)
        assert events.get(timeout=5) == "connected"
        assert scanner.is_connected
        device.write(b"333\r")
        assert received.get(timeout=5) == b"333"
    finally:
        scanner.close()
        device.close()
    lost = [r for r in caplog.records
            if r.name == "ashyq.scanner" and r.levelno == logging.WARNING]
    assert len(lost) == 1, [r.getMessage() for r in lost]  # one outage, one warning
    assert events.empty()
    # Nothing scanned was logged in clear.
    assert not any("111" in r.getMessage() or "333" in r.getMessage() for r in caplog.records)


def test_master_closed_without_unlinking_is_still_a_loss(received):
    """EOF on a port that stays in place: pyserial's "ready but no data"."""
    device = Pty()
    disconnected = threading.Event()
    scanner = scanner_on(device.path, received, reconnect_interval=0.05)
    scanner.when_disconnected = disconnected.set
    try:
        device.close()
        assert disconnected.wait(5)
    finally:
        scanner.close()


def test_a_failing_callback_does_not_stop_the_scanner(received, caplog):
    calls = []

    def flaky(payload):
        calls.append(payload)
        if len(calls) == 1:
            raise RuntimeError("bug downstream")
        received.put(payload)

    with scanner_on("loop://", received) as scanner:
        scanner.when_scanned = flaky
        scanner.serial_instance.write(b"one\r")
        scanner.serial_instance.write(b"two\r")
        assert received.get(timeout=5) == b"two"
        assert scanner.is_connected
    assert any("callback" in r.getMessage() for r in caplog.records)


def test_starting_twice_keeps_one_reader(received):
    scanner = scanner_on("loop://", received)
    scanner.start()
    readers = [t for t in threading.enumerate() if t.name == "serial-scanner" and t.is_alive()]
    assert len(readers) == 1
    scanner.close()


def test_missing_port_keeps_retrying_and_close_leaves_no_thread(tmp_path):
    scanner = SerialScanner(str(tmp_path / "absent"), reconnect_interval=0.05)
    scanner.start()
    assert not scanner.wait_connected(0.3) and not scanner.is_connected
    scanner.close()
    assert not any(t.name == "serial-scanner" and t.is_alive() for t in threading.enumerate())


def test_a_required_scanner_that_is_missing_fails_at_start(tmp_path):
    scanner = SerialScanner(str(tmp_path / "absent"), required=True)
    with pytest.raises(DeviceError, match="absent"):
        scanner.start()
    assert not any(t.name == "serial-scanner" for t in threading.enumerate())


def test_a_required_scanner_that_is_present_reads(received, pty):
    with scanner_on(pty.path, received, required=True):
        pty.write(b"871008401427\r")
        assert received.get(timeout=5) == b"871008401427"


def test_from_config(cfg, received, pty):
    section = cfg.scanner.replace(port=pty.path, terminator="LF", idle_timeout=0.2)
    scanner = SerialScanner.from_config(section)
    assert (scanner.port, scanner.baudrate, scanner.framer.terminator,
            scanner.framer.idle_timeout, scanner.framer.max_length) == \
        (pty.path, 9600, "LF", 0.2, 512)
    scanner.when_scanned = received.put
    with scanner:
        assert scanner.wait_connected(5)
        pty.write(b"061211600012\n")
        assert received.get(timeout=5) == b"061211600012"


def test_close_then_start_again(received):
    scanner = scanner_on("loop://", received)
    scanner.close()
    scanner.start()
    try:
        assert scanner.wait_connected(5)
        scanner.serial_instance.write(b"again\r")
        assert received.get(timeout=5) == b"again"
    finally:
        scanner.close()

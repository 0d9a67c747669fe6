"""The serial scanner over pyserial's loop:// and real pseudo-terminals."""
import os
import queue
import threading

import pytest

from drivers.serial_scanner import SerialScanner


@pytest.fixture
def received():
    return queue.Queue()


def scanner_on(port, received, **options):
    scanner = SerialScanner(port, reconnect_interval=0.1, **options)
    scanner.when_scanned = received.put
    scanner.start()
    assert scanner.wait_connected(5)
    return scanner


def test_loop_url_round_trip(received):
    with scanner_on("loop://", received) as scanner:
        scanner.serial_instance.write(b"871008401427\r")
        assert received.get(timeout=5) == b"871008401427"


def test_pseudo_terminal(received):
    master, slave = os.openpty()
    with scanner_on(os.ttyname(slave), received):
        os.write(master, b"]C0871008401427\r\n")
        assert received.get(timeout=5) == b"]C0871008401427"
    os.close(master)
    os.close(slave)


def test_scanner_without_terminator_is_framed_on_silence(received):
    master, slave = os.openpty()
    with scanner_on(os.ttyname(slave), received, terminator="none", idle_timeout=0.1):
        os.write(master, b"8710084")
        os.write(master, b"01427")
        assert received.get(timeout=5) == b"871008401427"
    os.close(master)
    os.close(slave)


def test_unplug_and_replug(tmp_path, received):
    """The device node vanishes and comes back as a new pseudo-terminal."""
    link = tmp_path / "ashyq-scanner"
    master, slave = os.openpty()
    link.symlink_to(os.ttyname(slave))
    events = queue.Queue()
    scanner = scanner_on(str(link), received)
    scanner.when_disconnected = lambda: events.put("disconnected")
    scanner.when_connected = lambda: events.put("connected")
    os.write(master, b"111\r")
    assert received.get(timeout=5) == b"111"
    os.close(master)  # unplug
    os.close(slave)
    link.unlink()
    assert events.get(timeout=5) == "disconnected"
    master, slave = os.openpty()  # plug back in
    link.symlink_to(os.ttyname(slave))
    assert events.get(timeout=5) == "connected"
    os.write(master, b"222\r")
    assert received.get(timeout=5) == b"222"
    scanner.close()
    os.close(master)
    os.close(slave)


def test_a_failing_callback_does_not_stop_the_scanner(received):
    calls = []

    def flaky(payload):
        calls.append(payload)
        if len(calls) == 1:
            raise RuntimeError("bug downstream")
        received.put(payload)

    scanner = SerialScanner("loop://")
    scanner.when_scanned = flaky
    with scanner:
        scanner.wait_connected(5)
        scanner.serial_instance.write(b"one\rtwo\r")
        assert received.get(timeout=5) == b"two"


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

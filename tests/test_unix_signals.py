"""Hundreds of signals at random moments against a busy daemon: SIGUSR1
(screenshots) never freezes it and SIGTERM always ends it. The handlers do
no locking work (a flag and a reentrant SimpleQueue put), so a signal that
lands while the main thread is inside the event queue's get cannot deadlock.
A hang shows as the daemon not exiting (or not deciding) before a generous
timeout; nothing here measures a duration."""
import os
import random
import signal
import threading
import time

import pytest

from kiosk.servers.status_server import StatusServer
from tests.conftest import wait_until, write_kiosk_toml
from tests.iins import make_iin

ROUNDS = int(os.environ.get("SIGNAL_ROUNDS", "20"))
PEOPLE = [make_iin(f"86{m:02d}01", serial=4000 + m) for m in range(1, 13)]


@pytest.fixture
def server():
    with StatusServer({n: {"colour": "green", "name": ""} for n in PEOPLE}, token="s") as s:
        yield s


def busy(master, rng, until: threading.Event):
    while not until.is_set():
        try:
            os.write(master, rng.choice(PEOPLE).encode() + b"\r")
        except BlockingIOError:
            pass
        until.wait(rng.uniform(0.002, 0.02))


def test_signals_at_random_moments_never_hang_a_busy_daemon(tmp_path, server, daemons):
    rng = random.Random(11)
    master, slave = os.openpty()
    os.set_blocking(master, False)
    shots = tmp_path / "shots"
    config = write_kiosk_toml(tmp_path, status_url=server.url, scanner=os.ttyname(slave),
                              status={"rate_per_minute": 10000}, policy={"rescan_seconds": 0},
                              signals={"pulse_seconds": 0.1},
                              display={"enabled": True, "video_driver": "dummy",
                                       "fullscreen": False, "screenshot_dir": str(shots)})
    log_path = tmp_path / "daemon.log"
    sent = 0
    try:
        with open(log_path, "wb") as log:
            for _ in range(ROUNDS):
                daemon = daemons(config, log=log).start()
                stop = threading.Event()
                writer = threading.Thread(target=busy, args=(master, rng, stop), daemon=True)
                writer.start()
                for _ in range(rng.randint(5, 15)):
                    time.sleep(rng.uniform(0.0, 0.03))  # a random moment, not a wait
                    daemon.proc.send_signal(signal.SIGUSR1)
                    sent += 1
                # Not frozen: it still decides after the storm.
                decided = log_path.read_text(errors="replace").count(" decision ")
                assert wait_until(lambda: log_path.read_text(errors="replace").count(" decision ")
                                  > decided, timeout=60), "the daemon froze after SIGUSR1"
                time.sleep(rng.uniform(0.0, 0.05))
                daemon.proc.send_signal(signal.SIGTERM)
                sent += 1
                assert daemon.proc.wait(timeout=60) == 0, "SIGTERM did not end the daemon"
                stop.set()
                writer.join()
    finally:
        os.close(master)
        os.close(slave)
    print(f"\nsignals: {sent} sent to {ROUNDS} busy daemons; "
          f"{len(list(shots.glob('*.png')))} screenshots saved")
    assert sent >= 200 or ROUNDS < 20
    assert list(shots.glob("*.png"))


STORM = r'''
import os, random, signal, sys, threading, time
from gpiozero.pins.mock import MockFactory
from drivers.signals import Signals
from kiosk.app.config import Section, load_text
from kiosk.core.model import Tick
from kiosk.app.wiring import build_app

cfg = load_text('[status]\nbase_url = "http://127.0.0.1:9"\n[kiosk]\nstate_dir = "%(state)s"\n'
                '[scanner]\nenabled = false\n[display]\nenabled = false\n'
                '[signals]\npin_factory = "mock"\n')
secrets = Section({"status_token": "", "person_key": "k", "sync_token": "", "staff": []})
app = build_app(cfg, secrets, signals=Signals.from_config(cfg.signals, pin_factory=MockFactory()))
done = threading.Event()

def flood():  # a busy queue: the main thread is forever inside get()
    while not done.is_set():
        app.post(Tick())

def storm():
    while not app.is_running:
        time.sleep(0.001)
    threading.Thread(target=flood, daemon=True).start()
    rng = random.Random(%(seed)d)
    for _ in range(%(count)d):
        os.kill(os.getpid(), signal.SIGUSR1)
        time.sleep(rng.uniform(0, 0.0005))
    done.set()
    os.kill(os.getpid(), signal.SIGTERM)

threading.Thread(target=storm, daemon=True).start()
sys.exit(app.run())
'''


@pytest.mark.parametrize("seed", range(2))
def test_thousands_of_signals_against_a_flooded_event_queue(tmp_path, seed):
    """The same promise where the race is likeliest: the main thread in the
    event queue's get() all the time, a signal every fraction of a
    millisecond. A deadlock shows as the process not ending."""
    import subprocess
    import sys
    script = STORM % {"state": tmp_path, "seed": seed, "count": 1500}
    try:
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             timeout=240, env={**os.environ, "PYTHONPATH": os.getcwd()})
    except subprocess.TimeoutExpired:
        pytest.fail("a signal handler deadlocked the main loop")
    assert run.returncode == 0, run.stderr

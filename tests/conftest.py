"""Fixtures shared by the whole suite. Hardware fakes come from the libraries
themselves; here only what every test needs: a config, the time, SDL offscreen."""
import datetime as dt
import os
from zoneinfo import ZoneInfo

import pytest

# Before any pygame import anywhere: draw offscreen, play no sound.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("GPIOZERO_PIN_FACTORY", "mock")

from kiosk.app.config import load_text
from kiosk.core.model import Now

ALMATY = ZoneInfo("Asia/Almaty")
# A Wednesday evening; weekend rules do not apply unless a test moves it.
WEDNESDAY = dt.datetime(2026, 11, 18, 19, 30, tzinfo=ALMATY)

# Valid IINs (check digits computed per DESIGN.md).
GREEN_IIN = "871008401427"
SECOND_PASS_IIN = "061211600012"


def make_config(extra: str = "", **sections):
    text = '[status]\nbase_url = "http://127.0.0.1:9"\n' + extra
    return load_text(text)


@pytest.fixture
def pty():
    """A pseudo-terminal standing in for a serial scanner: (master fd, slave path)."""
    master, slave = os.openpty()
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


@pytest.fixture
def cfg():
    return make_config()


@pytest.fixture
def no_threads_left():
    """A test that leaves a thread running fails (use with pytestmark)."""
    import threading
    before = set(threading.enumerate())
    yield
    for thread in set(threading.enumerate()) - before:
        thread.join(timeout=5)
    assert set(threading.enumerate()) - before == set()


class Clock:
    """A hand-driven clock for the pure core."""

    def __init__(self, wall=WEDNESDAY, mono=1000.0, synced=True):
        self.wall, self.mono, self.synced = wall, mono, synced

    def __call__(self) -> Now:
        return Now(self.mono, self.wall, self.synced)

    def advance(self, seconds: float) -> Now:
        self.mono += seconds
        self.wall += dt.timedelta(seconds=seconds)
        return self()


@pytest.fixture
def clock():
    return Clock()


# ---- the journal, for the journal and sync tests ------------------------------

JOURNAL_KEY = b"kiosk-secret"


def decision(number=GREEN_IIN, at=WEDNESDAY, verdict="admit"):
    import uuid

    from kiosk.core.documents import parse
    from kiosk.core.model import Decision
    identity = parse(number.encode(), today=at.date())
    return Decision(id=str(uuid.uuid4()), at=at, kind="iin", identity=identity,
                    colour="green", decision=verdict, reason="green", latency_ms=12.5,
                    mono=1.0, extra={"k": 1})


@pytest.fixture
def keys():
    from kiosk.services.sealing import generate_keypair
    return generate_keypair()


@pytest.fixture
def journal(tmp_path, keys):
    from kiosk.services.journal import Journal
    j = Journal(str(tmp_path / "journal.sqlite"), person_key=JOURNAL_KEY, collector_public_key=keys[1])
    yield j
    j.close()


# ---- the daemon as systemd runs it: one helper for every black-box test ------

def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_kiosk_toml(folder, *, status_url="http://127.0.0.1:9", scanner=None,
                     secrets=None, secrets_mode=0o600, **sections) -> str:
    """A kiosk.toml (and its secrets file) in ``folder``: state in
    ``folder/state``, mock pins, no display, the serial scanner on ``scanner``
    (or none); each keyword is a section whose keys override these."""
    folder = str(folder)
    secrets_file = os.path.join(folder, "secrets.toml")
    with open(secrets_file, "w") as handle:
        for key, value in (secrets or {"status_token": "s"}).items():
            handle.write(f"{key} = {_toml_value(value)}\n")
    os.chmod(secrets_file, secrets_mode)
    merged = {"kiosk": {"state_dir": os.path.join(folder, "state"), "secrets_file": secrets_file},
              "status": {"base_url": status_url},
              "scanner": {"port": scanner} if scanner else {"enabled": False},
              "signals": {"pin_factory": "mock"}, "display": {"enabled": False}}
    for name, keys in sections.items():
        merged.setdefault(name, {}).update(keys)
    path = os.path.join(folder, "kiosk.toml")
    with open(path, "w") as handle:
        for name, keys in merged.items():
            handle.write(f"[{name}]\n")
            for key, value in keys.items():
                handle.write(f"{key} = {_toml_value(value)}\n")
    return path


class Daemon:
    """`python -m kiosk.cli run --config FILE` with a NOTIFY_SOCKET we own,
    the way systemd runs it. ``start()`` returns once READY=1 arrives (or the
    process exits, for tests of refusals): tests wait for readiness, never
    for a fixed time."""

    def __init__(self, config: str, *, log=None, env=None):
        import socket
        import tempfile
        self.config = config
        self.log = log
        self.env = env or {}
        self.folder = tempfile.mkdtemp(prefix="notify-")  # short: AF_UNIX paths are limited
        self.path = os.path.join(self.folder, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages: list[str] = []
        self.proc = None

    def start(self, wait: bool = True, timeout: float = 120.0) -> "Daemon":
        import subprocess
        import sys
        self.messages.clear()
        out = self.log if self.log is not None else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk.cli", "run", "--config", self.config],
            env={**os.environ, "SDL_VIDEODRIVER": "dummy", "NOTIFY_SOCKET": self.path,
                 **self.env},
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT if self.log else out)
        if wait:
            assert self.wait_for("READY=1", timeout), f"no READY=1; exit {self.proc.poll()}"
        return self

    def wait_for(self, message: str, timeout: float = 120.0) -> bool:
        """Whether ``message`` arrived before the timeout or the daemon's exit."""
        import select
        import time
        deadline = time.monotonic() + timeout
        while message not in self.messages:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([self.sock], [], [], min(left, 0.2))
            if ready:
                self.messages.append(self.sock.recv(4096).decode(errors="replace"))
            elif self.proc.poll() is not None:
                return False
        return True

    def drain(self) -> None:
        """Forget every message received so far, read or still queued."""
        self.sock.setblocking(False)
        try:
            while True:
                self.sock.recv(4096)
        except BlockingIOError:
            pass
        finally:
            self.sock.setblocking(True)
        self.messages.clear()

    def kill(self) -> None:
        import signal
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=30)

    def terminate(self, timeout: float = 60.0) -> int:
        self.proc.terminate()
        return self.proc.wait(timeout=timeout)

    def close(self) -> None:
        import shutil
        self.kill()
        self.sock.close()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def daemons():
    """``daemons(config, log=..., env=...)`` -> a :class:`Daemon`, not started;
    every one is killed at the end of the test."""
    made = []

    def make(config, **kwargs):
        made.append(Daemon(config, **kwargs))
        return made[-1]

    yield make
    for daemon in made:
        daemon.close()


def wait_until(condition, timeout: float = 60.0, every: float = 0.01) -> bool:
    """Poll ``condition`` until true (a state, never a duration to assert)."""
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return bool(condition())


def relay_openings(pins_dir, pin: int = 23) -> list[float]:
    """time.monotonic() of every rising edge a FilePin logged (see
    drivers/signals.py), across every daemon that used ``pins_dir``."""
    path = os.path.join(str(pins_dir), f"GPIO{pin}.log")
    if not os.path.exists(path):
        return []
    found = []
    with open(path) as handle:
        for line in handle:
            parts = line.split()
            if len(parts) == 2 and parts[1] == "1":  # a line cut by SIGKILL is skipped
                found.append(float(parts[0]))
    return sorted(found)


def openings_without_a_row(openings: list[float], journal_path: str, window: float = 5.0) -> list:
    """Relay openings that no committed admit explains: each opening takes the
    latest admit row (by its ``mono``) decided before it and not already
    taken, at most ``window`` seconds earlier."""
    import sqlite3
    with sqlite3.connect(journal_path) as db:
        rows = sorted(r[0] for r in db.execute(
            "select mono from decisions where decision = 'admit' and mono is not null "
            "and reason != 'passage-sensed'"))
    orphans, stack, index = [], [], 0
    for opened in openings:
        while index < len(rows) and rows[index] <= opened:
            stack.append(rows[index])
            index += 1
        while stack and stack[-1] < opened - window:
            stack.clear()
        if stack:
            stack.pop()
        else:
            orphans.append(opened)
    return orphans


@pytest.fixture
def tmpfs(tmp_path):
    """``tmpfs(path, size="2m", readonly=False)`` mounts a small tmpfs there
    (unmounted after the test); skips the test where mounting is not allowed
    (not root, or a container without the capability). CI runs as root."""
    import subprocess
    mounted = []

    def mount(path, size="2m", readonly=False):
        os.makedirs(path, exist_ok=True)
        options = f"size={size}" + (",ro" if readonly else "")
        if os.geteuid() != 0:
            pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
        run = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                             capture_output=True, text=True)
        if run.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {run.stderr.strip()}")
        mounted.append(str(path))
        return str(path)

    yield mount
    for path in reversed(mounted):
        subprocess.run(["umount", "-l", path], capture_output=True)


def fill(folder) -> str:
    """Write a file in ``folder`` until its filesystem is full; returns its path."""
    import errno
    path = os.path.join(str(folder), "filler")
    with open(path, "wb", buffering=0) as handle:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    handle.write(b"\0" * size)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
    return path

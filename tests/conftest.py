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

from kiosk.config import load_text  # noqa: E402
from kiosk.model import Now  # noqa: E402

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

    from kiosk.documents import parse
    from kiosk.model import Decision
    identity = parse(number.encode(), today=at.date())
    return Decision(id=str(uuid.uuid4()), at=at, kind="iin", identity=identity,
                    colour="green", decision=verdict, reason="green", latency_ms=12.5,
                    mono=1.0, extra={"k": 1})


@pytest.fixture
def keys():
    from kiosk.sealing import generate_keypair
    return generate_keypair()


@pytest.fixture
def journal(tmp_path, keys):
    from kiosk.journal import Journal
    j = Journal(str(tmp_path / "journal.sqlite"), person_key=JOURNAL_KEY, collector_public_key=keys[1])
    yield j
    j.close()

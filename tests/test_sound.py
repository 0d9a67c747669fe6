"""Tones through SDL's audio: the "disk" driver writes what a speaker would
play into a file, so a test can hear it; "dummy" stands for no device."""
import array
import datetime as dt
import os
import subprocess
import sys
import textwrap

import pytest

from drivers.sound import PATTERNS, RATE, Sound, is_quiet, melody

NOON = dt.datetime(2026, 11, 21, 12, 0)
NIGHT = dt.datetime(2026, 11, 21, 23, 30)


def samples(pattern, volume=0.6):
    return array.array("h", melody(pattern, volume))


def test_each_pattern_is_distinct_and_short():
    heard = {name: samples(name) for name in PATTERNS}
    assert len({tuple(s) for s in heard.values()}) == len(PATTERNS)
    for name, s in heard.items():
        assert 0.1 < len(s) / RATE < 0.7, name  # short: the next visitor is waiting
        assert max(s) > 10000, name
    assert set(PATTERNS) >= {"admit", "deny", "staff"}


def test_volume_scales_the_tones():
    assert max(samples("admit", 0.2)) < max(samples("admit", 0.8)) / 3
    assert max(samples("admit", 0.0)) == 0


def test_tones_start_and_end_quietly():
    """A ramp at each end: no click from the speaker."""
    s = samples("deny")
    assert abs(s[0]) < 500 and abs(s[-1]) < 500


@pytest.mark.parametrize("now,quiet,expected", [
    (NIGHT, ("22:00", "07:00"), True),
    (NIGHT.replace(hour=6, minute=59), ("22:00", "07:00"), True),
    (NIGHT.replace(hour=7, minute=0), ("22:00", "07:00"), False),
    (NOON, ("22:00", "07:00"), False),
    (NOON, ("12:00", "13:00"), True),
    (NIGHT, None, False),
    (NIGHT, ("22:00", "22:00"), False),
])
def test_quiet_hours(now, quiet, expected):
    assert is_quiet(now, quiet) is expected


def test_without_an_audio_device_it_stays_silent(caplog, monkeypatch):
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")  # restored after the bad one below
    sound = Sound(driver="no-such-driver")
    sound.open()
    assert sound.is_available is False
    assert sound.play("admit", NOON) is False
    assert "no audio" in caplog.text
    sound.close()


def test_volume_zero_opens_nothing():
    sound = Sound(volume=0, driver="dummy")
    sound.open()
    assert sound.is_available is False and sound.play("admit", NOON) is False


def test_plays_through_the_mixer_but_not_at_night():
    sound = Sound(driver="dummy")
    sound.open()
    try:
        assert sound.is_available
        assert sound.play("admit", NOON) is True
        assert sound.play("staff", NIGHT) is False
        assert sound.play("off", NOON) is False  # lights off is not a sound
    finally:
        sound.close()


def test_what_the_speaker_plays(tmp_path):
    """SDL's disk driver writes the mixed output to a file: the tones are in it.
    A subprocess, because SDL reads its audio driver once per process."""
    out = tmp_path / "audio.raw"
    script = textwrap.dedent("""
        import datetime as dt, time, array
        from drivers.sound import Sound
        sound = Sound(volume=0.8, driver="disk")
        sound.open()
        assert sound.is_available
        assert sound.play("deny", dt.datetime(2026, 11, 21, 12, 0))
        deadline = time.monotonic() + 30
        import pygame
        while pygame.mixer.get_busy() and time.monotonic() < deadline:
            time.sleep(0.01)
        sound.close()
    """)
    env = dict(os.environ, SDL_DISKAUDIOFILE=str(out), SDL_DISKAUDIODELAY="0",
               PYGAME_HIDE_SUPPORT_PROMPT="1")
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=120,
                   cwd=os.path.dirname(os.path.dirname(__file__)))
    played = array.array("h", out.read_bytes()[: len(out.read_bytes()) // 2 * 2])
    assert max(played) > 15000  # the tone reached the speaker at volume

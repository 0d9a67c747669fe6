"""Short tones through the screen's audio, for visitors who do not look at
the screen: rising for come in, falling for no entry, three beeps for see
staff, a low double blip for a card that could not be read. The buzzer on
the GPIO stays for kiosks without audio; this is as well as it, not instead.

    >>> sound = Sound(volume=0.5, quiet=("22:00", "07:00"), driver="dummy")
    >>> sound.open()
    >>> sound.play("admit", now)            # doctest: +SKIP
    True

Tones are generated (no sound files to ship or lose) and played through
pygame's mixer. Without an audio device the kiosk stays silent and says so
once in the log; at night (``quiet``) it is silent on purpose.
"""
from __future__ import annotations

import array
import datetime as dt
import logging
import math
import os
from typing import Optional

log = logging.getLogger("ashyq.sound")

RATE = 22050
# (frequency Hz or 0 for a rest, seconds): each pattern distinct in pitch and rhythm.
PATTERNS = {
    "admit": ((660, 0.10), (990, 0.16)),
    "deny": ((494, 0.18), (330, 0.32)),
    "staff": ((784, 0.09), (0, 0.06), (784, 0.09), (0, 0.06), (784, 0.09)),
    "error": ((262, 0.07), (0, 0.05), (262, 0.07)),
}
FADE = 0.008  # s: ramps at each end of a tone, so the speaker does not click


def tone(frequency: float, seconds: float, volume: float, rate: int = RATE) -> array.array:
    """Signed 16-bit mono samples of one sine tone (or silence at 0 Hz)."""
    count = int(seconds * rate)
    samples = array.array("h", bytes(2 * count))
    if frequency <= 0 or volume <= 0:
        return samples
    ramp = max(1, int(FADE * rate))
    peak = 32767 * min(volume, 1.0)
    for i in range(count):
        envelope = min(1.0, i / ramp, (count - 1 - i) / ramp)
        samples[i] = int(peak * envelope * math.sin(2 * math.pi * frequency * i / rate))
    return samples


def melody(pattern: str, volume: float, rate: int = RATE, channels: int = 1) -> bytes:
    """The samples of a whole pattern, interleaved for ``channels``."""
    samples = array.array("h")
    for frequency, seconds in PATTERNS[pattern]:
        samples.extend(tone(frequency, seconds, volume, rate))
    if channels > 1:
        samples = array.array("h", (s for s in samples for _ in range(channels)))
    return samples.tobytes()


def minutes(hhmm: str) -> int:
    hours, mins = hhmm.split(":")
    return int(hours) * 60 + int(mins)


def is_quiet(now: dt.datetime, quiet: Optional[tuple]) -> bool:
    """Whether ``now`` falls in the quiet hours (which may span midnight)."""
    if not quiet or quiet[0] == quiet[1]:
        return False
    start, end, at = minutes(quiet[0]), minutes(quiet[1]), now.hour * 60 + now.minute
    return start <= at < end if start < end else at >= start or at < end


class Sound:
    """The kiosk's voice: ``play(pattern, now)`` for a Signal's pattern."""

    def __init__(self, *, volume: float = 0.6, quiet: Optional[tuple] = ("22:00", "07:00"),
                 driver: str = ""):
        self.volume = volume
        self.quiet = quiet
        self.driver = driver
        self.sounds: dict = {}
        self.is_available = False

    @classmethod
    def from_config(cls, section) -> "Sound":
        quiet = (section.quiet_from, section.quiet_to) if section.quiet_from else None
        return cls(volume=section.volume, quiet=quiet, driver=section.audio_driver)

    def open(self) -> None:
        """Open the audio device; without one, stay silent (the buzzer still sounds)."""
        if self.volume <= 0:
            return
        import pygame
        if self.driver:
            os.environ["SDL_AUDIODRIVER"] = self.driver
        try:
            pygame.mixer.init(frequency=RATE, size=-16, channels=1, buffer=512)
            rate, _, channels = pygame.mixer.get_init()
            self.sounds = {name: pygame.mixer.Sound(buffer=melody(name, self.volume, rate, channels))
                           for name in PATTERNS}
        except pygame.error as exc:
            log.warning("no audio (%s); the kiosk stays silent, the buzzer still sounds", exc)
            return
        self.is_available = True

    def play(self, pattern: str, now: dt.datetime) -> bool:
        """Start the pattern's tones (never waits for them); whether it did."""
        sound = self.sounds.get(pattern)
        if not self.is_available or sound is None or is_quiet(now, self.quiet):
            return False
        import pygame
        try:
            pygame.mixer.stop()  # a new answer cuts the last one short
            sound.play()
        except Exception as exc:  # noqa: BLE001 - called before the journal row: never raise
            log.warning("sound failed: %s", exc)
            return False
        return True

    def close(self) -> None:
        if self.is_available:
            import pygame
            self.is_available = False
            pygame.mixer.quit()

"""Build the daemon's parts from configuration, in safety order.

This is the one module of the daemon's application layer (kiosk/app) that
imports drivers; outside it only the technician's tools (kiosk/tools) and the
demo do, and the core and services never do (tests/test_layers.py holds all
of this). Each optional part that cannot start
is reported and left out, the Mopidy way; only the relay, the journal and the
status client are essential.
"""
from __future__ import annotations

import logging
import os
from typing import Optional

from kiosk.app.loop import App
from kiosk.core.errors import DeviceError, JournalError, KioskError
from kiosk.services.health import Health, health_path
from kiosk.core.machine import Kiosk
from kiosk.core.model import COLOURS, Passed

log = logging.getLogger("ashyq.wiring")


def build_signals(cfg):
    from drivers.signals import Signals
    return Signals.from_config(cfg.signals)


def build_journal(cfg, secrets, *, for_daemon: bool = False):
    """The journal and the person key. ``for_daemon``: also refuse a state
    folder that cannot take writes now (read-only, full) and a journal that
    fails SQLite's quick_check, with one line that says which."""
    from kiosk.services.journal import Journal, preflight
    from kiosk.services.sealing import load_or_create_key
    folder = cfg.kiosk.state_dir
    try:
        if for_daemon:
            preflight(folder)
        os.makedirs(folder, exist_ok=True)
        key = secrets.person_key.encode() if secrets.person_key else \
            load_or_create_key(os.path.join(folder, "person.key"))
    except OSError as exc:
        if isinstance(exc, KioskError):
            raise
        raise JournalError(f"state folder {folder}: {exc.strerror or exc}") from None
    journal = Journal(os.path.join(folder, "journal.sqlite"), person_key=key,
                      collector_public_key=cfg.sync.collector_public_key)
    if for_daemon:
        verdict = journal.quick_check()
        if verdict != "ok":
            journal.close()
            raise JournalError(f"journal {journal.path} fails quick_check: "
                               f"{verdict.splitlines()[0]}")
    return journal, key


def _serial(cfg, app, display):
    from drivers.serial_scanner import SerialScanner
    scanner = SerialScanner.from_config(cfg.scanner)
    scanner.when_scanned = lambda payload: app.scanned(payload, "serial")
    if display is not None:  # the idle screen says when the scanner is missing
        display.set_scanner(False)
        scanner.when_connected = lambda: display.set_scanner(True)
        scanner.when_disconnected = lambda: display.set_scanner(False)
    return scanner


def _camera(cfg, app, display):
    from drivers.camera import CameraScanner
    camera = CameraScanner.from_config(cfg.camera)
    camera.when_scanned = lambda payload: app.scanned(payload, "camera")
    # Connected but not reading is a fault the doctor and the watchdog see.
    camera.when_failed = lambda error: app.health.fault("camera", f"decoder failed: {camera.last_error}")
    camera.when_recovered = lambda: app.health.clear("camera")
    if display is not None and cfg.camera.preview:
        camera.when_frame = display.set_preview
    return camera


def _wedge(cfg, app, display):
    from drivers.wedge import WedgeScanner
    wedge = WedgeScanner.from_config(cfg)
    wedge.when_scanned = lambda payload: app.scanned(payload, "wedge")
    return wedge


def _usb_keypad(cfg, app, display):
    from drivers.keypad import EvdevKeypad
    keypad = EvdevKeypad(cfg.keypad.evdev_device)
    keypad.when_key = lambda key: app.key(key, "usb-keypad")
    return keypad


def _matrix_keypad(cfg, app, display):
    from drivers.keypad import MatrixKeypad
    matrix = MatrixKeypad(cfg.keypad.matrix_rows, cfg.keypad.matrix_cols,
                          pin_factory=app.signals.pin_factory)
    matrix.when_key = lambda key: app.key(key, "matrix-keypad")
    return matrix


SOURCES = (
    (lambda cfg: cfg.scanner.enabled, _serial),
    (lambda cfg: cfg.camera.enabled, _camera),
    (lambda cfg: cfg.wedge.evdev_device, _wedge),
    (lambda cfg: cfg.keypad.evdev_device, _usb_keypad),
    (lambda cfg: cfg.keypad.matrix_rows, _matrix_keypad),
)


def build_sources(cfg, app: App, display=None) -> list:
    """Scanners and keypads that are configured; each posts into the app.
    One that cannot be built is reported and left out: a kiosk with a broken
    keypad still serves visitors (the doctor names the fault)."""
    sources = []
    for wanted, build in SOURCES:
        if not wanted(cfg):
            continue
        try:
            sources.append(build(cfg, app, display))
        except (KioskError, ValueError, OSError, ImportError) as exc:
            log.error("%s disabled: %s", build.__name__.strip("_").replace("_", " "), exc)
    return sources


def build_display(cfg):
    if not cfg.display.enabled:
        return None
    from drivers.display import Display
    display = Display.from_config(cfg)
    try:
        display.open()
    except DeviceError as exc:
        log.error("display disabled: %s", exc)
        return None
    return display


def build_sound(cfg, display):
    """Tones through the screen's audio; none without a screen or at volume 0."""
    if display is None or cfg.sound.volume <= 0:
        return None
    from drivers.sound import Sound
    sound = Sound.from_config(cfg.sound)
    sound.open()  # without an audio device it stays silent and says so in the log
    return sound


def build_app(cfg, secrets, *, signals=None, notifier=None, status=None, display=None,
              when_decided=None, sources: Optional[list] = None) -> App:
    """Everything the daemon needs, relay first. ``signals``, ``status``,
    ``display`` and ``sources`` may be given (the demo and tests bring theirs)."""
    signals = signals if signals is not None else build_signals(cfg)
    try:
        journal, key = build_journal(cfg, secrets, for_daemon=True)
        if status is None:
            from kiosk.services.status import StatusClient
            status = StatusClient.from_config(cfg, secrets)
        from kiosk.services.sealing import person_hash
        cache = _build_cache(cfg, journal)
        kiosk = Kiosk(cfg, secrets.staff)
        app = App(cfg, kiosk=kiosk, signals=signals, journal=journal, status=status,
                  display=display, notifier=notifier, cache=cache,
                  person_hash=lambda number: person_hash(number, key),
                  syncer=_build_syncer(cfg, secrets, journal),
                  clock_synced=_clock_check(), when_decided=when_decided,
                  health=Health(health_path(cfg.kiosk.state_dir)))
        app.sources = build_sources(cfg, app, display) if sources is None else sources
        _attach_heartbeat(cfg, secrets, app)
        app.actuator.sound = build_sound(cfg, display)
        signals.when_passed = lambda: app.post(Passed())
        signals.when_passed_shut = lambda: app.post(Passed(free=True))  # a free way out
        return app
    except BaseException:
        signals.close()  # never leave a relay driver half-built
        raise


def _build_cache(cfg, journal):
    if not cfg.cache.enabled:
        return None
    from kiosk.services.cache import StatusCache
    ages = {colour: cfg.cache[f"{colour}_hours"] for colour in COLOURS}
    return StatusCache(journal.path, max_age_hours=ages)


def _build_syncer(cfg, secrets, journal):
    if not cfg.sync.url:
        return None
    from kiosk.services.sync import Syncer
    return Syncer(journal, cfg.sync.url, cfg.kiosk.id, secrets.sync_token,
                  batch_size=cfg.sync.batch_size, interval=cfg.sync.interval)


def _attach_heartbeat(cfg, secrets, app) -> None:
    """Heartbeats go where the journal syncs, with the same token."""
    if app.syncer is not None:
        from kiosk.services.heartbeat import Heartbeat
        app.syncer.heartbeat = Heartbeat(app, cfg.sync.url, cfg.kiosk.id, secrets.sync_token,
                                         interval=cfg.sync.heartbeat_interval)


def _clock_check():
    from kiosk.services.clock import is_clock_synchronised
    return is_clock_synchronised


def run(config_path: str) -> int:
    """``ashyq-kiosk run --config FILE``: the daemon systemd starts."""
    from kiosk.app.config import load, load_secrets
    cfg = load(config_path)
    secrets = load_secrets(cfg.kiosk.secrets_file)
    from kiosk.services.notify import Notifier
    signals = build_signals(cfg)  # the relay is off before anything else starts
    display = None
    try:
        display = build_display(cfg)
        app = build_app(cfg, secrets, signals=signals, notifier=Notifier(), display=display)
    except BaseException:
        if display is not None:
            display.close()
        signals.close()
        raise
    return app.run()

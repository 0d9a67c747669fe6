"""``ashyq-kiosk demo``: the whole kiosk on embedded defaults, no hardware,
no network. The reference status server runs on loopback with demo people,
gpiozero's mock pins stand in for the relay and lights (their state drawn on
screen), the journal lives in a temporary folder, and the scanner is a real
pseudo-terminal read through pyserial::

    echo 871008401427 > /dev/pts/N        # the path the demo prints

With ``--headless`` it plays one scan per demo person offscreen, saves a
screenshot of each result, prints one line per decision and exits 0.
"""
from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from importlib import resources

from kiosk.app.config import Config, load_text
from kiosk.app.config import Section

DEMO_PIN = "1234"


class PtyRelay:
    """Two pseudo-terminals joined back to back, like ``socat``: what a person
    writes to :attr:`user_path` arrives at :attr:`scanner_path`, which the
    serial driver reads like any USB scanner. (Writing into the slave the
    driver itself reads would send the bytes the wrong way.)"""

    def __init__(self):
        self._user_master, self._user_slave = os.openpty()
        self._scan_master, self._scan_slave = os.openpty()
        self.user_path = os.ttyname(self._user_slave)
        self.scanner_path = os.ttyname(self._scan_slave)
        for fd in (self._user_slave, self._scan_slave):
            _raw(fd)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, name="pty-relay", daemon=True)

    def start(self) -> "PtyRelay":
        self._thread.start()
        return self

    def write(self, data: bytes) -> None:
        os.write(self._scan_master, data)

    def _pump(self) -> None:
        import select
        while not self._stop.is_set():
            ready, _, _ = select.select([self._user_master], [], [], 0.2)
            if ready:
                try:
                    self.write(os.read(self._user_master, 4096))
                except OSError:
                    return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self._user_master, self._user_slave, self._scan_master, self._scan_slave):
            try:
                os.close(fd)
            except OSError:
                pass


def _raw(fd: int) -> None:
    import termios
    import tty
    tty.setraw(fd)
    attrs = termios.tcgetattr(fd)
    attrs[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


def demo_config(state_dir: str, base_url: str, scanner_port: str, *, headless: bool) -> Config:
    text = resources.files("kiosk").joinpath("demo/demo.toml").read_text(encoding="utf-8")
    cfg = load_text(text, "kiosk/demo/demo.toml")
    cfg = cfg.with_changes("kiosk", state_dir=state_dir)
    cfg = cfg.with_changes("status", base_url=base_url)
    cfg = cfg.with_changes("scanner", port=scanner_port)
    if headless:
        cfg = cfg.with_changes("display", result_seconds=1, video_driver="dummy")
    return cfg


def demo_secrets() -> Section:
    from kiosk.core.staff import hash_pin
    from kiosk.servers.status_server import DEMO_TOKEN
    return Section({"status_token": DEMO_TOKEN, "person_key": "demo-person-key",
                    "sync_token": "", "staff": [{"id": "demo-staff", "pin": hash_pin(DEMO_PIN)}]})


def scripted_scans() -> list[tuple[str, bytes]]:
    """One scan per kind of visitor the demo knows."""
    from kiosk.servers.status_server import DEMO_PEOPLE
    from kiosk.core.mrz import passport_mrz
    people = dict(DEMO_PEOPLE)
    scans = [(label, people[label].encode() + b"\r") for label in
             ("green", "blue", "yellow", "red", "child", "unknown")]
    mrz = passport_mrz(people["foreigner"], "RUS")
    scans.append(("foreigner", mrz.replace("\n", "\r").encode() + b"\r"))  # as a scanner sends it
    scans.append(("bin", people["bin"].encode() + b"\r"))
    scans.append(("bad-check-digit", people["green"][:-1].encode() + b"0\r"))
    scans.append(("offline", people["blue"].encode() + b"\r"))  # the service drops the call
    return scans


# Steps that need the status service to misbehave first.
FAULTS = {"offline": "drop"}


def pin_overlay(signals) -> list[str]:
    state = lambda on: "ON " if on else "off"
    return [f"relay {state(signals.is_relay_on)}  green {state(signals.is_green_on)}  "
            f"red {state(signals.is_red_on)}  (mock pins)"]


def main(*, headless: bool = False, screenshots: str = "", scans=None) -> int:
    from kiosk.servers.status_server import StatusServer, load_people
    from kiosk.app.wiring import build_app, build_signals
    from drivers.display import Display

    if not headless and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print("demo: no display found; running --headless instead", file=sys.stderr)
        headless = True
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    state_dir = tempfile.mkdtemp(prefix="ashyq-demo-")
    people_file = resources.files("kiosk").joinpath("demo/people.csv")
    server = StatusServer(load_people(str(people_file)), token=demo_secrets().status_token).start()
    relay = PtyRelay().start()
    cfg = demo_config(state_dir, server.url, relay.scanner_path, headless=headless)
    from kiosk.demo.collector import DemoCollector
    collector = DemoCollector(state_dir, kiosk_id=cfg.kiosk.id, venue=cfg.kiosk.venue).start()
    secrets = demo_secrets()
    if collector.url:
        cfg = cfg.with_changes("sync", url=collector.url, interval=2)
        secrets = Section({**secrets, "sync_token": collector.token})
    signals = build_signals(cfg)
    display = Display.from_config(cfg)
    display.open()
    decisions: list = []
    app = build_app(cfg, secrets, signals=signals, display=display,
                    when_decided=decisions.append)
    app.after_step = lambda: display.set_overlay(pin_overlay(signals))
    print(f"Ashyq Kiosk demo: journal in {state_dir}")
    print(f"  status server {server.url}   staff PIN {DEMO_PIN}")
    print(f"  collector {collector.url}/ (fleet page)" if collector.url else
          "  collector not running (pip install '.[collector]'); decisions stay in the journal")
    try:
        if headless:
            return _play(app, relay, server, scans,
                         screenshots or os.path.join(state_dir, "screens"), decisions)
        print(f"  scan:  echo 871008401427 > {relay.user_path}")
        print("  or type an IIN in the window and press Enter; Tab switches to the staff keypad")
        return app.run()
    finally:
        app.close()
        collector.stop()
        relay.close()
        server.stop()


def _play(app, relay, server, scans, folder: str, decisions: list) -> int:
    """Headless: each scan through the real pty, wait for its screen, save it."""
    os.makedirs(folder, exist_ok=True)
    app.start()
    scanner = app.sources[0]
    if not scanner.wait_connected(5):  # pyserial drops what arrives before the port opens
        print("demo: the pseudo-terminal scanner did not open", file=sys.stderr)
        return 1
    script = [(f"scan-{i + 1}", s.encode()) for i, s in enumerate(scans)] if scans else scripted_scans()
    failures = 0
    for label, payload in script:
        seen = len(decisions)
        server.fault = FAULTS.get(label, "")
        relay.write(payload)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and app.kiosk.state != "showing":
            app.step(0.02)
        shot = app.display.screenshot(os.path.join(folder, f"{label}.png"))
        screen = app.display.screen
        if len(decisions) > seen:
            d = decisions[-1]
            print(f"{label:16} {d.decision:6} colour={d.colour:8} reason={d.reason} "
                  f"number={d.masked} {shot}")
        elif screen is not None and screen.kind == "refused":
            print(f"{label:16} refused reason={screen.reason} {shot}")
        else:
            print(f"{label:16} no decision within 10 s", file=sys.stderr)
            failures += 1
        while app.kiosk.state != "idle" and time.monotonic() < deadline + 5:
            app.step(0.05)
        if label in FAULTS:  # the idle screen now shows the offline banner
            app.step(0.05)
            app.display.screenshot(os.path.join(folder, "idle-offline.png"))
    return 1 if failures else 0

"""The unit passes systemd's own checks, offline, as it will be installed.

`systemd-analyze verify` checks that ExecStart= names an executable, and on
a development machine /opt/ashyq-kiosk does not exist. Rather than filter
that complaint out of the output (which would also hide a typo in the
path), the test lays out a throwaway root holding the unit, its retry timer
and an executable stub at the real path, and verifies with --root=: every
other complaint still fails the test, which the bogus-directive case proves.
"""
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYSTEMD = os.path.join(ROOT, "systemd")
UNIT = os.path.join(SYSTEMD, "ashyq-kiosk.service")
TIMER = os.path.join(SYSTEMD, "ashyq-kiosk-retry.timer")
RULES = os.path.join(SYSTEMD, "99-ashyq-scanner.rules")
COMMAND = "opt/ashyq-kiosk/venv/bin/ashyq-kiosk"
analyze = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(analyze is None, reason="systemd-analyze is not installed "
                                   "(apt-get install systemd)")


def unit_text() -> str:
    with open(UNIT, encoding="utf-8") as handle:
        return handle.read()


def directives(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def verify(root, unit_text_override=None):
    """systemd-analyze verify against a root laid out like an installed kiosk."""
    stub = root / COMMAND
    stub.parent.mkdir(parents=True, exist_ok=True)
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    units = root / "etc/systemd/system"
    units.mkdir(parents=True, exist_ok=True)
    shutil.copy(TIMER, units)
    (units / "ashyq-kiosk.service").write_text(unit_text_override or unit_text())
    return subprocess.run([analyze, "verify", "--recursive-errors=no", "--man=no",
                           f"--root={root}", "ashyq-kiosk.service", "ashyq-kiosk-retry.timer"],
                          capture_output=True, text=True, timeout=60)


@needs_analyze
def test_security_exposure_is_at_most_two():
    run = subprocess.run([analyze, "security", "--offline=true", "--no-pager", UNIT],
                         capture_output=True, text=True, timeout=60)
    found = re.search(r"Overall exposure level for ashyq-kiosk\.service: (\d+(?:\.\d+)?)", run.stdout)
    assert found, run.stdout[-2000:] + run.stderr
    assert float(found.group(1)) <= 2.0, run.stdout


@needs_analyze
def test_verify_is_clean_in_a_root_holding_the_command(tmp_path):
    run = verify(tmp_path)
    assert run.returncode == 0 and not run.stderr.strip(), run.stderr


@needs_analyze
def test_verify_in_that_root_still_catches_mistakes(tmp_path):
    run = verify(tmp_path, unit_text().replace("[Service]\n", "[Service]\nNoSuchDirective=1\n"))
    assert "NoSuchDirective" in run.stderr


def test_unit_keeps_the_door_safe():
    found = directives(unit_text())
    assert found["Type"] == ["notify"] and found["NotifyAccess"] == ["main"]
    assert int(found["WatchdogSec"][0]) > 0
    assert found["Restart"] == ["always"]
    assert found["ExecStart"] == [f"/{COMMAND} run --config /etc/ashyq-kiosk/kiosk.toml"]
    assert found["ExecStopPost"] == [f"/{COMMAND} safe-state --config /etc/ashyq-kiosk/kiosk.toml"]
    assert found["User"] == ["ashyq"]
    assert set(found["SupplementaryGroups"][0].split()) >= {"gpio", "dialout", "video", "input", "render"}
    for key in ("StateDirectory", "ConfigurationDirectory", "LogsDirectory"):
        assert found[key] == ["ashyq-kiosk"], key
    assert found["CapabilityBoundingSet"] == [""] and found["AmbientCapabilities"] == [""]
    assert found["DevicePolicy"] == ["closed"]
    assert "SDL_VIDEODRIVER=kmsdrm" in found["Environment"][0].split()
    assert "network-online.target" in found["After"][0] and found["Wants"] == ["network-online.target"]


def test_the_sandbox_lets_gpiozero_identify_the_board():
    """gpiozero reads /proc/cpuinfo and /proc/device-tree to tell which Pi
    (and so which GPIO chip) it runs on; ProcSubset=pid hides both, and
    without them the relay cannot be driven (tests/test_gpio_backend.py)."""
    found = directives(unit_text())
    assert found.get("ProcSubset", ["all"]) == ["all"]
    assert found.get("ProtectProc", ["default"])[0] in ("default", "invisible", "noaccess", "ptraceable")
    assert "InaccessiblePaths" not in found and "TemporaryFileSystem" not in found
    assert not any("/proc" in value or "/sys" in value for value in found.get("BindPaths", []))


def test_lgpio_has_a_writable_working_directory():
    """lgpio makes its notification FIFOs in LG_WD (or the working
    directory); under ProtectSystem=strict only the unit's own directories
    are writable, and the state directory outlives the stop, so ExecStopPost
    (safe-state) finds it too."""
    found = directives(unit_text())
    state = "/var/lib/" + found["StateDirectory"][0]
    assert found["ProtectSystem"] == ["strict"]
    assert found["WorkingDirectory"] == [state]
    assert f"LG_WD={state}" in " ".join(found["Environment"]).split()


def test_install_creates_every_group_the_unit_names():
    """A group missing from the system fails the unit with 216/GROUP."""
    with open(os.path.join(SYSTEMD, "install.sh"), encoding="utf-8") as handle:
        script = handle.read()
    wanted = re.search(r"GROUPS_WANTED=\(([^)]*)\)", script).group(1).split()
    assert set(directives(unit_text())["SupplementaryGroups"][0].split()) == set(wanted)
    assert 'groupadd --system "$group"' in script


def test_restart_back_off_works_on_bookworm_systemd_252():
    """RestartSteps= needs systemd 254; the base unit must not use it, and
    the retry timer must start the kiosk again after the start limit."""
    found = directives(unit_text())
    assert "RestartSteps" not in found and "RestartMaxDelaySec" not in found
    assert int(found["StartLimitBurst"][0]) >= 3 and found["OnFailure"] == ["ashyq-kiosk-retry.timer"]
    with open(TIMER, encoding="utf-8") as handle:
        timer = directives(handle.read())
    assert timer["Unit"] == ["ashyq-kiosk.service"] and timer["RemainAfterElapse"] == ["no"]


RULE_PAIR = re.compile(r'\s*([A-Z_]+(?:\{[A-Za-z0-9_]+\})?)\s*(==|!=|\+=|:=|=)\s*"([^"]*)"\s*(?:,|$)')


def test_udev_rules_parse_and_name_the_scanner():
    """A small syntax check (systemd 252 has no `udevadm verify`)."""
    with open(RULES, encoding="utf-8") as handle:
        rules = [line for line in handle.read().splitlines() if line.strip() and not line.startswith("#")]
    assert len(rules) == 2
    for rule in rules:
        pairs = RULE_PAIR.findall(rule)
        assert "".join(f'{k}{op}"{v}"' for k, op, v in pairs).replace(" ", "") == \
            rule.replace(", ", "").replace(",", "").replace(" ", ""), rule
        keys = {(key, op): value for key, op, value in pairs}
        assert keys[("SUBSYSTEM", "==")] == "tty"
        assert keys[("SYMLINK", "+=")] == "ashyq-scanner"


# ---- the daemon's side: sd_notify and journald-friendly logs -------------

import io  # noqa: E402
import logging  # noqa: E402
import socket  # noqa: E402

from kiosk.services.notify import Notifier, mask_numbers, setup_logging  # noqa: E402

IIN = "871008401427"


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    """What systemd listens on for a Type=notify service: a datagram socket."""
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    yield sock
    sock.close()


def test_notifier_speaks_sd_notify(notify_socket):
    notifier = Notifier()
    assert notifier.enabled
    notifier.ready()
    notifier.watchdog()
    notifier.status(f"last scan {IIN}")
    notifier.stopping()
    got = [notify_socket.recv(512).decode() for _ in range(4)]
    assert got == ["READY=1", "WATCHDOG=1", "STATUS=last scan \u2022\u2022\u2022\u20221427", "STOPPING=1"]


def test_notifier_is_silent_without_systemd_and_never_raises(tmp_path, monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    quiet = Notifier()
    assert not quiet.enabled
    quiet.ready()
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "nobody-listens"))
    lost = Notifier()
    lost.ready()
    lost.watchdog()
    lost.stopping()


@pytest.mark.parametrize("env, interval", [
    ({"WATCHDOG_USEC": "10000000"}, 5.0),
    ({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "self"}, 5.0),
    ({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "1"}, None),  # meant for another process
    ({"WATCHDOG_USEC": "soon"}, None),
    ({"WATCHDOG_USEC": "0"}, None),
    ({}, None),
])
def test_watchdog_interval_is_half_of_watchdog_sec(monkeypatch, env, interval):
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, str(os.getpid()) if value == "self" else value)
    assert Notifier().watchdog_interval() == interval


@pytest.fixture
def logs(monkeypatch):
    """setup_logging into a buffer; the root logger restored afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)

    def start(journald: bool) -> io.StringIO:
        if journald:
            monkeypatch.setenv("JOURNAL_STREAM", "8:1234")
        else:
            monkeypatch.delenv("JOURNAL_STREAM", raising=False)
        stream = io.StringIO()
        setup_logging("debug", stream=stream)
        return stream
    yield start
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_journald_lines_carry_priorities_on_every_line(logs):
    stream = logs(journald=True)
    log = logging.getLogger("ashyq.test")
    log.error("relay stuck")
    log.warning("slow")
    log.info("idle")
    log.debug("tick")
    try:
        raise ValueError(f"bad {IIN}")
    except ValueError:
        log.exception("lookup crashed")
    lines = stream.getvalue().splitlines()
    assert lines[:4] == ["<3>ashyq.test: relay stuck", "<4>ashyq.test: slow", "<6>ashyq.test: idle",
                         "<7>ashyq.test: tick"]
    traceback = lines[4:]
    assert len(traceback) > 2 and all(line.startswith("<3>") for line in traceback)
    assert IIN not in stream.getvalue()


def test_terminal_lines_are_plain(logs):
    stream = logs(journald=False)
    logging.getLogger("ashyq.test").warning("scan %s refused", IIN)
    assert stream.getvalue() == "WARNING ashyq.test: scan \u2022\u2022\u2022\u20221427 refused\n"


@pytest.mark.parametrize("text, kept, gone", [
    (f"iin={IIN}", "1427", IIN),
    (f"IDKAZN123456785{IIN}<<<", "1427", IIN),           # TD1 line 1: glued to the doc number
    ("passport N12345678 seen", "5678", "N12345678"),
    ("passport AB1234567.", "4567", "AB1234567"),
    ("GPIO23 on, 3 s, kiosk-1, 1500 ms, 2021-06-01", "GPIO23 on, 3 s, kiosk-1, 1500 ms, 2021-06-01", None),
])
def test_numbers_are_masked_to_their_last_four(text, kept, gone):
    masked = mask_numbers(text)
    assert kept in masked
    if gone:
        assert gone not in masked
    else:
        assert masked == text

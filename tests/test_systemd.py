"""The unit passes systemd's own checks; install.sh is idempotent into a
throwaway root and its uninstall keeps the journal and the config."""
import hashlib
import os
import re
import shutil
import stat
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNIT = os.path.join(ROOT, "systemd", "ashyq-kiosk.service")
INSTALL = os.path.join(ROOT, "systemd", "install.sh")
analyze = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(analyze is None, reason="systemd-analyze is not installed "
                                   "(scripts/bootstrap.sh installs systemd)")


@needs_analyze
def test_security_exposure_is_at_most_two():
    run = subprocess.run([analyze, "security", "--offline=true", UNIT], capture_output=True,
                         text=True, timeout=60)
    exposure = float(re.search(r"Overall exposure level for \S+: (\d+\.\d+)", run.stdout).group(1))
    assert exposure <= 2.0, run.stdout[-2000:]


@needs_analyze
def test_verify_is_clean(tmp_path):
    """Against a root that holds the installed command, as on a kiosk."""
    binary = tmp_path / "opt/ashyq-kiosk/venv/bin/ashyq-kiosk"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\nexit 0\n")
    binary.chmod(0o755)
    units = tmp_path / "etc/systemd/system"
    units.mkdir(parents=True)
    shutil.copy(UNIT, units)
    run = subprocess.run([analyze, "verify", "--recursive-errors=no", "--man=no",
                          f"--root={tmp_path}", "ashyq-kiosk.service"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and not run.stderr.strip(), run.stderr


def test_unit_keeps_the_door_safe():
    text = open(UNIT).read()
    for line in ("Type=notify", "WatchdogSec=", "Restart=always", "StartLimitBurst=",
                 "ExecStopPost=/opt/ashyq-kiosk/venv/bin/ashyq-kiosk safe-state",
                 "User=ashyq", "StateDirectory=ashyq-kiosk", "ConfigurationDirectory=ashyq-kiosk",
                 "LogsDirectory=ashyq-kiosk", "NoNewPrivileges=yes", "ProtectSystem=strict"):
        assert line in text, line


def install(destdir, *args):
    return subprocess.run(["bash", INSTALL, "--destdir", str(destdir), "--no-pip", *args],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def tree(destdir):
    """Every path with its mode and content hash (symlinks by target)."""
    found = {}
    for folder, dirs, files in os.walk(destdir):
        for name in dirs + files:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                digest = os.readlink(path)
            elif stat.S_ISREG(info.st_mode):
                digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
            else:
                digest = "dir"
            found[os.path.relpath(path, destdir)] = (stat.S_IMODE(info.st_mode), digest)
    return found


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    destdir = tmp_path_factory.mktemp("root")
    first = install(destdir)
    assert first.returncode == 0, first.stderr
    return destdir, tree(destdir)


def test_install_twice_gives_the_same_tree(installed):
    destdir, first = installed
    again = install(destdir)
    assert again.returncode == 0, again.stderr
    assert tree(destdir) == first
    assert "kept the existing" in again.stdout


def test_install_lays_out_the_kiosk(installed):
    destdir, files = installed
    for path in ("etc/systemd/system/ashyq-kiosk.service", "etc/udev/rules.d/99-ashyq-scanner.rules",
                 "etc/ashyq-kiosk/kiosk.toml", "opt/ashyq-kiosk/venv/bin/python",
                 "opt/ashyq-kiosk/docs/technician.md"):
        assert path in files, path
    assert files["etc/ashyq-kiosk/secrets.toml"][0] == 0o600
    assert files["var/lib/ashyq-kiosk"][0] == 0o700


def test_existing_config_is_never_overwritten(tmp_path):
    config = tmp_path / "etc/ashyq-kiosk/kiosk.toml"
    config.parent.mkdir(parents=True)
    config.write_text("# the venue's own\n")
    assert install(tmp_path).returncode == 0
    assert config.read_text() == "# the venue's own\n"


def test_uninstall_keeps_journal_and_config(tmp_path):
    assert install(tmp_path).returncode == 0
    journal = tmp_path / "var/lib/ashyq-kiosk/journal.sqlite"
    journal.write_bytes(b"decisions")
    run = install(tmp_path, "--uninstall")
    assert run.returncode == 0, run.stderr
    assert journal.read_bytes() == b"decisions"
    assert (tmp_path / "etc/ashyq-kiosk/kiosk.toml").exists()
    assert not (tmp_path / "etc/systemd/system/ashyq-kiosk.service").exists()
    assert not (tmp_path / "opt/ashyq-kiosk").exists()

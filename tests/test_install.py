"""install.sh into a throwaway root (--destdir under tmp_path), never into
this machine's /etc: idempotent byte for byte, never overwrites what a
technician wrote, and its uninstall keeps the journal and the config.

The pip step is skipped (--no-pip) to stay fast and offline; the script says
so in its output, and the test checks that it does.
"""
import hashlib
import os
import shutil
import stat
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INSTALL = os.path.join(ROOT, "systemd", "install.sh")


@pytest.fixture
def source(tmp_path):
    """The checkout, or a copy with a placeholder example config if the
    integrator's config/kiosk.example.toml is not there yet."""
    if os.path.exists(os.path.join(ROOT, "config", "kiosk.example.toml")):
        return ROOT
    copy = tmp_path / "source"
    for folder in ("systemd", "docs"):
        shutil.copytree(os.path.join(ROOT, folder), copy / folder)
    (copy / "config").mkdir()
    (copy / "config/kiosk.example.toml").write_text('[status]\nbase_url = "https://x"\n')
    return str(copy)


@pytest.fixture
def fake_systemctl(tmp_path):
    """A `systemctl --version` that says what systemd the target has; the
    installer only asks it for the version when given --destdir."""
    folder = tmp_path / "fakebin"
    folder.mkdir()

    def make(version: int) -> dict:
        tool = folder / "systemctl"
        tool.write_text(f"#!/bin/sh\necho 'systemd {version} ({version}.1-1)'\n")
        tool.chmod(0o755)
        return {**os.environ, "PATH": f"{folder}:{os.environ['PATH']}"}
    return make


def install(destdir, source, *args, env=None):
    return subprocess.run(["bash", INSTALL, "--destdir", str(destdir), "--source", source,
                           "--no-pip", *args], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, env=env)


def tree(destdir) -> dict:
    """Every path with its type, mode and content hash (symlinks by target)."""
    found = {}
    for folder, dirs, files in os.walk(destdir):
        for name in dirs + files:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                digest = "->" + os.readlink(path)
            elif stat.S_ISREG(info.st_mode):
                with open(path, "rb") as handle:
                    digest = hashlib.sha256(handle.read()).hexdigest()
            else:
                digest = "dir"
            found[os.path.relpath(path, destdir)] = (stat.S_IMODE(info.st_mode), digest)
    return found


def test_install_twice_gives_the_same_tree(tmp_path, source, fake_systemctl):
    env = fake_systemctl(252)
    first = install(tmp_path / "root", source, env=env)
    assert first.returncode == 0, first.stderr
    assert "--no-pip" in first.stdout and "test install" in first.stdout
    before = tree(tmp_path / "root")
    again = install(tmp_path / "root", source, env=env)
    assert again.returncode == 0, again.stderr
    assert tree(tmp_path / "root") == before
    assert "kept the existing config" in again.stdout


def test_install_lays_out_the_kiosk(tmp_path, source, fake_systemctl):
    assert install(tmp_path, source, env=fake_systemctl(252)).returncode == 0
    files = tree(tmp_path)
    assert files["etc/systemd/system/ashyq-kiosk.service"][0] == 0o644
    assert "etc/systemd/system/ashyq-kiosk-retry.timer" in files
    assert files["etc/udev/rules.d/99-ashyq-scanner.rules"][0] == 0o644
    assert files["etc/ashyq-kiosk"][0] == 0o750
    assert files["etc/ashyq-kiosk/kiosk.toml"][0] == 0o640
    assert files["etc/ashyq-kiosk/secrets.toml"][0] == 0o600
    assert files["var/lib/ashyq-kiosk"][0] == 0o700
    assert "opt/ashyq-kiosk/venv/bin/python" in files
    assert "opt/ashyq-kiosk/docs/technician.md" in files
    assert files["usr/local/bin/ashyq-kiosk"][1] == "->/opt/ashyq-kiosk/venv/bin/ashyq-kiosk"
    with open(os.path.join(source, "config/kiosk.example.toml"), "rb") as handle:
        assert files["etc/ashyq-kiosk/kiosk.toml"][1] == hashlib.sha256(handle.read()).hexdigest()
    # systemd 252 (bookworm) has no RestartSteps=: no drop-in that would use it
    assert not any(path.startswith("etc/systemd/system/ashyq-kiosk.service.d") for path in files)


def test_newer_systemd_gets_the_restart_ramp(tmp_path, source, fake_systemctl):
    assert install(tmp_path, source, env=fake_systemctl(255)).returncode == 0
    dropin = tmp_path / "etc/systemd/system/ashyq-kiosk.service.d/restart-backoff.conf"
    assert "RestartSteps=" in dropin.read_text() and "RestartMaxDelaySec=" in dropin.read_text()
    assert install(tmp_path, source, env=fake_systemctl(252)).returncode == 0
    assert not dropin.parent.exists()  # a downgrade removes it again


def test_existing_config_and_secrets_are_never_overwritten(tmp_path, source, fake_systemctl):
    etc = tmp_path / "etc/ashyq-kiosk"
    etc.mkdir(parents=True)
    (etc / "kiosk.toml").write_text("# the venue's own\n")
    (etc / "secrets.toml").write_text('status_token = "real"\n')
    run = install(tmp_path, source, env=fake_systemctl(252))
    assert run.returncode == 0, run.stderr
    assert (etc / "kiosk.toml").read_text() == "# the venue's own\n"
    assert (etc / "secrets.toml").read_text() == 'status_token = "real"\n'


def test_an_edited_udev_rule_is_kept(tmp_path, source, fake_systemctl):
    env = fake_systemctl(252)
    assert install(tmp_path, source, env=env).returncode == 0
    rule = tmp_path / "etc/udev/rules.d/99-ashyq-scanner.rules"
    rule.write_text(rule.read_text().replace("VVVV", "0c2e").replace("PPPP", "0b61"))
    edited = rule.read_text()
    run = install(tmp_path, source, env=env)
    assert run.returncode == 0 and "kept the edited udev rule" in run.stdout
    assert rule.read_text() == edited


def test_uninstall_keeps_journal_and_config(tmp_path, source, fake_systemctl):
    env = fake_systemctl(255)
    assert install(tmp_path, source, env=env).returncode == 0
    journal = tmp_path / "var/lib/ashyq-kiosk/journal.sqlite"
    journal.write_bytes(b"decisions")
    config = (tmp_path / "etc/ashyq-kiosk/kiosk.toml").read_bytes()
    run = install(tmp_path, source, "--uninstall", env=env)
    assert run.returncode == 0, run.stderr
    assert journal.read_bytes() == b"decisions"
    assert (tmp_path / "etc/ashyq-kiosk/kiosk.toml").read_bytes() == config
    assert (tmp_path / "etc/ashyq-kiosk/secrets.toml").exists()
    for gone in ("etc/systemd/system/ashyq-kiosk.service", "etc/systemd/system/ashyq-kiosk-retry.timer",
                 "etc/systemd/system/ashyq-kiosk.service.d", "etc/udev/rules.d/99-ashyq-scanner.rules",
                 "opt/ashyq-kiosk", "usr/local/bin/ashyq-kiosk"):
        assert not (tmp_path / gone).exists(), gone


def test_bad_options_are_refused(tmp_path, source):
    run = install(tmp_path, source, "--frobnicate")
    assert run.returncode == 2 and "unknown option --frobnicate" in run.stderr
    assert not (tmp_path / "etc").exists()


def test_a_source_without_the_example_config_is_refused(tmp_path):
    empty = tmp_path / "empty"
    shutil.copytree(os.path.join(ROOT, "systemd"), empty / "systemd")
    shutil.copytree(os.path.join(ROOT, "docs"), empty / "docs")
    run = install(tmp_path / "root", str(empty))
    assert run.returncode == 1 and "kiosk.example.toml is missing" in run.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_install_script_is_shellcheck_clean():
    scripts = [INSTALL] + [os.path.join(ROOT, "scripts", name) for name in
                           ("bootstrap.sh", "platform.sh", "fresh-root.sh")]
    run = subprocess.run(["shellcheck", "-x", *scripts], capture_output=True, text=True, timeout=60,
                         cwd=ROOT)
    assert run.returncode == 0, run.stdout


def test_the_example_secrets_file_is_valid():
    from kiosk.app.config import load_secrets
    secrets = load_secrets(os.path.join(ROOT, "systemd", "secrets.example.toml"), require_private=False)
    assert secrets.status_token == "" and secrets.staff == []


# ---- only git, make and python3: what bootstrap and install.sh refuse or add ----

@pytest.fixture
def fake_dpkg(tmp_path):
    """A `dpkg --print-architecture` that answers ``arch``, as on 32-bit Pi OS
    (whose kernel may well be 64-bit, so uname would not tell)."""
    def make(arch: str) -> dict:
        folder = tmp_path / f"dpkg-{arch}"
        folder.mkdir()
        tool = folder / "dpkg"
        tool.write_text(f"#!/bin/sh\necho {arch}\n")
        tool.chmod(0o755)
        return {**os.environ, "PATH": f"{folder}:{os.environ['PATH']}"}
    return make


ONE_SENTENCE = "this is a 32-bit system (armhf), which Ashyq Kiosk does not support"


def test_install_refuses_32_bit_pi_os_in_one_sentence(tmp_path, source, fake_dpkg):
    run = install(tmp_path / "root", source, env=fake_dpkg("armhf"))
    assert run.returncode == 1 and run.stderr.count("\n") == 1, run.stderr
    assert ONE_SENTENCE in run.stderr and "64-bit" in run.stderr
    assert not (tmp_path / "root").exists()


def test_bootstrap_refuses_32_bit_pi_os_before_touching_anything(tmp_path, fake_dpkg):
    run = subprocess.run(["bash", os.path.join(ROOT, "scripts", "bootstrap.sh")], env=fake_dpkg("armhf"),
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert run.returncode == 1 and ONE_SENTENCE in run.stderr, run.stderr
    assert "installing" not in run.stdout


def test_arm64_is_accepted(tmp_path, source, fake_dpkg, fake_systemctl):
    env = {**fake_systemctl(252), "PATH": fake_dpkg("arm64")["PATH"] + ":" + fake_systemctl(252)["PATH"]}
    assert install(tmp_path / "root", source, env=env).returncode == 0


def test_keypad_and_wedge_kiosks_get_evdev_and_its_build_tools(tmp_path, source, fake_systemctl):
    env = fake_systemctl(252)
    plain = install(tmp_path / "plain", source, env=env)
    assert "gcc" not in plain.stdout and "evdev" not in plain.stdout
    explicit = install(tmp_path / "explicit", source, "--with-input", env=env)
    assert "gcc libc6-dev python3-dev" in explicit.stdout
    # A venue whose kiosk.toml names a wedge scanner gets it without asking.
    etc = tmp_path / "venue/etc/ashyq-kiosk"
    etc.mkdir(parents=True)
    (etc / "kiosk.toml").write_text('[status]\nbase_url = "https://x"\n'
                                    '[wedge]\nevdev_device = "/dev/input/by-id/usb-scanner-event-kbd"\n')
    venue = install(tmp_path / "venue", source, env=env)
    assert "names an evdev keypad or scanner" in venue.stdout and "python3-dev" in venue.stdout


def clean_pip_env(base: dict) -> dict:
    """No pip configuration of this machine's (wheel folders, local indexes)."""
    env = {key: value for key, value in base.items() if not key.startswith("PIP_")}
    return {**env, "PIP_CONFIG_FILE": os.devnull}


def test_a_failed_first_install_is_rolled_back(tmp_path, source, fake_systemctl):
    """pip cannot reach an index here: nothing of the attempt may be left."""
    env = clean_pip_env(fake_systemctl(252))
    run = subprocess.run(["bash", INSTALL, "--destdir", str(tmp_path / "root"), "--source", source,
                          "--pip-args", f"--no-index --find-links {tmp_path}/no-wheels"],
                         capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, env=env)
    assert run.returncode != 0
    assert "FAILED while building the venv" in run.stderr and "rolled back" in run.stderr
    assert "run again: sudo" in run.stderr
    assert not [path for path, (_, kind) in tree(tmp_path / "root").items() if kind != "dir"]
    for gone in ("opt/ashyq-kiosk", "etc/systemd/system/ashyq-kiosk.service", "etc/ashyq-kiosk",
                 "usr/local/bin/ashyq-kiosk"):
        assert not (tmp_path / "root" / gone).exists(), gone


def test_a_failed_update_keeps_the_installed_kiosk(tmp_path, source, fake_systemctl):
    env = clean_pip_env(fake_systemctl(252))
    assert install(tmp_path, source, env=env).returncode == 0
    before = tree(tmp_path)
    # The --no-pip venv has no pip: the update's pip step fails.
    run = subprocess.run(["bash", INSTALL, "--destdir", str(tmp_path), "--source", source],
                         capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, env=env)
    assert run.returncode != 0 and "previous installation" in run.stderr, run.stderr
    assert tree(tmp_path) == before


# ---- the fresh-root check ----------------------------------------------------

def test_the_fresh_root_does_not_make_another_inside_itself():
    run = subprocess.run(["bash", os.path.join(ROOT, "scripts", "fresh-root.sh")],
                         env={**os.environ, "ASHYQ_FRESH_ROOT": "1"}, capture_output=True, text=True,
                         timeout=30, stdin=subprocess.DEVNULL)
    assert run.returncode == 0 and "already inside a fresh root" in run.stdout


def test_the_test_packages_are_one_list_that_the_fresh_root_uses_too():
    with open(os.path.join(ROOT, "scripts", "bootstrap.sh"), encoding="utf-8") as handle:
        script = handle.read()
    listed = script.split("TEST_PACKAGES=(\n", 1)[1].split("\n)\n", 1)[0]
    names = {word for line in listed.splitlines() for word in line.split("#")[0].split()}
    assert {"python3-venv", "gcc", "python3-dev", "libzbar0", "systemd", "postgresql", "chromium",
            "chromium-driver"} <= names
    assert script.count("ensure_packages") == 1  # no second list elsewhere in it
    with open(os.path.join(ROOT, "Makefile"), encoding="utf-8") as handle:
        makefile = handle.read()
    assert "test: unit-test fresh-root" in makefile

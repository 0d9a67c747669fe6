"""gpiozero finds its GPIO backend in the kiosk's venv, as on a Pi.

lgpio is gpiozero's first choice (the only backend on a Pi 5), installed from
its aarch64 wheel. On a Pi-like machine (a Raspberry Pi 4's revision in
/proc/cpuinfo, bound there in a private mount namespace, and a GPIO chip
answering through tests/pi_standin/lgpio.py) gpiozero's own default
selection picks lgpio, and `safe-state` with no pin_factory configured drives
the relay off through it. Hiding /proc/cpuinfo, as ProcSubset=pid in the unit
used to, leaves gpiozero unable to identify the board: the relay cannot be
driven, which is why the unit must not hide it (tests/test_systemd.py).
"""
import configparser
import os
import platform
import shutil
import subprocess
import sys
import pytest
from packaging.requirements import Requirement

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STANDIN = os.path.join(ROOT, "tests", "pi_standin")
PI4_CPUINFO = ("processor\t: 0\nBogoMIPS\t: 108.00\nHardware\t: BCM2835\nRevision\t: c03114\n"
               "Serial\t\t: 100000002a5c6e5b\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n")
needs_namespaces = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare to show a fake Pi's /proc/cpuinfo in a private mount namespace")


def setup_cfg(option: str, section: str = "options") -> list[Requirement]:
    """Requirements as setup.cfg lists them (the installed metadata may be older)."""
    parser = configparser.ConfigParser()
    parser.read(os.path.join(ROOT, "setup.cfg"))
    lines = parser[section][option].splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.strip().startswith("#")]


@pytest.mark.parametrize("machine, wanted", [("aarch64", True), ("x86_64", False), ("armv7l", False)])
def test_lgpio_is_a_dependency_where_it_has_a_wheel(machine, wanted):
    lgpio = [r for r in setup_cfg("install_requires") if r.name == "lgpio"]
    assert len(lgpio) == 1 and lgpio[0].marker is not None
    env = {"platform_machine": machine, "sys_platform": "linux", "extra": ""}
    assert lgpio[0].marker.evaluate(env) is wanted


def test_evdev_is_only_in_the_input_and_test_extras():
    """evdev has no wheel: only keypad/wedge kiosks (and tests) compile it."""
    assert "evdev" not in [r.name for r in setup_cfg("install_requires")]
    for extra in ("input", "test"):
        assert "evdev" in [r.name for r in setup_cfg(extra, "options.extras_require")]


@pytest.mark.skipif(platform.machine() != "aarch64", reason="lgpio has a wheel for aarch64 only")
def test_lgpio_is_installed_in_the_venv_on_arm64():
    import lgpio  # the real one, from its wheel
    assert hasattr(lgpio, "gpiochip_open")


def on_a_fake_pi(tmp_path, code: list[str], cpuinfo: str = PI4_CPUINFO):
    """Run ``code`` with ``cpuinfo`` over /proc/cpuinfo in a private mount
    namespace and the stand-in lgpio first on the path."""
    fake = tmp_path / "cpuinfo"
    fake.write_text(cpuinfo)
    log = tmp_path / "gpio.log"
    env = {**os.environ, "PYTHONPATH": STANDIN, "ASHYQ_STANDIN_GPIO_LOG": str(log)}
    env.pop("GPIOZERO_PIN_FACTORY", None)
    # /proc made private in the new namespace first, so the bind stays there
    # ("--propagation private" needs / to be a mount point: not in a chroot).
    script = f'mount --make-private /proc && mount --bind "{fake}" /proc/cpuinfo && exec "$@"'
    run = subprocess.run(["unshare", "--mount", "--propagation", "unchanged", "sh", "-c", script, "sh",
                          *code], env=env, capture_output=True, text=True, timeout=60,
                         stdin=subprocess.DEVNULL, cwd=ROOT)
    return run, (log.read_text().splitlines() if log.exists() else [])


@needs_namespaces
def test_gpiozero_picks_lgpio_on_a_pi(tmp_path):
    code = ("import warnings; warnings.simplefilter('error'); from gpiozero import Device; "
            "print(type(Device._default_pin_factory()).__name__)")
    run, _ = on_a_fake_pi(tmp_path, [sys.executable, "-c", code])
    assert run.returncode == 0, run.stderr  # no fallback warning either
    assert run.stdout.split() == ["LGPIOFactory"]


@pytest.fixture
def default_config(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text('[status]\nbase_url = "http://x"\n[signals]\nrelay_active_high = false\n')
    return str(config)


@needs_namespaces
def test_safe_state_drives_the_relay_off_through_lgpio_on_a_pi(tmp_path, default_config):
    run, writes = on_a_fake_pi(tmp_path, [sys.executable, "-m", "kiosk.cli", "safe-state",
                                          "--config", default_config])
    assert run.returncode == 0, run.stderr
    # active-low: off is high, and it is the relay's last level
    assert [w for w in writes if w.startswith("GPIO23=")][-1] == "GPIO23=1"


@needs_namespaces
def test_with_the_board_hidden_the_relay_cannot_be_driven(tmp_path, default_config):
    """What ProcSubset=pid did: no /proc/cpuinfo to read the revision from."""
    run, writes = on_a_fake_pi(tmp_path, [sys.executable, "-m", "kiosk.cli", "safe-state",
                                          "--config", default_config], cpuinfo="")
    assert run.returncode == 1 and "cannot drive the relay" in run.stderr
    assert not any(w.startswith("GPIO23=") for w in writes)

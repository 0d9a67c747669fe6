"""`ashyq-kiosk doctor` on a good kiosk and on broken ones, with real parts:
the reference status server on loopback, a pseudo-terminal as the scanner,
gpiozero's mock pins, SDL's dummy video driver and real SQLite files."""
import datetime as dt
import io
import os
import subprocess
import sys
import threading

import pytest

from kiosk.tools.doctor import Row, _run_all, doctor, is_clock_synchronised
from kiosk.services.journal import Journal
from kiosk.core.model import Decision
from kiosk.servers.status_server import StatusServer

GREEN_IIN = "871008401427"
TOKEN = "tok"
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown test files")


@pytest.fixture(scope="module")
def server():
    with StatusServer({GREEN_IIN: {"colour": "green", "name": ""}}, token=TOKEN) as running:
        yield running


@pytest.fixture
def scanner():
    """A real serial device path: the slave side of a pseudo-terminal."""
    master, slave = os.openpty()
    yield os.ttyname(slave)
    os.close(master)
    os.close(slave)


def kiosk(folder, url, port, *, token=TOKEN, secrets_mode=0o600, video_driver="dummy", extra=""):
    folder.mkdir(exist_ok=True)
    secrets = folder / "secrets.toml"
    secrets.write_text(f'status_token = "{token}"\n')
    secrets.chmod(secrets_mode)
    config = folder / "kiosk.toml"
    config.write_text(f"""[kiosk]
state_dir = "{folder / 'state'}"
secrets_file = "{secrets}"
[status]
base_url = "{url}"
[scanner]
port = "{port}"
[signals]
pin_factory = "mock"
[display]
video_driver = "{video_driver}"
{extra}""")
    return str(config)


def table(config):
    out = io.StringIO()
    code = doctor(config, out=out)
    text = out.getvalue()
    assert "Traceback" not in text
    rows = {}
    for line in text.splitlines()[1:]:
        if line and not line.startswith(("all checks", " ")) and "failed:" not in line:
            name, result, *detail = line.split(None, 2)
            rows.setdefault(name, (result, detail[0] if detail else ""))
    return code, rows, text


def test_a_good_kiosk_passes(tmp_path, server, scanner):
    code, rows, text = table(kiosk(tmp_path, server.url, scanner))
    assert code == 0, text
    for name in ("config", "secrets", "scanner", "camera", "display", "gpio", "status", "journal"):
        assert rows[name][0] == "OK", text
    assert "token accepted" in rows["status"][1] and "left off" in rows["gpio"][1]
    assert rows["clock"][0] in ("OK", "WARN") and rows["service"][0] in ("OK", "WARN")
    assert text.rstrip().endswith("all checks passed")
    assert not (tmp_path / "state").exists()  # the doctor only looks


def test_the_journal_backlog_is_reported(tmp_path, server, scanner):
    config = kiosk(tmp_path, server.url, scanner)
    (tmp_path / "state").mkdir()
    journal = Journal(str(tmp_path / "state/journal.sqlite"), person_key=b"k" * 32)
    journal.append(Decision(id="d1", at=dt.datetime(2021, 6, 1, 10, tzinfo=dt.timezone.utc),
                            kind="none", identity=None, colour="unknown", decision="staff",
                            reason="staff-open"))
    journal.close()
    code, rows, text = table(config)
    assert code == 0 and rows["journal"] == ("OK", "writable; 1 decisions not yet synced"), text


def test_a_broken_kiosk_fails_and_names_what(tmp_path, server):
    config = kiosk(tmp_path, "http://127.0.0.1:9", str(tmp_path / "no-scanner"),
                   secrets_mode=0o644, extra="[camera]\nenabled = true\nsource = \"/nonexistent.avi\"\n")
    code, rows, text = table(config)
    assert code == 1
    for name in ("secrets", "scanner", "camera", "status"):
        assert rows[name][0] == "FAIL", text
    assert "chmod 600" in rows["secrets"][1] and "not found" in rows["scanner"][1]
    assert "refused" in rows["status"][1]
    assert "4 failed: secrets, scanner, camera, status" in text


def test_a_wrong_token_is_named(tmp_path, server, scanner):
    code, rows, text = table(kiosk(tmp_path, server.url, scanner, token="wrong"))
    assert code == 1 and rows["status"] == ("FAIL", f"{server.url}: unauthorised"), text


def test_a_display_driver_that_cannot_start_fails(tmp_path, server, scanner):
    code, rows, text = table(kiosk(tmp_path, server.url, scanner, video_driver="nosuchdriver"))
    assert code == 1 and rows["display"][0] == "FAIL" and "nosuchdriver" in rows["display"][1], text


def test_config_errors_are_listed_without_a_traceback(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text("[status]\nbase_ur = 'x'\n[scaner]\n")
    code, rows, text = table(str(config))
    assert code == 1
    assert "did you mean 'base_url'" in text and "did you mean 'scanner'" in text
    assert "clock" in rows  # what needs no config is still checked


def test_a_missing_config_file_fails_cleanly(tmp_path):
    code, rows, text = table(str(tmp_path / "nowhere.toml"))
    assert code == 1 and rows["config"][0] == "FAIL" and "cannot read" in text


def test_a_check_that_hangs_becomes_a_failed_row():
    never = threading.Event()
    rows = _run_all([("stuck", 0.2, lambda: never.wait() or Row("stuck", "OK", "")),
                     ("quick", 5, lambda: Row("quick", "OK", "fine"))])
    assert rows == [Row("stuck", "FAIL", "no answer within 0.2 s"), Row("quick", "OK", "fine")]
    never.set()


def test_a_check_that_raises_becomes_a_failed_row():
    def broken():
        raise RuntimeError("bus error\non two lines")
    assert _run_all([("boom", 5, broken)]) == [Row("boom", "FAIL", "RuntimeError: bus error on two lines")]


@as_root
def test_secrets_owned_by_someone_else_fail(tmp_path, server, scanner):
    config = kiosk(tmp_path, server.url, scanner)
    os.chown(tmp_path / "secrets.toml", 65534, 65534)
    code, rows, text = table(config)
    assert code == 1 and rows["secrets"][0] == "FAIL" and "chown ashyq" in rows["secrets"][1], text


@as_root
def test_a_journal_owned_by_the_service_is_not_opened_as_root(tmp_path, server, scanner):
    """Opening it would leave root-owned WAL files the service cannot write."""
    config = kiosk(tmp_path, server.url, scanner)
    state = tmp_path / "state"
    state.mkdir()
    Journal(str(state / "journal.sqlite"), person_key=b"k" * 32).close()
    os.chown(state / "journal.sqlite", 65534, 65534)
    before = sorted(os.listdir(state))
    code, rows, text = table(config)
    assert rows["journal"][0] == "OK" and "sudo -u" in rows["journal"][1], text
    assert sorted(os.listdir(state)) == before


def test_clock_synchronisation_is_a_yes_no_or_unknown():
    assert is_clock_synchronised() in (True, False, None)


def test_the_command_line_doctor_exits_non_zero_without_a_traceback(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text("[status]\nbase_ur = 'x'\n")
    run = subprocess.run([sys.executable, "-m", "kiosk.cli", "doctor", "--config", str(config)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "status.base_ur" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr


# ---- telling a real kiosk from a test rig ---------------------------------

from kiosk.app.config import load_text  # noqa: E402
from kiosk.tools.doctor_inputs import check_hardware, check_input  # noqa: E402


def config_text(extra=""):
    return load_text(f'[status]\nbase_url = "http://x"\n{extra}')


def test_mock_pins_and_the_dummy_screen_are_flagged_in_the_table(tmp_path, server, scanner):
    code, rows, text = table(kiosk(tmp_path, server.url, scanner))
    assert code == 0, text  # a warning, not a failure: the demo runs like this
    result, detail = rows["hardware"]
    assert result == "WARN" and 'pin_factory = "mock"' in detail and "dummy" in detail, text
    assert rows["keypad"] == ("OK", "none configured") and rows["wedge"] == ("OK", "none configured")


def test_a_production_config_has_no_hardware_warning():
    assert check_hardware(config_text('[signals]\npin_factory = "lgpio"\n')).result == "OK"
    assert check_hardware(config_text()).result == "OK"  # gpiozero's own choice, kmsdrm


@pytest.mark.parametrize("section", ["keypad", "wedge"])
def test_a_missing_input_device_fails_with_where_to_look(section, tmp_path):
    row = check_input(config_text(f'[{section}]\nevdev_device = "{tmp_path}/gone"\n'), section)
    assert row.result == "FAIL" and "not found" in row.detail and "/dev/input/by-id" in row.detail


def test_a_file_that_is_no_input_device_fails(tmp_path):
    plain = tmp_path / "event0"
    plain.write_text("")
    row = check_input(config_text(f'[wedge]\nevdev_device = "{plain}"\n'), "wedge")
    assert row.result == "FAIL" and "not an input event device" in row.detail


def test_without_evdev_the_row_says_what_to_run(tmp_path):
    """As on a kiosk installed without --with-input: evdev absent from the venv."""
    code = ("import sys; sys.modules['evdev'] = None\n"
            "from kiosk.app.config import load_text; from kiosk.tools.doctor_inputs import check_input\n"
            "cfg = load_text('[status]\\nbase_url = \"http://x\"\\n[keypad]\\nevdev_device = \"/dev/null\"\\n')\n"
            "print(check_input(cfg, 'keypad'))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert "FAIL" in run.stdout and "sudo systemd/install.sh --with-input" in run.stdout, run.stderr


def test_a_matrix_keypad_is_named_by_its_pins():
    cfg = config_text("[keypad]\nmatrix_rows = [5, 6, 13, 19]\nmatrix_cols = [12, 16, 20]\n")
    assert check_input(cfg, "keypad") == Row("keypad", "OK", "matrix keypad on GPIO rows "
                                             "[5, 6, 13, 19], columns [12, 16, 20]")


def test_a_virtual_keyboard_passes(tmp_path):
    if not os.path.exists("/dev/uinput"):
        pytest.skip("/dev/uinput is not available here (no uinput kernel module)")
    from evdev import UInput, ecodes
    try:
        device = UInput({ecodes.EV_KEY: list(range(1, 60))}, name="ashyq-doctor-test")
    except Exception as exc:  # noqa: BLE001 - permission, a kernel without uinput
        pytest.skip(f"cannot create a virtual keyboard: {exc}")
    try:
        row = check_input(config_text(f'[wedge]\nevdev_device = "{device.device.path}"\n'), "wedge")
    finally:
        device.close()
    assert row.result == "OK" and "ashyq-doctor-test" in row.detail


# ---- test-relay: one pulse a technician can see ------------------------------

from gpiozero import OutputDevice  # noqa: E402
from gpiozero.pins.mock import MockFactory  # noqa: E402

from kiosk.tools.relay_pulse import pulse_relay_once  # noqa: E402


# A mock pin starts low as an input; an active-low relay is driven high (off) first.
@pytest.mark.parametrize("active_high, levels", [(True, [False, True, False]),
                                                 (False, [False, True, False, True])])
def test_test_relay_pulses_once_and_leaves_the_relay_off(active_high, levels):
    factory = MockFactory()
    cfg = config_text(f"[signals]\nrelay_active_high = {str(active_high).lower()}\n")
    out = io.StringIO()
    assert pulse_relay_once(cfg, 0.05, pin_factory=factory, out=out) == 0
    assert [state.state for state in factory.pin(23).states] == levels
    assert "GPIO23" in out.getvalue() and ("active-high" if active_high else "active-low") in out.getvalue()
    factory.close()


def test_test_relay_refuses_a_pin_the_kiosk_holds():
    factory = MockFactory()
    held = OutputDevice(23, pin_factory=factory)  # the running daemon's relay
    err = io.StringIO()
    assert pulse_relay_once(config_text(), 0.05, pin_factory=factory, err=err) == 1
    assert "systemctl stop ashyq-kiosk" in err.getvalue()
    held.close()
    factory.close()


def test_test_relay_from_the_command_line(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text('[status]\nbase_url = "http://x"\n[signals]\npin_factory = "mock"\n')
    run = subprocess.run([sys.executable, "-m", "kiosk.cli", "test-relay", "--config", str(config),
                          "--seconds", "0.05"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("test-relay: relay GPIO23 (active-high) on for 0.05 s, then off")

"""Issue 12, item 4: ``check-config`` catches what ``run`` would trip on, each
problem as ``file:line: key: message``, and ``run`` shows no traceback for
any of these files (nor for a file that is not TOML at all)."""
import os
import subprocess
import sys

import pytest

from kiosk.cli import main
from kiosk.servers.collector import generate_keypair
from kiosk.core.staff import hash_pin

BASE = '[status]\nbase_url = "http://127.0.0.1:8080"\n'
PIN_HASH = hash_pin("2468", salt=b"0" * 16)

# (name, config text after BASE's kiosk section, the line, the key named)
BROKEN = [
    ("timezone", '[kiosk]\ntimezone = "Asia/Nowhere"\n', 2, "kiosk.timezone"),
    ("timezone-path", '[kiosk]\ntimezone = "../../etc/passwd"\n', 2, "kiosk.timezone"),
    ("two-signals-one-pin", "[signals]\ngreen_pin = 17\nrelay_pin = 17\n", 3, "signals.relay_pin"),
    ("passage-on-the-relay", "[signals]\npassage_pin = 23\n", 2, "signals.passage_pin"),
    ("keypad-on-a-light", "[keypad]\nmatrix_rows = [5, 6, 13, 17]\nmatrix_cols = [12, 16, 20]\n",
     2, "keypad.matrix_rows"),
    ("public-key-not-base64", '[sync]\ncollector_public_key = "not a key"\n', 2,
     "sync.collector_public_key"),
    ("public-key-short", '[sync]\ncollector_public_key = "AAAAAAAAAAAAAAAAAAAAAA=="\n', 2,
     "sync.collector_public_key"),
    ("base-url-no-scheme", '[status]\nbase_url = "127.0.0.1:8080"\n', 2, "status.base_url"),
    ("base-url-bad-port", '[status]\nbase_url = "http://host:99999"\n', 2, "status.base_url"),
    ("sync-url-no-scheme", '[sync]\nurl = "collector.local"\n', 2, "sync.url"),
    ("colour-admit-and-deny", '[policy]\nadmit = ["green", "blue"]\ndeny = ["blue", "red"]\n', 3,
     "policy.deny"),
    ("rule-colour-twice", '[[policy.rules]]\ndays = ["sat"]\nadmit = ["green"]\n'
                          'staff = ["green"]\n', 4, "policy.rules.staff"),
    ("cached-without-cache", '[policy]\non_failure = "admit-if-cached"\n', 2,
     "policy.on_failure"),
    ("roi-three", "[camera]\nroi = [0, 0, 100]\n", 2, "camera.roi"),
    ("roi-negative", "[camera]\nroi = [-1, 0, 100, 100]\n", 2, "camera.roi"),
    ("roi-empty-area", "[camera]\nroi = [0, 0, 0, 100]\n", 2, "camera.roi"),
    ("roi-text", '[camera]\nroi = ["a", 0, 10, 10]\n', 2, "camera.roi"),
    ("to-24-30", '[[policy.rules]]\nfrom = "18:00"\nto = "24:30"\n', 3, "policy.rules.to"),
    ("from-24", '[[policy.rules]]\nfrom = "24:00"\n', 2, "policy.rules.from"),
    ("second-rule", '[[policy.rules]]\ndays = ["sat"]\n\n[[policy.rules]]\nto = "25:00"\n', 5,
     "policy.rules.to"),
]

# (name, secrets text, the line, the key named)
BROKEN_SECRETS = [
    ("staff-without-pin", '[[staff]]\nid = "aigerim"\n', 1, "staff[0].pin"),
    ("staff-plain-pin", '[[staff]]\nid = "aigerim"\npin = "2468"\n', 3, "staff[0].pin"),
    ("staff-garbled-hash", '[[staff]]\nid = "aigerim"\npin = "scrypt$3$8$1$AA==$AA=="\n', 3,
     "staff[0].pin"),
    ("staff-without-id", f'[[staff]]\npin = "{PIN_HASH}"\n', 1, "staff[0].id"),
    ("staff-duplicate-id", f'[[staff]]\nid = "a"\npin = "{PIN_HASH}"\n\n'
                           f'[[staff]]\nid = "a"\npin = "{PIN_HASH}"\n', 6, "staff[1].id"),
]


def write(tmp_path, config: str, secrets: str = "") -> str:
    secrets_path = tmp_path / "secrets.toml"
    secrets_path.write_text(secrets)
    os.chmod(secrets_path, 0o600)
    if "[kiosk]" in config:
        config = config.replace("[kiosk]\n", f'[kiosk]\nsecrets_file = "{secrets_path}"\n', 1)
        config = config.replace("\n", "\n", 1)
        text = config + ("" if "[status]" in config else BASE)
    else:
        text = f'[kiosk]\nsecrets_file = "{secrets_path}"\n' + \
            ("" if "[status]" in config else BASE) + config
    path = tmp_path / "kiosk.toml"
    path.write_text(text)
    return str(path)


def line_of(path: str, key_text: str) -> int:
    lines = open(path, encoding="utf-8").read().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(key_text))


def check(capsys, *args) -> tuple[int, list[str]]:
    code = main(list(args))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err.strip().splitlines()


@pytest.mark.parametrize("name, text, _line, key", BROKEN, ids=[b[0] for b in BROKEN])
def test_check_config_names_file_line_and_key(tmp_path, capsys, name, text, _line, key):
    path = write(tmp_path, text)
    code, lines = check(capsys, "check-config", path)
    assert code == 2
    # the line is where the key is written in this file (it moves with the prefix)
    last_name = key.rsplit(".", 1)[1]
    wanted = [n for n, line in enumerate(open(path).read().splitlines(), 1)
              if line.split("=")[0].strip() == last_name]
    assert any(line.startswith(f"{path}:{wanted[-1]}: {key}: ") for line in lines), lines


@pytest.mark.parametrize("name, secrets, line, key", BROKEN_SECRETS,
                         ids=[b[0] for b in BROKEN_SECRETS])
def test_check_config_checks_the_staff_in_the_secrets_file(tmp_path, capsys, name, secrets,
                                                           line, key):
    path = write(tmp_path, "", secrets)
    code, lines = check(capsys, "check-config", path)
    assert code == 2
    assert any(f"secrets.toml:{line}: {key}: " in out for out in lines), lines
    assert not any("2468" in out for out in lines)  # a plain PIN is never echoed


@pytest.mark.parametrize("name, text, _line, key", BROKEN, ids=[b[0] for b in BROKEN])
def test_run_refuses_each_broken_config_without_a_traceback(tmp_path, capsys, monkeypatch, name,
                                                            text, _line, key):
    import kiosk.app.wiring
    # A file that got past validation would start the daemon here: end it
    # at once instead, so a regression fails rather than hangs.
    monkeypatch.setattr(kiosk.app.wiring, "run", lambda path: 99)
    code, lines = check(capsys, "run", "--config", write(tmp_path, text))
    assert code == 2 and any(key in line for line in lines)


def test_a_good_config_with_keys_pins_and_staff_is_ok(tmp_path, capsys):
    _, public = generate_keypair()
    text = (f'[sync]\nurl = "https://collector.example.kz"\ncollector_public_key = "{public}"\n'
            '[camera]\nroi = [80, 60, 480, 360]\n[signals]\npassage_pin = 24\n'
            '[policy]\non_failure = "admit-if-cached"\n[cache]\nenabled = true\n'
            '[[policy.rules]]\nfrom = "18:00"\nto = "24:00"\nadmit = ["green"]\ndeny = ["blue"]\n')
    secrets = f'[[staff]]\nid = "a"\npin = "{PIN_HASH}"\n[[staff]]\nid = "b"\npin = "{PIN_HASH}"\n'
    path = write(tmp_path, text, secrets)
    code, lines = check(capsys, "check-config", path)
    assert code == 0 and lines == []


def test_config_and_secrets_problems_come_together(tmp_path, capsys):
    path = write(tmp_path, '[kiosk]\ntimezone = "Mars/Olympus"\n', '[[staff]]\nid = "a"\n')
    code, lines = check(capsys, "check-config", path)
    assert code == 2
    assert any("kiosk.timezone" in line for line in lines)
    assert any("staff[0].pin" in line for line in lines)


def test_run_on_a_file_that_is_not_toml_is_one_line_no_traceback(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_bytes(b"\x00\xff not toml [[[\n")
    run = subprocess.run([sys.executable, "-m", "kiosk.cli", "run", "--config", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_a_colour_written_once_leaves_the_default_lists():
    from kiosk.app.config import load_text
    policy = load_text(BASE + '[policy]\nadmit = ["green", "blue", "yellow"]\n').policy
    assert policy.admit == ["green", "blue", "yellow"] and policy.deny == ["red"]
    policy = load_text(BASE + '[policy]\nstaff = ["blue"]\n').policy
    assert policy.admit == ["green"] and policy.staff == ["blue"]

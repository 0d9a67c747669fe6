"""The command line as people type it: exit codes and one-line reasons."""
import json
import subprocess
import sys


def cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "kiosk.cli", *args], capture_output=True,
                          text=True, timeout=60, input=stdin)


def test_parse_prints_the_identity_as_json():
    run = cli("parse", "]C0871008401427")
    assert run.returncode == 0
    assert json.loads(run.stdout) == {"kind": "iin", "number": "871008401427", "iin": "871008401427",
                                      "birth_date": "1987-10-08", "country": "KAZ",
                                      "expiry_date": None}


def test_parse_refuses_with_exit_2_and_one_line():
    run = cli("parse", "980440000006")
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.strip().splitlines() == [
        "refused (not-a-person): this is a company number (BIN), not a person"]


def test_parse_reads_an_mrz_from_stdin():
    from kiosk.core.mrz import passport_mrz
    run = cli("parse", "-", stdin=passport_mrz("N1234567", "RUS"))
    assert run.returncode == 0 and json.loads(run.stdout)["kind"] == "passport"


def test_check_config_lists_every_problem(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text("[kiosk]\nlangauge = 'kk'\n[status]\ndeadline = 99\n")
    run = cli("check-config", str(path))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 3
    assert f"{path}:2: kiosk.langauge: unknown key (did you mean 'language'?)" in run.stderr


def test_server_commands_take_their_own_options():
    keys = cli("collector", "--keygen")
    assert keys.returncode == 0 and "public" in keys.stdout
    assert cli("status-server", "--help").returncode == 0


def test_hash_pin():
    run = cli("hash-pin", "--pin", "2468")
    assert run.returncode == 0 and run.stdout.startswith("scrypt$") and "2468" not in run.stdout
    assert cli("hash-pin", "--pin", "12").returncode == 2

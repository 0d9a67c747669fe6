"""The fleet page's pure parts (passwords, who sees what, hours, CSV, the
chart), its storage methods on SQLite and PostgreSQL, and add-user."""
import datetime as dt
import doctest
import io
import subprocess
import sys

import pytest

import collector.web.charts
import collector.web.passwords
import collector.web.views
from collector.cli import main
from collector.storage import open_storage
from collector.web import views
from collector.web.charts import hour_bars, nice_ceiling
from collector.web.passwords import hash_password, verify_password
from tests.pg import postgres_server, storage, storage_url  # noqa: F401 - fixtures

UTC = dt.timezone.utc
NOON = dt.datetime(2026, 11, 18, 12, tzinfo=UTC)


@pytest.mark.parametrize("module", [collector.web.charts, collector.web.passwords, collector.web.views])
def test_examples_in_the_docstrings_hold(module):
    assert doctest.testmod(module).failed == 0


def test_passwords_are_salted_scrypt_and_anything_malformed_fails():
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first != second and "correct" not in first
    assert verify_password("correct horse battery", first) and verify_password("correct horse battery", second)
    assert not verify_password("correct horse batterY", first)
    scheme, n, r, p, salt, key = first.split("$")
    for broken in ("", "plain", first.replace("scrypt", "md5"), f"scrypt$x$8$1${salt}${key}",
                   f"scrypt${n}${r}${p}$!!!${key}", f"scrypt$3${r}${p}${salt}${key}",
                   f"scrypt${2 ** 30}${r}${p}${salt}${key}"):
        assert verify_password("correct horse battery", broken) is False
    assert verify_password("x" * 100_000, first) is False  # refused before any hashing


def test_who_sees_what():
    manager = {"role": "manager", "venues": ["cafe"]}
    assert views.sees_venue(manager, "cafe") and not views.sees_venue(manager, "bar")
    assert not views.may_maintain(manager)
    for role in ("admin", "technician"):
        assert views.sees_venue({"role": role, "venues": []}, "bar") and views.may_maintain({"role": role})
    assert not views.sees_venue({"role": "stranger", "venues": []}, "bar")


def test_a_day_has_every_hour_even_empty_ones():
    day, since, until = views.day_window("2026-11-18", NOON)
    counts = [{"hour": NOON, "decision": "admit", "reason": "green", "n": 4},
              {"hour": NOON, "decision": "admit", "reason": "staff-admit", "n": 1},
              {"hour": NOON + dt.timedelta(hours=1), "decision": "deny", "reason": "red", "n": 2},
              {"hour": NOON + dt.timedelta(days=1), "decision": "deny", "reason": "red", "n": 9}]
    series = views.hourly_series(counts, since, until)
    assert len(series) == 24 and series[12] == {"hour": NOON, "admit": 5, "deny": 0, "staff": 0}
    assert series[13]["deny"] == 2 and sum(h["deny"] for h in series) == 2
    totals = views.totals(counts[:3])
    assert totals["by_outcome"] == {"admit": 5, "deny": 2, "staff": 0} and totals["all"] == 7
    assert totals["overrides"] == {"staff-admit": 1}
    assert views.day_window(None, NOON)[0] == dt.date(2026, 11, 18)
    with pytest.raises(views.BadQuery, match="2026-11-18"):
        views.day_window("18/11/2026", NOON)


def test_the_fleet_list_is_read_a_page_at_a_time():
    number, state = views.fleet_query(None, None)
    first = views.page_of(number, 250, state)
    assert (first["number"], first["pages"], first["count"], first["offset"]) == (1, 3, 250, 0)
    last = views.page_of(3, 250)
    assert (last["first"], last["offset"]) == (201, 200)
    number, state = views.fleet_query("1", "offline")
    offline = views.page_of(number, 25, state)
    assert offline["pages"] == 1 and offline["state"] == "offline"
    assert views.page_of(1, 0)["pages"] == 1
    for page, state in (("4", None), ("-1", None), ("0", None)):
        with pytest.raises(views.BadQuery, match="between 1 and 3"):
            views.page_of(views.fleet_query(page, state)[0], 250)
    for page, state in (("two", None), ("1", "asleep"), ("1", "troubled")):
        with pytest.raises(views.BadQuery):
            views.fleet_query(page, state)


def test_the_csv_has_counts_only_and_no_formulas():
    text = views.counts_csv([{"hour": NOON, "kiosk_id": "door-1", "decision": "deny", "reason": "@SUM(A1)",
                              "n": 3}])
    assert text == "hour_utc,kiosk_id,decision,reason,n\r\n2026-11-18T12:00:00+00:00,door-1,deny,'@SUM(A1),3\r\n"


def test_the_chart_scales_to_a_round_top_and_escapes_its_title():
    assert [nice_ceiling(v) for v in (0, 1, 3, 7, 11, 199, 5000)] == [1, 1, 5, 10, 20, 200, 5000]
    svg = hour_bars([{"hour": NOON, "admit": 7, "deny": 0, "staff": 1}], title="<cafe & bar>")
    assert "<cafe" not in svg and "&lt;cafe &amp; bar&gt;" in svg
    assert 'data-admit="7"' in svg and 'height="0.0"' in svg  # a zero is a flat bar, not a missing one


def test_fleet_storage_users_secrets_and_totals(storage):
    storage.put_user("aigerim", "scrypt$hash", "manager", ["cafe", "bar"])
    user = storage.user("aigerim")
    assert (user["password_hash"], user["role"], user["venues"]) == ("scrypt$hash", "manager", ["cafe", "bar"])
    assert storage.user("nobody") is None
    storage.put_user("aigerim", "scrypt$other", "technician")
    assert storage.user("aigerim")["role"] == "technician" and storage.user("aigerim")["venues"] == []
    assert [u["username"] for u in storage.users()] == ["aigerim"]
    assert "password_hash" not in storage.users()[0]
    assert storage.delete_user("aigerim") and not storage.delete_user("aigerim")
    made = storage.web_secret("session", lambda: "first")
    assert made == "first" and storage.web_secret("session", lambda: "second") == "first"
    assert storage.decision_totals() == {}
    assert storage.kiosk("door-1") is None
    storage.put_kiosk("door-1", "h", venue="cafe", name="front")
    storage.record_heartbeat("door-1", {"version": "0.1.0"}, NOON)
    storage.set_maintenance("door-1", True)
    assert storage.kiosk("door-1") == storage.kiosks()[0]
    assert storage.kiosk("door-1")["last_heartbeat"] == {"version": "0.1.0"}
    assert storage.kiosk("door-1")["maintenance"] is True and storage.kiosk("door-1")["last_seen"] == NOON


def test_add_user_stores_a_hash_and_refuses_what_it_cannot_use(storage_url, monkeypatch, capsys):
    def run(*argv, password="a long enough password\n"):
        monkeypatch.setattr(sys, "stdin", io.StringIO(password))
        return main(["--db", storage_url, *argv])
    assert run("add-user", "boss", "--role", "manager", "--venue", "cafe", "--venue", "bar",
               "--password-stdin") == 0
    assert "boss: manager for bar, cafe" in capsys.readouterr().out
    assert run("add-user", "boss2", "--role", "manager", "--password-stdin") == 2
    assert run("add-user", "tech", "--role", "technician", password="short\n") == 2
    assert run("add-user", "bad name!", "--role", "admin") == 2
    assert "at least 10 characters" in capsys.readouterr().err
    with open_storage(storage_url) as opened:
        user = opened.user("boss")
        assert verify_password("a long enough password", user["password_hash"])
        assert user["venues"] == ["bar", "cafe"] and opened.user("boss2") is None
    assert run("remove-user", "boss") == 0 and run("remove-user", "boss") == 1


def test_the_console_script_adds_a_user(tmp_path):
    script = f"{sys.prefix}/bin/ashyq-collector"
    done = subprocess.run([script, "--db", str(tmp_path / "c.sqlite"), "add-user", "tech", "--role",
                           "technician", "--password-stdin"], input="a long enough password\n",
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "a long enough password" not in done.stdout + done.stderr

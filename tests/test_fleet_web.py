"""The fleet page over HTTP on a real uvicorn, the same tests on SQLite and
on a real PostgreSQL: logins, roles, CSRF, the pages' content, the CSV and
/metrics."""
import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client.parser import text_string_to_metric_families

from collector.web.passwords import hash_password
from tests.fleet_site import PASSWORD, FleetSite, csrf_of
from tests.pg import postgres_server, storage_url  # noqa: F401 - fixtures

UTC = dt.timezone.utc
DAY = "2026-11-18"
ROW = re.compile(r'<tr id="kiosk-([^"]+)" data-state="([a-z]+)"')


@pytest.fixture
def site(storage_url):
    with FleetSite(storage_url) as running:
        yield running


def fleet_states(html: str) -> list[tuple[str, str]]:
    return ROW.findall(html)


def events(prefix, n, decision, reason, hour=14, **fields):
    return [{"id": f"{prefix}-{i}", "at": f"{DAY}T{hour:02d}:{i % 60:02d}:00.000+00:00",
             "decision": decision, "reason": reason, **fields} for i in range(n)]


def test_a_stranger_is_sent_to_log_in_and_a_wrong_password_gets_nothing(site):
    stranger = site.client()
    for path in ("/fleet/", "/fleet/kiosks/door-1", "/fleet/venues/cafe-12",
                 "/fleet/venues/cafe-12/counts.csv"):
        answer = stranger.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/fleet/login")
    assert stranger.get("/", follow_redirects=True).url.path == "/fleet/login"
    token = csrf_of(stranger.get("/fleet/login").text)
    for name, password in (("tech", "wrong password"), ("nobody", PASSWORD), ("tech", "")):
        answer = stranger.post("/fleet/login", data={"csrf": token, "username": name, "password": password})
        assert answer.status_code == 401 and "Wrong name or password." in answer.text
        assert "ashyq_fleet" not in answer.headers.get("set-cookie", "") or "user" not in answer.text
        assert stranger.get("/fleet/").status_code == 303
    # A login only ever redirects to our own pages.
    answer = stranger.post("/fleet/login", data={"csrf": token, "username": "tech", "password": PASSWORD,
                                                 "next": "//evil.example/fleet/"})
    assert answer.status_code == 303 and answer.headers["location"] == "/fleet/"


def test_a_guesser_is_stopped_before_any_hashing(site):
    """Twenty wrong passwords for one name, sent all at once from one
    address: ten are checked, the rest refused without scrypt, and so is the
    right password next; another user at the same address (all of them,
    behind a proxy) still logs in."""
    guesser = site.client()
    token = csrf_of(guesser.get("/fleet/login").text)

    def guess(n):
        return guesser.post("/fleet/login", data={"csrf": token, "username": "tech", "password": f"guess {n}"})
    with ThreadPoolExecutor(20) as pool:
        statuses = sorted(answer.status_code for answer in pool.map(guess, range(20)))
    assert statuses == [401] * 10 + [429] * 10
    answer = guesser.post("/fleet/login", data={"csrf": token, "username": "tech", "password": PASSWORD})
    assert answer.status_code == 429 and "Too many failed logins: try again in 15 minutes" in answer.text
    assert guesser.get("/fleet/").status_code == 303  # still not logged in
    assert site.login("admin").get("/fleet/").status_code == 200


def test_a_nul_in_a_path_or_a_form_is_a_clear_refusal_not_a_database_error(site):
    """PostgreSQL refuses NUL in any text, so a %00 must stop at the edge
    (before it read as "the database is not answering", a 503)."""
    tech = site.login("tech")
    for path in ("/fleet/kiosks/door-1%00", "/fleet/venues/cafe%0012", "/fleet/venues/%00/counts.csv"):
        answer = tech.get(path)
        assert answer.status_code == 404 and "that you may see" in answer.text, path
    stranger = site.client()
    token = csrf_of(stranger.get("/fleet/login").text)
    answer = stranger.post("/fleet/login", data={"csrf": token, "username": "tech\x00", "password": PASSWORD})
    assert answer.status_code == 400 and "NUL" in answer.text


def test_every_form_post_needs_this_sessions_csrf_token(site):
    stranger = site.client()
    stranger.get("/fleet/login")
    answer = stranger.post("/fleet/login", data={"username": "tech", "password": PASSWORD})
    assert answer.status_code == 403 and "reload the page" in answer.text
    tech = site.login("tech")
    foreign = csrf_of(site.client().get("/fleet/login").text)  # another session's token
    for data in ({"on": "1"}, {"on": "1", "csrf": foreign}, {"on": "1", "csrf": ""}):
        assert tech.post("/fleet/kiosks/door-1/maintenance", data=data).status_code == 403
        assert tech.post("/fleet/logout", data=data).status_code == 403
    assert site.storage.kiosks("cafe-12")[0]["maintenance"] is False
    token = csrf_of(tech.get("/fleet/").text)
    as_json = tech.post("/fleet/kiosks/door-1/maintenance", json={"csrf": token, "on": "1"})
    assert as_json.status_code == 415
    assert tech.post("/fleet/kiosks/door-1/maintenance", data={"csrf": token, "on": "1"}).status_code == 303
    assert site.storage.kiosks("cafe-12")[0]["maintenance"] is True
    assert tech.post("/fleet/logout", data={"csrf": token}).status_code == 303
    assert tech.get("/fleet/").status_code == 303


def test_the_fleet_list_puts_problems_first(site):
    now = dt.datetime.now(UTC)
    site.heartbeat("door-1", version="0.2.0", backlog=0, devices={"scanner": True}, clock_synced=True)
    site.heartbeat("door-2", version="0.2.0", backlog=7, devices={"scanner": False})
    site.storage.record_heartbeat("gate-7", {"version": "0.1.0"}, now - dt.timedelta(minutes=10))
    site.storage.put_kiosk("door-9", "h", venue="cafe-12")  # never heard from
    page = site.login("tech").get("/fleet/").text
    assert fleet_states(page) == [("gate-7", "offline"), ("door-2", "online"), ("door-9", "unknown"),
                                  ("door-1", "online")]
    assert "scanner not connected" in page and "0.2.0" in page
    assert re.search(r'data-state="offline" href="\?state=offline"><b>1</b>', page)
    assert re.search(r'data-state="online" href="\?state=online"><b>2</b>', page)
    tech = site.login("tech")
    assert fleet_states(tech.get("/fleet/?state=online").text) == [("door-2", "online"), ("door-1", "online")]
    for query in ("state=sleepy", "page=0", "page=2", "page=x"):
        assert tech.get(f"/fleet/?{query}").status_code == 400


def test_a_technician_switches_maintenance_and_a_manager_may_not(site):
    tech = site.login("tech")
    token = csrf_of(tech.get("/fleet/kiosks/gate-7").text)
    assert tech.post("/fleet/kiosks/gate-7/maintenance", data={"csrf": token, "on": "1"}).status_code == 303
    assert ("gate-7", "maintenance") in fleet_states(tech.get("/fleet/").text)
    assert tech.post("/fleet/kiosks/gate-7/maintenance", data={"csrf": token, "on": "0"}).status_code == 303
    assert ("gate-7", "unknown") in fleet_states(tech.get("/fleet/").text)
    boss = site.login("boss")
    page = boss.get("/fleet/kiosks/door-1").text
    assert 'id="maintenance"' not in page
    answer = boss.post("/fleet/kiosks/door-1/maintenance", data={"csrf": csrf_of(page), "on": "1"})
    assert answer.status_code == 403 and site.storage.kiosks("cafe-12")[0]["maintenance"] is False


def test_a_venue_manager_sees_only_their_venues(site):
    site.sync("gate-7", events("g", 3, "admit", "green"))
    boss = site.login("boss")
    assert [k for k, _ in fleet_states(boss.get("/fleet/").text)] == ["door-1", "door-2"]
    for path in ("/fleet/kiosks/gate-7", "/fleet/venues/stadium", f"/fleet/venues/stadium/counts.csv?day={DAY}",
                 "/fleet/venues/nowhere"):
        answer = boss.get(path)
        assert answer.status_code == 404 and "that you may see" in answer.text
    # Not found looks the same whether the kiosk exists elsewhere or not at all.
    assert boss.get("/fleet/kiosks/gate-7").text == boss.get("/fleet/kiosks/gate-8").text.replace("gate-8", "gate-7")
    assert boss.get("/fleet/venues/cafe-12").status_code == 200
    admin = site.login("admin")
    assert [k for k, _ in fleet_states(admin.get("/fleet/").text)] == ["door-1", "door-2", "gate-7"]
    assert admin.get("/fleet/venues/stadium").status_code == 200


def test_a_kiosks_page_shows_health_and_hours_but_never_a_number(site):
    site.heartbeat("door-1", version="0.1.0", uptime_s=7260, backlog=3, journal_ok=False)
    site.heartbeat("door-1", version="0.1.1", uptime_s=7290, backlog=0)
    person = "9f" * 16
    site.sync("door-1", events("a", 5, "admit", "green", masked="••••1427", person=person,
                               sealed="c2VhbGVkYm94") + events("d", 2, "deny", "red", hour=15))
    page = site.login("tech").get(f"/fleet/kiosks/door-1?day={DAY}").text
    assert "1427" not in page and person not in page and "c2VhbGVkYm94" not in page
    assert page.index("0.1.1") < page.index("0.1.0")  # newest heartbeat first
    assert "journal unhealthy" in page and "2 h 1 min" in page
    assert 'data-hour="14" data-admit="5" data-deny="0"' in page
    assert 'data-hour="15" data-admit="0" data-deny="2"' in page
    assert "<script" not in page and "http://" not in page.replace(site.url, "").replace(
        "http://www.w3.org/2000/svg", "")  # nothing from a CDN


def test_a_venue_dashboard_counts_overrides_and_exports_csv(site):
    site.sync("door-1", events("a", 4, "admit", "green") + events("o", 2, "admit", "staff-admit")
              + events("s", 1, "staff", "session-start", hour=9))
    site.sync("door-2", events("a", 3, "deny", "red") + events("x", 1, "deny", "=HYPERLINK(1)", hour=9))
    site.sync("gate-7", events("g", 9, "admit", "green"))  # another venue: not counted
    boss = site.login("boss")
    page = boss.get(f"/fleet/venues/cafe-12?day={DAY}").text
    assert 'data-hour="14" data-admit="6" data-deny="3" data-staff="0"' in page
    assert 'data-hour="09" data-admit="0" data-deny="1" data-staff="1"' in page
    assert re.search(r'data-total="overrides"><b>2</b>', page) and 'id="all-total">11<' in page
    assert "<td>staff-admit</td><td class=\"n\">2</td>" in page
    assert 'id="occupancy"' not in page  # no door of this venue counts: no section
    answer = boss.get(f"/fleet/venues/cafe-12/counts.csv?day={DAY}")
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"] == f'attachment; filename="ashyq-counts-cafe-12-{DAY}.csv"'
    lines = answer.text.splitlines()
    assert lines[0] == "hour_utc,kiosk_id,decision,reason,n"
    assert f"{DAY}T09:00:00+00:00,door-2,deny,'=HYPERLINK(1),1" in lines  # no formula in a spreadsheet
    assert f"{DAY}T14:00:00+00:00,door-1,admit,staff-admit,2" in lines
    assert sum(int(line.rsplit(",", 1)[1]) for line in lines[1:]) == 11
    other_day = boss.get("/fleet/venues/cafe-12/counts.csv?day=2026-11-17").text.splitlines()
    assert other_day == ["hour_utc,kiosk_id,decision,reason,n"]
    bad = boss.get("/fleet/venues/cafe-12?day=yesterday")
    assert bad.status_code == 400 and "2026-11-18" in bad.text
    for path in ("/fleet/venues/cafe-12", "/fleet/venues/cafe-12/counts.csv", "/fleet/kiosks/door-1"):
        for day in ("9999-12-31", "0001-01-01"):  # no day after or before it to link to: not a 500
            edge = boss.get(f"{path}?day={day}")
            assert edge.status_code == 400 and "before 9999-12-31" in edge.text


def test_sessions_are_shared_by_instances_and_end_with_the_password(site, storage_url):
    tech = site.login("tech")
    with FleetSite(storage_url) as second:  # another instance on the same database
        moved = second.client()
        moved.cookies = tech.cookies
        assert moved.get("/fleet/").status_code == 200
    forged = site.client()
    forged.cookies.set("ashyq_fleet", tech.cookies["ashyq_fleet"][:-4] + "AAAA")
    assert forged.get("/fleet/").status_code == 303
    site.storage.put_user("tech", hash_password("a new password here"), "technician")
    assert tech.get("/fleet/").status_code == 303
    site.login("tech", "a new password here")
    site.storage.delete_user("tech")
    assert tech.get("/fleet/").status_code == 303


def test_logging_out_ends_a_copied_cookie_too(site):
    """The cookie is signed, not stored: a copy (another browser, a thief)
    would outlive a logout that only cleared this browser's. Logging out
    ends every session of the user; the next login works."""
    tech = site.login("tech")
    copy = site.client()
    copy.cookies.set("ashyq_fleet", tech.cookies["ashyq_fleet"])
    assert copy.get("/fleet/").status_code == 200
    token = csrf_of(tech.get("/fleet/").text)
    assert tech.post("/fleet/logout", data={"csrf": token}).status_code == 303
    assert copy.get("/fleet/").status_code == 303 and tech.get("/fleet/").status_code == 303
    assert site.login("tech").get("/fleet/").status_code == 200


def test_metrics_count_kiosks_by_state_and_what_was_ingested(site):
    site.heartbeat("door-1", version="0.1.0", backlog=5)
    site.heartbeat("door-2", version="0.1.0", devices={"camera": False})
    site.storage.set_maintenance("gate-7", True)
    site.sync("door-1", events("a", 4, "admit", "green") + events("d", 1, "deny", "red"))
    answer = site.client().get("/metrics")  # no login: for Prometheus, and nothing personal
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(answer.text) for s in family.samples}
    assert samples[("ashyq_kiosks", (("state", "online"),))] == 2
    assert samples[("ashyq_kiosks", (("state", "maintenance"),))] == 1
    assert samples[("ashyq_kiosks", (("state", "offline"),))] == 0
    assert samples[("ashyq_kiosks_with_problems", ())] == 1
    assert samples[("ashyq_kiosk_backlog", ())] == 5
    assert samples[("ashyq_decisions_total", (("decision", "admit"),))] == 4
    assert samples[("ashyq_decisions_total", (("decision", "deny"),))] == 1
    site.sync("door-1", events("a", 4, "admit", "green"))  # a resent batch counts nothing twice
    again = site.client().get("/metrics").text
    assert 'ashyq_decisions_total{decision="admit"} 4.0' in again


def test_the_api_is_unchanged_beside_the_pages(site):
    stranger = site.client()
    assert stranger.get("/healthz").json() == {"ok": True}
    assert stranger.get("/v1/elsewhere").json() == {"error": "Not Found"}
    answer = stranger.post("/v1/kiosks/door-1/events", json={"events": []})
    assert answer.status_code == 401 and "error" in answer.json()
    page = site.login("tech").get("/fleet/")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    cookie = page.request.headers["cookie"]
    assert "ashyq_fleet=" in cookie


def test_a_venue_dashboard_shows_occupancy_against_the_limit_per_door_and_over_the_day(site):
    import datetime as dt
    day = dt.date.today().isoformat()
    now = dt.datetime.now(dt.timezone.utc)

    def beat(kiosk_id, door, entries=0, exits=0, changes=1):
        return {"period": day, "door": door, "entries": entries, "exits": exits, "adjust": 0,
                "changes": changes}

    site.storage.set_venue_limit("cafe-12", limit="40%", capacity=10, by="boss")
    site.storage.record_occupancy("door-1", beat("door-1", "entry", entries=3), now)
    site.storage.record_occupancy("door-1", beat("door-1", "entry", entries=5, changes=2), now)
    site.storage.record_occupancy("door-2", beat("door-2", "exit", exits=1), now)
    page = site.login("boss").get("/fleet/venues/cafe-12").text
    assert 'id="occupancy"' in page
    assert re.search(r'id="occupancy-total" data-total="4"\s+data-limit="4"', page)
    assert "full" in page and "limit 40% of 10" in page
    assert '<tr data-kiosk="door-1"><td>door-1</td><td>entry</td><td class="n">5</td><td class="n">0</td>' in page
    assert '<tr data-kiosk="door-2"><td>door-2</td><td>exit</td><td class="n">0</td><td class="n">1</td>' in page
    assert 'id="occupancy-curve"' in page and 'data-limit="4"' in page and 'data-last="4"' in page


def test_a_venue_manager_sets_the_limit_and_a_technician_cannot(site):
    boss = site.login("boss")
    page = boss.get("/fleet/venues/cafe-12").text
    token = csrf_of(page)
    assert 'id="set-limit"' in page
    answer = boss.post("/fleet/venues/cafe-12/limit", data={"csrf": token, "limit": "30%", "capacity": "200"})
    assert answer.status_code == 303
    assert site.storage.venue_occupancy("cafe-12")["limit"] == 60
    assert boss.post("/fleet/venues/cafe-12/limit",
                     data={"csrf": token, "limit": "lots", "capacity": "200"}).status_code == 400
    huge = boss.post("/fleet/venues/cafe-12/limit", data={"csrf": token, "limit": "50%", "capacity": "9" * 30})
    assert huge.status_code == 400 and "capacity must be between 0 and" in huge.text  # not a 503
    assert boss.post("/fleet/venues/cafe-12/limit", data={"limit": "10"}).status_code == 403  # no CSRF token
    tech = site.login("tech")
    assert 'id="set-limit"' not in tech.get("/fleet/venues/cafe-12").text
    assert tech.post("/fleet/venues/cafe-12/limit", data={"csrf": csrf_of(tech.get("/fleet/").text),
                                                          "limit": "1"}).status_code == 403
    assert site.storage.venue_occupancy("cafe-12")["limit"] == 60


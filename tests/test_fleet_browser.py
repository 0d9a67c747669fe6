"""The fleet page in a real headless Chromium (Debian's chromium and
chromium-driver, driven by selenium), on SQLite and PostgreSQL: log in, see
a kiosk go offline when its heartbeats stop, see the counts move after a
sync, export the CSV. Never skipped: without a browser the test fails.

ASHYQ_FLEET_SCREENS=docs/screens also saves fleet-list.png, fleet-kiosk.png
and fleet-venue.png there (the README's screenshots).
"""
import contextlib
import datetime as dt
import os
import shutil
import threading

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.fleet_site import PASSWORD, FleetSite
from tests.pg import postgres_server, storage_url  # noqa: F401 - fixtures

UTC = dt.timezone.utc
# The machine has no network: without these Chromium stalls on start-up.
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,900"]
WAIT = 120  # seconds a state may take on a machine 4x slower; we poll, never sleep


@pytest.fixture
def browser(tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not (chromium and driver_path):
        pytest.fail("no chromium/chromedriver: apt-get install chromium chromium-driver")
    options = Options()
    options.binary_location = chromium
    for flag in FLAGS + [f"--user-data-dir={tmp_path / 'profile'}"]:
        options.add_argument(flag)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow",
                                                           "downloadPath": str(downloads)})
    driver.downloads = downloads
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


class Beating:
    """A kiosk heartbeating every ``every`` seconds until stopped."""

    def __init__(self, site, kiosk_id, every=0.3, **beat):
        self.site, self.kiosk_id, self.every, self.beat = site, kiosk_id, every, beat
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stopped.is_set():
            self.site.heartbeat(self.kiosk_id, **self.beat)
            self.stopped.wait(self.every)

    def __enter__(self):
        self.site.heartbeat(self.kiosk_id, **self.beat)  # online before the page looks
        self.thread.start()
        return self

    def stop(self):
        self.stopped.set()
        self.thread.join(timeout=30)

    def __exit__(self, *exc):
        self.stop()


def refreshed_until(driver, condition, message):
    """Reload the page until ``condition(driver)`` holds (the state, not a time)."""
    def check(d):
        d.refresh()
        return condition(d)
    return WebDriverWait(driver, WAIT, poll_frequency=0.3).until(check, message)


def state_of(driver, kiosk_id):
    rows = driver.find_elements(By.ID, f"kiosk-{kiosk_id}")
    return rows[0].get_attribute("data-state") if rows else None


def total(driver, name):
    return int(driver.find_element(By.CSS_SELECTOR, f'[data-total="{name}"] b').text)


def seed(site, now):
    """A morning at the venue, so the pictures show something."""
    for hour in range(now.hour + 1):
        at = now.replace(hour=hour, minute=5)
        site.sync("door-2", [{"id": f"m{hour}-{i}", "at": (at + dt.timedelta(minutes=i)).isoformat(),
                              "decision": d, "reason": r}
                             for i, (d, r) in enumerate([("admit", "green")] * (3 + hour % 5)
                                                        + [("deny", "red")] * (hour % 3)
                                                        + [("admit", "staff-admit")] * (hour % 4 == 1)
                                                        + [("staff", "session-start")] * (hour % 6 == 2))])
    site.heartbeat("gate-7", version="0.1.0", uptime_s=120, backlog=1450, devices={"scanner": False},
                   clock_synced=False, last_sync=(now - dt.timedelta(hours=3)).isoformat())
    site.storage.set_maintenance("door-3", True)


def screenshot(driver, name):
    folder = os.environ.get("ASHYQ_FLEET_SCREENS")
    if folder:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1280, min(max(height + 160, 600), 2400))
        driver.save_screenshot(os.path.join(folder, f"fleet-{name}.png"))
        driver.set_window_size(1280, 900)


def test_log_in_see_a_kiosk_go_offline_counts_move_and_export_csv(browser, storage_url):
    now = dt.datetime.now(UTC)
    # A heartbeat interval of 1 s: a kiosk is offline 3 s after its last one.
    with FleetSite(storage_url, heartbeat_interval=1, web_options={"refresh": 3600}) as site, \
            contextlib.ExitStack() as stack:
        site.storage.put_kiosk("door-3", "h", venue="cafe-12", name="side door")
        seed(site, now)
        healthy = stack.enter_context(Beating(site, "door-2", every=1, version="0.2.0", uptime_s=5400,
                                              backlog=0, devices={"scanner": True, "keypad": True},
                                              clock_synced=True, journal_ok=True, last_sync=now.isoformat()))
        browser.get(f"{site.url}/fleet/")
        assert browser.find_element(By.ID, "login")  # sent to log in
        browser.find_element(By.ID, "username").send_keys("tech")
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.ID, "login").click()
        WebDriverWait(browser, WAIT).until(lambda d: d.find_elements(By.ID, "fleet"))

        with Beating(site, "door-1", version="0.2.0", uptime_s=3600, backlog=2, devices={"scanner": True},
                     clock_synced=True, journal_ok=True, last_sync=now.isoformat()) as beating:
            refreshed_until(browser, lambda d: state_of(d, "door-1") == "online", "door-1 never online")
            beating.stop()
            refreshed_until(browser, lambda d: state_of(d, "door-1") == "offline", "door-1 never offline")
        first = browser.find_element(By.CSS_SELECTOR, "#fleet tbody tr").get_attribute("id")
        assert first in ("kiosk-door-1", "kiosk-gate-7")  # offline and troubled kiosks lead
        screenshot(browser, "list")

        browser.find_element(By.LINK_TEXT, "cafe-12").click()
        WebDriverWait(browser, WAIT).until(lambda d: d.find_elements(By.ID, "venue-totals"))
        admitted, denied = total(browser, "admit"), total(browser, "deny")
        site.sync("door-1", [{"id": f"new-{i}", "at": now.isoformat(), "decision": "admit", "reason": "green"}
                             for i in range(5)] + [{"id": "new-d", "at": now.isoformat(), "decision": "deny",
                                                    "reason": "red"}])
        refreshed_until(browser, lambda d: total(d, "admit") == admitted + 5, "admits did not move")
        assert total(browser, "deny") == denied + 1
        screenshot(browser, "venue")

        browser.find_element(By.ID, "csv").click()
        name = f"ashyq-counts-cafe-12-{now.date()}.csv"
        path = browser.downloads / name
        WebDriverWait(browser, WAIT, poll_frequency=0.2).until(
            lambda d: path.exists() and not list(d.downloads.glob("*.crdownload")), f"no {name}")
        lines = path.read_text().splitlines()
        assert lines[0] == "hour_utc,kiosk_id,decision,reason,n"
        admits = sum(int(line.rsplit(",", 1)[1]) for line in lines[1:] if ",admit," in line)
        assert admits == admitted + 5

        browser.get(f"{site.url}/fleet/kiosks/door-2")
        WebDriverWait(browser, WAIT).until(lambda d: d.find_elements(By.ID, "health"))
        assert "0.2.0" in browser.find_element(By.ID, "health").text
        screenshot(browser, "kiosk")

        healthy.stop()
        browser.find_element(By.ID, "logout").click()
        WebDriverWait(browser, WAIT).until(lambda d: d.find_elements(By.ID, "login"))
        browser.get(f"{site.url}/fleet/")
        assert browser.find_elements(By.ID, "login")  # the session is gone

"""The fleet page for tests: the collector's real app with the pages mounted,
on a real uvicorn over a real database, with users and kiosks made through
the storage interface and heartbeats and events sent through the real API.

    with FleetSite(storage_url, heartbeat_interval=1) as site:
        client = site.login("tech")        # an httpx client holding the session
        site.heartbeat("door-1", version="0.1.0")
"""
import re
from typing import Optional

import httpx

from collector import web
from tests.conftest import wait_until
from collector.app import Settings, build_app
from collector.protocol import hash_token
from collector.server import BackgroundServer
from collector.storage import open_storage
from collector.web.passwords import hash_password

PASSWORD = "correct horse battery"
# kiosk -> venue; a manager of cafe-12 sees door-1 and door-2 only
KIOSKS = {"door-1": "cafe-12", "door-2": "cafe-12", "gate-7": "stadium"}
USERS = {"admin": ("admin", []), "tech": ("technician", []), "boss": ("manager", ["cafe-12"])}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    return CSRF.search(html).group(1)


class FleetSite:
    def __init__(self, db: str, *, storage=None, web_options: Optional[dict] = None, **settings):
        self.storage = storage or open_storage(db)
        self.own_storage = storage is None
        self.settings = Settings(**settings)
        for kiosk_id, venue in KIOSKS.items():
            self.storage.put_kiosk(kiosk_id, hash_token(f"tok-{kiosk_id}"), venue=venue)
        for name, (role, venues) in USERS.items():
            if self.storage.user(name) is None:
                self.storage.put_user(name, hash_password(PASSWORD), role, venues)
        app = build_app(self.storage, self.settings, routes=web.routes(self.storage, self.settings,
                                                                     **(web_options or {})))
        self.server = BackgroundServer(app)
        self.url = self.server.url
        self.api = httpx.Client(base_url=self.url, timeout=30)
        self.clients: list[httpx.Client] = []

    def client(self) -> httpx.Client:
        made = httpx.Client(base_url=self.url, timeout=30)
        self.clients.append(made)
        return made

    def login(self, username: str, password: str = PASSWORD, client: Optional[httpx.Client] = None):
        client = client or self.client()
        token = csrf_of(client.get("/fleet/login").text)
        answer = client.post("/fleet/login", data={"csrf": token, "username": username,
                                                   "password": password, "next": "/fleet/"})
        assert answer.status_code == 303, answer.text
        return client

    def heartbeat(self, kiosk_id: str, **beat) -> dict:
        before = len(self.storage.heartbeats(kiosk_id))
        answer = self.api.post(f"/v1/kiosks/{kiosk_id}/heartbeat", json=beat,
                               headers={"Authorization": f"Bearer tok-{kiosk_id}"})
        assert answer.status_code == 200, answer.text
        # The collector answers at once and stores heartbeats in batches (once
        # a second): wait until this one is stored, as a page would see it.
        assert wait_until(lambda: len(self.storage.heartbeats(kiosk_id)) > before, timeout=30)
        return answer.json()

    def sync(self, kiosk_id: str, events: list) -> dict:
        answer = self.api.post(f"/v1/kiosks/{kiosk_id}/events", json={"events": events},
                               headers={"Authorization": f"Bearer tok-{kiosk_id}"})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def start(self) -> "FleetSite":
        self.server.start()
        return self

    def stop(self) -> None:
        for client in [self.api, *self.clients]:
            client.close()
        self.server.stop()
        if self.own_storage:
            self.storage.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

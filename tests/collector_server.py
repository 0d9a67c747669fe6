"""The collector service for the kiosk's tests: the real Starlette app on
uvicorn (collector.server.BackgroundServer) over a real database, optionally
behind a small proxy that misbehaves on demand like a bad network:

    fault = "error:503"   answer 503 without forwarding
    fault = "drop"        hang up without forwarding
    fault = "store-drop"  forward (the collector stores and commits), then hang up

    with Collector(str(tmp_path / "c.sqlite"), tokens={"door-1": "tok"}) as c:
        Syncer(journal, c.url, "door-1", "tok").sync_once()
        c.event_ids()
"""
import contextlib
import os
from typing import Optional

import httpx

from collector.app import Settings, build_app
from collector.protocol import hash_token
from collector.server import BackgroundServer
from collector.storage import open_storage
from kiosk.servers.httpd import BackgroundServer as ThreadedServer, JsonHandler

FORWARDED = ("authorization", "content-type")


class _Faulty(JsonHandler):
    def do_POST(self):
        owner = self.owner
        raw = self.body()
        fault = owner.fault
        if fault == "drop":
            self.close_connection = True
            return
        if fault.startswith("error:"):
            return self.answer(int(fault[6:]), {"error": "fault"})
        headers = {k: v for k, v in self.headers.items() if k.lower() in FORWARDED}
        response = owner.client.post(owner.upstream + self.path, content=raw, headers=headers)
        if fault == "store-drop":
            self.close_connection = True
            return
        self.answer(response.status_code, raw=response.content)


class FaultProxy(ThreadedServer):
    name = "fault-proxy"

    def __init__(self, upstream: str):
        self.upstream, self.fault = upstream, ""
        self.client = httpx.Client(timeout=30)
        super().__init__(_Faulty)

    def stop(self) -> None:
        super().stop()
        self.client.close()


class Collector:
    """The collector on ``db`` (a SQLite path or postgresql:// URL) with these
    kiosks' tokens; ``url`` goes through the fault proxy, ``direct_url`` not."""

    def __init__(self, db: str, *, tokens: dict, venue: str = "venue-1",
                 settings: Optional[Settings] = None, proxy: bool = True, **server_options):
        self.storage = open_storage(db)
        for kiosk_id, token in tokens.items():
            self.storage.put_kiosk(kiosk_id, hash_token(token), venue=venue)
        self.server = BackgroundServer(build_app(self.storage, settings), **server_options)
        self.proxy = FaultProxy(self.server.url) if proxy else None
        self.direct_url = self.server.url
        self.url = self.proxy.url if self.proxy else self.direct_url

    @property
    def fault(self) -> str:
        return self.proxy.fault

    @fault.setter
    def fault(self, value: str) -> None:
        self.proxy.fault = value

    def event_ids(self) -> list[str]:
        return self.storage.event_ids()

    def events(self) -> list[dict]:
        return self.storage.events(limit=1_000_000)

    def start(self) -> "Collector":
        self.server.start()
        if self.proxy:
            self.proxy.start()
        return self

    def stop(self) -> None:
        if self.proxy:
            self.proxy.stop()
        self.server.stop()
        self.storage.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def spawned_children(parent: int) -> list[int]:
    """Processes ``parent`` started with multiprocessing's spawn: the
    collector's ingest workers."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    if ppid == parent and b"spawn_main" in cmdline.read():
                        found.append(int(entry))
    return found

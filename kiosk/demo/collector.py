"""The demo's collector: ``ashyq-collector`` on its embedded SQLite default,
started as a subprocess through its console script, so the kiosk never
imports the collector package (and runs without it: then there is simply no
sync in the demo).

    with DemoCollector(state_dir, kiosk_id="demo-1", venue="Theatre") as collector:
        collector.url, collector.token     # for sync.url and sync_token
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from typing import Optional

import httpx

TOKEN = "demo-sync-token"
START_SECONDS = 30


def _script() -> Optional[str]:
    beside = os.path.join(os.path.dirname(sys.executable), "ashyq-collector")
    return beside if os.access(beside, os.X_OK) else shutil.which("ashyq-collector")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DemoCollector:
    def __init__(self, folder: str, *, kiosk_id: str, venue: str):
        self.script = _script()
        self.db = os.path.join(folder, "collector.sqlite")
        self.kiosk_id, self.venue = kiosk_id, venue
        self.token = TOKEN
        self.url = ""
        self.process: Optional[subprocess.Popen] = None
        self.log = os.path.join(folder, "collector.log")

    def start(self) -> "DemoCollector":
        """Start it and wait until it answers; ``url`` stays "" if it cannot
        (not installed: ``pip install '.[collector]'``)."""
        if not self.script:
            return self
        base = [self.script, "--db", self.db]
        added = subprocess.run(base + ["kiosk", "add", self.kiosk_id, "--venue", self.venue,
                                       "--token", self.token], capture_output=True, text=True)
        if added.returncode:
            print(f"demo: collector not started: {added.stderr.strip()}", file=sys.stderr)
            return self
        port = _free_port()
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(base + ["serve", "--port", str(port), "--interval", "10"],
                                            stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    self.url = url
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        print(f"demo: collector did not start (see {self.log})", file=sys.stderr)
        self.stop()
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

"""A real PostgreSQL for the tests, from Debian's ``postgresql`` package:
initdb and pg_ctl in a temporary folder, listening on a unix socket only.
Run as root (CI, the dev machine) it runs as the ``postgres`` user, since
PostgreSQL refuses to run as root. Missing binaries fail the run: the suite
never skips the PostgreSQL half.

    with PostgresServer() as pg:
        url = pg.create_database("t1")      # postgresql://postgres@/t1?host=...
"""
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid

import pytest


def binaries() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if not found:
        pytest.fail("PostgreSQL is not installed: apt-get install postgresql (scripts/bootstrap.sh)")
    return os.path.dirname(found[-1])


class PostgresServer:
    def __init__(self, *, fsync: bool = False):
        self.bin = binaries()
        self.fsync = fsync
        self.user = None
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    self.user = pwd.getpwnam(name)
                    break
                except KeyError:
                    continue
        self.folder = tempfile.mkdtemp(prefix="ashyq-pg-")
        self.data = os.path.join(self.folder, "data")
        self.socket = self.folder

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", self.user.pw_name, "--"] if self.user else []
        done = subprocess.run(prefix + list(command), capture_output=True, text=True, timeout=120,
                              cwd=self.folder)
        if done.returncode:
            raise RuntimeError(f"{command[0]} failed: {done.stdout}\n{done.stderr}")

    def start(self) -> "PostgresServer":
        if self.user:
            os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)
        self._run(f"{self.bin}/initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync", "--no-instructions")
        options = f"-k {self.socket} -c listen_addresses='' -c max_connections=200"
        if not self.fsync:
            options += " -F -c synchronous_commit=off -c full_page_writes=off"
        self._run(f"{self.bin}/pg_ctl", "-D", self.data, "-o", options, "-l",
                  os.path.join(self.folder, "log"), "-w", "-t", "120", "start")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket}"

    def create_database(self, name: str = "") -> str:
        import psycopg
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        import psycopg
        name = url.split("/")[3].split("?")[0]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        try:
            self._run(f"{self.bin}/pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


@pytest.fixture(scope="session")
def postgres_server():
    with PostgresServer() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgres"])
def storage_url(request, tmp_path):
    """A fresh, empty database of each kind: the same test runs on both."""
    if request.param == "sqlite":
        yield str(tmp_path / "collector.sqlite")
        return
    server = request.getfixturevalue("postgres_server")
    url = server.create_database()
    yield url
    server.drop_database(url)


@pytest.fixture
def storage(storage_url):
    from collector.storage import open_storage
    with open_storage(storage_url) as opened:
        yield opened

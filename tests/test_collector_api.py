"""The collector's HTTP edge on a real uvicorn, over SQLite and PostgreSQL:
the protocol, and each abuse the old reference server fell to."""
import asyncio
import contextlib
import json
import os
import select
import signal
import socket
import sqlite3
import threading
import time

import httpx
import psycopg
import pytest

from collector.app import Settings
from collector.tokens import TokenCache
from collector.storage import open_storage
from tests.collector_server import Collector, spawned_children
from tests.pg import postgres_server, storage_url  # noqa: F401 - fixtures

TOKEN = "tok-door-1"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EVENTS = "/v1/kiosks/door-1/events"
# The edge's bounds are uvicorn's parser's and ours; both parsers are held to them.
parsers = pytest.mark.parametrize("http", ["httptools", "h11"])


@pytest.fixture
def served(storage_url):
    made = []

    def make(http: str = "httptools", header_seconds: float = 1, **settings):
        collector = Collector(storage_url, tokens={"door-1": TOKEN, "door-2": "tok-door-2"},
                              settings=Settings(**settings), proxy=False, http=http,
                              timeout_keep_alive=1, header_seconds=header_seconds).start()
        made.append(collector)
        return collector
    yield make
    for collector in made:
        collector.stop()


def raw_exchange(url: str, request: bytes, *, timeout: float = 20) -> tuple[int, dict, bytes]:
    """Send bytes on a fresh connection; (status, JSON body, raw answer)."""
    host, port = url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body), answer


def _length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 1 << 30


def test_events_are_stored_once_per_kiosk(served):
    collector = served()
    events = [{"id": "e1", "decision": "admit", "future-field": 1}, {"id": "e2"}, {"id": "e1"}]
    with httpx.Client(base_url=collector.direct_url) as client:
        first = client.post(EVENTS, json={"events": events}, headers=AUTH).json()
        again = client.post(EVENTS, json={"events": events}, headers=AUTH).json()
        other = client.post("/v1/kiosks/door-2/events", json={"events": [{"id": "e1"}]},
                            headers={"Authorization": "Bearer tok-door-2"}).json()
        empty = client.post(EVENTS, json={"events": []}, headers=AUTH).json()
    assert sorted(first["stored"]) == ["e1", "e2"] and first["duplicates"] == []
    assert again == {"stored": [], "duplicates": ["e1", "e2"]}
    assert other == {"stored": ["e1"], "duplicates": []}  # no kiosk suppresses another's event
    assert empty == {"stored": [], "duplicates": []}


@pytest.mark.parametrize("path, headers, body, status", [
    (EVENTS, {}, {"events": []}, 401),
    (EVENTS, {"Authorization": "Bearer wrong"}, {"events": []}, 401),
    (EVENTS, {"Authorization": "Basic dG9r"}, {"events": []}, 401),
    ("/v1/kiosks/door-2/events", AUTH, {"events": []}, 401),  # a token is its own kiosk's only
    ("/v1/kiosks/ghost/events", AUTH, {"events": []}, 401),
    ("/v1/elsewhere", AUTH, {}, 404),
    ("/v1/kiosks/" + "x" * 65 + "/events", AUTH, {}, 404),
    (EVENTS, AUTH, {"nope": 1}, 400),
    (EVENTS, AUTH, {"events": [{"no": "id"}]}, 400),
    (EVENTS, AUTH, {"events": [{"id": ""}]}, 400),
    (EVENTS, AUTH, {"events": ["x"]}, 400),
    (EVENTS, AUTH, {"events": [{"id": "a", "extra": {"a": [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}}]}, 400),
    ("/v1/kiosks/door-1/heartbeat", AUTH, [1, 2], 400),
])
def test_every_bad_request_gets_a_4xx_with_a_reason(served, path, headers, body, status):
    collector = served()
    answer = httpx.post(collector.direct_url + path, json=body, headers=headers)
    assert answer.status_code == status and answer.json()["error"]
    assert collector.event_ids() == []


def test_wrong_method_and_bad_json_are_json_too(served):
    url = served().direct_url
    assert httpx.get(url + EVENTS, headers=AUTH).status_code == 405
    assert httpx.get(url + EVENTS, headers=AUTH).json()["error"]
    bad = httpx.post(url + EVENTS, content=b"{not json", headers=AUTH)
    assert bad.status_code == 400 and "not JSON" in bad.json()["error"]
    utf = httpx.post(url + EVENTS, content=b'{"events": ["\xff"]}', headers=AUTH)
    assert utf.status_code == 400


@parsers
def test_the_token_is_checked_before_the_body_is_read(served, http):
    """Headers claiming 48 MiB and no body at all: the 401 comes at once, so
    the server never waited for (or buffered) an unauthenticated body."""
    url = served(http=http).direct_url
    status, body, _ = raw_exchange(url, (
        f"POST {EVENTS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer wrong\r\nContent-Length: {48 << 20}\r\n\r\n").encode())
    assert status == 401 and body["error"]


@pytest.mark.parametrize("length, status", [("-1", 400), ("1e9", 400), ("abc", 400),
                                            (str(10 << 20), 413)])
@parsers
def test_a_bad_or_oversized_content_length_is_refused_before_reading(served, length, status, http):
    url = served(http=http, max_body=1 << 20).direct_url
    got, body, _ = raw_exchange(url, (
        f"POST {EVENTS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Length: {length}\r\n\r\n").encode())
    assert got == status and body["error"]


@parsers
def test_a_chunked_body_over_the_limit_is_cut_off(served, http):
    url = served(http=http, max_body=64 * 1024).direct_url
    chunk = b"x" * 16384
    request = (f"POST {EVENTS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
               "Transfer-Encoding: chunked\r\n\r\n").encode()
    request += b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(8)) + b"0\r\n\r\n"
    status, body, _ = raw_exchange(url, request)
    assert status == 413 and "over" in body["error"]


@pytest.mark.parametrize("request_bytes", [
    b"POST /v1/kiosks/door-1/events HTTP/1.1\r\nHost x\r\n\r\n",          # no colon
    b"POST /v1/kiosks/door-1/events HTTP/1.1\r\nHost: x\r\nBad\x00Name: 1\r\n\r\n",
    b"GARBAGE\r\n\r\n",
])
@parsers
def test_malformed_http_gets_a_json_400_not_a_dropped_connection(served, request_bytes, http):
    status, body, raw = raw_exchange(served(http=http).direct_url, request_bytes)
    assert status == 400 and "malformed" in body["error"] and b"Traceback" not in raw


@pytest.mark.parametrize("size", [40_000, 200_000])
@parsers
def test_oversized_headers_are_refused(served, size, http):
    """Whole (one read) or in pieces (h11's own bound), either way a JSON 4xx."""
    status, body, _ = raw_exchange(served(http=http).direct_url, (
        f"POST {EVENTS} HTTP/1.1\r\nHost: x\r\nX-Big: {'a' * size}\r\n\r\n").encode())
    assert status in (400, 431) and body["error"]


def test_deeply_nested_json_is_refused_not_a_crash(served):
    url = served().direct_url
    for nested in (b"[" * 100_000 + b"]" * 100_000, b'{"events": ' + b"[" * 5000 + b"]" * 5000 + b"}"):
        answer = httpx.post(url + EVENTS, content=nested, headers=AUTH)
        assert answer.status_code == 400 and "nested" in answer.json()["error"]


@parsers
def test_headers_that_never_end_are_cut_off_while_they_arrive(served, http):
    """A header block sent in pieces and never finished is not buffered
    without end: the JSON refusal for its size (not the header deadline's
    408, set far off here) arrives while the client is still sending, and
    the client can read it (no reset). The cap only stops a broken server:
    loopback buffers hold a few MiB however slow the machine."""
    host, port = served(http=http, header_seconds=120).direct_url.split("//")[1].split(":")
    sent = 0
    with socket.create_connection((host, int(port)), timeout=120) as sock:
        sock.sendall(f"POST {EVENTS} HTTP/1.1\r\nHost: x\r\n".encode())
        while sent < 64 << 20 and not select.select([sock], [], [], 0)[0]:
            sock.sendall(b"X-Pad-%d: %s\r\n" % (sent, b"a" * 1000))
            sent += 1000
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    assert sent < 64 << 20
    assert answer.split(b" ")[1] in (b"400", b"431") and b'"error"' in answer


@parsers
def test_a_body_dripped_too_slowly_gets_408(served, http):
    url = served(http=http, body_timeout=0.5).direct_url
    status, body, _ = raw_exchange(url, (
        f"POST {EVENTS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
        "Content-Length: 100\r\n\r\n{\"ev").encode())
    assert status == 408 and body["error"]


@parsers
def test_an_idle_connection_is_closed(served, http):
    url = served(http=http).direct_url  # header_seconds=1 and timeout_keep_alive=1 in the fixture
    host, port = url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        assert sock.recv(1) == b""  # the server hung up; recv would time out otherwise
    with socket.create_connection((host, int(port)), timeout=30) as sock:  # after one request
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")


@parsers
def test_headers_dripped_too_slowly_get_408(served, http):
    status, body, _ = raw_exchange(served(http=http).direct_url, f"POST {EVENTS} HTTP/1.1\r\nHost: x".encode())
    assert status == 408 and "headers not complete" in body["error"]


def test_many_clients_at_once_are_all_answered(served):
    collector = served()
    results = []

    def client(n):
        with httpx.Client(base_url=collector.direct_url, timeout=60) as http:
            answer = http.post(EVENTS, json={"events": [{"id": f"c{n}"}]}, headers=AUTH)
            results.append(answer.status_code)
    threads = [threading.Thread(target=client, args=(n,)) for n in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 100 and len(collector.event_ids()) == 100


def test_tokens_are_stored_hashed(served, storage_url):
    collector = served()
    assert collector.storage.token_hash("door-1") != TOKEN
    if not storage_url.startswith("postgresql"):
        with open(storage_url, "rb") as handle:
            assert TOKEN.encode() not in handle.read()


def test_a_heartbeat_is_kept_and_answered_with_settings(served):
    collector = served(min_version="0.2.0", heartbeat_interval=15)
    beat = {"version": "0.1.0", "uptime_s": 5, "backlog": 2, "devices": {"scanner": True}}
    answer = httpx.post(collector.direct_url + "/v1/kiosks/door-1/heartbeat", json=beat, headers=AUTH)
    assert answer.status_code == 200
    assert answer.json()["interval"] == 15 and "below the minimum 0.2.0" in answer.json()["warnings"][0]
    deadline = time.monotonic() + 30  # written within heartbeat_flush (1 s) of the answer
    while not (kiosk := collector.storage.kiosks()[0])["last_seen"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert kiosk["last_heartbeat"] == beat and kiosk["last_seen"] is not None
    too_big = httpx.post(collector.direct_url + "/v1/kiosks/door-1/heartbeat",
                         json={"x": "y" * 70_000}, headers=AUTH)
    assert too_big.status_code == 413


def test_one_kiosks_unstorable_text_fails_nobody_elses_write(served):
    """NUL and lone surrogates (PostgreSQL keeps neither; JSON carries both),
    a 5,000-digit version, a backlog past any integer column and times
    outside Python's years in UTC, from one kiosk, written in the same
    transaction as another kiosk's heartbeat:
    both are stored, the odd text as U+FFFD, and nobody gets a 500."""
    collector = served(heartbeat_flush=3)  # both heartbeats go in one write
    odd = {"version": "9" * 5000, "backlog": 10**30, "note": "a\x00b", "x\ud800": "\udc00y",
           "devices": {"scanner\x00": False}, "last_sync": "0001-01-01T00:00:00+05:00"}
    sent = {"door-1": json.dumps(odd), "door-2": json.dumps({"version": "0.2.0", "backlog": 3})}
    with httpx.Client(base_url=collector.direct_url) as client:
        for kiosk, body in sent.items():
            answer = client.post(f"/v1/kiosks/{kiosk}/heartbeat", content=body, headers={
                "Authorization": f"Bearer tok-{kiosk}", "Content-Type": "application/json"})
            assert answer.status_code == 200, answer.text
        events = [{"id": "p1", "reason": "r\x00", "extra": {"k": "\ud800"}},
                  {"id": "p3", "at": "9999-12-31T23:59:59-12:00"},  # after year 9999 in UTC
                  {"id": "p4", "latency_ms": 10**400}]  # an integer no double holds
        mine = client.post(EVENTS, content=json.dumps({"events": events}), headers=AUTH)
        theirs = client.post("/v1/kiosks/door-2/events", json={"events": [{"id": "q1"}]},
                             headers={"Authorization": "Bearer tok-door-2"})
        # "p\x002" and "p\ud8002" would both be "p\ufffd2": an id is refused, not changed.
        odd_id = client.post(EVENTS, content=json.dumps({"events": [{"id": "p\x002"}]}), headers=AUTH)
    assert odd_id.status_code == 400 and "event 0's id holds NUL" in odd_id.json()["error"]
    assert mine.json() == {"stored": ["p1", "p3", "p4"], "duplicates": []}
    assert theirs.json() == {"stored": ["q1"], "duplicates": []}
    deadline = time.monotonic() + 60
    while not all(k["last_seen"] for k in collector.storage.kiosks()) and time.monotonic() < deadline:
        time.sleep(0.05)
    beats = {k["kiosk_id"]: k["last_heartbeat"] for k in collector.storage.kiosks()}
    assert beats["door-2"] == {"version": "0.2.0", "backlog": 3}
    assert beats["door-1"]["note"] == "a\ufffdb" and beats["door-1"]["x\ufffd"] == "\ufffdy"
    assert {e["id"]: e["reason"] for e in collector.events()} == {"p1": "r\ufffd", "p3": None, "p4": None,
                                                                  "q1": None}
    now = collector.storage.kiosks()[0]["last_seen"]
    census = collector.storage.fleet_census(now=now, interval=30)
    assert (census["online"], census["troubled"], census["backlog"]) == (2, 1, 3)
    from collector.web.views import fleet_row  # and the fleet page can show it
    assert fleet_row(collector.storage.kiosk("door-1"), now, 30)["problems"] == [
        "scanner\ufffd not connected", f"{10**30} decisions not synced"]


def test_a_heartbeat_of_an_odd_shape_fails_nobody_elses_write(served):
    """Devices that are not an object and counts written as floats, from
    two kiosks in one write: both stored, ranked as their rows read."""
    collector = served(heartbeat_flush=3)  # both heartbeats go in one write
    sent = {"door-1": {"devices": "scanner", "relay_errors": 1e2, "backlog": 2e3, "version": "0.2"},
            "door-2": {"devices": [False], "relay_errors": True, "backlog": 5.5, "version": "0.2"}}
    with httpx.Client(base_url=collector.direct_url) as client:
        for kiosk, beat in sent.items():
            answer = client.post(f"/v1/kiosks/{kiosk}/heartbeat", json=beat,
                                 headers={"Authorization": f"Bearer tok-{kiosk}"})
            assert answer.status_code == 200, answer.text
    deadline = time.monotonic() + 60
    while not all(k["last_seen"] for k in collector.storage.kiosks()) and time.monotonic() < deadline:
        time.sleep(0.05)
    from collector.web.views import fleet_row
    now = max(k["last_seen"] for k in collector.storage.kiosks())
    rows = {k: fleet_row(collector.storage.kiosk(k), now, 30)["problems"] for k in sent}
    assert rows == {"door-1": ["100 relay errors", "2000 decisions not synced"], "door-2": []}
    ranked = collector.storage.fleet(now=now, interval=30)
    assert [(k["kiosk_id"], k["rank"]) for k in ranked] == [("door-1", 1), ("door-2", 4)]
    assert collector.storage.fleet_census(now=now, interval=30)["backlog"] == 2000


@pytest.mark.parametrize("value", [b"NaN", b"Infinity", b"-1e999", b"9" * 400 + b".0"])
def test_a_number_jsonb_cannot_hold_is_a_400(served, value):
    """NaN and infinities (PostgreSQL's jsonb keeps neither) fail the one
    request that sent them, not a write shared with other kiosks."""
    collector = served()
    with httpx.Client(base_url=collector.direct_url, headers={**AUTH, "Content-Type": "application/json"}) as client:
        beat = client.post("/v1/kiosks/door-1/heartbeat", content=b'{"uptime_s": ' + value + b"}")
        batch = client.post(EVENTS, content=b'{"events": [{"id": "n1", "latency_ms": ' + value + b"}]}")
    for answer in (beat, batch):
        assert answer.status_code == 400, answer.text
        assert "not a JSON number" in answer.json()["error"] or "too large" in answer.json()["error"]
    assert collector.event_ids() == []


def test_a_body_not_in_utf8_is_a_400(served):
    """UTF-16 would hide a NUL's escape from the check that makes text
    storable; JSON on the wire is UTF-8."""
    collector = served()
    body = json.dumps({"events": [{"id": "u1", "reason": "a\x00"}]}).encode("utf-16-le")
    answer = httpx.post(collector.direct_url + EVENTS, content=body,
                        headers={**AUTH, "Content-Type": "application/json"})
    assert answer.status_code == 400 and "not JSON" in answer.json()["error"]
    assert collector.event_ids() == []
    with_bom = b"\xef\xbb\xbf" + json.dumps({"events": [{"id": "b1"}]}).encode()  # UTF-8 all the same
    assert httpx.post(collector.direct_url + EVENTS, content=with_bom, headers=AUTH).json()["stored"] == ["b1"]


def _sql(storage_url: str, statement: str) -> None:
    """One statement on the database behind the collector's back."""
    if storage_url.startswith("postgresql"):
        with psycopg.connect(storage_url, autocommit=True) as conn:
            conn.execute(statement)
    else:
        with contextlib.closing(sqlite3.connect(storage_url, isolation_level=None)) as conn:
            conn.execute(statement)


def test_a_storage_failure_is_a_503_the_kiosk_retries(served, storage_url):
    """The events table gone from under it (as a failed disk or a bad
    migration would) is a 503 the kiosk retries, from the ingest workers too;
    once it is back the same batch is stored."""
    collector = served()
    _sql(storage_url, "ALTER TABLE events RENAME TO events_away")
    answer = httpx.post(collector.direct_url + EVENTS, json={"events": [{"id": "a"}]}, headers=AUTH)
    assert answer.status_code == 503 and "send again" in answer.json()["error"]
    _sql(storage_url, "ALTER TABLE events_away RENAME TO events")
    answer = httpx.post(collector.direct_url + EVENTS, json={"events": [{"id": "a"}]}, headers=AUTH)
    assert answer.status_code == 200 and answer.json()["stored"] == ["a"]


@pytest.mark.parametrize("storage_url", ["postgres"], indirect=True)  # SQLite stores on threads
def test_a_killed_ingest_worker_costs_one_retry_not_an_event(served):
    """PostgreSQL batches are stored by worker processes; SIGKILL them all and
    the collector answers 503 (never a hang, never a 200 without a commit),
    starts new ones, and the kiosk's resend is stored exactly once."""
    collector = served(ingest_workers=2)
    batch = {"events": [{"id": f"w{n}"} for n in range(50)]}
    assert httpx.post(collector.direct_url + EVENTS, json={"events": [{"id": "first"}]},
                      headers=AUTH).status_code == 200
    workers = spawned_children(os.getpid())
    assert len(workers) == 2
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    statuses = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = httpx.post(collector.direct_url + EVENTS, json=batch, headers=AUTH, timeout=60)
        statuses.append(answer.status_code)
        if answer.status_code == 200:
            break
    print("answers after the kill:", statuses)
    assert statuses[-1] == 200 and set(statuses[:-1]) <= {503}, statuses
    ids = collector.storage.event_ids("door-1")
    assert sorted(ids) == sorted(["first"] + [f"w{n}" for n in range(50)])


def test_made_up_kiosk_ids_cannot_push_the_fleets_tokens_out_of_the_cache(tmp_path):
    """A flood of requests for ids no kiosk has fills its own small corner
    of the token cache; the fleet's hashes stay, so their heartbeats keep
    costing no database lookup."""
    with open_storage(str(tmp_path / "c.sqlite")) as storage:
        storage.put_kiosk("door-1", "h1")
        cache = TokenCache(storage, seconds=3600, size=100)

        async def flood():
            assert await cache.get("door-1") == "h1"
            for n in range(1000):
                assert await cache.get(f"made-up-{n}") is None
        asyncio.run(flood())
        assert "door-1" in cache.entries and len(cache.unknown) <= 10
        cache.entries["gone"] = (0.0, "an old hash")  # expired, and no such kiosk now
        assert asyncio.run(cache.get("gone")) is None
        assert "gone" not in cache.entries and cache.unknown["gone"][1] is None

"""The collector's HTTP edge on a real uvicorn, over SQLite and PostgreSQL:
the protocol, and each abuse the old reference server fell to."""
import json
import socket
import threading
import time

import httpx
import pytest

from collector.app import Settings
from tests.collector_server import Collector
from tests.pg import postgres_server, storage_url  # noqa: F401 - fixtures

TOKEN = "tok-door-1"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EVENTS = "/v1/kiosks/door-1/events"


@pytest.fixture
def served(storage_url):
    made = []

    def make(**settings):
        collector = Collector(storage_url, tokens={"door-1": TOKEN, "door-2": "tok-door-2"},
                              settings=Settings(**settings), proxy=False,
                              timeout_keep_alive=1, header_seconds=1).start()
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


def test_the_token_is_checked_before_the_body_is_read(served):
    """Headers claiming 48 MiB and no body at all: the 401 comes at once, so
    the server never waited for (or buffered) an unauthenticated body."""
    url = served().direct_url
    status, body, _ = raw_exchange(url, (
        f"POST {EVENTS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer wrong\r\nContent-Length: {48 << 20}\r\n\r\n").encode())
    assert status == 401 and body["error"]


@pytest.mark.parametrize("length, status", [("-1", 400), ("1e9", 400), ("abc", 400),
                                            (str(10 << 20), 413)])
def test_a_bad_or_oversized_content_length_is_refused_before_reading(served, length, status):
    url = served(max_body=1 << 20).direct_url
    got, body, _ = raw_exchange(url, (
        f"POST {EVENTS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Length: {length}\r\n\r\n").encode())
    assert got == status and body["error"]


def test_a_chunked_body_over_the_limit_is_cut_off(served):
    url = served(max_body=64 * 1024).direct_url
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
def test_malformed_http_gets_a_json_400_not_a_dropped_connection(served, request_bytes):
    status, body, raw = raw_exchange(served().direct_url, request_bytes)
    assert status == 400 and "malformed" in body["error"] and b"Traceback" not in raw


@pytest.mark.parametrize("size", [40_000, 200_000])
def test_oversized_headers_are_refused(served, size):
    """Whole (one read) or in pieces (h11's own bound), either way a JSON 4xx."""
    status, body, _ = raw_exchange(served().direct_url, (
        f"POST {EVENTS} HTTP/1.1\r\nHost: x\r\nX-Big: {'a' * size}\r\n\r\n").encode())
    assert status in (400, 431) and body["error"]


def test_deeply_nested_json_is_refused_not_a_crash(served):
    url = served().direct_url
    for nested in (b"[" * 100_000 + b"]" * 100_000, b'{"events": ' + b"[" * 5000 + b"]" * 5000 + b"}"):
        answer = httpx.post(url + EVENTS, content=nested, headers=AUTH)
        assert answer.status_code == 400 and "nested" in answer.json()["error"]


def test_a_body_dripped_too_slowly_gets_408(served):
    url = served(body_timeout=0.5).direct_url
    status, body, _ = raw_exchange(url, (
        f"POST {EVENTS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
        "Content-Length: 100\r\n\r\n{\"ev").encode())
    assert status == 408 and body["error"]


def test_an_idle_connection_is_closed(served):
    url = served().direct_url  # header_seconds=1 and timeout_keep_alive=1 in the fixture
    host, port = url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        assert sock.recv(1) == b""  # the server hung up; recv would time out otherwise
    with socket.create_connection((host, int(port)), timeout=30) as sock:  # after one request
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")


def test_headers_dripped_too_slowly_get_408(served):
    status, body, _ = raw_exchange(served().direct_url, f"POST {EVENTS} HTTP/1.1\r\nHost: x".encode())
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


def test_a_storage_failure_is_a_503_the_kiosk_retries(served):
    collector = served()
    collector.storage.ingest = lambda rows: (_ for _ in ()).throw(
        __import__("collector.storage", fromlist=["StorageError"]).StorageError("disk full"))
    answer = httpx.post(collector.direct_url + EVENTS, json={"events": [{"id": "a"}]}, headers=AUTH)
    assert answer.status_code == 503 and "send again" in answer.json()["error"]

"""The status adapter against real HTTP servers on 127.0.0.1: the reference
status server, and a bare socket server for what no honest server does
(headers dripped a byte at a time, an answer about someone else).

Time bounds here are correctness bounds (a failed lookup ends within its
deadline plus a generous margin), not benchmarks.
"""
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from kiosk.app.config import Section, load_text
from kiosk.core.errors import ConfigError, LookupFailed
from kiosk.core.model import Identity, Status
from kiosk.services.status import PROBE_IIN, StatusClient, parse_answer
from kiosk.servers.status_server import DEMO_PEOPLE, DEMO_TOKEN, StatusServer, load_people, main

pytestmark = pytest.mark.usefixtures("no_threads_left")

DEADLINE = 0.5
MARGIN = 1.5  # generous: a loaded 2-core machine, not a benchmark
COLOURED = {colour: DEMO_PEOPLE[colour] for colour in ("green", "blue", "yellow", "red")}
PEOPLE = {number: {"colour": colour, "name": colour.title()} for colour, number in COLOURED.items()}
PEOPLE["N1234567"] = {"colour": "blue", "name": "Ivan"}
DEMO_CSV = os.path.join(os.path.dirname(__file__), "..", "kiosk", "demo", "people.csv")


def iin_check_digit(first11: str):
    """DESIGN.md's rule, written out again so the demo numbers are checked
    independently of the parser: weights 1..11, then 3..11,1,2; 10 twice = none."""
    digits = [int(c) for c in first11]
    for weights in (range(1, 12), [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]):
        check = sum(d * w for d, w in zip(digits, weights)) % 11
        if check != 10:
            return check
    return None


def person(iin: str) -> Identity:
    return Identity(kind="iin", number=iin, iin=iin)


def passport(number: str, country: str) -> Identity:
    return Identity(kind="passport", number=number, country=country)


@pytest.fixture
def server():
    with StatusServer(PEOPLE, token="tok") as running:
        yield running


@pytest.fixture
def client(server):
    with StatusClient(server.url, "tok", deadline=DEADLINE) as c:
        yield c


def failure(client, identity=None):
    """(cause, seconds taken) of a lookup that must fail."""
    started = time.monotonic()
    with pytest.raises(LookupFailed) as info:
        client.lookup(identity or person(COLOURED["green"]))
    return info.value.cause, time.monotonic() - started


# ---- answers ------------------------------------------------------------------

@pytest.mark.parametrize("colour", ["green", "blue", "yellow", "red"])
def test_each_colour(client, colour):
    status = client.lookup(person(COLOURED[colour]))
    assert status.colour == colour and not status.cached
    assert status.message  # StatusDescription when Message is empty


def test_passport_is_asked_by_number_and_country(client):
    body = client.body(passport("N1234567", "RUS"))
    assert body["Passport"] == "N1234567" and body["Country"] == "RUS" and "IIN" not in body
    assert client.lookup(passport("N1234567", "RUS")).colour == "blue"


def test_request_on_the_wire(raw_server):
    raw_server.respond = answer_json({"Status": "green"})
    with StatusClient(raw_server.url, "s3cret", language="ru", type="exit", venue_bin="123",
                      building_rka="R1") as client:
        client.lookup(person(COLOURED["green"]))
    request, = raw_server.requests
    assert request["line"] == "POST /v2/api/qrpass/employee/check HTTP/1.1"
    assert request["headers"]["authorization"] == "Bearer s3cret"
    assert json.loads(request["body"]) == {"IIN": COLOURED["green"], "Lang": "ru", "Type": "exit",
                                           "BIN": "123", "BuildingRKA": "R1"}


def test_one_connection_serves_many_lookups(raw_server):
    raw_server.respond = answer_json({"Status": "green"})
    with StatusClient(raw_server.url, "t") as client:
        for _ in range(5):
            client.lookup(person(COLOURED["green"]))
    assert raw_server.accepted == 1 and len(raw_server.requests) == 5


def test_bad_token_and_unknown_person(server):
    with StatusClient(server.url, "wrong", deadline=DEADLINE) as bad:
        assert failure(bad)[0] == "unauthorised"
    with StatusClient(server.url, "tok", deadline=DEADLINE) as good:
        assert failure(good, person(DEMO_PEOPLE["unknown"]))[0] == "not-found"


def test_an_answer_about_someone_else_is_refused(raw_server):
    raw_server.respond = answer_json({"IIN": COLOURED["red"], "Status": "green"})
    with StatusClient(raw_server.url, "t") as client:
        assert failure(client)[0] == "bad-body"


@pytest.mark.parametrize("raw, cause", [
    (b"[1]", "bad-body"), (b"{}", "unknown-status"), (b'{"Status": 3}', "unknown-status"),
    (b'{"Status": "purple"}', "unknown-status"), (b"\xff", "not-json"), (b"<html>", "not-json")])
def test_unusable_answers(raw, cause):
    with pytest.raises(LookupFailed) as info:
        parse_answer(raw)
    assert info.value.cause == cause


def test_answer_fields():
    assert parse_answer(b'{"Status": "Red", "StatusDescription": "Positive"}') == \
        Status("red", message="Positive")
    # Leading zeros lost by a service that sends the IIN as a number still match.
    assert parse_answer(b'{"IIN": 61211600012, "Status": "blue"}', asked_iin="061211600012").colour == "blue"


# ---- failures: one typed cause, within the deadline ----------------------------

@pytest.mark.parametrize("fault, cause", [
    ("delay:3", "timeout"), ("slow-drip", "timeout"), ("drop", "network"),
    ("error:500", "http-500"), ("error:503", "http-503"), ("error:429", "rate-limited"),
    ("not-json", "not-json"), ("unknown-status", "unknown-status")])
def test_every_fault_is_one_typed_failure_within_the_deadline(server, client, fault, cause):
    server.fault = fault
    got, took = failure(client)
    assert got == cause
    assert took < DEADLINE + MARGIN


def test_the_fault_can_be_cleared_and_the_next_lookup_works(server, client):
    server.fault = "slow-drip"
    assert failure(client)[0] == "timeout"
    server.fault = ""
    assert client.lookup(person(COLOURED["red"])).colour == "red"


def test_headers_dripped_a_byte_at_a_time_cannot_stretch_the_deadline(raw_server):
    """Every single read is quick, so per-phase timeouts never fire: only the
    whole-lookup watchdog ends this (without it, about 40 s)."""
    raw_server.respond = drip(b"HTTP/1.1 200 OK\r\n" + b"X-Padding: " + b"x" * 400 + b"\r\n", 0.1)
    with StatusClient(raw_server.url, "t", deadline=DEADLINE) as client:
        cause, took = failure(client)
    assert cause == "timeout" and took < DEADLINE + MARGIN


def test_a_stall_just_before_the_deadline_is_cut_at_the_deadline(raw_server):
    deadline = 3.0
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"
    raw_server.respond = lambda conn, stop: (stop.wait(deadline * 0.9), conn.sendall(head),
                                             stop.wait(30))
    with StatusClient(raw_server.url, "t", deadline=deadline) as client:
        cause, took = failure(client)
    # Per-phase timeouts alone would allow 0.9 + 1 deadlines: 5.7 s here.
    assert cause == "timeout" and took < deadline + MARGIN


def test_refused_connection():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with StatusClient(f"http://127.0.0.1:{port}", "t", deadline=DEADLINE) as client:
        cause, took = failure(client)
    assert cause == "refused" and took < DEADLINE + MARGIN


def test_a_stopped_server_is_down_even_for_a_kept_alive_connection(server, client):
    assert client.lookup(person(COLOURED["green"])).colour == "green"
    server.stop()
    assert failure(client)[0] in ("refused", "network")


def test_tls_to_a_plain_server_is_a_tls_failure(server):
    """The server answers the TLS hello with plain HTTP: the handshake fails,
    which is "tls" (not "network"), so a technician looks at the URL's scheme."""
    with StatusClient(server.url.replace("http://", "https://"), "tok", deadline=DEADLINE) as client:
        cause, took = failure(client)
    assert cause == "tls" and took < DEADLINE + MARGIN


def test_bad_url_or_ca_bundle_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="base_url"):
        StatusClient("ftp://example.kz", "t")
    with pytest.raises(ConfigError, match="ca_bundle"):
        StatusClient("https://example.kz", "t", ca_bundle=str(tmp_path / "missing.pem"))


def test_from_config_reads_the_status_section(server):
    cfg = load_text('[kiosk]\nlanguage = "en"\n[status]\n'
                      f'base_url = "{server.url}"\ndeadline = 0.7\nvenue_bin = "980440000006"\n'
                      'building_rka = "RKA1"\ntype = "exit"\n')
    with StatusClient.from_config(cfg, Section({"status_token": "tok"})) as client:
        assert client.deadline == 0.7
        assert client.fields == {"Lang": "en", "Type": "exit", "BIN": "980440000006",
                                 "BuildingRKA": "RKA1"}
        assert client.lookup(person(COLOURED["yellow"])).colour == "yellow"


def test_probe_accepts_the_token_and_names_what_is_wrong(server):
    assert PROBE_IIN == COLOURED["green"]
    with StatusClient(server.url, "tok") as good:
        good.probe()
        server.people.pop(PROBE_IIN)
        good.probe()  # 404: reachable, token accepted
    with StatusClient(server.url, "nope") as bad, pytest.raises(LookupFailed) as info:
        bad.probe()
    assert info.value.cause == "unauthorised"
    server.fault = "error:503"
    with StatusClient(server.url, "tok") as client, pytest.raises(LookupFailed) as info:
        client.probe()
    assert info.value.cause == "http-503"


# ---- the reference server ------------------------------------------------------

def test_server_log_never_shows_a_whole_number(capsys):
    with StatusServer(PEOPLE, token="tok", verbose=True) as server:
        with StatusClient(server.url, "tok", deadline=DEADLINE) as client:
            client.lookup(person(COLOURED["green"]))
            failure(client, person(DEMO_PEOPLE["unknown"]))
            client.lookup(passport("N1234567", "RUS"))
            server.fault = "drop"
            failure(client, person(COLOURED["red"]))
    err = capsys.readouterr().err
    for number in (COLOURED["green"], DEMO_PEOPLE["unknown"], COLOURED["red"]):
        assert number[-4:] in err and number not in err
    assert "N1234567" not in err


def test_server_answer_and_handling_times(server):
    import httpx
    with httpx.Client() as plain:
        answer = plain.post(server.url + "/v2/api/qrpass/employee/check",
                            headers={"Authorization": "Bearer tok"},
                            json={"IIN": COLOURED["yellow"], "Lang": "en"}).json()
    assert answer["IIN"] == COLOURED["yellow"] and answer["Status"] == "yellow"
    assert answer["StatusId"] == 3 and answer["Pass"] is False and answer["Name"] == "Yellow"
    assert answer["Date"].endswith("+06:00")
    assert len(server.handling_times) == 1 and 0 <= server.handling_times[0] < 5


def test_colours_and_faults_change_at_run_time(server, client):
    server.set_colour(COLOURED["green"], "red")
    assert client.lookup(person(COLOURED["green"])).colour == "red"
    with pytest.raises(ValueError):
        server.fault = "explode"
    with pytest.raises(ValueError):
        server.set_colour(COLOURED["green"], "purple")


def test_a_person_can_carry_a_fault(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(f"number,colour,name,fault\n{COLOURED['green']},green,A,\n"
                    f"{COLOURED['red']},red,B,drop\n")
    with StatusServer(load_people(str(path)), token="t") as server, \
            StatusClient(server.url, "t", deadline=DEADLINE) as client:
        assert client.lookup(person(COLOURED["green"])).colour == "green"
        assert failure(client, person(COLOURED["red"]))[0] == "network"


@pytest.mark.parametrize("text, where", [
    ("number,colour,name\n871008401427,green,A\n900315312301,purple,B\n", "people.csv:3"),
    ("iin,colour\n871008401427,green\n", "people.csv:1"),
    ("number,colour,name,fault\n871008401427,green,A,melt\n", "people.csv:2")])
def test_people_file_errors_name_the_line_not_the_number(tmp_path, text, where):
    path = tmp_path / "people.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=where) as info:
        load_people(str(path))
    assert "900315312301" not in str(info.value)


def test_command_line_refuses_a_bad_people_file_in_one_line(tmp_path, capsys):
    path = tmp_path / "people.csv"
    path.write_text("number,colour,name\n871008401427,grean,A\n")
    assert main(["--people", str(path), "--port", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and f"{path}:2" in err


def test_command_line_serves_until_sigterm(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("cli-token\n")
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from kiosk.servers.status_server import main; "
                               "sys.exit(main(sys.argv[1:]))",
         "--port", "0", "--token-file", str(token_file), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = process.stdout.readline()
        url = banner.split()[1]
        with StatusClient(url, "cli-token", deadline=5) as client:
            assert client.lookup(person(DEMO_PEOPLE["blue"])).colour == "blue"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


# ---- the demo people -----------------------------------------------------------

def test_demo_people_are_valid_and_match_the_file():
    for label in ("green", "blue", "yellow", "red", "child", "unknown", "bin"):
        number = DEMO_PEOPLE[label]
        assert len(number) == 12 and iin_check_digit(number[:11]) == int(number[-1]), label
    assert iin_check_digit("87100840142") == 7 and iin_check_digit("06121160001") == 2
    assert iin_check_digit("82121424009") is None
    people = load_people(DEMO_CSV)
    for colour in ("green", "blue", "yellow", "red"):
        assert people[DEMO_PEOPLE[colour]]["colour"] == colour
        assert DEMO_PEOPLE[colour][4] in "0123"  # a person, born in the 1980s-1990s
        assert DEMO_PEOPLE[colour][6] in "34"
    child = DEMO_PEOPLE["child"]
    assert child.startswith("24") and child[6] in "56" and people[child]["colour"] == "blue"
    assert people[DEMO_PEOPLE["foreigner"]]["colour"] == "green"
    assert DEMO_PEOPLE["unknown"] not in people and DEMO_PEOPLE["bin"] not in people
    assert DEMO_PEOPLE["bin"][4] == "4"
    assert DEMO_TOKEN == "demo-token"


# ---- a bare server for misbehaviour the reference server has no fault for ------

class RawServer:
    """Accepts HTTP/1.1 requests on 127.0.0.1 and hands each to ``respond(conn,
    stop)``; records request lines, headers and bodies. Threads end at close."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.respond = answer_json({"Status": "green"})
        self.requests, self.accepted = [], 0
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._accept)]
        self.threads[0].start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            thread = threading.Thread(target=self._serve, args=(conn,))
            self.threads.append(thread)
            thread.start()

    def _serve(self, conn):
        with conn, conn.makefile("rb") as reader:
            while not self.stop.is_set():
                if not select.select([conn], [], [], 0.05)[0]:
                    continue
                line = reader.readline()
                if not line:
                    return
                headers = {}
                while (header := reader.readline().decode()) not in ("\r\n", ""):
                    name, _, value = header.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = reader.read(int(headers.get("content-length", 0)))
                self.requests.append({"line": line.decode().strip(), "headers": headers, "body": body})
                try:
                    self.respond(conn, self.stop)
                except OSError:
                    return

    def close(self):
        self.stop.set()
        for thread in list(self.threads):
            thread.join(timeout=5)
        self.listener.close()


@pytest.fixture
def raw_server():
    running = RawServer()
    yield running
    running.close()


def answer_json(data: dict):
    body = json.dumps(data).encode()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    return lambda conn, stop: conn.sendall(head % len(body) + body)


def drip(data: bytes, every: float):
    def respond(conn, stop):
        for byte in data:
            conn.sendall(bytes([byte]))
            if stop.wait(every):
                return
    return respond

"""The status adapter against the real reference server on 127.0.0.1."""
import socket
import time

import pytest

from kiosk.documents import parse, parse_typed
from kiosk.errors import LookupFailed
from kiosk.status import StatusClient, parse_answer
from kiosk.status_server import DEMO_PEOPLE, StatusServer, load_people

GREEN = DEMO_PEOPLE["green"]
PEOPLE = {GREEN: {"colour": "green", "name": "A"}, DEMO_PEOPLE["red"]: {"colour": "red", "name": ""},
          "N1234567": {"colour": "blue", "name": ""}}
DEADLINE = 0.8


@pytest.fixture
def server():
    with StatusServer(PEOPLE, token="tok") as s:
        yield s


@pytest.fixture
def client(server):
    with StatusClient(server.url, "tok", deadline=DEADLINE) as c:
        yield c


def cause_of(client, identity=None):
    started = time.monotonic()
    with pytest.raises(LookupFailed) as info:
        client.lookup(identity or parse(GREEN.encode()))
    return info.value.cause, time.monotonic() - started


def test_colours(client):
    assert client.lookup(parse(GREEN.encode())).colour == "green"
    assert client.lookup(parse(DEMO_PEOPLE["red"].encode())).colour == "red"


def test_passport_is_asked_by_number_and_country(client):
    body = client.body(parse_typed("N1234567", country="RUS"))
    assert body["Passport"] == "N1234567" and body["Country"] == "RUS" and "IIN" not in body
    assert client.lookup(parse_typed("N1234567", country="RUS")).colour == "blue"


def test_body_carries_language_type_and_venue(server):
    client = StatusClient(server.url, "tok", language="ru", type="exit", venue_bin="123",
                          building_rka="R1")
    assert client.body(parse(GREEN.encode())) == {"IIN": GREEN, "Lang": "ru", "Type": "exit",
                                                  "BIN": "123", "BuildingRKA": "R1"}
    client.close()


def test_bad_token_and_unknown_person(server):
    with StatusClient(server.url, "wrong") as bad:
        assert cause_of(bad)[0] == "unauthorised"
    with StatusClient(server.url, "tok") as good:
        assert cause_of(good, parse(DEMO_PEOPLE["unknown"].encode()))[0] == "not-found"


@pytest.mark.parametrize("fault, cause", [
    ("delay:3", "timeout"), ("slow-drip", "timeout"), ("drop", "network"),
    ("error:500", "http-500"), ("error:503", "http-503"), ("error:429", "rate-limited"),
    ("not-json", "not-json"), ("unknown-status", "unknown-status")])
def test_every_fault_is_one_typed_failure_within_the_deadline(server, client, fault, cause):
    server.fault = fault
    got, took = cause_of(client)
    assert got == cause
    assert took < DEADLINE + 0.6  # a correctness bound: one deadline, plus one drip


def test_refused_connection():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with StatusClient(f"http://127.0.0.1:{port}", "t") as client:
        assert cause_of(client)[0] == "refused"


def test_tls_to_a_plain_server_is_a_tls_failure(server):
    with StatusClient(server.url.replace("http://", "https://"), "tok") as client:
        assert cause_of(client)[0] == "tls"


def test_probe_accepts_token_and_reports_a_bad_one(server):
    StatusClient(server.url, "tok").probe()
    with pytest.raises(LookupFailed) as info:
        StatusClient(server.url, "nope").probe()
    assert info.value.cause == "unauthorised"


@pytest.mark.parametrize("raw, cause", [(b"[1]", "bad-body"), (b"{}", "unknown-status"),
                                        (b'{"Status": 3}', "unknown-status"), (b"\xff", "not-json")])
def test_answer_parsing(raw, cause):
    with pytest.raises(LookupFailed) as info:
        parse_answer(raw)
    assert info.value.cause == cause


def test_server_log_masks_numbers(capsys):
    with StatusServer(PEOPLE, token="tok", verbose=True) as server:
        with StatusClient(server.url, "tok") as client:
            client.lookup(parse(GREEN.encode()))
    err = capsys.readouterr().err
    assert GREEN[-4:] in err and GREEN not in err


def test_people_file_errors_name_the_line(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("number,colour,name\n871008401427,green,A\n900315312301,purple,B\n")
    with pytest.raises(ValueError, match=r"people.csv:3"):
        load_people(str(path))

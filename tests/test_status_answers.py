"""Issue 12, item 3: status answers as real services send them, against the
reference status server on 127.0.0.1: compressed (every encoding the client
advertises, and a bomb stopped at the decoded-size cap), extra and missing
fields, names and colours in any case, and "Pass": false never admitting
whatever the colour."""
import datetime as dt
import gzip
import zlib

import pytest

from kiosk.app.config import load_text
from kiosk.services.encodings import ACCEPT_ENCODING, BoundedDecoder
from kiosk.core.errors import LookupFailed
from kiosk.core.model import Identity, Status
from kiosk.core.policy import decide
from kiosk.services.status import MAX_BODY, StatusClient, parse_answer
from kiosk.servers.status_server import DEMO_PEOPLE, StatusServer

pytestmark = pytest.mark.usefixtures("no_threads_left")

GREEN, RED = DEMO_PEOPLE["green"], DEMO_PEOPLE["red"]
PEOPLE = {GREEN: {"colour": "green", "name": "G"}, RED: {"colour": "red", "name": "R"},
          "N1234567": {"colour": "blue", "name": "P"}}
WHEN = dt.datetime(2026, 11, 25, 12, 0)  # a Wednesday: no weekend rule in play


def person(iin: str) -> Identity:
    return Identity(kind="iin", number=iin, iin=iin)


def lookup(identity: Identity = None, **server_options) -> Status:
    with StatusServer(PEOPLE, token="tok", **server_options) as server, \
            StatusClient(server.url, "tok", deadline=5) as client:
        return client.lookup(identity or person(GREEN))


def verdict(status: Status, policy_text: str = ""):
    policy = load_text('[status]\nbase_url = "http://x"\n[policy]\n' + policy_text).policy
    return decide(person(GREEN), status, policy, WHEN)


# ---- compression -----------------------------------------------------------------

def test_the_client_advertises_exactly_what_it_decodes():
    assert ACCEPT_ENCODING == "gzip, deflate"


@pytest.mark.parametrize("compress", ["auto", "gzip", "deflate", "deflate-raw"])
def test_a_compressed_answer_is_read(compress):
    status = lookup(compress=compress)
    assert (status.colour, status.passes) == ("green", True)
    assert lookup(person(RED), compress=compress).colour == "red"
    assert lookup(Identity("passport", "N1234567", country="RUS"), compress=compress).colour == \
        "blue"


def test_a_compression_bomb_stops_at_the_decoded_size_cap():
    with pytest.raises(LookupFailed) as info:
        lookup(fault="bomb")
    assert info.value.cause == "bad-body" and "decoded" in str(info.value)


def test_the_decoder_caps_decoded_bytes_and_refuses_what_was_not_asked_for():
    body = b'{"Status": "green"}' + b" " * 1000
    for raw, encoding in ((gzip.compress(body), "gzip"), (zlib.compress(body), "deflate"),
                          (body, None), (body, "identity")):
        fits = BoundedDecoder(encoding, limit=len(body))
        fits.feed(raw[:7]), fits.feed(raw[7:])  # split anywhere, even in a header
        assert fits.finish() == body
        with pytest.raises(LookupFailed):
            too_small = BoundedDecoder(encoding, limit=len(body) - 1)
            too_small.feed(raw)
            too_small.finish()
    for encoding in ("br", "zstd", "compress"):
        with pytest.raises(LookupFailed):
            BoundedDecoder(encoding, limit=MAX_BODY)
    cut = BoundedDecoder("gzip", limit=MAX_BODY)
    cut.feed(gzip.compress(body)[:-12])
    with pytest.raises(LookupFailed):
        cut.finish()
    with pytest.raises(LookupFailed):
        BoundedDecoder("gzip", limit=MAX_BODY).feed(b"not gzip at all")


# ---- fields: extra, missing, any case ----------------------------------------------

def test_the_real_services_extra_fields_are_ignored():
    status = lookup(style="ashyq")
    assert (status.colour, status.passes) == ("green", True)


def test_missing_optional_fields_are_fine():
    status = lookup(style="minimal")
    assert (status.colour, status.passes, status.message) == ("green", None, "")
    assert verdict(status).decision == "admit"


def test_field_names_and_colours_in_another_case():
    status = lookup(style="other-case", compress="auto")
    assert (status.colour, status.passes) == ("green", True)
    assert parse_answer(b'{"STATUS": "BLUE", "pass": "true"}').passes is True
    assert parse_answer(b'{"sTaTuS": " Red "}').colour == "red"


# ---- Pass: false never admits -------------------------------------------------------

def test_pass_false_never_admits_whatever_the_colour():
    status = lookup(fault="no-pass")
    assert (status.colour, status.passes) == ("green", False)
    for colour in ("green", "blue", "yellow", "red"):
        refused = verdict(Status(colour, passes=False), 'admit = ["green", "blue", "yellow", "red"]'
                                                         '\ndeny = []')
        assert refused.decision != "admit", colour
    assert verdict(Status("green", passes=False)).reason == "no-pass"
    assert verdict(Status("red", passes=False)).decision == "deny"
    assert verdict(Status("green", passes=True)).decision == "admit"


@pytest.mark.parametrize("raw", [b'{"Status": "green", "Pass": "maybe"}',
                                 b'{"Status": "green", "Pass": 2}',
                                 b'{"Status": "green", "pass": []}'])
def test_a_pass_that_is_neither_true_nor_false_is_a_failed_lookup(raw):
    with pytest.raises(LookupFailed) as info:
        parse_answer(raw)
    assert info.value.cause == "bad-body"


def test_pass_spelled_as_text_or_number():
    assert parse_answer(b'{"Status": "green", "Pass": "False"}').passes is False
    assert parse_answer(b'{"Status": "green", "Pass": 0}').passes is False
    assert parse_answer(b'{"Status": "green", "Pass": true}').passes is True


def test_a_refused_person_is_not_admitted_offline_from_an_older_green(journal):
    from kiosk.services.cache import StatusCache
    from kiosk.services.lookups import LookupWorker
    from kiosk.core.model import Failure, Lookup
    from kiosk.services.sealing import person_hash
    cache = StatusCache(journal, max_age_hours={"green": 72, "red": 72})
    hashed = lambda number: person_hash(number, b"k")
    with StatusServer(PEOPLE, token="tok") as server, \
            StatusClient(server.url, "tok", deadline=5) as client:
        worker = LookupWorker(client, lambda event: None, cache=cache, person_hash=hashed,
                              use_cache=True)
        ask = Lookup("r", person(GREEN))
        assert worker.answer(ask).passes is True  # green remembered
        server.fault = "no-pass"
        assert worker.answer(ask).passes is False
        server.fault = "error:503"
        offline = worker.answer(ask)
    cache.close()
    assert not (isinstance(offline, Status) and offline.colour == "green"), offline
    assert isinstance(offline, Failure) or verdict(offline).decision != "admit"

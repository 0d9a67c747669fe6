"""How the reference status server shapes its answers: the fields the real
Ashyq service sends (or fewer, or in another case) and the compressions a
reverse proxy in front of it adds. Kept apart from the server's plumbing.

    >>> shape_answer("minimal", "871008401427", "green", {"colour": "green"}, {}, passes=True)
    {'IIN': '871008401427', 'Status': 'green'}
"""
from __future__ import annotations

import datetime as dt
import gzip
import zlib

from kiosk.core.model import COLOURS

DESCRIPTIONS = {"green": "Negative PCR or vaccinated", "blue": "No PCR result, not a contact",
                "yellow": "Contact of a case", "red": "Positive"}
ALMATY = dt.timezone(dt.timedelta(hours=6))
COMPRESSIONS = ("", "auto", "gzip", "deflate", "deflate-raw")
STYLES = ("ashyq", "minimal", "other-case")
BOMB_BYTES = 64 * 1024 * 1024
_ENCODERS = {
    "gzip": ("gzip", lambda body: gzip.compress(body, mtime=0)),
    "deflate": ("deflate", zlib.compress),  # zlib-wrapped, as RFC 9110 says
    "deflate-raw": ("deflate", lambda body: _raw_deflate(body)),  # what some servers send
}


def _raw_deflate(body: bytes) -> bytes:
    encoder = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return encoder.compress(body) + encoder.flush()


def gzip_bomb() -> bytes:
    """A valid JSON answer padded with spaces: small compressed, huge inflated."""
    encoder = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    head = b'{"Status": "green"'
    out = [encoder.compress(head)]
    spaces = b" " * (1024 * 1024)
    for _ in range(BOMB_BYTES // len(spaces)):
        out.append(encoder.compress(spaces))
    return b"".join(out) + encoder.compress(b"}") + encoder.flush()


def compress_body(how: str, body: bytes) -> tuple[str, bytes]:
    """(Content-Encoding, compressed body) for one of :data:`COMPRESSIONS`
    other than "" and "auto"."""
    encoding, encode = _ENCODERS[how]
    return encoding, encode(body)


def shape_answer(style: str, number: str, colour: str, person: dict, asked: dict, *,
                 passes: bool) -> dict:
    """The 200 answer in one of :data:`STYLES`."""
    if style == "minimal":
        return {"IIN": number, "Status": colour}
    answer = {"IIN": number, "Status": colour,
              "StatusId": COLOURS.index(person["colour"]) + 1,
              "StatusDescription": DESCRIPTIONS.get(colour, ""), "Message": "",
              "Pass": passes, "Date": dt.datetime.now(ALMATY).isoformat(timespec="seconds"),
              "Name": person.get("name", ""),
              # what the real service also sends (public clients show it)
              "Indicator": colour, "Code": 0, "BIN": asked.get("BIN", ""),
              "BuildingRKA": asked.get("BuildingRKA", ""), "Type": asked.get("Type", "entry")}
    if style == "other-case":
        answer = {name.lower(): value for name, value in answer.items()}
        answer["status"] = colour.title()
    return answer

"""The reference status service: the Ashyq-compatible contract on the
standard library's HTTP server, for demos, tests and venue trials.

    ashyq-kiosk status-server --people people.csv --port 8080 --token-file token

It can be told to misbehave, at start (``--fault``) or at run time
(``server.fault = ...``): ``delay:SECONDS``, ``error:CODE``, ``not-json``,
``unknown-status``, ``drop`` (close without answering), ``slow-drip`` (one
byte every half second). Its log shows only the last four digits of a number.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
import time
from collections import deque
from typing import Optional

from .httpd import BackgroundServer, JsonHandler, serve
from .model import COLOURS, mask

PATH = "/v2/api/qrpass/employee/check"
DEMO_TOKEN = "demo-token"
# The demo's people (kiosk/demo/people.csv); "unknown" is valid but absent,
# "bin" is a company number with a valid check digit.
DEMO_PEOPLE = {
    "green": "871008401427",
    "blue": "900315312301",
    "yellow": "850620412304",
    "red": "920704323404",
    "child": "240101512341",
    "foreigner": "N1234567",
    "unknown": "951111343215",
    "bin": "980440000006",
}
DESCRIPTIONS = {"green": "Negative PCR or vaccinated", "blue": "No PCR result, not a contact",
                "yellow": "Contact of a case", "red": "Positive"}
ALMATY = dt.timezone(dt.timedelta(hours=6))


def load_people(path: str) -> dict[str, dict]:
    """CSV with the header ``number,colour,name``; a bad row is a ValueError
    naming the file and line."""
    people = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            number, colour = (row.get("number") or "").strip(), (row.get("colour") or "").strip()
            if not number or colour not in COLOURS:
                raise ValueError(f"{path}:{line}: need a number and one of {', '.join(COLOURS)}")
            people[number] = {"colour": colour, "name": (row.get("name") or "").strip()}
    return people


class _Handler(JsonHandler):
    def do_POST(self):
        started = time.perf_counter()
        owner = self.owner
        raw = self.body()
        if self.path != PATH:
            return self._answer(404, {"error": "no such endpoint"}, started)
        if self.headers.get("Authorization") != f"Bearer {owner.token}":
            return self._answer(401, {"error": "bad token"}, started)
        fault = owner.fault
        if fault.startswith("delay:"):
            time.sleep(float(fault.split(":", 1)[1]))
        if fault == "drop":
            self.close_connection = True
            return
        if fault.startswith("error:"):
            return self._answer(int(fault.split(":", 1)[1]), {"error": "fault"}, started)
        try:
            body = json.loads(raw)
        except ValueError:
            return self._answer(400, {"error": "not json"}, started)
        number = body.get("IIN") or body.get("Passport") or ""
        person = owner.people.get(number)
        if person is None:
            return self._answer(404, {"error": "unknown person", "IIN": number}, started)
        colour = "purple" if fault == "unknown-status" else person["colour"]
        answer = {"IIN": number, "Status": colour, "StatusId": COLOURS.index(person["colour"]) + 1,
                  "StatusDescription": DESCRIPTIONS.get(colour, ""), "Message": "",
                  "Pass": colour in ("green", "blue"),
                  "Date": dt.datetime.now(ALMATY).isoformat(timespec="seconds"),
                  "Name": person["name"]}
        self._answer(200, answer, started, raw=b"{not json" if fault == "not-json" else None)

    def _answer(self, code: int, data: dict, started: float, raw: Optional[bytes] = None):
        self.answer(code, data, raw=raw, drip=0.5 if self.owner.fault == "slow-drip" else 0.0)
        self.owner.handling_times.append(time.perf_counter() - started)
        number = data.get("IIN", "")
        self.owner.log(f"{code} {mask(number) if number else '-'}")


class StatusServer(BackgroundServer):
    name = "status-server"
    """The server in a background thread.

    >>> with StatusServer({"871008401427": {"colour": "green", "name": ""}}, token="t") as s:
    ...     s.url.startswith("http://127.0.0.1:")
    True
    """

    def __init__(self, people: Optional[dict] = None, *, token: str = "", host: str = "127.0.0.1",
                 port: int = 0, fault: str = "", verbose: bool = False):
        self.people = dict(people or {})
        self.token = token
        self.fault = fault
        self.verbose = verbose
        self.handling_times: deque = deque(maxlen=100_000)
        super().__init__(_Handler, host=host, port=port)

    def set_colour(self, number: str, colour: str) -> None:
        self.people[number] = {"colour": colour, "name": ""}

    def log(self, line: str) -> None:
        if self.verbose:
            print(f"status-server: {line}", file=sys.stderr, flush=True)



def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="ashyq-kiosk status-server", description=__doc__.splitlines()[0])
    parser.add_argument("--people", help="CSV: number,colour,name (default: the demo people)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--token-file", help="file holding the bearer token (default: the demo token)")
    parser.add_argument("--fault", default="", help="delay:S, error:CODE, not-json, unknown-status, drop, slow-drip")
    args = parser.parse_args(argv)
    try:
        if args.people:
            people = load_people(args.people)
        else:
            from importlib import resources
            people = load_people(str(resources.files("kiosk").joinpath("demo/people.csv")))
        token = open(args.token_file, encoding="utf-8").read().strip() if args.token_file else DEMO_TOKEN
        server = StatusServer(people, token=token, host=args.host, port=args.port, fault=args.fault,
                              verbose=True)
    except (OSError, ValueError) as exc:
        print(f"status-server: {exc}", file=sys.stderr)
        return 2
    return serve(server, f"status-server: {server.url} ({len(people)} people)")

"""The reference status service's people and faults: the demo's people, a
people file (CSV) read with every error placed on its line, and the fault
names the server can play."""
from __future__ import annotations

import csv

from kiosk.core.model import COLOURS

DEMO_TOKEN = "demo-token"
# The demo's people (kiosk/demo/people.csv). All numbers have valid check
# digits; "unknown" is a person absent from the file; "bin" is a company.
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

def check_fault(fault: str) -> str:
    """The fault if it is one this server knows, else ValueError.

    >>> check_fault("error:503")
    'error:503'
    """
    name, _, arg = fault.partition(":")
    try:
        if name == "delay" and float(arg) >= 0:
            return fault
        if name == "error" and 100 <= int(arg) <= 599:
            return fault
    except ValueError:
        pass
    if fault in ("", "not-json", "unknown-status", "no-pass", "bomb", "drop", "slow-drip"):
        return fault
    raise ValueError(f"unknown fault {fault!r}: use delay:SECONDS, error:CODE, not-json, "
                     "unknown-status, no-pass, bomb, drop or slow-drip")


def load_people(path: str) -> dict[str, dict]:
    """CSV with the header ``number,colour,name`` (and optionally ``fault``);
    a bad row is a ValueError naming the file and line, never the number."""
    people = {}
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if not {"number", "colour", "name"} <= set(reader.fieldnames or ()):
                raise ValueError(f"{path}:1: the header must be number,colour,name")
            for row in reader:
                line = reader.line_num
                number = (row.get("number") or "").strip().upper()
                colour = (row.get("colour") or "").strip().lower()
                if not number or colour not in COLOURS:
                    raise ValueError(f"{path}:{line}: need a number and one of {', '.join(COLOURS)}")
                try:
                    fault = check_fault((row.get("fault") or "").strip())
                except ValueError as exc:
                    raise ValueError(f"{path}:{line}: {exc}") from None
                people[number] = {"colour": colour, "name": (row.get("name") or "").strip(),
                                  "fault": fault}
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{path}: not a UTF-8 CSV file: {exc}") from None
    return people

"""The venue's rules as a pure function: (identity, lookup outcome, rules,
local time) -> verdict. No I/O and no clock of its own.

The table is the ``[policy]`` section: three lists mapping colours to
``admit``, ``deny`` or ``staff``, then ``[[policy.rules]]`` that override the
listed colours on given days and hours (the last matching rule wins).

    >>> from kiosk.app.config import load_text   # the [policy] section, as the kiosk reads it
    >>> from kiosk.core.model import Status
    >>> policy = load_text('[status]\\nbase_url="http://x"\\n'
    ...     '[[policy.rules]]\\ndays=["sat","sun"]\\ndeny=["blue"]\\n').policy
    >>> saturday = dt.datetime(2026, 11, 21, 19, 0)
    >>> decide(None, Status("blue"), policy, saturday).decision
    'deny'

A failed lookup never admits: ``on_failure`` is ``staff`` or ``deny``, and
``admit-if-cached`` admits only through a cached :class:`Status` that the
application supplies, never from a :class:`Failure`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from kiosk.core.documents import age_on
from kiosk.core.model import Failure, Identity, Outcome

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A TOML table as the config loader validated it: its values are lists of
# colours, numbers, strings and rule tables, so they stay ``Any`` here.
Table = Mapping[str, Any]


@dataclass(frozen=True)
class Verdict:
    decision: str  # admit | deny | staff
    reason: str  # a stable code for the screen and the journal


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def rule_applies(rule: Table, when: dt.datetime) -> bool:
    """Whether a ``[[policy.rules]]`` entry covers this local time.

    A window whose end is before its start runs over midnight (22:00-02:00)."""
    start, end = _minutes(rule["from"]), _minutes(rule["to"])
    minute = when.hour * 60 + when.minute
    day = DAYS[when.weekday()]
    if start <= end:
        return day in rule["days"] and start <= minute < end
    if minute >= start:
        return day in rule["days"]
    yesterday = DAYS[(when.weekday() - 1) % 7]
    return yesterday in rule["days"] and minute < end


def colour_table(policy: Table, when: dt.datetime) -> tuple[dict[str, str], Optional[str]]:
    """colour -> decision in force at ``when``, and the name of the last rule
    that changed it (for the journal's reason)."""
    table: dict[str, str] = {}
    for decision in ("admit", "deny", "staff"):
        for colour in policy[decision]:
            table[colour] = decision
    applied = None
    for index, rule in enumerate(policy["rules"]):
        if not rule_applies(rule, when):
            continue
        for decision in ("admit", "deny", "staff"):
            for colour in rule[decision]:
                table[colour] = decision
                applied = rule["name"] or f"rule-{index + 1}"
    return table, applied


def before_lookup(identity: Identity, policy: Table, when: dt.datetime) -> Optional[Verdict]:
    """A verdict that needs no status lookup, or None to look the person up.

    An expired document is refused only where the venue chose
    ``refuse_expired`` (it still identifies its holder); young children need
    no check (the age comes from the IIN); foreign passports go to staff
    where the venue says so."""
    expiry = identity.expiry_date
    if policy.get("refuse_expired") and expiry is not None and expiry < when.date():
        return Verdict("deny", "expired")  # valid through its expiry day (9303-3)
    exempt = policy["exempt_under_years"]
    if exempt and identity.iin and identity.birth_date:
        if age_on(identity.birth_date, when.date()) < exempt:
            return Verdict("admit", f"exempt-under-{exempt}")
    if identity.iin is None and policy["foreign_passports"] == "staff":
        return Verdict("staff", "foreign-passport")
    return None


def decide(identity: Optional[Identity], outcome: Outcome, policy: Table,
           when: dt.datetime) -> Verdict:
    """The verdict for a looked-up person."""
    if isinstance(outcome, Failure):
        decision = "deny" if policy["on_failure"] == "deny" else "staff"
        return Verdict(decision, f"lookup-{outcome.cause}")
    table, rule = colour_table(policy, when)
    # A colour the venue did not place anywhere goes to a person, not the door.
    decision = table.get(outcome.colour, "staff")
    reason = f"{outcome.colour}-{rule}" if rule else outcome.colour
    if outcome.passes is False and decision == "admit":
        # The service said no: its colour alone never opens the door.
        decision, reason = "deny", "no-pass"  # the row's colour column keeps the colour
    if outcome.cached:
        reason += "-cached"
    return Verdict(decision, reason)

"""Load and validate the kiosk's TOML configuration as a whole.

Every problem is reported at once, each as ``FILE:LINE: section.key: message
(did you mean 'x'?)``, so a technician fixes a file in one pass.

    >>> cfg = load_text('[status]\\nbase_url = "http://127.0.0.1:8080"\\n')
    >>> cfg.status.deadline
    1.5
"""
from __future__ import annotations

import difflib
import os
import re
import stat
import tomllib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Optional

from kiosk.app import config_checks as checks
from kiosk.core.errors import ConfigError
from kiosk.app.schema import REQUIRED, RULE, SCHEMA, SECRETS, Key

DEFAULT_PATH = "/etc/ashyq-kiosk/kiosk.toml"  # where install.sh puts it and systemd looks


@dataclass(frozen=True)
class Problem:
    file: str
    line: Optional[int]
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}"


class Section(Mapping):
    """A read-only section: ``cfg.status.deadline`` or ``cfg.status["deadline"]``."""

    def __init__(self, values: dict):
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        raise AttributeError("configuration is read-only")

    def __getitem__(self, key):
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def __repr__(self):
        return f"Section({self._values!r})"

    def replace(self, **changes) -> "Section":
        return Section({**self._values, **changes})


_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGN = re.compile(r"^\s*([A-Za-z0-9_\-\"']+)\s*=")


def key_lines(text: str) -> dict[str, int]:
    """Map ``section.key`` (and ``section``) to the 1-based line defining it.

    A line scanner, not a TOML parser: enough to point a person at the right
    line of a hand-written config. An array of tables keeps its first line
    under its name, and each entry's lines under ``name[i]`` too.
    """
    lines: dict[str, int] = {}
    table, entry = "", ""
    counts: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = header.group(1).replace('"', "").replace("'", "").strip()
            lines.setdefault(table, number)
            entry = ""
            if line.lstrip().startswith("[["):
                counts[table] = counts.get(table, -1) + 1
                entry = f"{table}[{counts[table]}]"
                lines[entry] = number
            continue
        assign = _ASSIGN.match(line)
        if assign:
            name = assign.group(1).strip("\"'")
            lines.setdefault(f"{table}.{name}" if table else name, number)
            if entry:
                lines.setdefault(f"{entry}.{name}", number)
    return lines


def _suggest(name: str, options) -> str:
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _type_name(kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
             list: "a list"}
    if int in kinds and float in kinds:
        return "a number"
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


def _check_value(key: Key, value: Any) -> Optional[str]:
    kinds = key.type if isinstance(key.type, tuple) else (key.type,)
    if isinstance(value, bool) and bool not in kinds:
        return f"expected {_type_name(key.type)}, got {value!r}"
    if not isinstance(value, kinds):
        return f"expected {_type_name(key.type)}, got {value!r}"
    if key.choices is not None and value not in key.choices:
        choices = ', '.join(map(repr, key.choices))
        return f"{value!r} is not one of {choices}{_suggest(str(value), map(str, key.choices))}"
    if key.min is not None and isinstance(value, (int, float)) and value < key.min:
        return f"{value!r} is below the minimum {key.min}"
    if key.max is not None and isinstance(value, (int, float)) and value > key.max:
        return f"{value!r} is above the maximum {key.max}"
    if key.items is not None:
        for item in value:
            if item not in key.items:
                return f"{item!r} is not one of {', '.join(map(repr, key.items))}{_suggest(str(item), key.items)}"
    if key.check is not None:
        return key.check(value)
    return None


def _validate_table(schema: dict[str, Key], data: Any, prefix: str, file: str,
                    lines: dict[str, int], problems: list, entry: str = "") -> dict:
    """Defaults filled in, every problem appended; returns the clean values.
    ``entry`` names one table of an array (``policy.rules[2]``) for lines."""
    at = entry or prefix
    where = lambda name: lines.get(f"{at}.{name}" if at else name, lines.get(at))
    label = lambda name: f"{prefix}.{name}" if prefix else name
    if not isinstance(data, dict):
        problems.append(Problem(file, lines.get(prefix), prefix, "expected a table"))
        return {}
    clean = {}
    for name, value in data.items():
        if name not in schema:
            problems.append(Problem(file, where(name), label(name),
                                    "unknown key" + _suggest(name, schema)))
            continue
        message = _check_value(schema[name], value)
        if message:
            problems.append(Problem(file, where(name), label(name), message))
        else:
            clean[name] = value
    for name, key in schema.items():
        if name in clean:
            continue
        if key.default is REQUIRED:
            if name not in data:
                problems.append(Problem(file, lines.get(at), label(name), "is required"))
        else:
            clean[name] = list(key.default) if isinstance(key.default, list) else key.default
    return clean


def validate(data: dict, file: str = "<config>", text: str = "") -> dict[str, Section]:
    """Validate parsed TOML; return sections or raise ConfigError with every problem."""
    lines = key_lines(text)
    problems: list[Problem] = []
    for name in data:
        if name not in SCHEMA:
            problems.append(Problem(file, lines.get(name), name,
                                    "unknown section" + _suggest(name, SCHEMA)))
    sections = {}
    for name, schema in SCHEMA.items():
        sections[name] = _validate_table(schema, data.get(name, {}), name, file, lines, problems)
    _explicit_colours_win(sections["policy"], data.get("policy"))
    rules = []
    for index, rule in enumerate(sections["policy"].get("rules", [])):
        entry = f"policy.rules[{index}]"
        clean = _validate_table(RULE, rule, "policy.rules", file, lines, problems, entry)
        for key, message in checks.colour_conflicts(clean, "policy.rules"):
            problems.append(Problem(file, lines.get(f"{entry}.{key.rsplit('.', 1)[1]}",
                                                    lines.get(entry)), key, message))
        rules.append(Section(clean))
    sections["policy"]["rules"] = rules
    for key, message in (checks.shared_pins(sections) + checks.cache_needed(sections) +
                         checks.colour_conflicts(sections["policy"], "policy")):
        problems.append(Problem(file, lines.get(key, lines.get(key.split(".")[0])), key, message))
    problems += _venue_problems(sections, file, lines)
    if problems:
        raise ConfigError(problems)
    return {name: Section(values) for name, values in sections.items()}


def _explicit_colours_win(policy: dict, written) -> None:
    """A colour the file places under one decision leaves the default lists
    of the others (admit = ["green", "blue", "yellow"] admits yellow rather
    than losing to the default deny); written in two lists, it is an error."""
    written = written if isinstance(written, dict) else {}
    placed = {c for d in checks.DECISIONS if d in written and isinstance(policy.get(d), list)
              for c in policy[d]}
    for decision in checks.DECISIONS:
        if decision not in written and isinstance(policy.get(decision), list):
            policy[decision] = [c for c in policy[decision] if c not in placed]


def _venue_problems(sections: dict, file: str, lines: dict) -> list[Problem]:
    """What one key alone cannot tell: a percentage limit needs a capacity,
    and an exit door counting by sensor needs the sensor."""
    from kiosk.core.occupancy import parse_limit
    found = []
    venue, door = sections["venue"], sections["door"]
    if "limit" in venue:
        try:
            parse_limit(venue["limit"], venue.get("capacity", 0))
        except ValueError as exc:
            found.append(Problem(file, lines.get("venue.limit"), "venue.limit", str(exc)))
    if door.get("kind") == "exit" and door.get("exit_count") == "sensor" and \
            sections["signals"].get("passage_pin", -1) < 0:
        found.append(Problem(file, lines.get("door.exit_count"), "door.exit_count",
                             "counting exits by sensor needs signals.passage_pin"))
    return found


class Config:
    """All sections as attributes: ``cfg.kiosk.id``, ``cfg.signals.relay_pin``."""

    def __init__(self, sections: dict[str, Section], path: str = "<config>"):
        self.path = path
        self.__dict__.update(sections)

    if TYPE_CHECKING:  # the sections are set in __dict__; this tells the type checker
        def __getattr__(self, name: str) -> Section: ...

    def with_changes(self, section: str, **changes) -> "Config":
        sections = {name: getattr(self, name) for name in SCHEMA}
        sections[section] = sections[section].replace(**changes)
        return Config(sections, self.path)


def load_text(text: str, file: str = "<config>") -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise ConfigError([Problem(file, int(line.group(1)) if line else None, "toml",
                                   f"not valid TOML: {exc}")]) from None
    return Config(validate(data, file, text), file)


def load(path: str) -> Config:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(path, None, "file", f"cannot read: {exc}")]) from None
    return load_text(text, path)


def load_secrets(path: str, require_private: bool = True) -> Section:
    """Read the secrets file; refuse one that others can read (it holds tokens
    and PIN hashes). A missing file yields empty secrets."""
    if not os.path.exists(path):
        return Section(_validate_table(SECRETS, {}, "", path, {}, []))
    problems: list[Problem] = []
    mode = os.stat(path).st_mode
    if require_private and mode & (stat.S_IRWXG | stat.S_IRWXO):
        problems.append(Problem(path, None, "permissions",
                                f"mode {stat.S_IMODE(mode):04o} lets others read secrets; run: chmod 600 {path}"))
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError([Problem(path, None, "file", f"cannot read: {exc}")]) from None
    lines = key_lines(text)
    values = _validate_table(SECRETS, data, "", path, lines, problems)
    for index, key, message in checks.staff_entries(values.get("staff") or []):
        name = key.split(".", 1)[1] if "." in key else ""
        line = lines.get(f"staff[{index}].{name}", lines.get(f"staff[{index}]"))
        problems.append(Problem(path, line, f"staff[{index}].{name}" if name else key, message))
    if problems:
        raise ConfigError(problems)
    return Section(values)


SECRET_KEYS = {"status_token", "person_key", "sync_token"}


def masked_secrets(secrets: Mapping) -> dict:
    """Secrets fit for printing: values hidden, presence shown."""
    return {k: ("********" if v else "") if k in SECRET_KEYS else f"{len(v)} entries"
            for k, v in secrets.items()}

"""One owner for each piece of state: the machine's attributes are written by
the machine (kiosk/core/machine.py) alone. Staff commands, group mode and the
admissions ledger ask it through its public methods or are handed the one
function they need (``record``); checked on the code with ``ast``."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
HELPERS = ("kiosk/core/staff_actions.py", "kiosk/core/group.py", "kiosk/core/admissions.py")


def trespasses(source: str) -> list[str]:
    """Writes to another object's attributes, and reaches for its private
    names: anything but ``self.x = ...`` / ``self._x`` (a module's or an
    object's own state is its own business)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        targets: list = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        for target in targets:
            for written in _written(target):
                found.append(f"line {node.lineno}: assigns {ast.unparse(written)}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("setattr", "delattr"):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and \
                not node.attr.startswith("__") and not _is_self(node.value):
            found.append(f"line {node.lineno}: reaches for {ast.unparse(node)}")
    return found


def _written(target: ast.expr) -> list[ast.expr]:
    """The attributes of other objects an assignment target writes: ``a.b``,
    ``a.b[k]`` (into a's table), each element of ``x, a.b = ...``."""
    if isinstance(target, (ast.Tuple, ast.List)):
        return [w for element in target.elts for w in _written(element)]
    if isinstance(target, ast.Starred):
        return _written(target.value)
    if isinstance(target, ast.Subscript):
        return _written(target.value)
    if isinstance(target, ast.Attribute):
        return [] if _is_self(target.value) else [target]
    return []


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"


@pytest.mark.parametrize("path", HELPERS)
def test_the_machines_helpers_never_write_its_state_nor_call_its_private_methods(path):
    assert trespasses((ROOT / path).read_text()) == []


@pytest.mark.parametrize("line", [
    "kiosk.group = Group(command.number, command.staff_id)",
    "kiosk.see_staff = None",
    "kiosk.language, row = 'ru', None",
    "kiosk.passages_left -= 1",
    "kiosk.admissions.admitted_at[identity.number] = now.mono",
    "setattr(kiosk, 'language', 'en')",
    "return kiosk._visitor(identity, now)",
    "row = kiosk._staff_row(None, 'keypad-locked', now)",
])
def test_the_check_catches_what_the_handlers_used_to_do(line):
    source = f"def handler(kiosk, command, now):\n    {line}\n"
    assert trespasses(source), line


def test_a_handlers_own_state_is_its_own():
    source = "class Group:\n    def add(self, member):\n        self.members = self.members + [member]\n"
    assert trespasses(source) == []


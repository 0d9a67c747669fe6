"""What the docstrings promise about who imports what, checked on the code.

import-linter (in `make test`) holds the layer contracts; these are the
claims written in prose that a contract cannot express.
"""
import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def imports_of(path: pathlib.Path) -> set:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def modules_importing(prefix: str) -> set:
    return {str(path.relative_to(ROOT)) for path in (ROOT / "kiosk").rglob("*.py")
            if any(name == prefix or name.startswith(prefix + ".") for name in imports_of(path))}


def test_only_wiring_tools_and_demo_import_drivers():
    users = modules_importing("drivers")
    assert {u for u in users if u.startswith("kiosk/app/")} == {"kiosk/app/wiring.py"}
    assert all(u.startswith(("kiosk/app/wiring.py", "kiosk/tools/", "kiosk/demo/")) for u in users), users


def test_only_the_demo_and_the_command_line_start_the_reference_servers():
    users = modules_importing("kiosk.servers") - {str(p.relative_to(ROOT))
                                                   for p in (ROOT / "kiosk/servers").rglob("*.py")}
    assert all(u.startswith(("kiosk/demo/", "kiosk/cli.py")) for u in users), users


def test_the_kiosk_never_imports_the_central_service():
    assert modules_importing("collector") == set()
    assert not any(name.startswith("collector") for path in (ROOT / "drivers").rglob("*.py")
                   for name in imports_of(path))


def test_no_module_passes_300_lines():
    long = {str(path.relative_to(ROOT)): n for folder in ("kiosk", "drivers", "collector")
            for path in (ROOT / folder).rglob("*.py")
            if (n := len(path.read_text().splitlines())) > 300}
    assert long == {}

"""`ashyq-kiosk demo --headless` as a newcomer runs it: one line per visitor,
a screenshot of each, exit 0."""
import subprocess
import sys

import pygame


def test_headless_demo_decides_every_demo_person(tmp_path):
    run = subprocess.run([sys.executable, "-m", "kiosk.cli", "demo", "--headless",
                          "--screenshots", str(tmp_path)], capture_output=True, text=True,
                         timeout=180, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stderr
    lines = {line.split()[0]: line for line in run.stdout.splitlines() if line.strip()}
    assert " admit " in lines["green"] and " admit " in lines["blue"]
    assert " deny " in lines["yellow"] and " deny " in lines["red"]
    assert "exempt-under-5" in lines["child"]
    assert " staff " in lines["unknown"] and "lookup-not-found" in lines["unknown"]
    assert " admit " in lines["foreigner"]
    assert "refused reason=not-a-person" in lines["bin"]
    assert "refused reason=bad-check-digit" in lines["bad-check-digit"]
    assert " staff " in lines["offline"] and "lookup-network" in lines["offline"]
    assert "871008401427" not in run.stdout + run.stderr
    for name in ("green", "red", "bin", "idle-offline"):
        assert pygame.image.load(str(tmp_path / f"{name}.png")).get_size() == (800, 480)

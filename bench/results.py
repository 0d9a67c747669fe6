"""Append a benchmark's figures, dated and with the machine, to bench/RESULTS.md."""
from __future__ import annotations

import datetime as dt
import os
import platform

RESULTS = os.path.join(os.path.dirname(__file__), "RESULTS.md")


def machine() -> str:
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def record(title: str, lines: list[str]) -> None:
    """Print the figures and append them under a dated heading."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    block = [f"## {title} ({stamp})", "", f"Machine: {machine()}", ""] + lines + [""]
    print("\n".join(block))
    if not os.path.exists(RESULTS):
        with open(RESULTS, "w", encoding="utf-8") as handle:
            handle.write("# Benchmark results\n\nEach run appends a dated section.\n\n")
    with open(RESULTS, "a", encoding="utf-8") as handle:
        handle.write("\n".join(block) + "\n")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]

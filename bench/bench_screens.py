"""How long drawing a screen takes at each display size: the main thread
holds the GIL while it draws, so this is time a lookup's answer may wait
(app.py's RENDER_HOLD keeps "checking" from being drawn on fast answers).

    python -m bench.bench_screens [--repeat 5]
"""
from __future__ import annotations

import argparse
import os
import time

from bench.results import percentile, record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame
    from drivers.display import qr_matrix
    from drivers.gallery import QR, SIZES, all_screens, render
    pygame.font.init()
    qr = qr_matrix(QR)
    lines = ["| size | median ms | p95 ms | slowest screen |", "|---|---|---|---|"]
    for size in SIZES:
        times, slowest = [], ("", 0.0)
        for _ in range(args.repeat):
            for name, screen, extra in all_screens():
                started = time.perf_counter()
                render(screen, size, qr=qr, **extra)
                took = (time.perf_counter() - started) * 1000
                times.append(took)
                slowest = max(slowest, (name, took), key=lambda pair: pair[1])
        lines.append(f"| {size[0]}x{size[1]} | {percentile(times, 50):.1f} | "
                     f"{percentile(times, 95):.1f} | {slowest[0]} {slowest[1]:.1f} |")
    record("Drawing a screen (drivers/screens.py, offscreen, fonts warm after the first pass)", lines)
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(main(sys.argv[1:]))

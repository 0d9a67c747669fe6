"""Decisions per hour as an inline SVG bar chart, drawn on the server: the
page needs no script and no CDN, and prints as it looks.

    >>> svg = hour_bars([{"hour": HOUR, "admit": 3, "deny": 1, "staff": 0}])
    >>> svg.startswith("<svg") and 'data-admit="3"' in svg
    True
"""
from __future__ import annotations

import datetime as dt
from html import escape
from typing import Sequence

from markupsafe import Markup

COLOURS = {"admit": "#2e7d32", "deny": "#c62828", "staff": "#1565c0"}
LABELS = {"admit": "admitted", "deny": "denied", "staff": "staff actions"}
HOUR = dt.datetime(2026, 11, 18, 14, tzinfo=dt.timezone.utc)  # for the example
HEIGHT, TOP, BOTTOM, LEFT = 220, 16, 34, 44
SLOT = 40  # pixels per hour


def nice_ceiling(value: int) -> int:
    """The axis top: 1, 2 or 5 times a power of ten, at least ``value``."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= max(value, 1):
                return step * factor
        step *= 10


def hour_bars(series: Sequence[dict], outcomes: Sequence[str] = ("admit", "deny", "staff"),
              title: str = "Decisions per hour") -> Markup:
    """One group of bars per hour (``series`` from views.hourly_series)."""
    top = nice_ceiling(max((row[o] for row in series for o in outcomes), default=0))
    plot = HEIGHT - TOP - BOTTOM
    width = LEFT + SLOT * max(len(series), 1) + 10
    bar = (SLOT - 6) / len(outcomes)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
             f'viewBox="0 0 {width} {HEIGHT}" width="{width}" height="{HEIGHT}" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for tick in (0, top // 2, top):
        y = TOP + plot - plot * tick / top
        parts.append(f'<line x1="{LEFT}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    for i, row in enumerate(series):
        x0 = LEFT + SLOT * i + 3
        hour = row["hour"].astimezone(dt.timezone.utc)
        values = " ".join(f'data-{o}="{row[o]}"' for o in outcomes)
        parts.append(f'<g class="hour" data-hour="{hour:%H}" {values}>')
        for j, outcome in enumerate(outcomes):
            h = plot * row[outcome] / top
            parts.append(f'<rect x="{x0 + j * bar:.1f}" y="{TOP + plot - h:.1f}" width="{bar - 1:.1f}" '
                         f'height="{h:.1f}" fill="{COLOURS[outcome]}"><title>{hour:%H}:00 UTC: '
                         f'{row[outcome]} {LABELS[outcome]}</title></rect>')
        parts.append(f'<text x="{x0 + (SLOT - 6) / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                     f'text-anchor="middle">{hour:%H}</text></g>')
    parts.append(f'<text x="{LEFT}" y="{HEIGHT - 4}" class="axis">hour (UTC)</text></svg>')
    return Markup("".join(parts))

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


def occupancy_curve(history: Sequence[dict], limit, title: str = "People inside") -> Markup:
    """The venue's total over its day as a step line (``history``: at,
    total, oldest first), with the limit as a red line when there is one."""
    width, plot = 640, HEIGHT - TOP - BOTTOM
    top = nice_ceiling(max([h["total"] for h in history] + [limit or 0], default=0))
    if history:
        start, end = history[0]["at"], history[-1]["at"]
        span = max((end - start).total_seconds(), 1.0)
    x = lambda at: LEFT + (width - LEFT - 10) * (at - start).total_seconds() / span
    y = lambda n: TOP + plot - plot * n / top
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" id="occupancy-curve" '
             f'viewBox="0 0 {width} {HEIGHT}" width="{width}" height="{HEIGHT}" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for tick in (0, top // 2, top):
        parts.append(f'<line x1="{LEFT}" x2="{width - 10}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                     f'class="grid"/><text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}</text>')
    if limit:
        parts.append(f'<line x1="{LEFT}" x2="{width - 10}" y1="{y(limit):.1f}" y2="{y(limit):.1f}" '
                     f'stroke="#c62828" stroke-dasharray="6 4" data-limit="{limit}"/>')
    if history:
        points, last = [], None
        for h in history:
            if last is not None:
                points.append(f"{x(h['at']):.1f},{y(last):.1f}")
            points.append(f"{x(h['at']):.1f},{y(h['total']):.1f}")
            last = h["total"]
        parts.append(f'<polyline fill="none" stroke="#1565c0" stroke-width="2" points="{" ".join(points)}" '
                     f'data-last="{last}"/>')
        parts.append(f'<text x="{LEFT}" y="{HEIGHT - 4}" class="axis">{start:%H:%M} to {end:%H:%M} UTC</text>')
    parts.append("</svg>")
    return Markup("".join(parts))

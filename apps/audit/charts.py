"""Server-rendered inline SVG charts for the auditors' console (no JavaScript, no CDN)."""

from __future__ import annotations

import datetime as dt
from html import escape

from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#7f7f7f")
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 220, 48, 28, 12


def line_chart(*, days: list[dt.date], series: dict[str, list[int]], title: str) -> SafeString:
    """One polyline per series over `days`; the legend lists the series in the given order."""
    peak = max([1] + [max(values, default=0) for values in series.values()])
    plot_w, plot_h = WIDTH - LEFT - 10, HEIGHT - BOTTOM - TOP
    step = plot_w / max(1, len(days) - 1)

    def x(i: int) -> float:
        return LEFT + i * step

    def y(v: int) -> float:
        return TOP + plot_h - v / peak * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" '
        f'height="{HEIGHT + 18 * ((len(series) + 3) // 4)}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - 10}" y2="{TOP + plot_h}" '
        'stroke="#999"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#999"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 4}" font-size="10" text-anchor="end">{peak}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + plot_h}" font-size="10" text-anchor="end">0</text>',
    ]
    label_every = max(1, len(days) // 8)
    for i, day in enumerate(days):
        if i % label_every == 0:
            parts.append(
                f'<text x="{x(i):.1f}" y="{TOP + plot_h + 14}" font-size="10" '
                f'text-anchor="middle">{day:%m-%d}</text>'
            )
    for n, (name, values) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}">'
            f"<title>{escape(name)}</title></polyline>"
        )
        lx, ly = LEFT + (n % 4) * 170, HEIGHT + 4 + 18 * (n // 4)
        parts.append(
            f'<rect x="{lx}" y="{ly}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{lx + 14}" y="{ly + 9}" font-size="11">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above  # nosec B308 B703


def bar_list(*, rows: list[tuple[str, int]], title: str) -> SafeString:
    """Horizontal bars for a top-N list."""
    peak = max([1] + [n for _label, n in rows])
    height = 20 * len(rows) + 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{height}" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for i, (label, n) in enumerate(rows):
        width = (WIDTH - 260) * n / peak
        parts.append(
            f'<text x="0" y="{20 * i + 14}" font-size="11">{escape(label[:36])}</text>'
            f'<rect x="200" y="{20 * i + 3}" width="{width:.1f}" height="14" fill="#1f77b4"/>'
            f'<text x="{204 + width:.1f}" y="{20 * i + 14}" font-size="11">{n}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above  # nosec B308 B703

"""Server-rendered inline SVG charts for the auditors' console (no JavaScript, no CDN)."""

from __future__ import annotations

import datetime as dt
from html import escape

from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#7f7f7f")
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 220, 48, 28, 12
# Legends and bar labels name departments, datasets and fields ("广东省卫生健康委员会 (GD-WJ)"):
# two legend entries a row, and a wide label column for the bars.
LEGEND_COLUMNS, LEGEND_WIDTH, LABEL_WIDTH, LABEL_CHARS = 2, 340, 300, 40


def day_labels(count: int, every: int) -> list[int]:
    """The positions of the days labelled on the x axis: every `every`-th day counted back from
    the last, so that the last day (today) is always labelled."""
    return sorted(range(count - 1, -1, -max(1, every)))


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def line_chart(*, days: list[dt.date], series: dict[str, list[int]], title: str) -> SafeString:
    """One polyline per series over `days`; the legend lists the series in the given order."""
    peak = max([1] + [max(values, default=0) for values in series.values()])
    plot_w, plot_h = WIDTH - LEFT - 10, HEIGHT - BOTTOM - TOP
    step = plot_w / max(1, len(days) - 1)

    def x(i: int) -> float:
        return LEFT + i * step

    def y(v: int) -> float:
        return TOP + plot_h - v / peak * plot_h

    legend_rows = (len(series) + LEGEND_COLUMNS - 1) // LEGEND_COLUMNS
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" '
        f'height="{HEIGHT + 18 * legend_rows}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - 10}" y2="{TOP + plot_h}" '
        'stroke="#999"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#999"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 4}" font-size="10" text-anchor="end">{peak}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + plot_h}" font-size="10" text-anchor="end">0</text>',
    ]
    for i in day_labels(len(days), len(days) // 8):
        parts.append(
            f'<text x="{x(i):.1f}" y="{TOP + plot_h + 14}" font-size="10" '
            f'text-anchor="middle">{days[i]:%m-%d}</text>'
        )
    for n, (name, values) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}">'
            f"<title>{escape(name)}</title></polyline>"
        )
        lx = LEFT + (n % LEGEND_COLUMNS) * LEGEND_WIDTH
        ly = HEIGHT + 4 + 18 * (n // LEGEND_COLUMNS)
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
        width = (WIDTH - LABEL_WIDTH - 60) * n / peak
        parts.append(
            f'<text x="0" y="{20 * i + 14}" font-size="11"><title>{escape(label)}</title>'
            f"{escape(_short(label))}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{20 * i + 3}" width="{width:.1f}" height="14" '
            'fill="#1f77b4"/>'
            f'<text x="{LABEL_WIDTH + 4 + width:.1f}" y="{20 * i + 14}" font-size="11">{n}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above  # nosec B308 B703

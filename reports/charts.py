"""Inline SVG charts for the FG report, drawn by hand.

No matplotlib: it is not a dependency, it would add ~40 MB for three simple charts, and its
SVG embeds fonts and ids that make a self-contained page bigger. These functions take only
values that may be published (``None`` for a suppressed cell, which is drawn as a label
``<k`` without a bar), so a chart can never reveal more than the table next to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from scanner.core.model import ItemState, RetentionStatus

COLOURS = {RetentionStatus.OVERDUE.value: "#b42318", RetentionStatus.DUE_SOON.value: "#dc6803",
           RetentionStatus.OK.value: "#12b76a", ItemState.ACTIVE.value: "#155e75", "present": "#155e75"}
_FONT = "font-family=\"Segoe UI, Arial, sans-serif\""


def _text(x: float, y: float, text: str, size: int = 12, anchor: str = "start", fill: str = "#344054",
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" '
            f'font-weight="{weight}" {_FONT}>{escape(text)}</text>')


def stacked_bars(
    title: str,
    rows: Sequence[tuple[str, dict[str, int | None], str]],
    series: Sequence[tuple[str, str]],
    width: int = 720,
) -> str:
    """Horizontal stacked bars: one row per label, one segment per series.

    ``rows`` is ``[(label, {series_key: value or None}, total_text)]``; ``series`` is
    ``[(series_key, legend label)]``. Hidden values get no segment; ``total_text`` (the
    published total, possibly ``<k``) is written after the bar.
    """
    label_w, bar_h, gap, top = 230, 18, 8, 48
    plot_w = width - label_w - 70
    totals = [sum(v for v in values.values() if v) for _, values, _ in rows]
    scale = plot_w / max(max(totals, default=0), 1)
    height = top + len(rows) * (bar_h + gap) + 16
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" viewBox="0 0 {width} {height}" '
             f'preserveAspectRatio="xMinYMin meet" style="max-width:{width}px">',
             f"<title>{escape(title)}</title>",
             _text(0, 16, title, 14, weight="bold", fill="#101828")]
    x_legend = 0.0
    for key, legend in series:
        parts.append(f'<rect x="{x_legend:.1f}" y="26" width="12" height="12" fill="{COLOURS.get(key, "#667085")}"/>')
        parts.append(_text(x_legend + 16, 36, legend, 12))
        x_legend += 24 + 7.2 * len(legend)
    for index, (label, values, total_text) in enumerate(rows):
        y = top + index * (bar_h + gap)
        parts.append(_text(label_w - 8, y + 13, label, 12, anchor="end"))
        x = float(label_w)
        for key, _legend in series:
            value = values.get(key)
            if not value:
                continue
            w = value * scale
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                         f'fill="{COLOURS.get(key, "#667085")}"/>')
            x += w
        parts.append(_text(x + 6, y + 13, total_text, 11, fill="#475467"))
    parts.append("</svg>")
    return "".join(parts)


def columns(title: str, bars: Sequence[tuple[str, int | None]], hidden_label: str, width: int = 480,
            colour: str = COLOURS["actief"]) -> str:
    """Vertical bars (age buckets). ``None`` values are labelled ``hidden_label``, not drawn."""
    height, top, bottom = 240, 40, 36
    plot_h = height - top - bottom
    slot = width / max(len(bars), 1)
    peak = max((v for _, v in bars if v), default=0) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" viewBox="0 0 {width} {height}" '
             f'preserveAspectRatio="xMinYMin meet" style="max-width:{width}px">',
             f"<title>{escape(title)}</title>",
             _text(0, 16, title, 14, weight="bold", fill="#101828"),
             f'<line x1="0" y1="{top + plot_h}" x2="{width}" y2="{top + plot_h}" stroke="#d0d5dd"/>']
    for index, (label, value) in enumerate(bars):
        cx = slot * index + slot / 2
        if value:
            h = plot_h * value / peak
            parts.append(f'<rect x="{cx - slot * 0.3:.1f}" y="{top + plot_h - h:.1f}" width="{slot * 0.6:.1f}" '
                         f'height="{h:.1f}" fill="{colour}"/>')
            parts.append(_text(cx, top + plot_h - h - 4, str(value), 12, anchor="middle"))
        else:
            parts.append(_text(cx, top + plot_h - 4, hidden_label if value is None else "0", 12,
                               anchor="middle", fill="#667085"))
        parts.append(_text(cx, height - 14, label, 12, anchor="middle"))
    parts.append("</svg>")
    return "".join(parts)


def line(title: str, points: Sequence[tuple[str, int | None]], hidden_label: str, width: int = 720,
         colour: str = COLOURS["present"]) -> str:
    """A line over runs. Hidden points break the line and are labelled ``hidden_label``."""
    height, top, bottom, left, right = 240, 40, 40, 60, 60
    plot_h, plot_w = height - top - bottom, width - left - right
    peak = max((v for _, v in points if v), default=0) or 1
    step = plot_w / max(len(points) - 1, 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" viewBox="0 0 {width} {height}" '
             f'preserveAspectRatio="xMinYMin meet" style="max-width:{width}px">',
             f"<title>{escape(title)}</title>",
             _text(0, 16, title, 14, weight="bold", fill="#101828"),
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#d0d5dd"/>']
    segment: list[str] = []
    label_every = max(1, len(points) // 8)
    for index, (label, value) in enumerate(points):
        x = left + (step * index if len(points) > 1 else plot_w / 2)
        if value is None:
            if len(segment) > 1:
                parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(segment)}"/>')
            segment = []
            parts.append(_text(x, top + plot_h - 6, hidden_label, 11, anchor="middle", fill="#667085"))
        else:
            y = top + plot_h - plot_h * value / peak
            segment.append(f"{x:.1f},{y:.1f}")
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>')
            parts.append(_text(x, y - 8, str(value), 11, anchor="middle"))
        if index % label_every == 0 or index == len(points) - 1:
            parts.append(_text(x, height - 16, label, 11, anchor="middle"))
    if len(segment) > 1:
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(segment)}"/>')
    parts.append("</svg>")
    return "".join(parts)

"""Charts drawn on the server as inline SVG: no script, no library, nothing fetched.

Each chart carries a title and a description for screen readers, a ``<title>`` per mark
(the browser shows it on hover), and only presentation attributes — no ``style`` — so the
pages' Content-Security-Policy can forbid inline styles. Every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

from sentinelle.review.subjects import WEEKDAYS, Heatmap

__all__ = ["heatmap", "monthly_bars"]

INK, MUTED, BAR, GRID = "#1d2733", "#5b6878", "#2f5d9e", "#d9dee5"
# From white to a deep red, by share of the busiest cell.
_HEAT = ((247, 248, 250), (178, 34, 34))


def _svg(width: int, height: int, title: str, desc: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" class="chart">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>"
        + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = 11,
          fill: str = MUTED) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" '
            f'text-anchor="{anchor}">{escape(text)}</text>')


def monthly_bars(months: Sequence[dict[str, Any]], title: str = "Amounts per month (EUR)"
                 ) -> Markup:
    """One bar per calendar month (months without payments included, at zero)."""
    filled = _fill_months(months)
    width, height, left, bottom, top = 720, 220, 56, 36, 14
    plot_w, plot_h = width - left - 10, height - top - bottom
    peak = max((m["eur"] or 0 for m in filled), default=0) or 1
    step = plot_w / max(len(filled), 1)
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" '
            f'stroke="{GRID}"/>',
            _text(left - 6, top + 10, f"{peak:,.0f}", "end"),
            _text(left - 6, top + plot_h, "0", "end")]
    label_every = max(1, len(filled) // 12)
    for i, m in enumerate(filled):
        eur = m["eur"] or 0
        h = plot_h * eur / peak
        x = left + i * step
        body.append(
            f'<rect x="{x + step * 0.1:.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{max(step * 0.8, 1):.1f}" height="{h:.1f}" fill="{BAR}">'
            f"<title>{escape(m['month'])}: EUR {eur:,.2f}, {m['payments']} payment(s)"
            "</title></rect>")
        if i % label_every == 0:
            body.append(_text(x + step / 2, height - bottom + 16, m["month"], "middle", 10))
    total = sum(m["eur"] or 0 for m in filled)
    desc = (f"{len(filled)} months from {filled[0]['month']} to {filled[-1]['month']}, "
            f"EUR {total:,.2f} in all" if filled else "no payments")
    return _svg(width, height, title, desc, body)


def _fill_months(months: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    if not months:
        return []
    by_month = {m["month"]: m for m in months}
    y, mo = map(int, months[0]["month"].split("-"))
    end = tuple(map(int, months[-1]["month"].split("-")))
    out = []
    while (y, mo) <= end:
        key = f"{y:04d}-{mo:02d}"
        out.append(by_month.get(key, {"month": key, "payments": 0, "eur": 0.0}))
        y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
    return out


def _shade(share: float) -> str:
    lo, hi = _HEAT
    r, g, b = (round(a + (z - a) * share) for a, z in zip(lo, hi, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(h: Heatmap) -> Markup:
    """Weekdays down, hours across; darker is more payments."""
    cell_w, cell_h, left, top = 26, 22, 40, 22
    width, height = left + 24 * cell_w + 8, top + 7 * cell_h + 8
    peak = max((n for row in h.counts for n in row), default=0) or 1
    body = [_text(left + hour * cell_w + cell_w / 2, top - 8, f"{hour:02d}", "middle", 10)
            for hour in range(0, 24, 2)]
    for day, row in enumerate(h.counts):
        y = top + day * cell_h
        body.append(_text(left - 6, y + cell_h * 0.68, WEEKDAYS[day], "end"))
        for hour, n in enumerate(row):
            body.append(
                f'<rect x="{left + hour * cell_w}" y="{y}" width="{cell_w - 2}" '
                f'height="{cell_h - 2}" rx="2" fill="{_shade(n / peak)}" stroke="{GRID}">'
                f"<title>{WEEKDAYS[day]} {hour:02d}:00–{hour:02d}:59: {n} payment(s)</title>"
                "</rect>")
            if n:
                body.append(_text(left + hour * cell_w + (cell_w - 2) / 2, y + cell_h * 0.66,
                                  str(n), "middle", 10, "#ffffff" if n / peak > 0.55 else INK))
    total = sum(map(sum, h.counts))
    return _svg(width, height, f"{h.title} ({h.clock})",
                f"{total} payments by weekday and hour; the busiest cell holds {peak}", body)

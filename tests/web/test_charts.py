"""The server-drawn charts: escaped text, no inline style, every month drawn."""

from __future__ import annotations

from sentinelle.review.subjects import Heatmap
from sentinelle.web.charts import heatmap, monthly_bars


def test_monthly_bars_fill_the_gaps_and_escape_labels() -> None:
    svg = monthly_bars([{"month": "2024-11", "payments": 2, "eur": 40.0},
                        {"month": "2025-02", "payments": 1, "eur": 20.0}],
                       title="<b>amounts</b>")
    assert svg.count("<rect") == 4  # November to February
    assert "2025-01: EUR 0.00, 0 payment(s)" in svg
    assert "&lt;b&gt;amounts&lt;/b&gt;" in svg and "style=" not in svg


def test_no_payments_draws_an_empty_chart() -> None:
    assert "no payments" in monthly_bars([])


def test_heatmap_has_a_cell_per_hour_and_weekday() -> None:
    counts = [[0] * 24 for _ in range(7)]
    counts[6][23] = 5
    svg = heatmap(Heatmap("Payments", "Asia/Manila", counts))
    assert svg.count("<rect") == 7 * 24
    assert "Sun 23:00–23:59: 5 payment(s)" in svg and "style=" not in svg

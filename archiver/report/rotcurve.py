"""The rot curve as a reader sees it: the share of cited links broken, by the citing article's
publication year (as Pew 2024 and Zittrain 2021 draw it), as an inline SVG bar chart.

Pure: rows in, markup out. No script, no external reference (the report's Content-Security-
Policy forbids both), every label escaped; each bar says its numbers in words (its ``<title>``
and the label over it), so the chart does not rely on colour or on hovering. Articles whose year
is unknown get a bar of their own, set apart at the right.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from archiver.report.escape import html_text

__all__ = ["rot_curve_svg", "share_percent"]

WIDTH = 720
HEIGHT = 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 12, 22, 40
MAX_BAR = 60  # a bar is never wider than this, so one year does not fill the chart
MAX_BARS = 200  # a chart of more years than that shows the newest ones (the table has all)


def share_percent(broken: int, links: int) -> str:
    """``broken`` of ``links`` as a percentage for a label: ``37.5%`` (``0%`` of none)."""
    if links <= 0:
        return "0%"
    value = 100.0 * broken / links
    return f"{value:.1f}%".replace(".0%", "%")


def rot_curve_svg(rows: Sequence[Any]) -> str:
    """The bar chart of ``rows`` (each with ``year``, ``links``, ``broken``; ``year`` is None for
    the unknown year), or "" when there is no row to draw."""
    known = [r for r in rows if r.year is not None][-MAX_BARS:]
    unknown = [r for r in rows if r.year is None]
    bars = [*known, *unknown]
    if not bars:
        return ""
    plot_w = WIDTH - _LEFT - _RIGHT
    plot_h = HEIGHT - _TOP - _BOTTOM
    slot = plot_w / (len(bars) + (0.5 if unknown and known else 0))
    bar_w = min(MAX_BAR, max(2.0, slot * 0.7))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="rotcurve" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        'aria-labelledby="rotcurve-title">',
        '<title id="rotcurve-title">Share of cited links broken, by the citing article\'s '
        "publication year</title>",
    ]
    for pct in (0, 25, 50, 75, 100):  # the axis: gridlines and their labels
        y = _TOP + plot_h * (1 - pct / 100)
        out.append(
            f'<line class="grid" x1="{_LEFT}" y1="{y:.1f}" x2="{WIDTH - _RIGHT}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{pct}%</text>'
        )
    for index, row in enumerate(bars):
        gap = 0.5 if (row.year is None and known) else 0.0
        centre = _LEFT + slot * (index + gap + 0.5)
        links, broken = int(row.links), int(row.broken)
        share = broken / links if links > 0 else 0.0
        height = plot_h * share
        label = "unknown year" if row.year is None else str(row.year)
        words = f"{label}: {broken} of {links} cited links broken ({share_percent(broken, links)})"
        cls = "bar unknown" if row.year is None else "bar"
        out.append(
            f'<rect class="{cls}" x="{centre - bar_w / 2:.1f}" y="{_TOP + plot_h - height:.1f}" '
            f'width="{bar_w:.1f}" height="{height:.1f}"><title>{html_text(words)}</title></rect>'
        )
        out.append(
            f'<text class="value" x="{centre:.1f}" y="{_TOP + plot_h - height - 4:.1f}" '
            f'text-anchor="middle">{html_text(share_percent(broken, links))}</text>'
        )
        out.append(
            f'<text class="year" x="{centre:.1f}" y="{HEIGHT - _BOTTOM + 16}" '
            f'text-anchor="middle">{html_text("unknown" if row.year is None else label)}</text>'
        )
    out.append(
        f'<line class="axis" x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{WIDTH - _RIGHT}" '
        f'y2="{_TOP + plot_h}"/>'
    )
    out.append("</svg>")
    return "".join(out)


CHART_STYLE = """\
svg.rotcurve{max-width:100%;height:auto;font:12px system-ui,sans-serif}
svg.rotcurve .grid{stroke:#ddd} svg.rotcurve .axis{stroke:#444;fill:#444}
svg.rotcurve .bar{fill:#b03a2e} svg.rotcurve .bar.unknown{fill:#888}
svg.rotcurve .value,svg.rotcurve .year,svg.rotcurve .tick{fill:#222}
"""

"""The link-rot report (``archiver report linkrot``): per article, headed by its title, the
broken links since when with their archived copies, then the suspects; and the archive's rot
curve (the share of cited links broken by the citing article's publication year).

Pure formatters of :class:`archiver.links.rotreport.ArticleRot` and ``RotYear`` values (taken
as they come, so this module reaches no archive code); everything quoted from the web goes
through :mod:`archiver.report.escape`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from archiver.report.copies import best_label, copies_html, copies_text, copy_label, other_copies
from archiver.report.escape import csv_text, html_link, html_text, md_cell, md_url, terminal_line
from archiver.report.rotcurve import CHART_STYLE, rot_curve_svg, share_percent
from archiver.report.style import LINKS_STYLE, html_head

__all__ = ["CURVE_FIELDS", "format_linkrot", "format_rot_curve", "linkrot_document"]

_ROT_CSV_FIELDS = (
    "source",
    "url",
    "text",
    "status",
    "broken",
    "since",
    "flapping",
    "http_status",
    "archived_url",
    "detail",
    "title",
    "published_year",
    "archived_copy",
    "archived_copies",
)
CURVE_FIELDS = ("year", "articles", "links", "broken", "share")


def _curve_json(curve: Sequence[Any]) -> list[dict[str, Any]]:
    return [row.to_json() for row in curve]


def linkrot_document(
    articles: Sequence[Any], summary: dict[str, int], curve: Sequence[Any] | None = None
) -> dict[str, Any]:
    """The ``report linkrot`` JSON: per article its broken links and suspects, totals, and the
    rot curve (``rot_curve``: one row a publication year, ``year`` null for unknown)."""
    out: dict[str, Any] = {
        "articles": [_article_json(article) for article in articles],
        "summary": summary,
    }
    if curve is not None:
        out["rot_curve"] = _curve_json(curve)
    return out


def _article_json(article: Any) -> dict[str, Any]:
    out: dict[str, Any] = article.to_json()
    for key, checks in (("broken", article.broken), ("suspects", article.suspects)):
        for item, check in zip(out[key], checks, strict=True):
            if check.archived_url:
                item["archived_copy_label"] = best_label(check)
    return out


def format_rot_curve(curve: Sequence[Any], fmt: str = "text") -> str:
    """The rot curve alone (``report linkrot --curve``) in one of the formats."""
    if fmt == "json":
        return json.dumps({"rot_curve": _curve_json(curve)}, ensure_ascii=False, indent=2)
    if fmt == "csv":
        return csv_text(CURVE_FIELDS, (row.to_json() for row in curve))
    if fmt == "html":
        return "".join(
            [
                html_head("Rot curve", LINKS_STYLE + CHART_STYLE),
                "<h1>Rot curve</h1>",
                _curve_html(curve),
                "</body></html>\n",
            ]
        )
    if fmt == "md":
        return "\n".join(["# Rot curve", "", *_curve_md(curve)]) + "\n"
    return "\n".join(_curve_lines(curve))


def _year(row: Any) -> str:
    return "unknown" if row.year is None else str(row.year)


def _curve_lines(curve: Sequence[Any]) -> list[str]:
    if not curve:
        return ["Rot curve: no article with checked links."]
    lines = ["Rot curve (share of cited links broken, by the citing article's year):"]
    for row in curve:
        lines.append(
            f"  {_year(row):>7}  {share_percent(row.broken, row.links):>6}  "
            f"{row.broken} of {row.links} links broken in {row.articles} article(s)"
        )
    return lines


def _curve_md(curve: Sequence[Any]) -> list[str]:
    if not curve:
        return ["No article with checked links."]
    rows = ["| year | articles | links | broken | share |", "|---|---|---|---|---|"]
    for row in curve:
        rows.append(
            f"| {_year(row)} | {row.articles} | {row.links} | {row.broken} | "
            f"{share_percent(row.broken, row.links)} |"
        )
    return rows


def _curve_html(curve: Sequence[Any]) -> str:
    if not curve:
        return "<p>No article with checked links: no rot curve yet.</p>"
    rows = "".join(
        f"<tr><td>{html_text(_year(row))}</td><td>{row.articles}</td><td>{row.links}</td>"
        f"<td>{row.broken}</td><td>{share_percent(row.broken, row.links)}</td></tr>"
        for row in curve
    )
    return (
        "<figure>"
        + rot_curve_svg(curve)
        + "<figcaption>The share of cited links broken, by the citing article's publication "
        "year (from its extraction, or the canonical copy's date); articles of an unknown year "
        "are counted apart.</figcaption></figure>"
        "<table class=curve><tr><th>year</th><th>articles</th><th>links</th><th>broken</th>"
        f"<th>share</th></tr>{rows}</table>"
    )


def format_linkrot(
    articles: Sequence[Any],
    summary: dict[str, int],
    fmt: str = "text",
    *,
    curve: Sequence[Any] | None = None,
) -> str:
    """The link-rot report (``archiver.links.rotreport.ArticleRot`` values) in one of the
    formats; ``curve`` (``RotYear`` values) adds the rot curve to the JSON, HTML, Markdown and
    text (the CSV, one row a link, carries each row's ``published_year``; ``--curve`` gives the
    curve's own CSV)."""
    if fmt == "json":
        document = linkrot_document(articles, summary, curve)
        return json.dumps(document, ensure_ascii=False, indent=2)
    if fmt == "csv":
        rows = (
            {
                "source": article.source,
                **check.to_json(),
                "since": check.since,
                "flapping": check.flapping,
                "title": getattr(article, "title", None),
                "published_year": getattr(article, "published_year", None),
                "archived_copy": best_label(check),
                "archived_copies": copies_text(check),
            }
            for article in articles
            for check in (*article.broken, *article.suspects)
        )
        return csv_text(_ROT_CSV_FIELDS, rows)
    if fmt == "md":
        return _linkrot_markdown(articles, summary, curve)
    if fmt == "html":
        return _linkrot_html(articles, summary, curve)
    return _linkrot_text(articles, summary, curve)


def _totals(summary: dict[str, int]) -> str:
    return (
        f"{summary['broken']} broken link(s) in {summary['articles_with_broken_links']} of "
        f"{summary['articles']} article(s); {summary['suspects']} suspect(s), "
        f"{summary['flapping']} flapping; {summary['archived']} broken link(s) have an "
        "archived copy"
    )


def _title(article: Any) -> str | None:
    title = getattr(article, "title", None)
    return str(title) if title else None


def _checked(article: Any) -> str:
    """``Published 2017; checked <time>`` (or ``Checked <time>`` when the year is unknown)."""
    year = getattr(article, "published_year", None)
    if year is not None:
        return f"Published {year}; checked {article.checked_at}"
    return f"Checked {article.checked_at}"


def _linkrot_text(articles: Sequence[Any], summary: dict[str, int], curve: Any) -> str:
    lines = [f"Link rot: {_totals(summary)}"]
    if curve is not None:
        lines += ["", *_curve_lines(curve)]
    for article in articles:
        if not article.broken and not article.suspects:
            continue
        title = _title(article)
        lines.append("")
        if title:
            lines.append(terminal_line(title))
        lines.append(
            f"{terminal_line(article.source)}  ({terminal_line(_checked(article).lower())})"
        )
        for check in article.broken:
            lines.append(
                f"  BROKEN  {check.status:<16} since {check.since or '?'}  "
                f"{terminal_line(check.text)!r}\n          {terminal_line(check.url)}"
            )
            if check.archived_url:
                lines.append(
                    f"          archived: {terminal_line(check.archived_url)} "
                    f"({terminal_line(best_label(check))})"
                )
            for copy in other_copies(check):
                label = copy_label(copy.archive, copy.url, copy.datetime)
                lines.append(
                    f"          also archived: {terminal_line(copy.url)} ({terminal_line(label)})"
                )
        for check in article.suspects:
            flap = " flapping" if check.flapping else ""
            lines.append(
                f"  suspect {check.status:<16} since {check.since or '?'}{flap}  "
                f"{terminal_line(check.text)!r}\n          {terminal_line(check.url)}"
            )
    return "\n".join(lines)


def _copies_md(c: Any) -> str:
    if not c.archived_url:
        return ""
    return f"{md_url(c.archived_url)} ({md_cell(best_label(c))})"


def _linkrot_markdown(articles: Sequence[Any], summary: dict[str, int], curve: Any) -> str:
    rows = ["# Link rot report", "", _totals(summary) + "."]
    if curve is not None:
        rows += ["", "## Rot curve", "", *_curve_md(curve)]
    for article in articles:
        if not article.broken and not article.suspects:
            continue
        title = _title(article)
        heading = f"## {md_cell(title)}" if title else f"## {md_url(article.source)}"
        rows += ["", heading, ""]
        if title:
            rows += [md_url(article.source), ""]
        rows += [
            f"{md_cell(_checked(article))}; {len(article.broken)} of {article.links} links broken.",
            "",
            "| status | broken | since | text | url | archived copy | detail |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in (*article.broken, *article.suspects):
            word = c.status + (" (flapping)" if c.flapping else "")
            rows.append(
                f"| {word} | {'yes' if c.broken else 'suspect'} | {c.since or ''} | "
                f"{md_cell(c.text)} | {md_url(c.url)} | {_copies_md(c)} | "
                f"{md_cell(c.detail)} |"
            )
    return "\n".join(rows) + "\n"


def _linkrot_html(articles: Sequence[Any], summary: dict[str, int], curve: Any) -> str:
    parts = [
        html_head("Link rot report", LINKS_STYLE + CHART_STYLE),
        f"<h1>Link rot report</h1><p>{html_text(_totals(summary))}.</p>",
    ]
    if curve is not None:
        parts.append("<h2>Rot curve</h2>" + _curve_html(curve))
    for article in articles:
        if not article.broken and not article.suspects:
            continue
        title = _title(article)
        link = html_link(article.source) or html_text(article.source)
        heading = (
            f"<h2>{html_text(title)}</h2><p class=url>{link}</p>" if title else f"<h2>{link}</h2>"
        )
        parts.append(
            f'<section class="article">{heading}'
            f"<p>{html_text(_checked(article))}; {len(article.broken)} of "
            f"{article.links} links broken.</p>"
            "<table><tr><th>status</th><th>since</th><th>text</th><th>url</th>"
            "<th>archived copy</th><th>detail</th></tr>"
        )
        for c in (*article.broken, *article.suspects):
            cls = "broken" if c.broken else "suspect"
            word = c.status + (" (flapping)" if c.flapping else "")
            parts.append(
                f'<tr class="{cls}"><td>{html_text(word)}</td>'
                f"<td>{html_text(c.since or '')}</td><td>{html_text(c.text)}</td>"
                f"<td class=url>{html_link(c.url)}</td>"
                f"<td class=url>{copies_html(c)}</td>"
                f"<td>{html_text(c.detail)}</td></tr>"
            )
        parts.append("</table></section>")
    parts.append("</body></html>\n")
    return "".join(parts)

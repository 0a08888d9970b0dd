"""Reports: link checks and verifications as terminal text, Markdown, CSV, JSON or HTML.

Pure functions from result values to strings (the CLI writes them). Everything quoted from the
web (anchor texts, URLs, page text) is untrusted and goes through :mod:`archiver.report.escape`,
the one escaper per target: HTML output escapes all of it and links only to http(s) URLs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from archiver.links.check import SUSPECT, summarize
from archiver.models import LinkCheck
from archiver.report.escape import (
    csv_cell,
    csv_text,
    html_link,
    html_text,
    md_cell,
    md_url,
    terminal,
    terminal_line,
)
from archiver.report.style import paint
from archiver.verify.compare import word_diff

__all__ = [
    "FORMATS",
    "csv_cell",
    "diff_text",
    "format_linkrot",
    "format_links",
    "html_head",
    "html_link",
    "link_lines",
    "links_document",
    "snapshot_text",
    "verification_text",
]

FORMATS = ("text", "md", "html", "csv", "json")
_STATUS_COLOURS = {
    "ok": "green",
    "redirected": "cyan",
    "unchanged": "green",
    "cosmetic": "cyan",
    "edited": "yellow",
    "rewritten": "red",
    "missing": "red",
    "unreachable": "magenta",
}
_CSV_FIELDS = (
    "source",
    "url",
    "text",
    "status",
    "broken",
    "http_status",
    "final_url",
    "archived_url",
    "detail",
    "since",
    "flapping",
)


def links_document(source: str, checks: Sequence[LinkCheck]) -> dict[str, Any]:
    """The contract's ``links`` JSON shape."""
    return {
        "source": source,
        "links": [check.to_json() for check in checks],
        "summary": summarize(checks),
    }


def _colour(word: str, colour: bool) -> str:
    if not colour:
        return word
    fg = _STATUS_COLOURS.get(word, "red" if word not in ("skipped",) else None)
    return paint(word, fg, bold=fg == "red")


def link_lines(checks: Sequence[LinkCheck], *, colour: bool = False) -> list[str]:
    """One line per link: status, (broken), anchor text, URL and what happened."""
    width = max((len(c.status) for c in checks), default=0)
    lines = []
    for number, check in enumerate(checks, 1):
        flag = " BROKEN" if check.broken else "       "  # keeps the anchor texts aligned
        where = check.url or "(no href)"
        if check.final_url and check.final_url != check.url:
            where += f" -> {check.final_url}"
        recovered = " (recovered)" if check.recovered else ""
        word = _colour(check.status.ljust(width), colour)
        lines.append(
            f"{number:3d}. {word}{flag}  {check.text!r}{recovered}\n"
            f"       {terminal_line(where)}  [{terminal_line(check.detail)}]"
        )
        if check.archived_url:
            lines.append(f"       archived copy: {terminal_line(check.archived_url)}")
    return lines


def format_links(
    source: str, checks: Sequence[LinkCheck], fmt: str = "text", *, colour: bool = False
) -> str:
    """A link report in one of :data:`FORMATS`."""
    if fmt == "json":
        return json.dumps(links_document(source, checks), ensure_ascii=False, indent=2)
    if fmt == "csv":
        return csv_text(_CSV_FIELDS, ({"source": source, **check.to_json()} for check in checks))
    if fmt == "md":
        return _links_markdown(source, checks)
    if fmt == "html":
        return _links_html(source, checks)
    summary = ", ".join(f"{k}: {v}" for k, v in summarize(checks).items())
    broken = sum(c.broken for c in checks)
    head = f"Links of {terminal_line(source)}: {len(checks)} checked, {broken} broken ({summary})"
    return "\n".join([head, *link_lines(checks, colour=colour)])


def _links_markdown(source: str, checks: Sequence[LinkCheck]) -> str:
    rows = [
        f"# Link report: {md_cell(source)}",
        "",
        "| # | status | broken | text | url | archived copy | detail |",
        "|---|---|---|---|---|---|---|",
    ]
    for number, c in enumerate(checks, 1):
        rows.append(
            f"| {number} | {c.status} | {'yes' if c.broken else 'no'} | "
            f"{md_cell(c.text)} | {md_url(c.url)} | {md_url(c.archived_url)} | "
            f"{md_cell(c.detail)} |"
        )
    summary = ", ".join(f"{k}: {v}" for k, v in summarize(checks).items())
    rows += ["", f"Summary: {summary}"]
    return "\n".join(rows) + "\n"


def html_head(title: str, style: str) -> str:
    """The start of a report page, up to ``<body>``: its Content-Security-Policy forbids every
    script and fetch, so nothing quoted from a page can run even if escaping ever failed."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html_text(title)}</title>\n<style>\n{style}</style></head><body>\n"
    )


_LINKS_STYLE = """\
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;
color:#222}
table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #ddd;padding:.35rem;
text-align:left;vertical-align:top} .broken{background:#fdecea} .suspect{background:#fff7e0}
code{font-size:90%} td.url{word-break:break-all}
"""


def _links_html(source: str, checks: Sequence[LinkCheck]) -> str:
    parts = [
        html_head(f"Link report: {source}", _LINKS_STYLE),
        f"<h1>Link report</h1><p>{html_link(source) or html_text(source)}</p>",
        "<table><tr><th>#</th><th>status</th><th>text</th><th>url</th>"
        "<th>archived copy</th><th>detail</th></tr>",
    ]
    for number, c in enumerate(checks, 1):
        cls = "broken" if c.broken else ("suspect" if c.status in SUSPECT else "")
        parts.append(
            f'<tr class="{cls}"><td>{number}</td><td>{html_text(c.status)}</td>'
            f"<td>{html_text(c.text)}</td><td class=url>{html_link(c.url)}</td>"
            f"<td class=url>{html_link(c.archived_url)}</td><td>{html_text(c.detail)}</td></tr>"
        )
    summary = ", ".join(f"{html_text(k)}: {v}" for k, v in summarize(checks).items())
    parts.append(f"</table><p>Summary: {summary}</p></body></html>\n")
    return "".join(parts)


def snapshot_text(snap: Any) -> str:
    """A human summary of one snapshot (archiver.verify.job.Snapshot) and its sources."""
    cap = snap.capture
    state = f"HTTP {cap.status}" if cap.error is None else cap.error
    lines = [
        terminal_line(cap.url),
        f"  capture #{snap.capture_id}: {state}, {len(cap.body)} bytes, sha256 {cap.sha256}",
    ]
    if snap.document is not None:
        doc = snap.document
        lines.append(
            f"  {doc.profile}: {doc.title!r}, {len(doc.paragraphs)} paragraphs, "
            f"{len(doc.links)} links, {doc.checksum}"
        )
    for source in snap.sources:
        s = source.capture
        s_state = f"HTTP {s.status}" if s.error is None else s.error
        lines.append(f"    source #{source.capture_id}: {s_state:<18} {terminal_line(s.url)}")
    return "\n".join(lines)


MAX_CHANGES_SHOWN = 20  # a rewrite lists every paragraph; the terminal shows the first ones


def diff_text(canonical: str, live: str, *, colour: bool) -> str:
    """A word diff for the terminal: removed words [-like this-], added {+like this+}.

    In colour (a TTY, NO_COLOR unset) removed words are red and struck through, added green.
    """
    out = []
    for op, raw in word_diff(canonical, live):
        words = terminal(raw)
        if op == "=":
            out.append(words)
        elif op == "-":
            out.append(
                paint(f"[-{words}-]", "red", strikethrough=True) if colour else f"[-{words}-]"
            )
        else:
            out.append(paint(f"{{+{words}+}}", "green") if colour else f"{{+{words}+}}")
    return " ".join(out)


def verification_text(result: dict[str, Any], *, colour: bool = False) -> str:
    """A human report of one verification (from its JSON form)."""
    status = _colour(result["status"], colour)
    lines = [
        f"{terminal(result['canonical'])}",
        f"  url:        {terminal(result['url'])}",
        f"  verdict:    {status}  (similarity {result['similarity']:.3f})",
        f"  checksums:  canonical {result['checksum_canonical']}",
        f"              live      {result['checksum_live']}",
    ]
    if result.get("detail") and result["status"] in ("missing", "unreachable"):
        lines.append(f"  page:       {terminal(result['detail'])}")
    shown = result["changes"][:MAX_CHANGES_SHOWN]
    for change in shown:
        label = f"{change['kind']} {change['field']}"
        if change.get("note"):
            label += f" ({terminal(change['note'])})"
        lines.append(f"  - {label}")
        old, new = change.get("canonical"), change.get("live")
        if old is not None and new is not None:
            lines.append("      " + diff_text(old, new, colour=colour))
        elif old is not None:
            lines.append(f"      canonical: {terminal(old[:300])}")
        elif new is not None:
            lines.append(f"      live:      {terminal(new[:300])}")
    if len(result["changes"]) > len(shown):
        lines.append(f"  ... and {len(result['changes']) - len(shown)} more changes (see --json)")
    checks = []
    for link in result["links"]:
        fields: dict[str, Any] = {
            k: (terminal(v) if isinstance(v, str) else v)
            for k, v in link.items()
            if k != "redirects"
        }
        checks.append(LinkCheck(**fields, redirects=tuple(link["redirects"])))
    if checks:
        recovered = sum(bool(c.recovered) for c in checks)
        broken = sum(c.broken for c in checks)
        lines.append(f"  links:      {len(checks)} ({recovered} recovered, {broken} broken)")
        lines.extend("  " + line for line in link_lines(checks, colour=colour))
    flagged = [s for s in result.get("sources", []) if s.get("flagged")]
    compared = [s for s in result.get("sources", []) if s["status"] in ("same", "changed")]
    if flagged or compared:
        lines.append(
            f"  sources:    {len(compared) + len(flagged)} compared with their first capture, "
            f"{len(flagged)} no longer hold the cited passage"
        )
    for source in flagged:
        lines.append(f"    {_colour('passage_missing', colour)}  {terminal(source['url'])}")
        lines.append(f"      cited for: {terminal((source.get('passage') or '')[:300])}")
    return "\n".join(lines)


# --- link rot over the archive (``archiver report linkrot``) --------------------------------

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
)


def linkrot_document(articles: Sequence[Any], summary: dict[str, int]) -> dict[str, Any]:
    """The ``report linkrot`` JSON: per article its broken links and suspects, and totals."""
    return {"articles": [article.to_json() for article in articles], "summary": summary}


def format_linkrot(articles: Sequence[Any], summary: dict[str, int], fmt: str = "text") -> str:
    """The link-rot report (``archiver.links.rot.ArticleRot`` values) in one of :data:`FORMATS`."""
    if fmt == "json":
        return json.dumps(linkrot_document(articles, summary), ensure_ascii=False, indent=2)
    if fmt == "csv":
        rows = (
            {
                "source": article.source,
                **check.to_json(),
                "since": check.since,
                "flapping": check.flapping,
            }
            for article in articles
            for check in (*article.broken, *article.suspects)
        )
        return csv_text(_ROT_CSV_FIELDS, rows)
    if fmt == "md":
        return _linkrot_markdown(articles, summary)
    if fmt == "html":
        return _linkrot_html(articles, summary)
    return _linkrot_text(articles, summary)


def _totals(summary: dict[str, int]) -> str:
    return (
        f"{summary['broken']} broken link(s) in {summary['articles_with_broken_links']} of "
        f"{summary['articles']} article(s); {summary['suspects']} suspect(s), "
        f"{summary['flapping']} flapping; {summary['archived']} broken link(s) have an "
        "archived copy"
    )


def _linkrot_text(articles: Sequence[Any], summary: dict[str, int]) -> str:
    lines = [f"Link rot: {_totals(summary)}"]
    for article in articles:
        if not article.broken and not article.suspects:
            continue
        lines.append(f"\n{terminal_line(article.source)}  (checked {article.checked_at})")
        for check in article.broken:
            lines.append(
                f"  BROKEN  {check.status:<16} since {check.since or '?'}  "
                f"{terminal_line(check.text)!r}\n          {terminal_line(check.url)}"
            )
            if check.archived_url:
                lines.append(f"          archived: {terminal_line(check.archived_url)}")
        for check in article.suspects:
            flap = " flapping" if check.flapping else ""
            lines.append(
                f"  suspect {check.status:<16} since {check.since or '?'}{flap}  "
                f"{terminal_line(check.text)!r}\n          {terminal_line(check.url)}"
            )
    return "\n".join(lines)


def _linkrot_markdown(articles: Sequence[Any], summary: dict[str, int]) -> str:
    rows = ["# Link rot report", "", _totals(summary) + "."]
    for article in articles:
        if not article.broken and not article.suspects:
            continue
        rows += [
            "",
            f"## {md_url(article.source)}",
            "",
            f"Checked {article.checked_at}; {len(article.broken)} of {article.links} links broken.",
            "",
            "| status | broken | since | text | url | archived copy | detail |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in (*article.broken, *article.suspects):
            word = c.status + (" (flapping)" if c.flapping else "")
            archived = md_url(c.archived_url)
            rows.append(
                f"| {word} | {'yes' if c.broken else 'suspect'} | {c.since or ''} | "
                f"{md_cell(c.text)} | {md_url(c.url)} | {archived} | "
                f"{md_cell(c.detail)} |"
            )
    return "\n".join(rows) + "\n"


def _linkrot_html(articles: Sequence[Any], summary: dict[str, int]) -> str:
    parts = [
        html_head("Link rot report", _LINKS_STYLE),
        f"<h1>Link rot report</h1><p>{html_text(_totals(summary))}.</p>",
    ]
    for article in articles:
        if not article.broken and not article.suspects:
            continue
        parts.append(
            f"<h2>{html_link(article.source) or html_text(article.source)}</h2>"
            f"<p>Checked {html_text(article.checked_at)}; {len(article.broken)} of "
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
                f"<td class=url>{html_link(c.archived_url)}</td>"
                f"<td>{html_text(c.detail)}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "".join(parts)

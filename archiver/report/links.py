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
from archiver.report.copies import (
    archived_copy_json,
    best_label,
    candidates_text,
    copies_html,
    copies_text,
    copy_label,
    hops,
    other_copies,
)
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
from archiver.report.linkrot import format_linkrot, linkrot_document
from archiver.report.style import LINKS_STYLE, html_head, paint
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
    "linkrot_document",
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
    "redirects",
    "moved_to",
    "moved_candidates",
    "archived_copy",
    "archived_copies",
)


def link_row(check: LinkCheck) -> dict[str, Any]:
    """One link as a CSV row: its JSON, the hops, the moved page and the copies as text."""
    return {
        **check.to_json(),
        "redirects": " -> ".join(hops(check)),
        "moved_to": check.moved_to,
        "moved_candidates": candidates_text(check),
        "archived_copy": best_label(check),
        "archived_copies": copies_text(check),
    }


def link_json(check: LinkCheck) -> dict[str, Any]:
    """One link in the contract's LINK shape, with its best archived copy described."""
    out = check.to_json()
    described = archived_copy_json(check)
    if described is not None:
        out["archived_copy"] = described
    return out


def links_document(source: str, checks: Sequence[LinkCheck]) -> dict[str, Any]:
    """The contract's ``links`` JSON shape."""
    return {
        "source": source,
        "links": [link_json(check) for check in checks],
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
        lines.extend(f"       {line}" for line in _extra_lines(check))
    return lines


def _extra_lines(check: LinkCheck) -> list[str]:
    """Below a link: the redirect hops, the moved page, its candidates and archived copies."""
    out = []
    chain = hops(check)
    if len(chain) > 2:
        out.append("redirects: " + " -> ".join(terminal_line(url) for url in chain))
    if check.moved_to:
        out.append(f"moved to: {terminal_line(check.moved_to)}")
    for c in check.moved_candidates[:10]:
        matched = {True: "matched", False: "did not match", None: "not fetched"}[c.matched]
        out.append(
            f"moved? {terminal_line(c.url)} ({terminal_line(c.evidence)}, "
            f"confidence {c.confidence:.2f}, {matched})"
        )
    if check.archived_url:
        out.append(
            f"archived copy: {terminal_line(check.archived_url)} "
            f"({terminal_line(best_label(check))})"
        )
    for copy in other_copies(check):
        label = copy_label(copy.archive, copy.url, copy.datetime)
        out.append(f"also archived: {terminal_line(copy.url)} ({terminal_line(label)})")
    return out


def format_links(
    source: str, checks: Sequence[LinkCheck], fmt: str = "text", *, colour: bool = False
) -> str:
    """A link report in one of :data:`FORMATS`."""
    if fmt == "json":
        return json.dumps(links_document(source, checks), ensure_ascii=False, indent=2)
    if fmt == "csv":
        return csv_text(_CSV_FIELDS, ({"source": source, **link_row(check)} for check in checks))
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
        "| # | status | broken | text | url | went to | archived copy | detail |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for number, c in enumerate(checks, 1):
        rows.append(
            f"| {number} | {c.status} | {'yes' if c.broken else 'no'} | "
            f"{md_cell(c.text)} | {md_url(c.url)} | {_went_md(c)} | {_copies_md(c)} | "
            f"{md_cell(c.detail)} |"
        )
    summary = ", ".join(f"{k}: {v}" for k, v in summarize(checks).items())
    rows += ["", f"Summary: {summary}"]
    return "\n".join(rows) + "\n"


def _went_md(c: LinkCheck) -> str:
    """Where a link went, in a Markdown cell: its redirect hops, the page it moved to."""
    parts = []
    chain = hops(c)
    if chain:
        parts.append(" → ".join(md_url(url) for url in chain[1:]))
    if c.moved_to:
        parts.append(f"moved to {md_url(c.moved_to)}")
    for cand in c.moved_candidates[:10]:
        parts.append(f"moved? {md_url(cand.url)} ({md_cell(cand.evidence)})")
    return "; ".join(parts)


def _copies_md(c: LinkCheck) -> str:
    if not c.archived_url:
        return ""
    parts = [f"{md_url(c.archived_url)} ({md_cell(best_label(c))})"]
    for copy in other_copies(c):
        label = copy_label(copy.archive, copy.url, copy.datetime)
        parts.append(f"{md_url(copy.url)} ({md_cell(label)})")
    return "; ".join(parts)


def _went_html(c: LinkCheck) -> str:
    """Where a link went, as HTML: the hops in order, the page it moved to, the candidates."""
    parts = []
    chain = hops(c)
    if chain:
        steps = "".join(f"<li>{html_link(url) or html_text(url)}</li>" for url in chain[1:])
        parts.append(f"<ol class=hops>{steps}</ol>")
    if c.moved_to:
        parts.append(f"<p>moved to {html_link(c.moved_to) or html_text(c.moved_to)}</p>")
    if c.moved_candidates:
        items = []
        for cand in c.moved_candidates[:10]:
            matched = {True: "matched", False: "did not match", None: "not fetched"}[cand.matched]
            items.append(
                f"<li>{html_link(cand.url) or html_text(cand.url)} "
                f"({html_text(cand.evidence)}, confidence {cand.confidence:.2f}, {matched})</li>"
            )
        parts.append(f"<p>moved? candidates:</p><ul>{''.join(items)}</ul>")
    return "".join(parts)


def _links_html(source: str, checks: Sequence[LinkCheck]) -> str:
    parts = [
        html_head(f"Link report: {source}", LINKS_STYLE),
        f"<h1>Link report</h1><p>{html_link(source) or html_text(source)}</p>",
        "<table><tr><th>#</th><th>status</th><th>text</th><th>url</th>"
        "<th>went to</th><th>archived copy</th><th>detail</th></tr>",
    ]
    for number, c in enumerate(checks, 1):
        cls = "broken" if c.broken else ("suspect" if c.status in SUSPECT else "")
        parts.append(
            f'<tr class="{cls}"><td>{number}</td><td>{html_text(c.status)}</td>'
            f"<td>{html_text(c.text)}</td><td class=url>{html_link(c.url)}</td>"
            f"<td class=url>{_went_html(c)}</td><td class=url>{copies_html(c)}</td>"
            f"<td>{html_text(c.detail)}</td></tr>"
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

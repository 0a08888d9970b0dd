"""Reports: link checks and verifications as terminal text, Markdown, CSV, JSON or HTML.

Pure functions from result values to strings. Everything quoted from the web (anchor texts,
URLs, page text) is untrusted: HTML output escapes all of it and links only to http(s) URLs.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Sequence
from typing import Any

import click

from archiver.compare import word_diff
from archiver.linkcheck import summarize
from archiver.models import LinkCheck

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
    return click.style(word, fg=fg, bold=fg == "red")


def link_lines(checks: Sequence[LinkCheck], *, colour: bool = False) -> list[str]:
    """One line per link: status, (broken), anchor text, URL and what happened."""
    width = max((len(c.status) for c in checks), default=0)
    lines = []
    for number, check in enumerate(checks, 1):
        flag = " BROKEN" if check.broken else ""
        where = check.url or "(no href)"
        if check.final_url and check.final_url != check.url:
            where += f" -> {check.final_url}"
        recovered = " (recovered)" if check.recovered else ""
        word = _colour(check.status.ljust(width), colour)
        lines.append(
            f"{number:3d}. {word}{flag}  {check.text!r}{recovered}\n"
            f"       {where}  [{check.detail}]"
        )
    return lines


def format_links(
    source: str, checks: Sequence[LinkCheck], fmt: str = "text", *, colour: bool = False
) -> str:
    """A link report in one of :data:`FORMATS`."""
    if fmt == "json":
        return json.dumps(links_document(source, checks), ensure_ascii=False, indent=2)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=_CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for check in checks:
            writer.writerow({"source": source, **check.to_json()})
        return buffer.getvalue()
    if fmt == "md":
        return _links_markdown(source, checks)
    if fmt == "html":
        return _links_html(source, checks)
    summary = ", ".join(f"{k}: {v}" for k, v in summarize(checks).items())
    broken = sum(c.broken for c in checks)
    head = f"Links of {source}: {len(checks)} checked, {broken} broken ({summary})"
    return "\n".join([head, *link_lines(checks, colour=colour)])


def _md_cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _links_markdown(source: str, checks: Sequence[LinkCheck]) -> str:
    rows = [
        f"# Link report: {_md_cell(source)}",
        "",
        "| # | status | broken | text | url | archived copy | detail |",
        "|---|---|---|---|---|---|---|",
    ]
    for number, c in enumerate(checks, 1):
        rows.append(
            f"| {number} | {c.status} | {'yes' if c.broken else 'no'} | {_md_cell(c.text)} | "
            f"<{_md_cell(c.url)}> | {_md_cell(c.archived_url)} | {_md_cell(c.detail)} |"
        )
    summary = ", ".join(f"{k}: {v}" for k, v in summarize(checks).items())
    rows += ["", f"Summary: {summary}"]
    return "\n".join(rows) + "\n"


def _href(url: str | None) -> str:
    """An escaped link to an http(s) URL, or just the escaped text for anything else."""
    if not url:
        return ""
    safe = html.escape(url, quote=True)
    if url.lower().startswith(("http://", "https://")):
        return f'<a href="{safe}" rel="noreferrer noopener nofollow">{safe}</a>'
    return safe


_HTML_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;
color:#222}}
table{{border-collapse:collapse;width:100%}} td,th{{border-bottom:1px solid #ddd;padding:.35rem;
text-align:left;vertical-align:top}} .broken{{background:#fdecea}} .suspect{{background:#fff7e0}}
code{{font-size:90%}} td.url{{word-break:break-all}}
</style></head><body>
"""


def _links_html(source: str, checks: Sequence[LinkCheck]) -> str:
    parts = [
        _HTML_HEAD.format(title=html.escape(f"Link report: {source}")),
        f"<h1>Link report</h1><p>{_href(source) or html.escape(source)}</p>",
        "<table><tr><th>#</th><th>status</th><th>text</th><th>url</th>"
        "<th>archived copy</th><th>detail</th></tr>",
    ]
    for number, c in enumerate(checks, 1):
        cls = "broken" if c.broken else ("suspect" if c.status in _SUSPECTS else "")
        parts.append(
            f'<tr class="{cls}"><td>{number}</td><td>{html.escape(c.status)}</td>'
            f"<td>{html.escape(c.text)}</td><td class=url>{_href(c.url)}</td>"
            f"<td class=url>{_href(c.archived_url)}</td><td>{html.escape(c.detail)}</td></tr>"
        )
    summary = ", ".join(f"{html.escape(k)}: {v}" for k, v in summarize(checks).items())
    parts.append(f"</table><p>Summary: {summary}</p></body></html>\n")
    return "".join(parts)


_SUSPECTS = frozenset(
    {"server_error", "timeout", "connection_error", "tls_error", "blocked", "rate_limited"}
)


def snapshot_text(snap: Any) -> str:
    """A human summary of one snapshot (archiver.pipeline.Snapshot) and its sources."""
    cap = snap.capture
    state = f"HTTP {cap.status}" if cap.error is None else cap.error
    lines = [
        f"{cap.url}",
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
        lines.append(f"    source #{source.capture_id}: {s_state:<18} {s.url}")
    return "\n".join(lines)


MAX_CHANGES_SHOWN = 20  # a rewrite lists every paragraph; the terminal shows the first ones
_TERMINAL_UNSAFE = {c: None for c in [*range(0x20), *range(0x7F, 0xA0)] if c != 0x0A}


def safe_text(value: Any) -> str:
    """Page or copy text made safe for a terminal: control characters (escape sequences that
    could recolour, move the cursor or retitle the window) are dropped."""
    return "" if value is None else str(value).translate(_TERMINAL_UNSAFE)


def diff_text(canonical: str, live: str, *, colour: bool) -> str:
    """A word diff for the terminal: removed words [-like this-], added {+like this+}.

    In colour (a TTY, NO_COLOR unset) removed words are red and struck through, added green.
    """
    out = []
    for op, raw in word_diff(canonical, live):
        words = safe_text(raw)
        if op == "=":
            out.append(words)
        elif op == "-":
            out.append(
                click.style(f"[-{words}-]", fg="red", strikethrough=True)
                if colour
                else f"[-{words}-]"
            )
        else:
            out.append(click.style(f"{{+{words}+}}", fg="green") if colour else f"{{+{words}+}}")
    return " ".join(out)


def verification_text(result: dict[str, Any], *, colour: bool = False) -> str:
    """A human report of one verification (from its JSON form)."""
    status = _colour(result["status"], colour)
    lines = [
        f"{safe_text(result['canonical'])}",
        f"  url:        {safe_text(result['url'])}",
        f"  verdict:    {status}  (similarity {result['similarity']:.3f})",
        f"  checksums:  canonical {result['checksum_canonical']}",
        f"              live      {result['checksum_live']}",
    ]
    if result.get("detail") and result["status"] in ("missing", "unreachable"):
        lines.append(f"  page:       {safe_text(result['detail'])}")
    shown = result["changes"][:MAX_CHANGES_SHOWN]
    for change in shown:
        label = f"{change['kind']} {change['field']}"
        if change.get("note"):
            label += f" ({safe_text(change['note'])})"
        lines.append(f"  - {label}")
        old, new = change.get("canonical"), change.get("live")
        if old is not None and new is not None:
            lines.append("      " + diff_text(old, new, colour=colour))
        elif old is not None:
            lines.append(f"      canonical: {safe_text(old[:300])}")
        elif new is not None:
            lines.append(f"      live:      {safe_text(new[:300])}")
    if len(result["changes"]) > len(shown):
        lines.append(f"  ... and {len(result['changes']) - len(shown)} more changes (see --json)")
    checks = []
    for link in result["links"]:
        fields: dict[str, Any] = {
            k: (safe_text(v) if isinstance(v, str) else v)
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
        lines.append(f"    {_colour('passage_missing', colour)}  {safe_text(source['url'])}")
        lines.append(f"      cited for: {safe_text((source.get('passage') or '')[:300])}")
    return "\n".join(lines)

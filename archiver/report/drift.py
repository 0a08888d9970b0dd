"""The drift report: the newest verdict on every canonical copy the archive knows, as Markdown,
HTML, CSV or JSON.

Pure formatters of :class:`DriftEntry` records: the CLI reads the archive (and the copies' files,
when they are still there, for the side-by-side view) and writes the text. Everything quoted
from a page or a copy is untrusted and goes through :mod:`archiver.report.escape`: HTML output
escapes all of it, links only to http(s) URLs, and carries a Content-Security-Policy that
forbids scripts; Markdown output puts quoted text in code fences longer than any backtick run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from archiver.archive.records import StoredSourceDrift, StoredVerification
from archiver.errors import InputError
from archiver.extract.normalize import normalize_text
from archiver.models import CanonicalCopy, Document
from archiver.report.escape import csv_text, html_link, html_text, md_cell, md_fence, md_url
from archiver.report.links import html_head
from archiver.verify.compare import DRIFTED, body_diff, word_diff

FORMATS = ("md", "html", "csv", "json")
_CSV_FIELDS = (
    "canonical",
    "url",
    "status",
    "similarity",
    "verified_at",
    "capture_id",
    "kind",
    "field",
    "canonical_text",
    "live_text",
    "note",
)


@dataclass(frozen=True, kw_only=True)
class DriftEntry:
    """The newest verification of one copy, with both texts when they can still be read."""

    verification: StoredVerification
    canonical: CanonicalCopy | None = None
    live: Document | None = None

    @property
    def status(self) -> str:
        return self.verification.status

    @property
    def problem(self) -> bool:
        """Drifted, or cites a source that no longer holds the passage it was cited for."""
        return self.status in DRIFTED or bool(_flagged(self.verification))

    def to_json(self) -> dict[str, Any]:
        v = self.verification
        return {
            "canonical": v.canonical_path,
            "url": v.url,
            "status": v.status,
            "similarity": v.similarity,
            "checksum_canonical": v.checksum_canonical,
            "checksum_live": v.checksum_live,
            "capture_id": v.capture_id,
            "verified_at": v.verified_at,
            "changes": [change.to_json() for change in v.changes],
            "sources": [source.to_json() for source in v.sources],
        }


def _flagged(verification: StoredVerification) -> list[StoredSourceDrift]:
    return [s for s in verification.sources if s.status == "passage_missing"]


def summarize(entries: Sequence[DriftEntry]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.status] = counts.get(entry.status, 0) + 1
    return dict(sorted(counts.items()))


def format_drift(entries: Sequence[DriftEntry], fmt: str, *, changes_only: bool = False) -> str:
    """The report in one of :data:`FORMATS`; ``changes_only`` keeps only the copies that
    drifted or lost a cited passage (and, in HTML, only their changed rows). The summary still
    counts every copy."""
    summary = summarize(entries)
    if changes_only:
        entries = [entry for entry in entries if entry.problem]
    if fmt == "json":
        document = {
            "results": [entry.to_json() for entry in entries],
            "summary": summary,
        }
        return json.dumps(document, ensure_ascii=False, indent=2)
    if fmt == "csv":
        return _csv(entries)
    if fmt == "html":
        return _html(entries, summary, changes_only=changes_only)
    if fmt == "md":
        return _markdown(entries, summary, changes_only=changes_only)
    raise InputError(f"unknown report format {fmt!r} (one of {', '.join(FORMATS)})")


# -- CSV -----------------------------------------------------------------------------------


def _csv(entries: Sequence[DriftEntry]) -> str:
    """One row per change (a copy with no change gets one row with empty change columns)."""
    rows: list[dict[str, Any]] = []
    for entry in entries:
        v = entry.verification
        base = {
            "canonical": v.canonical_path,
            "url": v.url,
            "status": v.status,
            "similarity": v.similarity,
            "verified_at": v.verified_at,
            "capture_id": v.capture_id,
        }
        for change in v.changes or (None,):
            rows.append(
                {
                    **base,
                    "kind": change.kind if change else "",
                    "field": change.field if change else "",
                    "canonical_text": change.canonical if change else None,
                    "live_text": change.live if change else None,
                    "note": change.note if change else None,
                }
            )
    return csv_text(_CSV_FIELDS, rows)


# -- Markdown ------------------------------------------------------------------------------


def _diff_plain(old: str, new: str) -> str:
    parts = []
    for op, words in word_diff(old, new):
        parts.append(words if op == "=" else (f"[-{words}-]" if op == "-" else f"{{+{words}+}}"))
    return " ".join(parts)


def _markdown(entries: Sequence[DriftEntry], counts: dict[str, int], *, changes_only: bool) -> str:
    summary = ", ".join(f"{k}: {n}" for k, n in counts.items()) or "nothing verified"
    total = sum(counts.values())
    lines = ["# Drift report", "", f"{total} canonical copies: {summary}.", ""]
    if changes_only:
        lines += [f"Changes only: the {len(entries)} that drifted or lost a cited passage.", ""]
    for entry in entries:
        v = entry.verification
        lines += [
            f"## {md_cell(v.canonical_path)}",
            "",
            f"- url: {md_url(str(v.url))}",
            f"- verdict: **{v.status}** (similarity {float(v.similarity or 0):.3f}), "
            f"verified {v.verified_at}",
            f"- checksums: canonical `{v.checksum_canonical}`, live `{v.checksum_live}`",
            "",
        ]
        for source in _flagged(v):
            lines.append(
                f"- source no longer holds the passage it was cited for: "
                f"{md_url(str(source.url))} ({md_cell(source.text)})"
            )
            lines += ["", md_fence(str(source.passage or "")), ""]
        for change in v.changes:
            label = f"{change.kind} {change.field}"
            if change.note:
                label += f" ({md_cell(change.note)})"
            lines.append(f"### {label}")
            lines.append("")
            old, new = change.canonical, change.live
            if old is not None and new is not None:
                lines.append(md_fence(_diff_plain(old, new)))
            elif old is not None:
                lines.append(md_fence(f"[-{old}-]"))
            elif new is not None:
                lines.append(md_fence(f"{{+{new}+}}"))
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# -- HTML ----------------------------------------------------------------------------------

_STYLE = """\
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:90rem;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%;table-layout:fixed}
td,th{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
del{background:#fdd;text-decoration:line-through} ins{background:#dfd;text-decoration:none}
tr.changed td{background:#fffbe6} tr.removed td.canonical{background:#fdecea}
tr.added td.live{background:#eaf7ea} .status{font-weight:bold}
th.mark{width:6.5rem} td.mark{font-weight:bold;white-space:nowrap}
tr.changed td.mark,tr.removed td.mark,tr.added td.mark{border-left:4px solid #b00}
nav.views a{margin-right:1rem}
#changes-only:target tr.same,#changes-only:target section.clean{display:none}
#changes-only:target .when-all,.when-changes{display:none}
#changes-only:target .when-changes{display:inline}
.edited,.rewritten,.missing{color:#b00} .unchanged,.cosmetic{color:#070} .unreachable{color:#806}
"""


def _marked(old: str, new: str) -> tuple[str, str]:
    """Both sides of a word diff as escaped HTML, removed words in <del>, added in <ins>."""
    left: list[str] = []
    right: list[str] = []
    for op, words in word_diff(old, new):
        escaped = html_text(words)
        if op == "=":
            left.append(escaped)
            right.append(escaped)
        elif op == "-":
            left.append(f"<del>{escaped}</del>")
        else:
            right.append(f"<ins>{escaped}</ins>")
    return " ".join(left), " ".join(right)


def side_by_side(canonical: Sequence[str], live: Sequence[str]) -> list[tuple[str, str, str]]:
    """(row class, canonical HTML, live HTML) for the two texts aligned paragraph by paragraph.

    Equal paragraphs (after normalization) face each other; a run that differs is shown as
    one row, its words marked; removed and added runs face an empty cell.
    """
    a = [normalize_text(p) for p in canonical]
    b = [normalize_text(p) for p in live]
    rows: list[tuple[str, str, str]] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                rows.append(("", html_text(canonical[i]), html_text(live[j])))
        elif tag == "delete":
            rows.append(("removed", html_text("\n\n".join(canonical[i1:i2])), ""))
        elif tag == "insert":
            rows.append(("added", "", html_text("\n\n".join(live[j1:j2]))))
        else:
            rows.extend(_replaced(canonical[i1:i2], live[j1:j2]))
    return rows


def _replaced(canonical: Sequence[str], live: Sequence[str]) -> list[tuple[str, str, str]]:
    """Rows for a run of paragraphs that differ: whole paragraphs removed or added (as the
    word-level comparison finds them) get rows of their own; the rest face each other, words
    marked (nothing marked when they were only split or joined)."""
    removed: set[str] = set()
    added: set[str] = set()
    for change in body_diff(canonical, live)[0]:
        if change.kind == "removed" and change.canonical is not None:
            removed.update(change.canonical.split("\n\n"))
        elif change.kind == "added" and change.live is not None:
            added.update(change.live.split("\n\n"))
    kept_old = [p for p in canonical if p not in removed]
    kept_new = [p for p in live if p not in added]
    rows: list[tuple[str, str, str]] = []
    if kept_old or kept_new:
        old, new = "\n\n".join(kept_old), "\n\n".join(kept_new)
        same = normalize_text(old).split() == normalize_text(new).split()
        left, right = _marked(old, new)
        rows.append(("" if same else "changed", left, right))
    rows += [("removed", html_text(p), "") for p in canonical if p in removed]
    rows += [("added", "", html_text(p)) for p in live if p in added]
    return rows


_MARKS = {"changed": "changed", "removed": "removed", "added": "added", "": ""}


def _row(cls: str, left: str, right: str) -> str:
    """One side-by-side row; a changed row says so in words in its first cell (``same`` rows
    carry the class the changes-only view hides)."""
    mark = _MARKS.get(cls, cls)
    return (
        f'<tr class="{cls or "same"}"><td class="mark">{html_text(mark)}</td>'
        f'<td class="canonical">{left}</td><td class="live">{right}</td></tr>'
    )


def _html(entries: Sequence[DriftEntry], counts: dict[str, int], *, changes_only: bool) -> str:
    summary = ", ".join(f"{html_text(k)}: {n}" for k, n in counts.items()) or html_text(
        "nothing verified"
    )
    parts = [
        html_head("Drift report", _STYLE),
        '<div id="changes-only"><h1>Drift report</h1>',
        f"<p>{sum(counts.values())} canonical copies: {summary}",
    ]
    parts.append("</p>")
    if changes_only:
        parts.append(
            f"<p><b>Changes only</b>: the {len(entries)} copies that drifted or lost a cited "
            "passage, and only their changed rows.</p>"
        )
    else:
        parts.append(
            '<nav class="views"><span class="when-all"><b>Showing everything.</b> '
            '<a href="#changes-only">Show changes only</a></span>'
            '<span class="when-changes"><b>Showing changes only.</b> '
            '<a href="#">Show everything</a></span></nav>'
        )
    for entry in entries:
        v = entry.verification
        status = html_text(str(v.status))
        clean = "" if entry.problem else ' class="clean"'
        parts.append(
            f"<section{clean}><h2>{html_text(str(v.canonical_path))}</h2>"
            f'<p>{html_link(str(v.url))}<br>verdict <span class="status {status}">{status}'
            f"</span> (similarity {float(v.similarity or 0):.3f}), verified "
            f"{html_text(str(v.verified_at))}</p>"
        )
        parts.append(
            '<table><tr><th class="mark">change</th><th class="canonical">canonical copy</th>'
            '<th class="live">live page (newest capture)</th></tr>'
        )
        for change in v.changes:
            if change.field == "body":
                continue
            old, new = change.canonical or "", change.live or ""
            left, right = _marked(old, new)
            label = html_text(f"{change.kind} {change.field}")
            note = f" — {html_text(change.note)}" if change.note else ""
            parts.append(
                _row("changed", f"<b>{label}</b>{note}<br>{left}", f"<b>{label}</b><br>{right}")
            )
        if entry.canonical is not None and entry.live is not None:
            rows = side_by_side(entry.canonical.paragraphs, entry.live.paragraphs)
        else:
            rows = []
            for change in v.changes:
                if change.field != "body":
                    continue
                kind = {"removed": "removed", "added": "added"}.get(change.kind, "changed")
                left, right = _marked(change.canonical or "", change.live or "")
                rows.append((kind, left, right))
        for cls, left, right in rows:
            if changes_only and not cls:
                continue
            parts.append(_row(cls, left, right))
        notes = [c for c in v.changes if c.note and c.field == "body"]
        parts.append("</table>")
        for change in notes:
            parts.append(f"<p><b>{html_text(change.note)}</b></p>")
        for source in _flagged(v):
            parts.append(
                f"<p>Source no longer holds the passage it was cited for: "
                f"{html_link(str(source.url))} ({html_text(str(source.text))})<br>"
                f"<del>{html_text(str(source.passage or ''))}</del></p>"
            )
        parts.append("</section>")
    parts.append("</div></body></html>\n")
    return "".join(parts)

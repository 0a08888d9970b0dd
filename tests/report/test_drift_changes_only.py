"""The drift report's changes-only view: ``--changes-only``, and in the HTML a toggle that
needs no script (CSS ``:target``); changed rows say so in words, not by colour alone."""

from __future__ import annotations

import csv
import io
import json
import re

from archiver.archive.records import StoredVerification
from archiver.models import CanonicalCopy, Change, Document
from archiver.report.drift import DriftEntry, format_drift

SAME = ("The first paragraph stays as it was.", "So does the second one, word for word.")


def _entry(
    path: str, status: str, live: tuple[str, ...], changes: tuple[Change, ...]
) -> DriftEntry:
    verification = StoredVerification(
        id=1, canonical_path=path, url=f"https://a.example/{path}", capture_id=None, run_id=None,
        verified_at="2026-01-01T00:00:00Z", status=status, similarity=0.9,
        checksum_canonical="sha256:a", checksum_live="sha256:b", changes=changes,
    )  # fmt: skip
    canonical = CanonicalCopy(
        path=path, url=verification.url, title="T", subtitle=None, authors=(), published=None,
        caption=None, credits=None, paragraphs=(*SAME, "The third said violence."), links=(),
    )  # fmt: skip
    document = Document(
        url=verification.url, title="T", subtitle=None, authors=(), published=None,
        modified=None, paragraphs=live, links=(), images=(), profile="generic", checksum="x",
    )  # fmt: skip
    return DriftEntry(verification=verification, canonical=canonical, live=document)


EDITED = _entry(
    "edited.md",
    "edited",
    (*SAME, "The third said force."),
    (Change(kind="modified", field="body", canonical="violence.", live="force."),),
)
CLEAN = _entry("clean.md", "unchanged", (*SAME, "The third said violence."), ())


def test_html_marks_changed_rows_in_words_and_toggles_without_script() -> None:
    page = format_drift([EDITED, CLEAN], "html")
    assert '<tr class="changed"><td class="mark">changed</td>' in page
    assert page.count('<tr class="same"><td class="mark"></td>') == 5  # 2 + 3 unchanged rows
    assert '<a href="#changes-only">Show changes only</a>' in page
    assert '<div id="changes-only">' in page
    assert "#changes-only:target tr.same" in page  # the toggle is CSS, not script
    assert '<section class="clean"><h2>clean.md</h2>' in page and "<script" not in page

    only = format_drift([EDITED, CLEAN], "html", changes_only=True)
    assert "clean.md" not in only and "edited.md" in only
    assert 'class="same"' not in only and '<tr class="changed">' in only
    assert re.search(r"2 canonical copies: edited: 1, unchanged: 1", only)  # totals stay whole


def test_changes_only_in_the_other_formats() -> None:
    md = format_drift([EDITED, CLEAN], "md", changes_only=True)
    assert "## edited.md" in md and "clean.md" not in md and "Changes only" in md
    document = json.loads(format_drift([EDITED, CLEAN], "json", changes_only=True))
    assert [r["canonical"] for r in document["results"]] == ["edited.md"]
    assert document["summary"] == {"edited": 1, "unchanged": 1}
    rows = list(
        csv.DictReader(io.StringIO(format_drift([CLEAN, EDITED], "csv", changes_only=True)))
    )
    assert [r["canonical"] for r in rows] == ["edited.md"]
    everything = list(csv.DictReader(io.StringIO(format_drift([CLEAN, EDITED], "csv"))))
    assert [r["canonical"] for r in everything] == ["clean.md", "edited.md"]

"""``archiver report drift``: the newest verdicts from the archive, in every format, escaped."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.archive.store import Archive
from archiver.cli import cli
from archiver.report.drift import side_by_side
from archiver.testserver import Page, Site, SiteServer, load_site
from tests.conftest import SEED, SEED_PAGE, SEED_URL

FAST = ["--per-host-rate", "100", "--timeout", "5"]
PAGE = SEED_PAGE.read_text(encoding="utf-8")
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


@pytest.fixture(scope="module")
def archive_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An archive holding one verification of the seed against an edited, hostile live page:
    a word changed, and a paragraph added whose text is markup (escaped in the page, so it is
    text the extractor returns)."""
    db = str(tmp_path_factory.mktemp("report") / "a.db")
    site: Site = load_site()
    escaped = HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    page = PAGE.replace("large-scale violence", "large-scale force").replace(
        "<p>This pattern is well-known",
        f"<p>Added: {escaped} =1+1</p><p>This pattern is well-known",
    )
    site.add(Page(url=SEED_URL, body=page.encode("utf-8")))
    with SiteServer(site, host="127.0.0.3") as server:
        args = ["--db", db, "verify", str(SEED), "--no-check-links", *FAST]
        code, _ = run(*args, *server.connect_to_options())
    assert code == 1
    yield db


def test_json_report(archive_db: str) -> None:
    code, out = run("--db", archive_db, "report", "drift", "--format", "json")
    assert code == 1  # an edited copy is drift
    report = json.loads(out)
    assert report["summary"] == {"edited": 1}
    (result,) = report["results"]
    assert result["url"] == SEED_URL and result["status"] == "edited"
    assert {(c["kind"], c["field"]) for c in result["changes"]} == {
        ("modified", "body"),
        ("added", "body"),
    }


def test_html_report_is_side_by_side_and_escaped(archive_db: str, tmp_path: Path) -> None:
    out_file = tmp_path / "drift.html"
    code, _ = run("--db", archive_db, "report", "drift", "--format", "html", "-o", str(out_file))
    assert code == 1
    page = out_file.read_text(encoding="utf-8")
    assert "<script" not in page and "<img" not in page and "onerror=alert(1)>" not in page
    assert "&lt;script&gt;" in page
    assert "Content-Security-Policy" in page
    assert "<del>violence.</del>" in page and "<ins>force.</ins>" in page
    assert page.count('<td class="canonical">') >= 20  # the whole text, paragraph by paragraph
    assert 'class="added"' in page


def test_markdown_and_csv(archive_db: str) -> None:
    code, out = run("--db", archive_db, "report", "drift")
    assert code == 1
    assert out.startswith("# Drift report")
    assert "[-violence.-] {+force.+}" in out
    code, out = run("--db", archive_db, "report", "drift", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {row["kind"] for row in rows} == {"modified", "added"}
    added = next(row for row in rows if row["kind"] == "added")
    assert added["live_text"].startswith("Added: <script>")


def test_csv_cells_cannot_be_formulas() -> None:
    from archiver.report.links import csv_cell as _csv_cell

    assert _csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert _csv_cell("plain") == "plain"


def test_side_by_side_marks_only_real_changes() -> None:
    canonical = ["One two three.", "Four five", "six seven.", "Eight nine."]
    live = ["One two three.", "Four five six seven.", "Eight ten.", "Brand new."]
    rows = side_by_side(canonical, live)
    assert rows[0] == ("", "One two three.", "One two three.")
    classes = [cls for cls, _, _ in rows]
    assert "changed" in classes
    changed = next(r for r in rows if r[0] == "changed")
    assert "<del>nine.</del>" in changed[1] and "<ins>ten." in changed[2]
    assert "Four five six seven." in changed[1]  # the joined paragraph, unmarked


def test_empty_archive_report(tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    Archive(db).close()  # an archive with nothing verified yet
    code, out = run("--db", db, "report", "drift", "--json")
    assert code == 0
    assert json.loads(out) == {"results": [], "summary": {}}


def test_changes_only_from_the_command_line(archive_db: str, tmp_path: Path) -> None:
    code, out = run("--db", archive_db, "report", "drift", "--changes-only")
    assert code == 1 and "Changes only: the 1 that drifted" in out
    out_file = tmp_path / "changes.html"
    code, _ = run("--db", archive_db, "report", "drift", "--changes-only", "--format", "html",
                  "-o", str(out_file))  # fmt: skip
    page = out_file.read_text(encoding="utf-8")
    assert code == 1 and 'class="same"' not in page and '<td class="mark">changed</td>' in page
    full = tmp_path / "full.html"
    run("--db", archive_db, "report", "drift", "--format", "html", "-o", str(full))
    assert full.read_text(encoding="utf-8").count('class="same"') > page.count('class="same"')

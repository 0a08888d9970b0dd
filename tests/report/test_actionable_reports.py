"""Reports a user can act on (issue 17, with issue 13's moved pages and archived copies).

The link report says where a redirect went, where a moved page lives and which archived copies
there are, of which kind and from when, in every format; the link-rot report heads each
article with its title and draws the rot curve (share of cited links broken by the citing
article's publication year) with the same numbers in JSON, CSV and an inline SVG; the drift
report has a changes-only view and names changed rows in words; Datasette's canned queries
give since-when, the archived copy and a capture's text.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from archiver.archive.serve import canned_queries, datasette_metadata
from archiver.cli import cli
from archiver.links.rotreport import ArticleRot, RotYear, rot_curve, rot_summary, year_of
from archiver.models import ArchivedCopy, LinkCheck, MovedCandidate
from archiver.report.copies import copy_label, hops, own_capture_id, when
from archiver.report.linkrot import format_rot_curve
from archiver.report.links import format_linkrot, format_links
from archiver.report.rotcurve import rot_curve_svg
from tests.linkrot_web import Answer, LinkWeb, article
from tests.links.test_linkcheck import _closed_port

OWN = ArchivedCopy(
    archive="archiver",
    url="urn:archiver:capture:7",
    datetime="2024-03-01T10:20:30Z",
    original="https://a.example/gone",
    status=200,
    replays=True,
)
IA = ArchivedCopy(
    archive="ia",
    url="https://web.archive.org/web/20230101000000/https://a.example/gone",
    datetime="2023-01-01T00:00:00Z",
)
GONE = LinkCheck(
    url="https://a.example/gone",
    text="the report",
    status="not_found",
    broken=True,
    http_status=404,
    archived_url=OWN.url,
    archived_copies=(OWN, IA),
)
REDIRECTED = LinkCheck(
    url="https://a.example/old",
    text="old address",
    status="redirected",
    broken=False,
    http_status=200,
    final_url="https://a.example/new",
    redirects=("https://a.example/mid", "https://a.example/new"),
)
MOVED = LinkCheck(
    url="https://a.example/articles/story-1",
    text="a moved story",
    status="moved",
    broken=False,
    moved_to="https://a.example/2014/04/04/story-a1",
    moved_candidates=(
        MovedCandidate(
            url="https://a.example/2014/04/04/story-a1",
            evidence="url_rewrite",
            confidence=0.9,
            matched=True,
        ),
    ),
)
CHECKS = [GONE, REDIRECTED, MOVED]


def test_copy_labels_say_which_kind_of_copy_and_when() -> None:
    assert own_capture_id("urn:archiver:capture:12") == 12
    assert own_capture_id("urn:archiver:capture:12x") is None
    assert own_capture_id("https://web.archive.org/x") is None
    assert when("2024-03-01T10:20:30Z") == "2024-03-01 10:20 UTC"
    assert when("2024-03-01") == "2024-03-01"
    assert when(None) == "an unknown date"
    assert copy_label("archiver", OWN.url, OWN.datetime) == (
        "this archive's capture 7 of 2024-03-01 10:20 UTC"
    )
    assert copy_label("ia", IA.url, IA.datetime) == "ia copy of 2023-01-01 00:00 UTC"
    assert hops(REDIRECTED) == (
        "https://a.example/old",
        "https://a.example/mid",
        "https://a.example/new",
    )
    assert hops(GONE) == ()


def test_link_report_in_every_format_names_the_copy_hops_and_moved_page() -> None:
    label = "this archive's capture 7 of 2024-03-01 10:20 UTC"
    text = format_links("https://a.example/", CHECKS, "text")
    assert f"archived copy: urn:archiver:capture:7 ({label})" in text
    assert "also archived: https://web.archive.org/web/20230101000000/" in text
    assert "redirects: https://a.example/old -> https://a.example/mid -> https://a.example/new" in (
        text
    )
    assert "moved to: https://a.example/2014/04/04/story-a1" in text
    assert "url_rewrite" in text

    md = format_links("https://a.example/", CHECKS, "md")
    assert label in md and "ia copy of 2023-01-01 00:00 UTC" in md
    assert "<https://a.example/mid> → <https://a.example/new>" in md
    assert "moved to <https://a.example/2014/04/04/story-a1>" in md

    page = format_links("https://a.example/", CHECKS, "html")
    assert html_escaped(label) in page
    assert '<ol class=hops><li><a href="https://a.example/mid"' in page
    assert 'moved to <a href="https://a.example/2014/04/04/story-a1"' in page
    assert 'href="urn:' not in page  # only http(s) URLs become links

    rows = list(csv.DictReader(io.StringIO(format_links("https://a.example/", CHECKS, "csv"))))
    assert rows[0]["archived_copy"] == label
    assert "ia copy of 2023-01-01 00:00 UTC" in rows[0]["archived_copies"]
    assert rows[1]["redirects"] == (
        "https://a.example/old -> https://a.example/mid -> https://a.example/new"
    )
    assert rows[2]["moved_to"] == "https://a.example/2014/04/04/story-a1"
    assert "url_rewrite" in rows[2]["moved_candidates"]

    links = json.loads(format_links("https://a.example/", CHECKS, "json"))["links"]
    assert links[0]["archived_copy"] == {
        "url": OWN.url,
        "kind": "own_capture",
        "archive": "archiver",
        "capture_id": 7,
        "datetime": OWN.datetime,
        "label": label,
    }
    assert links[0]["archived_copies"][1]["archive"] == "ia"  # the contract's keys stay
    assert links[2]["moved_to"] == MOVED.moved_to and "archived_copy" not in links[2]


def html_escaped(text: str) -> str:
    return text.replace("'", "&#x27;")


def _rot(source: str, year: int | None, links: int, broken: int, title: str | None) -> ArticleRot:
    checks = tuple(
        LinkCheck(url=f"{source}/l{i}", text="t", status="not_found", broken=True)
        for i in range(broken)
    )
    return ArticleRot(source=source, checked_at="2026-01-01T00:00:00Z", links=links,
                      broken=checks, suspects=(), title=title, published_year=year)  # fmt: skip


def test_rot_curve_counts_by_year_with_unknown_apart() -> None:
    articles = [
        _rot("https://a.example/1", 2019, 4, 1, "One"),
        _rot("https://a.example/2", 2015, 2, 2, "Two"),
        _rot("https://a.example/3", 2019, 4, 2, None),
        _rot("https://a.example/4", None, 3, 0, "Four"),
    ]
    curve = rot_curve(articles)
    assert [r.to_json() for r in curve] == [
        {"year": 2015, "articles": 1, "links": 2, "broken": 2, "share": 1.0},
        {"year": 2019, "articles": 2, "links": 8, "broken": 3, "share": 0.375},
        {"year": None, "articles": 1, "links": 3, "broken": 0, "share": 0.0},
    ]
    assert rot_curve([]) == []
    assert year_of("2017-03-30T10:00:00Z") == 2017 and year_of("2017") == 2017
    assert year_of("March 2017") is None and year_of(None) is None

    summary = rot_summary(articles)
    document = json.loads(format_linkrot(articles, summary, "json", curve=curve))
    assert document["rot_curve"] == [r.to_json() for r in curve]
    assert document["articles"][0]["title"] == "One"
    assert document["articles"][0]["published_year"] == 2019
    table = list(csv.DictReader(io.StringIO(format_rot_curve(curve, "csv"))))
    assert [(r["year"], r["links"], r["broken"], r["share"]) for r in table] == [
        ("2015", "2", "2", "1.0"),
        ("2019", "8", "3", "0.375"),
        ("", "3", "0", "0.0"),
    ]
    rows = list(csv.DictReader(io.StringIO(format_linkrot(articles, summary, "csv"))))
    assert rows[0]["title"] == "One" and rows[0]["published_year"] == "2019"

    page = format_linkrot(articles, summary, "html", curve=curve)
    assert page.count("<rect ") == 3
    assert "2019: 3 of 8 cited links broken (37.5%)" in page
    assert "unknown year: 0 of 3 cited links broken (0%)" in page
    assert "<h2>One</h2>" in page and "<h2>Two</h2>" in page
    assert '<h2><a href="https://a.example/3"' in page  # no title: the URL heads it
    md = format_linkrot(articles, summary, "md", curve=curve)
    assert "| 2019 | 2 | 8 | 3 | 37.5% |" in md and "## One" in md


def test_rot_curve_svg_with_no_year_one_year_and_hostile_labels() -> None:
    assert rot_curve_svg([]) == ""
    page = format_linkrot([], rot_summary([]), "html", curve=[])
    assert "<svg" not in page and "no rot curve yet" in page
    one = rot_curve_svg([RotYear(year=2020, articles=1, links=0, broken=0)])
    assert one.count("<rect ") == 1 and "0 of 0 cited links broken (0%)" in one
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([0-9.]+)"', one)]
    assert widths and max(widths) <= 60  # one year does not fill the chart
    hostile = SimpleNamespace(year="<script>x</script>", links=2, broken=1)
    svg = rot_curve_svg([hostile])
    assert "<script" not in svg and "&lt;script&gt;" in svg


def _web(source: Answer) -> LinkWeb:
    n = "https://news.test"
    citing = f"""<!DOCTYPE html><html><head><title>Citing story</title>
<meta property="article:published_time" content="2017-03-30T10:00:00Z"></head><body><article>
<h1>Citing <b>story</b> &lt;i&gt;</h1><p>The story cites <a href="{n}/2017/03/cited-report">the
cited report</a> and words enough around it to be a paragraph of an article.</p></article>
</body></html>"""
    pages = {f"{n}/2017/03/citing": Answer(body=citing), f"{n}/2017/03/cited-report": source}
    return LinkWeb(pages, address="127.0.0.7")


def _run(db: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.slow
def test_linkrot_report_of_a_real_archive_titles_dates_and_links_the_copy(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    citing = "https://news.test/2017/03/citing"
    for answer, extra in (
        (article("The cited report", "What the report said, in full. " * 10), []),
        (Answer(status=404, body="<title>Not Found</title>"),
         ["--wayback-url", f"http://127.0.0.7:{_closed_port('127.0.0.7')}"]),
    ):  # fmt: skip
        with _web(answer) as web:
            _run(db, "links", citing, "--json", "--timeout", "2",
                 f"--connect-to=news.test={web.address}", *extra)  # fmt: skip

    code, out = _run(db, "report", "linkrot", "--json")
    assert code == 1
    document = json.loads(out)
    (rot,) = document["articles"]
    assert rot["title"].startswith("Citing story") and rot["published_year"] == 2017
    (broken,) = rot["broken"]
    capture_id = own_capture_id(broken["archived_url"])
    assert capture_id is not None
    assert broken["archived_copies"][0]["archive"] == "archiver"
    assert broken["archived_copy_label"].startswith(f"this archive's capture {capture_id} of 20")
    assert document["rot_curve"] == [
        {"year": 2017, "articles": 1, "links": 1, "broken": 1, "share": 1.0}
    ]
    code, out = _run(db, "report", "linkrot", "--curve", "--format", "csv")
    assert out.strip().splitlines() == ["year,articles,links,broken,share", "2017,1,1,1,1.0"]
    code, out = _run(db, "report", "linkrot", "--format", "text")
    assert out.startswith("Link rot:") and "\nCiting story" in out
    assert f"(this archive's capture {capture_id} of 20" in out
    code, out = _run(db, "report", "linkrot", "--format", "html")
    assert "<h2>Citing story" in out and out.count("<rect ") == 1
    assert "this archive&#x27;s capture" in out

    # The Datasette queries on the same archive: since-when, the copy, the capture's text.
    queries = canned_queries()
    assert datasette_metadata(str(db))["databases"]["archive"]["queries"] == queries
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    (row,) = conn.execute(queries["broken_links"]["sql"]).fetchall()
    assert row["article"] == citing and row["article_title"].startswith("Citing story")
    assert row["link"] == "https://news.test/2017/03/cited-report"
    assert row["broken_since"] and row["broken_since"] == row["last_checked"]
    assert row["own_capture_id"] == capture_id
    assert row["own_capture_of"] == "https://news.test/2017/03/cited-report"
    assert row["archived_copy_kind"].startswith(f"this archive's capture {capture_id} of 20")
    assert row["archived_copy"] is None  # a urn is not a URL a browser opens
    (text,) = conn.execute(queries["capture_text"]["sql"], {"capture_id": capture_id}).fetchall()
    assert text["title"] == "The cited report" and "What the report said" in text["text"]
    for name, query in queries.items():  # every URL column holds full URLs
        for record in conn.execute(query["sql"], {"capture_id": capture_id, "url": citing}):
            for key in record.keys():
                if key in ("article", "link", "url", "final_url", "archived_copy"):
                    value = record[key]
                    assert value is None or value.startswith(("http://", "https://")), name
    conn.close()


def test_year_and_title_from_the_canonical_copy_when_no_extraction_has_them(
    tmp_path: Path,
) -> None:
    from archiver.archive.store import Archive
    from archiver.links.rotreport import rot_report
    from archiver.models import CanonicalCopy
    from archiver.verify.canonical import PARSER_VERSION, copy_to_json

    source = "https://a.example/2015/story"
    copy = CanonicalCopy(
        path="story.md", url=source, title="The kept story", subtitle=None, authors=(),
        published="2015-06-01", caption=None, credits=None, paragraphs=("Text.",), links=(),
    )  # fmt: skip
    with Archive(str(tmp_path / "a.db")) as archive:
        archive.save_parses([("f" * 64, copy_to_json(copy))], PARSER_VERSION)
        archive.save_link_checks(
            [LinkCheck(url="https://b.example/x", text="x", status="ok", broken=False)],
            source_url=source,
            checked_at="2026-01-01T00:00:00Z",
        )
        archive.save_link_checks(
            [LinkCheck(url="https://b.example/y", text="y", status="ok", broken=False)],
            source_url="https://a.example/undated",
            checked_at="2026-01-01T00:00:00Z",
        )
        articles = {a.source: a for a in rot_report(archive)}
    assert articles[source].published_year == 2015
    assert articles[source].title == "The kept story"
    assert articles["https://a.example/undated"].published_year is None
    curve = rot_curve(list(articles.values()))
    assert [(r.year, r.links, r.broken) for r in curve] == [(2015, 1, 0), (None, 1, 0)]


@pytest.mark.slow
def test_datasette_serves_the_queries_with_urls_as_links(tmp_path: Path) -> None:
    pytest.importorskip("datasette", reason="datasette is the optional 'serve' extra")
    from tests.archive.test_serve import ask

    db = tmp_path / "archive.db"
    citing = "https://news.test/2017/03/citing"
    with _web(article("The cited report", "What the report said, in full. " * 10)) as web:
        _run(
            db, "links", citing, "--json", "--timeout", "2", f"--connect-to=news.test={web.address}"
        )
    with _web(Answer(status=404, body="<title>Not Found</title>")) as web:
        route = f"--connect-to=news.test={web.address}"
        down = f"http://127.0.0.7:{_closed_port('127.0.0.7')}"
        _run(db, "links", citing, "--json", "--timeout", "2", route, "--wayback-url", down)
    code, page = ask(db, "GET", "/archive/broken_links")
    assert code == 200
    assert '<a href="https://news.test/2017/03/cited-report">' in page  # a URL is a link
    assert "this archive&#39;s capture" in page or "this archive&#x27;s capture" in page
    code, body = ask(db, "GET", "/archive/broken_links.json?_shape=array")
    (row,) = json.loads(body)
    code, body = ask(
        db, "GET", f"/archive/capture_text.json?_shape=array&capture_id={row['own_capture_id']}"
    )
    (text,) = json.loads(body)
    assert code == 200 and text["title"] == "The cited report"
    assert text["url"] == "https://news.test/2017/03/cited-report"

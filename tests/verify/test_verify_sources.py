"""Sources that drift: a cited source alive but no longer saying what it was cited for."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.extract.normalize import checksum
from archiver.models import Document
from archiver.testserver import Page, Site, SiteServer, load_site
from archiver.verify.citations import cited_passage, citing_context, contains_passage, source_drift
from tests.conftest import SEED

FAST = ["--per-host-rate", "100", "--timeout", "5"]
WIKI = "https://en.wikipedia.org/wiki/Our_Man_in_Havana"
WIKI_PAGE = (
    Path(__file__).parent.parent / "web" / "pages" / "wiki-our-man-in-havana.html"
).read_text(encoding="utf-8")
CITED = (
    "Our Man in Havana is a novel set in Cuba by the British author Graham Greene, "
    "first published in 1958."
)
OTHER = "It makes fun of intelligence services, especially the British MI6"


def doc(*paragraphs: str, title: str = "Our Man in Havana") -> Document:
    return Document(
        url=WIKI,
        title=title,
        subtitle=None,
        authors=(),
        published=None,
        modified=None,
        paragraphs=paragraphs,
        links=(),
        images=(),
        profile="generic",
        checksum=checksum(paragraphs),
    )


CONTEXT = (
    "The classic Our Man in Havana, Graham Greene's 1958 novel, is one of the many stories "
    "relating an embarrassing experience of a spy agency."
)


def test_cited_passage_is_the_paragraph_the_context_relies_on() -> None:
    first = doc("Our Man in Havana", CITED, OTHER + ".")
    assert cited_passage(first, CONTEXT) == CITED
    # Nothing in common: the source's own first text stands for it.
    assert cited_passage(first, "Unrelated words entirely here") == "Our Man in Havana"


def test_context_is_the_paragraph_holding_the_anchor() -> None:
    paragraphs = ("First paragraph.", CONTEXT, "Last.")
    assert citing_context(paragraphs, "Our Man in Havana") == CONTEXT
    assert citing_context(paragraphs, "not there") == "not there"


def test_contains_passage_survives_reflow_and_typography() -> None:
    half = len(CITED) // 2
    split = doc(CITED[:half].rstrip(), CITED[half:].lstrip().replace("'", "\u2019"))
    assert contains_passage(split, CITED)
    assert not contains_passage(doc("Our Man in Havana is a film from 1959."), CITED)


@pytest.mark.parametrize(
    ("now", "status", "flagged"),
    [
        ((CITED, OTHER + "."), "same", False),
        ((CITED, OTHER + ", and much else."), "changed", False),
        (("Our Man in Havana is a film.", OTHER + "."), "passage_missing", True),
    ],
)
def test_source_drift_verdicts(now: tuple[str, ...], status: str, flagged: bool) -> None:
    first = doc(CITED, OTHER + ".")
    result = source_drift(
        url=WIKI,
        anchor="Our Man in Havana",
        context=CONTEXT,
        first=first,
        now=doc(*now),
        first_capture_id=1,
        capture_id=2,
    )
    assert (result.status, result.flagged) == (status, flagged)
    assert result.passage == CITED


def test_no_baseline_is_not_a_verdict() -> None:
    kwargs = {"url": WIKI, "anchor": "a", "context": "a"}
    assert source_drift(**kwargs, first=None, now=doc(CITED)).status == "first_capture"  # type: ignore[arg-type]
    assert source_drift(**kwargs, first=doc(CITED), now=None).status == "not_compared"  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def web() -> Iterator[tuple[Site, list[str]]]:
    site = load_site()
    # The one source answering 503 would cost retries in every run; it is not what this tests.
    site.add(
        Page(
            url="https://www.bellingcat.com/news/2017/03/20/bulgaria-russian-consultants/",
            body=b"<html><head><title>Bulgaria</title></head><body><p>Text.</p></body></html>",
        )
    )
    with SiteServer(site, host="127.0.0.3") as server:
        yield site, server.connect_to_options()


def verify(db: str, routes: list[str]) -> tuple[int, dict[str, object]]:
    runner = CliRunner()
    args = ["--db", db, "verify", str(SEED), "--json", *FAST, *routes]
    result = runner.invoke(cli, args, catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)["results"][0]


def wiki_source(result: dict[str, object]) -> dict[str, object]:
    sources = result["sources"]
    assert isinstance(sources, list)
    return next(s for s in sources if s["url"] == WIKI)


@pytest.mark.slow
def test_source_that_drops_the_cited_passage_is_flagged(
    tmp_path: Path, web: tuple[Site, list[str]]
) -> None:
    site, routes = web
    db = str(tmp_path / "a.db")
    _, result = verify(db, routes)
    assert wiki_source(result)["status"] == "first_capture"

    site.add(Page(url=WIKI, body=WIKI_PAGE.replace("fun of intelligence", "fun of spy").encode()))
    _, result = verify(db, routes)
    assert wiki_source(result)["status"] == "changed"  # edited elsewhere: still supports it

    rewritten = WIKI_PAGE.replace(CITED, "Our Man in Havana is a 1959 film by Carol Reed.")
    site.add(Page(url=WIKI, body=rewritten.encode()))
    code, result = verify(db, routes)
    source = wiki_source(result)
    assert source["status"] == "passage_missing" and source["flagged"] is True
    assert source["passage"] == CITED
    assert code == 1
    # Offline, from what the archive holds: the same verdict.
    runner = CliRunner()
    offline = runner.invoke(cli, ["--db", db, "verify", str(SEED), "--offline", "--json"])
    assert wiki_source(json.loads(offline.stdout)["results"][0])["status"] == "passage_missing"
    with sqlite3.connect(db) as conn:
        stored = conn.execute(
            "select status from source_drifts where url = ? order by id", (WIKI,)
        ).fetchall()
    assert [row[0] for row in stored] == ["changed", "passage_missing", "passage_missing"]
    # The drift report shows it (the article itself is only cosmetic: exit 1 for the source).
    report = runner.invoke(cli, ["--db", db, "report", "drift", "--format", "html"])
    assert report.exit_code == 1
    assert "Source no longer holds the passage" in report.stdout and CITED in report.stdout
    report = runner.invoke(cli, ["--db", db, "report", "drift", "--json"])
    (entry,) = json.loads(report.stdout)["results"]
    assert entry["status"] == "cosmetic"
    assert [s["status"] for s in entry["sources"] if s["url"] == WIKI] == ["passage_missing"]

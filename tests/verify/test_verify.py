"""``archiver verify`` end to end: each verdict from a variant of the seed page, served by a real
HTTP server on loopback, through the real CLI and a real archive."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.testserver import Page, Site, SiteServer, load_site
from tests.conftest import SEED, SEED_PAGE, SEED_URL

FAST = ["--per-host-rate", "100", "--timeout", "5"]
PAGE = SEED_PAGE.read_text(encoding="utf-8")
HOME = "https://www.themoscowtimes.com/"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def _server() -> Iterator[tuple[Site, list[str], dict[tuple[str, str], Page]]]:
    site = load_site()
    site.add(Page(url=HOME, body=b"<html><head><title>The Moscow Times</title></head></html>"))
    with SiteServer(site, host="127.0.0.3") as server:
        yield site, server.connect_to_options(), dict(site.pages)


@pytest.fixture()
def web(
    _server: tuple[Site, list[str], dict[tuple[str, str], Page]],
) -> tuple[Site, list[str]]:
    """The test web on 127.0.0.3, as bundled, that a test may change page by page."""
    site, routes, pages = _server
    site.pages.clear()
    site.pages.update(pages)
    return site, routes


def serve(site: Site, change: Callable[[str], str] | None = None, **page: object) -> None:
    """Serve the seed article changed by ``change`` (or answering as ``page`` says)."""
    body = change(PAGE).encode("utf-8") if change else b""
    site.add(Page(url=SEED_URL, body=body, **page))  # type: ignore[arg-type]


def verify_json(tmp_path: Path, routes: list[str], *extra: str) -> tuple[int, dict[str, object]]:
    db = str(tmp_path / "a.db")
    code, out, _ = run("--db", db, "verify", str(SEED), "--json", *extra, *FAST, *routes)
    return code, json.loads(out)


def the_result(report: dict[str, object]) -> dict[str, object]:
    (result,) = report["results"]  # type: ignore[misc]
    return result  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("change", "status", "fields", "code"),
    [
        pytest.param(lambda p: p, "cosmetic", set(), 0, id="paragraph-joined"),
        pytest.param(
            lambda p: p.replace("Russia's support", "Russia\u2019s\u00a0support"),
            "cosmetic",
            set(),
            0,
            id="typography",
        ),
        pytest.param(
            lambda p: p.replace("by means of large-scale violence", "by means of force"),
            "edited",
            {"body"},
            1,
            id="edited-word",
        ),
        pytest.param(
            lambda p: p.replace(
                ">Trump, Le Pen and Other Fleeting Relationships: Is the Russian Scare Real?<",
                ">Is the Russian Scare Real?<",
            ).replace(
                'byline__author__name" href="https://www.themoscowtimes.com/author/andrei-babitsky">'
                "Andrei Babitsky<",
                'byline__author__name" href="https://www.themoscowtimes.com/author/x">'
                "Someone Else<",
            ),
            "edited",
            {"title", "authors"},
            1,
            id="headline-and-byline",
        ),
        pytest.param(
            lambda p: p.replace("2017-03-30T21:40:00+03:00", "2026-11-20T08:00:00+03:00"),
            "cosmetic",
            set(),
            0,
            id="updated-time-only",
        ),
    ],
)
def test_verdicts_from_page_variants(
    tmp_path: Path,
    web: tuple[Site, list[str]],
    change: Callable[[str], str],
    status: str,
    fields: set[str],
    code: int,
) -> None:
    site, routes = web
    serve(site, change)
    exit_code, report = verify_json(tmp_path, routes, "--no-check-links")
    result = the_result(report)
    assert result["status"] == status, result["changes"]
    assert {c["field"] for c in result["changes"]} == fields  # type: ignore[attr-defined]
    assert exit_code == code


def test_rewrite(tmp_path: Path, web: tuple[Site, list[str]]) -> None:
    """Another article's text at the same URL (no redirect): rewritten, not missing."""
    site, routes = web
    other = (SEED_PAGE.parent / "mt-a56132.html").read_bytes()
    site.add(Page(url=SEED_URL, body=other))
    code, report = verify_json(tmp_path, routes, "--no-check-links")
    result = the_result(report)
    assert result["status"] == "rewritten"
    assert float(result["similarity"]) < 0.5  # type: ignore[arg-type]
    assert "title" in {c["field"] for c in result["changes"]}  # type: ignore[attr-defined]
    assert code == 1


def test_removed_and_added_paragraph(tmp_path: Path, web: tuple[Site, list[str]]) -> None:
    site, routes = web
    removed = "Russian business owners tend to form structures reminiscent of clans"
    start = PAGE.rindex("<p>", 0, PAGE.index(removed))
    end = PAGE.index("</p>", start) + 4
    added = "A new paragraph about sanctions was added overnight by the editors."
    serve(
        site,
        lambda p: (p[:start] + p[end:]).replace(
            "<p>This pattern is well-known", f"<p>{added}</p><p>This pattern is well-known"
        ),
    )
    code, report = verify_json(tmp_path, routes, "--no-check-links")
    result = the_result(report)
    assert result["status"] == "edited"
    changes = result["changes"]
    assert isinstance(changes, list)
    assert {(c["kind"], c["field"]) for c in changes} == {("removed", "body"), ("added", "body")}
    assert next(c["canonical"] for c in changes if c["kind"] == "removed").startswith(removed)
    assert next(c["live"] for c in changes if c["kind"] == "added") == added
    assert code == 1


def test_correction_note_is_an_edit_called_out(tmp_path: Path, web: tuple[Site, list[str]]) -> None:
    site, routes = web
    note = "<p>Correction: an earlier version of this article misspelled a name.</p>"
    end = PAGE.index("</p>", PAGE.index("<p><strong>Related article:")) + 4
    serve(site, lambda p: p[:end] + note + p[end:])
    code, report = verify_json(tmp_path, routes, "--no-check-links")
    result = the_result(report)
    assert result["status"] == "edited"
    (change,) = result["changes"]  # type: ignore[misc]
    assert change["kind"] == "added" and change["note"] == "correction note appended"
    assert code == 1


@pytest.mark.parametrize(
    ("page", "status", "detail"),
    [
        pytest.param({"status": 404, "body": b"<h1>Not Found</h1>"}, "missing", "404", id="404"),
        pytest.param({"status": 301, "location": HOME}, "missing", "home page", id="to-home"),
        pytest.param({"status": 503}, "unreachable", "503", id="503"),
    ],
)
@pytest.mark.slow
def test_page_gone_or_down(
    tmp_path: Path, web: tuple[Site, list[str]], page: dict[str, object], status: str, detail: str
) -> None:
    site, routes = web
    site.add(Page(url=SEED_URL, **page))  # type: ignore[arg-type]
    code, report = verify_json(tmp_path, routes, "--no-check-links")
    result = the_result(report)
    assert result["status"] == status
    assert detail in str(result["detail"])
    assert result["checksum_live"] is None
    # With no live page the copy's "#" placeholders cannot be recovered: broken links, exit 1.
    assert {link["status"] for link in result["links"]} == {"placeholder"}  # type: ignore[attr-defined]
    assert code == 1


def test_redirect_to_unrelated_article_is_missing(
    tmp_path: Path, web: tuple[Site, list[str]]
) -> None:
    site, routes = web
    other = "https://www.themoscowtimes.com/2016/11/14/pro-russian-candidate-wins-moldova-presidential-election-a56132"
    site.add(Page(url=SEED_URL, status=301, location=other))
    code, report = verify_json(tmp_path, routes, "--no-check-links")
    result = the_result(report)
    assert result["status"] == "missing"
    assert "unrelated" in str(result["detail"])
    assert code == 1


def test_many_copies_one_unreadable(tmp_path: Path, web: tuple[Site, list[str]]) -> None:
    """A folder of copies: each page fetched once, a bad copy reported, the others verified."""
    _, routes = web
    folder = tmp_path / "copies"
    folder.mkdir()
    for number in range(3):
        shutil.copy(SEED, folder / f"copy-{number}.md")
    (folder / "broken.md").write_text("# No URL here\n\nJust text.\n", encoding="utf-8")
    db = str(tmp_path / "a.db")
    args = ["--db", db, "verify", str(folder), "--json", "--no-check-links", *FAST]
    code, out, err = run(*args, *routes)
    report = json.loads(out)
    assert code == 2
    assert "broken.md: no original URL" in err
    assert len(report["results"]) == 3
    assert report["summary"] == {"cosmetic": 3}
    assert "broken.md" in report["errors"][0]["error"]


def test_each_page_fetched_once_for_many_copies(tmp_path: Path) -> None:
    """Copies naming the same article share one fetch of it, and one of each source."""
    folder = tmp_path / "copies"
    folder.mkdir()
    for number in range(4):
        shutil.copy(SEED, folder / f"copy-{number}.md")
    site = load_site()
    site.add(Page(url="https://www.bellingcat.com/news/2017/03/20/bulgaria-russian-consultants/"))
    with SiteServer(site, host="127.0.0.3") as server:
        args = ["--db", str(tmp_path / "a.db"), "verify", str(folder), "--json", *FAST]
        code, out, _ = run(*args, *server.connect_to_options())
        requests = server.requests
    assert code == 1  # the seed's broken links
    assert json.loads(out)["summary"] == {"cosmetic": 4}
    page_path = SEED_URL.split("themoscowtimes.com", 1)[1]
    assert sum(1 for _, path in requests if path == page_path) == 1
    reuters = "/investigates/special-report/russia-capitalism-rotenberg/"
    assert sum(1 for _, path in requests if path == reuters) == 1


def test_history_shows_verdicts(tmp_path: Path, web: tuple[Site, list[str]]) -> None:
    site, routes = web
    db = str(tmp_path / "a.db")
    serve(site, lambda p: p)
    run("--db", db, "verify", str(SEED), "--no-check-links", *FAST, *routes)
    serve(site, lambda p: p.replace("large-scale violence", "force"))
    run("--db", db, "verify", str(SEED), "--no-check-links", *FAST, *routes)
    code, out, _ = run("--db", db, "history", SEED_URL, "--json")
    assert code == 0
    captures = json.loads(out)["captures"]
    assert [c["verification"]["status"] for c in captures] == ["cosmetic", "edited"]
    assert [c["drift_previous"] for c in captures] == [None, "edited"]
    code, out, _ = run("--db", db, "history", SEED_URL)
    lines = out.strip().splitlines()
    assert "canonical:cosmetic" in lines[-2] and "canonical:edited" in lines[-1]
    assert "previous:edited" in lines[-1]


def test_terminal_output_is_plain_and_safe() -> None:
    """Colour only on a terminal; page text cannot smuggle escape sequences either way."""
    from archiver.report.links import diff_text, verification_text

    hostile = "Edited \x1b]0;pwned\x07 text \x1b[2J here."
    assert "\x1b" not in diff_text("Edited text here.", hostile, colour=False)
    coloured = diff_text("Edited text here.", hostile, colour=True)
    assert "\x1b[32m" in coloured and "\x1b]0;" not in coloured and "\x1b[2J" not in coloured
    result = {
        "canonical": "copy\x1b[2J.md",
        "url": SEED_URL,
        "status": "edited",
        "similarity": 0.9,
        "checksum_canonical": "sha256:a",
        "checksum_live": "sha256:b",
        "changes": [{"kind": "added", "field": "body", "canonical": None, "live": hostile}],
        "links": [],
    }
    text = verification_text(result, colour=False)
    assert "\x1b" not in text and "\x07" not in text
    assert "live:      Edited ]0;pwned text [2J here." in text


def test_cli_output_has_no_colour_when_not_a_terminal(
    tmp_path: Path, web: tuple[Site, list[str]]
) -> None:
    site, routes = web
    serve(site, lambda p: p.replace("large-scale violence", "force"))
    code, out, _ = run(
        "--db", str(tmp_path / "a.db"), "verify", str(SEED), "--no-check-links", *FAST, *routes
    )
    assert code == 1
    assert "\x1b" not in out
    assert "[-large-scale violence.-] {+force.+}" in out


def test_offline_uses_the_newest_capture(tmp_path: Path, web: tuple[Site, list[str]]) -> None:
    """--offline judges by what the page answered last: once 404, the article is missing."""
    site, routes = web
    db = str(tmp_path / "a.db")
    args = ["--db", db, "verify", str(SEED), "--no-check-links", *FAST, *routes]
    serve(site, lambda p: p.replace("large-scale violence", "force"))
    run(*args)
    code, out, _ = run("--db", db, "verify", str(SEED), "--offline", "--json")
    assert the_result(json.loads(out))["status"] == "edited"
    site.add(Page(url=SEED_URL, status=404, body=b"<h1>Not Found</h1>"))
    run(*args)
    code, out, _ = run("--db", db, "verify", str(SEED), "--offline", "--json")
    result = the_result(json.loads(out))
    assert result["status"] == "missing" and "404" in str(result["detail"])
    assert code == 1


def test_library_verify_paths_raises_on_a_bad_copy_unless_asked(tmp_path: Path) -> None:
    from archiver.archive.store import Archive
    from archiver.errors import CanonicalError, InputError
    from archiver.verify.job import verify_paths

    bad = tmp_path / "bad.md"
    bad.write_text("no url\n", encoding="utf-8")
    with Archive.memory() as archive:
        with pytest.raises(CanonicalError, match="bad.md: no original URL"):
            verify_paths([str(bad), str(SEED)], fetcher=None, archive=archive)
        errors: list[InputError] = []
        paths = [str(bad), str(SEED)]
        results = verify_paths(paths, fetcher=None, archive=archive, errors=errors)
    assert len(results) == 1 and results[0].drift.status == "unreachable"
    assert len(errors) == 1


@pytest.mark.slow
def test_nothing_answers_exits_3(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.3", 0))
        port = probe.getsockname()[1]
    route = ["--connect-to", f"www.themoscowtimes.com=127.0.0.3:{port}"]
    args = ["--db", str(tmp_path / "a.db"), "verify", str(SEED), "--timeout", "2", *route]
    code, out, err = run(*args)
    assert code == 3
    assert "network looks unavailable" in err
    assert "Traceback" not in out + err
    # The copy's # links could not be recovered: no verdict on them, not 13 broken links.
    code, out, _ = run(*args, "--json")
    links = json.loads(out)["results"][0]["links"]
    assert len(links) == 13
    assert {link["status"] for link in links} == {"network_unavailable"}
    assert not any(link["broken"] for link in links)

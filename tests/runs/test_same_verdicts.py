"""A scheduled run and ``verify`` (and ``links``) give the same verdicts: one job, composed once.

Both run over one loopback web with the cases where their compositions used to differ: a
catch-all host (a soft 404 only a probe finds), files (HEAD first, GET when HEAD lies), a
placeholder (``#``) link recovered from the live page, and, with nothing answering, unrecovered
placeholders that are no verdict rather than broken.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from archiver.archive.store import Archive
from archiver.errors import NetworkUnavailable
from archiver.fetch.fetcher import Fetcher
from archiver.links.job import check_target
from archiver.runs.config import load_config
from archiver.runs.run import run
from archiver.verify.job import verify_paths
from tests.conftest import FAST_POLICY
from tests.linkrot_web import Answer, LinkWeb
from tests.links.test_linkcheck import CATCH_ALL, WEB_PAGES, _closed_port

N, C = "https://news.test", "https://catchall.test"
SOURCES = [
    (f"{N}/2017/03/ok-story", "a real story"),
    (f"{N}/2017/03/gone", "a story that is gone"),
    (f"{C}/2017/03/vanished-story", "a story on a catch-all host"),
    (f"{C}/2017/03/real-story", "a real story on that host"),
    (f"{N}/files/lies.pdf", "a report whose HEAD lies"),
    (f"{N}/files/plain.pdf", "a plain report"),
    (f"{N}/2017/03/old-story", "the recovered one"),
]
FORCE = (
    '[schedule]\nrecent_every = "0s"\nold_every = "0s"\nlinks_live_every = "0s"\n'
    'links_broken_every = "0s"\n\n'
)


def _site(tmp_path: Path) -> tuple[str, Path, dict[str, Answer]]:
    """The citing article: live with every real target, the copy with one ``#`` placeholder."""
    url = "https://news.test/00001/story-1"
    first = "Paragraph one of story 1 tells what happened in the city on that day."
    last = "Paragraph three closes the story with what comes next for everyone."
    # Each source is cited inside a sentence of its own, as articles do; the copy has a '#'
    # placeholder where the live page has the real target of "the recovered one".
    cited_md = " ".join(
        f"Reporters read [{text}]({'#' if text == 'the recovered one' else target}) "
        "before they wrote it."
        for target, text in SOURCES
    )
    cited = " ".join(
        f'Reporters read <a href="{target}">{text}</a> before they wrote it.'
        for target, text in SOURCES
    )
    markdown = f"---\nurl: {url}\n---\n\n# Story 1\n\n{first}\n\n{cited_md}\n\n{last}\n"
    page = (
        "<!doctype html><html><head><title>Story 1</title>"
        '<meta property="article:published_time" content="2017-03-30T10:00:00Z"></head>'
        f"<body><article><h1>Story 1</h1><p>{first}</p><p>{cited}</p><p>{last}</p></article>"
        "</body></html>"
    ).encode()
    folder = tmp_path / "copies"
    folder.mkdir()
    (folder / "story-1.md").write_text(markdown, encoding="utf-8")
    pages = {**WEB_PAGES, url: Answer(body=page.decode("utf-8"))}
    return url, folder, pages


def _config(tmp_path: Path, routes: dict[str, str], folder: Path) -> Path:
    path = tmp_path / "run.toml"
    connect = ", ".join(f'"{host}={address}"' for host, address in routes.items())
    path.write_text(
        '[archive]\ndb = "run.db"\n\n[fetch]\nper_host_rate = 200\nper_host_connections = 4\n'
        f"timeout = 2\nretries = 0\nrespect_robots = false\nconnect_to = [{connect}]\n\n"
        f'{FORCE}[[sources]]\ncanonical = "{folder}"\n',
        encoding="utf-8",
    )
    return path


def _stored(db: Path) -> dict[str, tuple[str, int, int]]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT url, status, broken, coalesce(recovered, 0) FROM link_checks"
            " WHERE verification_id IS NOT NULL ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    return {url: (status, broken, recovered) for url, status, broken, recovered in rows}


def _requests(web: LinkWeb, path: str) -> list[str]:
    return [method for method, _, p in web.requests if p == path]


def test_run_and_verify_give_the_same_verdicts(tmp_path: Path) -> None:
    url, folder, pages = _site(tmp_path)
    with LinkWeb(pages, fallback={"catchall.test": CATCH_ALL}) as web:
        policy = FAST_POLICY
        with Fetcher(policy, routes=web.routes) as fetcher, Archive(tmp_path / "v.db") as archive:
            verified = verify_paths([str(folder / "story-1.md")], fetcher=fetcher, archive=archive)
        by_verify = {c.url: (c.status, c.broken, c.recovered) for c in verified[0].links}
        verify_asked = {p: _requests(web, p) for p in ("/files/lies.pdf", "/files/plain.pdf")}

        config = load_config(str(_config(tmp_path, web.routes, folder)))
        before = len(web.requests)
        result = run(config, db_path=str(tmp_path / "run.db"))
        run_asked = [(m, p) for m, _, p in web.requests[before:]]
        run_probes = [
            p
            for m, h, p in web.requests[before:]
            if h == "catchall.test"
            and p not in ("/2017/03/vanished-story", "/2017/03/real-story", "/sitemap.xml")
        ]

        with Fetcher(policy, routes=web.routes) as fetcher, Archive(tmp_path / "l.db") as archive:
            report = check_target(str(folder / "story-1.md"), fetcher=fetcher, archive=archive)
    (item,) = result.results
    assert item.drift == verified[0].drift.status == "unchanged"
    by_run = {c.url: (c.status, c.broken, c.recovered) for c in item.checks}
    by_links = {c.url: (c.status, c.broken, c.recovered) for c in report.checks}
    assert by_run == by_verify == by_links
    assert _stored(tmp_path / "run.db") == _stored(tmp_path / "v.db")
    # The cases where the compositions used to differ, each present in all three:
    assert by_verify[f"{C}/2017/03/vanished-story"][0] == "soft_404"  # found by a probe
    assert by_verify[f"{C}/2017/03/real-story"][0] == "ok"
    assert by_verify[f"{N}/files/lies.pdf"][0] == "ok"  # HEAD said 404, GET said 200
    assert by_verify[f"{N}/2017/03/old-story"] == ("redirected", False, True)  # recovered
    assert by_verify[f"{N}/2017/03/gone"] == ("gone", True, False)
    assert verify_asked == {"/files/lies.pdf": ["HEAD", "GET"], "/files/plain.pdf": ["HEAD"]}
    assert [m for m, p in run_asked if p == "/files/lies.pdf"] == ["HEAD", "GET"]
    assert [m for m, p in run_asked if p == "/files/plain.pdf"] == ["HEAD"]
    # the run probed the catch-all host once, as verify does (its sitemap is asked too: the
    # search for the new address of a page that is gone)
    assert len(run_probes) == 1


def test_nothing_answering_gives_no_verdict_in_run_verify_and_links(tmp_path: Path) -> None:
    _, folder, _ = _site(tmp_path)
    closed = f"127.0.0.9:{_closed_port('127.0.0.9')}"
    routes = {"news.test": closed, "catchall.test": closed}
    policy = FAST_POLICY
    with Fetcher(policy, routes=routes) as fetcher, Archive(tmp_path / "v.db") as archive:
        verified = verify_paths([str(folder / "story-1.md")], fetcher=fetcher, archive=archive)
    assert verified.offline
    by_verify = {c.url: (c.status, c.broken) for c in verified[0].links}
    assert by_verify["#"] == ("network_unavailable", False)  # not recovered: no verdict

    with Fetcher(policy, routes=routes) as fetcher, Archive(tmp_path / "l.db") as archive:
        report = check_target(str(folder / "story-1.md"), fetcher=fetcher, archive=archive)
    assert report.offline
    assert {c.url: (c.status, c.broken) for c in report.checks} == by_verify

    config = load_config(str(_config(tmp_path, routes, folder)))
    with pytest.raises(NetworkUnavailable):
        run(config, db_path=str(tmp_path / "run.db"))
    stored = _stored(tmp_path / "run.db")
    assert {u: (s, b) for u, (s, b, _) in stored.items()} == by_verify
    assert not any(broken for _, broken in by_verify.values())


def test_a_run_checks_a_bare_url_as_links_does(tmp_path: Path) -> None:
    url, folder, pages = _site(tmp_path)
    with LinkWeb(pages, fallback={"catchall.test": CATCH_ALL}) as web:
        with Fetcher(FAST_POLICY, routes=web.routes) as fetcher:
            with Archive(tmp_path / "l.db") as archive:
                report = check_target(url, fetcher=fetcher, archive=archive)
        path = _config(tmp_path, web.routes, folder)
        text = path.read_text().replace(f'canonical = "{folder}"', f'urls = ["{url}"]')
        path.write_text(text, encoding="utf-8")
        result = run(load_config(str(path)), db_path=str(tmp_path / "run.db"))
    (item,) = result.results
    by_links = {c.url: (c.status, c.broken) for c in report.checks}
    assert {c.url: (c.status, c.broken) for c in item.checks} == by_links
    assert by_links[f"{C}/2017/03/vanished-story"] == ("soft_404", True)  # a probe, in both
    assert by_links[f"{N}/files/lies.pdf"] == ("ok", False)  # HEAD, then GET, in both

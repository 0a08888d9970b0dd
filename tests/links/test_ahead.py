"""Work done ahead for ``archiver links``: the page fetched while the job's modules are
imported (``Fetcher.fetch_ahead``), and robots.txt read ahead: while a long page is extracted,
the robots.txt of the hosts it links to is asked, so a link check's first requests need not
wait for it; a short page asks nothing more. And a robots.txt that got no answer is not asked
again for every link of its host.

Real loopback servers (tests/run_web.NewsWeb, several hosts routed to one address); the
extraction is made slow by wrapping the real one, not replaced.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.archive.store import Archive
from archiver.capture import pages as pages_module
from archiver.capture.pages import LivePages
from archiver.cli import cli
from archiver.fetch.fetcher import Fetcher, FetchStopped
from archiver.fetch.policy import parse_routes
from archiver.fetch.robots import NO_ANSWER_TTL, RobotsCache, sites_linked
from archiver.models import Capture
from tests.conftest import FAST_POLICY
from tests.run_web import Answer, NewsWeb

HOSTS = ("one.test", "two.test", "three.test")
PAGE = "https://news.test/story"


def _page() -> bytes:
    links = "".join(f'<p>See <a href="https://{h}/doc">the {h} document</a>.</p>' for h in HOSTS)
    return (
        "<!doctype html><html><head><title>A story</title></head><body><article>"
        f"<h1>A story</h1><p>Words of the story, long enough to be its text.</p>{links}"
        '<p>And <a href="/local">a page of its own site</a>.</p></article></body></html>'
    ).encode()


@pytest.fixture()
def web() -> Iterator[NewsWeb]:
    with NewsWeb() as web:
        web.add(PAGE, Answer(body=_page()))
        for host in HOSTS:
            web.add(f"https://{host}/doc", Answer(body=b"<html><title>doc</title></html>"))
            web.add(f"https://{host}/robots.txt", Answer(body=b"User-agent: *\nAllow: /\n"))
        yield web


def _fetcher(web: NewsWeb, **policy: object) -> Fetcher:
    return Fetcher(replace(FAST_POLICY, **policy), routes=parse_routes(web.routes()))  # type: ignore[arg-type]


def _robots_asked(web: NewsWeb) -> set[str]:
    return {host for host, path, _, _ in web.requests if path == "/robots.txt"}


def test_sites_linked_reads_absolute_links_in_order_bounded() -> None:
    body = (
        b'<a href="/rel">x</a><a href="https://B.test/x">b</a><a class=x href=http://a.test:8080/>a'
        b"</a><a href='https://b.test/y'>b again</a><link href=\"https://css.test/s.css\">"
    )
    assert sites_linked(body) == ["https://b.test/", "http://a.test:8080/"]
    assert sites_linked(body, limit=1) == ["https://b.test/"]


def test_a_long_page_has_its_linked_hosts_robots_read_while_it_is_extracted(
    web: NewsWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pages_module.keep_many

    def slow(*args: object, **kwargs: object) -> Iterator[tuple[Capture, int, object]]:
        time.sleep(0.3)  # a page that takes 0.3 s to read
        yield from real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pages_module, "keep_many", slow)
    with _fetcher(web) as fetcher, Archive(str(tmp_path / "a.db")) as archive:
        got = LivePages(fetcher, archive, robots_ahead=True).get([PAGE])
        asked_before_any_link = _robots_asked(web)
        before = len(web.requests)
        fetcher.fetch_many([f"https://{h}/doc" for h in HOSTS])
    assert got[PAGE].document is not None
    assert asked_before_any_link == {"news.test", *HOSTS}
    # The checks that follow ask each host's page only: its robots.txt was read already.
    after = [(host, path) for host, path, _, _ in web.requests[before:]]
    assert sorted(after) == sorted((h, "/doc") for h in HOSTS)


def test_a_page_read_quickly_asks_no_robots_txt_of_its_links(
    web: NewsWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages_module, "ROBOTS_AHEAD_AFTER", 5.0)
    with _fetcher(web) as fetcher, Archive(str(tmp_path / "a.db")) as archive:
        LivePages(fetcher, archive, robots_ahead=True).get([PAGE])
        time.sleep(0.1)
    assert _robots_asked(web) == {"news.test"}


def test_no_read_ahead_unless_asked_or_when_robots_txt_is_not_respected(
    web: NewsWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages_module, "ROBOTS_AHEAD_AFTER", 0.0)
    with _fetcher(web) as fetcher, Archive(str(tmp_path / "a.db")) as archive:
        LivePages(fetcher, archive).get([PAGE])  # verify's pages: no read-ahead
        time.sleep(0.2)
    assert _robots_asked(web) == {"news.test"}
    with _fetcher(web, respect_robots=False) as fetcher:
        assert fetcher.read_robots_ahead([f"https://{h}/doc" for h in HOSTS]) == 0
        time.sleep(0.1)
    assert _robots_asked(web) == {"news.test"}


def test_read_ahead_asks_each_site_once(web: NewsWeb) -> None:
    urls = [f"https://{h}/doc" for h in HOSTS]
    with _fetcher(web) as fetcher:
        assert fetcher.read_robots_ahead(urls + urls) == 3
        deadline = time.monotonic() + 5
        while _robots_asked(web) != set(HOSTS) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fetcher.read_robots_ahead(urls) == 0
        fetcher.fetch_many(urls)
    robots = [host for host, path, _, _ in web.requests if path == "/robots.txt"]
    assert sorted(robots) == sorted(HOSTS)


def test_a_robots_txt_that_got_no_answer_is_asked_again_only_after_a_while() -> None:
    now = [100.0]
    asked: list[str] = []

    def fetch(url: str) -> Capture:
        asked.append(url)
        if len(asked) < 3:  # the first two asks get no answer, the third a 404
            return Capture(
                url=url, final_url=url, status=None, error="connection_error", detail="refused"
            )
        return Capture(url=url, final_url=url, status=404)

    cache = RobotsCache(fetch, "archiver/1", clock=lambda: now[0])
    first = cache.check("https://dead.test/a")
    assert first.error == "connection_error" and not first.allowed
    assert cache.check("https://dead.test/b") == first  # remembered: not asked again
    assert len(asked) == 1
    now[0] += NO_ANSWER_TTL + 1
    assert cache.check("https://dead.test/c").error == "connection_error"
    assert len(asked) == 2
    now[0] += NO_ANSWER_TTL + 1
    assert cache.check("https://dead.test/d").allowed  # it answered at last: 404, all allowed
    assert cache.check("https://dead.test/e").allowed
    assert len(asked) == 3


def test_fetch_ahead_gives_what_fetch_many_gives_or_raises_what_it_raised(web: NewsWeb) -> None:
    urls = [PAGE, f"https://{HOSTS[0]}/doc", "https://news.test/missing"]
    with _fetcher(web) as fetcher:
        ahead = fetcher.fetch_ahead(urls)
        now = fetcher.fetch_many(urls)
        got = ahead.result(timeout=10)
    assert [(c.url, c.status, c.sha256) for c in got] == [(c.url, c.status, c.sha256) for c in now]
    assert [c.status for c in got] == [200, 200, 404]
    web.delay = 0.5
    with _fetcher(web) as fetcher:
        ahead = fetcher.fetch_ahead([f"https://{HOSTS[1]}/doc"])
        time.sleep(0.05)
        fetcher.stop()
        with pytest.raises(FetchStopped):
            ahead.result(timeout=10)


def test_links_of_a_url_fetches_it_ahead_with_the_same_report(web: NewsWeb, tmp_path: Path) -> None:
    routes = [f"--connect-to={route}" for route in web.routes()]
    args = ["links", PAGE, "--json", "--no-archive-lookup", "--per-host-rate", "100", *routes]
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "a.db"), *args])
    assert result.exit_code == 0, result.output
    checks = {c["url"]: c["status"] for c in json.loads(result.stdout)["links"]}
    assert {url: checks.get(url) for url in (f"https://{h}/doc" for h in HOSTS)} == {
        f"https://{h}/doc": "ok" for h in HOSTS
    }
    page = [r for r in web.requests if r[:2] == ("news.test", "/story")]
    assert len(page) == 1  # asked once: the fetch ahead is the job's fetch


def test_a_bad_archive_is_refused_before_anything_is_fetched(web: NewsWeb, tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not SQLite at all" * 100)
    routes = [f"--connect-to={route}" for route in web.routes()]
    result = CliRunner().invoke(cli, ["--db", str(junk), "links", PAGE, *routes])
    assert result.exit_code in (2, 3), result.output
    assert web.requests == []

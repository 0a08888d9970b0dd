"""Moved pages found: a loopback news site that moved part of its archive (old URL patterns, a
sitemap, pages truly deleted, an id reused for another story), and a fake web archive."""

from __future__ import annotations

from dataclasses import replace

import pytest

from archiver.archive.store import Archive
from archiver.fetch.fetcher import Fetcher
from archiver.links.memento import MementoSettings
from archiver.links.moved import (
    candidates,
    page_id,
    parse_sitemap,
    rewritten,
    slug_words,
    title_similarity,
)
from archiver.links.rescue import RescueSettings, rescue
from archiver.models import LinkCheck
from tests.archives_web import ArchivesWeb, FakeArchive, Page, Shot, page
from tests.conftest import FAST_POLICY

MT = "https://www.themoscowtimes.com"
PUBLISHED = "2017-06-01T00:00:00Z"

SITEMAP_INDEX = f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{MT}/sitemap-2017.xml</loc></sitemap>
<sitemap><loc>https://elsewhere.test/sitemap.xml</loc></sitemap>
</sitemapindex>"""
SITEMAP = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>{MT}/2017/03/30/putin-meets-trump-a12345</loc>
  <news:news><news:title>Putin Meets Trump in Helsinki</news:title></news:news></url>
<url><loc>{MT}/2015/01/02/cold-winter-in-moscow-a999</loc></url>
<url><loc>{MT}/2018/02/02/oil-prices-fall-a66666</loc></url>
<url><loc>{MT}/2016/07/07/a-new-name-for-it-a4242</loc>
  <news:news><news:title><![CDATA[Duma Passes the Yarovaya Law]]></news:title></news:news></url>
<url><loc>javascript:alert(1)</loc></url>
</urlset>"""

PAGES: dict[str, Page] = {
    f"{MT}/sitemap.xml": Page(body=SITEMAP_INDEX, content_type="application/xml"),
    f"{MT}/sitemap-2017.xml": Page(body=SITEMAP, content_type="application/xml"),
    # moved, and the new pages say what was cited
    f"{MT}/2017/03/30/putin-meets-trump-a12345": page(
        "Putin Meets Trump in Helsinki - The Moscow Times"
    ),
    f"{MT}/archive/sberbank-profits-soar": page("Sberbank Profits Soar | The Moscow Times"),
    f"{MT}/2016/05/01/kremlin-denies-sanctions-report-a777": page(
        "Kremlin Denies Report on New Sanctions"
    ),
    f"{MT}/2015/01/02/cold-winter-in-moscow-a999": page("A Cold Winter in Moscow"),
    f"{MT}/2016/07/07/a-new-name-for-it-a4242": page("Duma Passes the Yarovaya Law"),
    f"{MT}/2014/04/04/crimea-vote-what-comes-next-a321x": page("Crimea Vote: What Comes Next"),
    # an id reused for another story: not the page that was cited
    f"{MT}/2018/02/02/oil-prices-fall-a66666": page("Wheat Harvest Breaks Records"),
}

IA = FakeArchive(
    host="ia.test",
    shots={
        f"{MT}/articles/putin-meets-trump-12345": [
            Shot(stamp="20170330120000", title="Putin Meets Trump in Helsinki | The Moscow Times")
        ],
        f"{MT}/news/business/sberbank-profits-soar/45678.html": [
            Shot(stamp="20120101000000", title="Sberbank Profits Soar")
        ],
        f"{MT}/2016/05/01/kremlin-denies-a777": [
            Shot(
                stamp="20170101000000",
                redirect=f"{MT}/2016/05/01/kremlin-denies-sanctions-report-a777",
            )
        ],
        f"{MT}/2015/01/01/cold-winter-in-moscow-a999": [
            Shot(stamp="20150101000000", title="A Cold Winter in Moscow")
        ],
        f"{MT}/articles/oil-prices-fall-66666": [
            Shot(stamp="20170201000000", title="Oil Prices Fall to a Ten-Year Low")
        ],
        f"{MT}/articles/deleted-story-55555": [Shot(stamp="20170201000000", title="Deleted Story")],
        f"{MT}/2016/07/07/yarovaya-law-a4242": [
            Shot(stamp="20160707000000", title="Duma Passes the Yarovaya Law")
        ],
        f"{MT}/2014/04/04/short-a321": [
            Shot(
                stamp="20140404000000",
                title="Crimea Vote: What Comes Next",
                canonical=f"{MT}/2014/04/04/crimea-vote-what-comes-next-a321x",
            )
        ],
    },
)

#: (old URL, anchor text, status now, the expected moved_to or None: stays broken)
CASES = [
    (f"{MT}/articles/putin-meets-trump-12345", "met", "not_found",
     f"{MT}/2017/03/30/putin-meets-trump-a12345"),  # url_rewrite, found in the sitemap
    (f"{MT}/news/business/sberbank-profits-soar/45678.html", "profits", "not_found",
     f"{MT}/archive/sberbank-profits-soar"),  # url_rewrite, /archive/<slug>
    (f"{MT}/2016/05/01/kremlin-denies-a777", "Kremlin Denies Report on New Sanctions", "gone",
     f"{MT}/2016/05/01/kremlin-denies-sanctions-report-a777"),  # archive_redirect
    (f"{MT}/2015/01/01/cold-winter-in-moscow-a999", "cold", "soft_404",
     f"{MT}/2015/01/02/cold-winter-in-moscow-a999"),  # sitemap: same slug and id
    (f"{MT}/2016/07/07/yarovaya-law-a4242", "law", "not_found",
     f"{MT}/2016/07/07/a-new-name-for-it-a4242"),  # same id; the cited title in the sitemap
    (f"{MT}/2014/04/04/short-a321", "vote", "not_found",
     f"{MT}/2014/04/04/crimea-vote-what-comes-next-a321x"),  # the archived copy's canonical
    (f"{MT}/articles/oil-prices-fall-66666", "oil", "not_found", None),  # title does not match
    (f"{MT}/articles/deleted-story-55555", "deleted", "not_found", None),  # truly deleted
    (f"{MT}/2017/01/01/gone-for-good-a888", "gone", "gone", None),  # deleted, never archived
]  # fmt: skip


@pytest.fixture(scope="module")
def news() -> ArchivesWeb:
    with ArchivesWeb([IA], pages=PAGES, address="127.0.0.8") as web:
        yield web


def test_moved_pages_are_moved_and_deleted_ones_stay_broken(news: ArchivesWeb) -> None:
    checks = [
        LinkCheck(url=url, text=text, status=status, broken=True) for url, text, status, _ in CASES
    ]
    settings = RescueSettings(memento=MementoSettings(archives=(IA.web_archive(),), deadline=8))
    with Archive.memory() as archive, Fetcher(FAST_POLICY, routes=news.routes) as fetcher:
        out = rescue(
            checks, fetcher=fetcher, archive=archive, published=PUBLISHED, settings=settings
        )
    got = {c.url: c.moved_to for c in out}
    assert got == {url: moved for url, _, _, moved in CASES}
    for check, (_, _, status, moved) in zip(out, CASES, strict=True):
        if moved:
            assert (check.status, check.broken) == ("moved", False), check.detail
            assert check.to_json()["moved_to"] == moved
            assert any(c.matched for c in check.moved_candidates)
        else:
            assert (check.status, check.broken) == (status, True), check.detail
            assert not any(c.matched for c in check.moved_candidates)
    by_url = {c.url: c for c in out}
    oil = by_url[f"{MT}/articles/oil-prices-fall-66666"]
    assert [c.url for c in oil.moved_candidates] == [f"{MT}/2018/02/02/oil-prices-fall-a66666"]
    assert (
        oil.moved_candidates[0].matched is False
        and "does not match" in oil.moved_candidates[0].detail
    )
    assert oil.to_json()["moved_to"] is None and oil.archived_url  # still reachable, archived
    evidence = {
        c.url: next(m.evidence for m in c.moved_candidates if m.matched) for c in out if c.moved_to
    }
    assert evidence == {
        CASES[0][0]: "url_rewrite",
        CASES[1][0]: "url_rewrite",
        CASES[2][0]: "archive_redirect",
        CASES[3][0]: "sitemap",
        CASES[4][0]: "title_search",
        CASES[5][0]: "archived_canonical",
    }
    # sitemaps of other sites are not followed
    assert not any(host == "elsewhere.test" for host, _ in news.requests)


def test_nothing_is_moved_without_a_cited_title_to_match() -> None:
    # the rewrite proposes a page, but nothing says what was cited: stays broken, listed
    found = candidates(f"{MT}/news/business/sberbank-profits-soar/45678.html")
    assert [(c.url, c.evidence) for c in found] == [
        (f"{MT}/archive/sberbank-profits-soar", "url_rewrite")
    ]
    with ArchivesWeb([], pages=PAGES, address="127.0.0.9") as web:
        with Fetcher(FAST_POLICY, routes=web.routes) as fetcher:
            (check,) = rescue(
                [
                    LinkCheck(
                        url=f"{MT}/news/business/sberbank-profits-soar/45678.html",
                        text="here",
                        status="not_found",
                        broken=True,
                    )
                ],
                fetcher=fetcher,
                settings=RescueSettings(memento=MementoSettings(archives=())),
            )
    assert check.status == "not_found" and check.broken and check.moved_to is None
    assert check.moved_candidates and check.moved_candidates[0].matched is False


def test_names_of_a_page_and_rewrites() -> None:
    assert page_id(f"{MT}/2017/03/30/trump-le-pen-a57583") == "57583"
    assert page_id(f"{MT}/news/business/some-story/45678.html") == "45678"
    assert page_id(f"{MT}/2017/03/30/no-id-here") is None
    assert slug_words(f"{MT}/2017/03/30/trump-le-pen-a57583") == ("trump", "le", "pen")
    assert slug_words(f"{MT}/news/x/some-story/45678.html") == ("some", "story")
    assert [r.target or r.listed for r, _ in rewritten(f"{MT}/articles/x-y-12")] != []
    assert rewritten("https://other.test/articles/x-y-12") == []
    assert (
        title_similarity("Sberbank Profits Soar", "Sberbank Profits Soar | The Moscow Times") == 1.0
    )
    assert title_similarity("Oil Prices Fall", "Wheat Harvest Breaks Records") < 0.3


def test_sitemap_parsing_is_bounded_and_safe() -> None:
    pages, children = parse_sitemap(SITEMAP_INDEX.encode())
    assert (
        children == [f"{MT}/sitemap-2017.xml", "https://elsewhere.test/sitemap.xml"] and not pages
    )
    pages, _ = parse_sitemap(SITEMAP.encode())
    assert len(pages) == 4  # the javascript: entry is dropped
    assert pages[0].title == "Putin Meets Trump in Helsinki"
    assert pages[3].title == "Duma Passes the Yarovaya Law"
    assert len(parse_sitemap(SITEMAP.encode(), limit=2)[0]) == 2
    rss = b"<rss><channel><item><title>A &amp; B</title><link>https://x.test/a</link></item></channel></rss>"
    assert parse_sitemap(rss)[0][0].title == "A & B"


def test_a_slow_site_never_holds_the_check_beyond_its_bound() -> None:
    import time

    from tests.linkrot_web import Answer, LinkWeb

    slow = {f"{MT}/sitemap.xml": Answer(body=SITEMAP, delay=3.0)}
    with LinkWeb(slow, address="127.0.0.11") as web:
        policy = replace(FAST_POLICY, timeout=10.0, read_timeout=10.0)
        with Fetcher(policy, routes=web.routes) as fetcher:
            started = time.monotonic()
            (check,) = rescue(
                [LinkCheck(url=CASES[0][0], text="t", status="not_found", broken=True)],
                fetcher=fetcher,
                settings=RescueSettings(memento=MementoSettings(archives=()), moved_deadline=0.5),
            )
            elapsed = time.monotonic() - started
    assert elapsed < 1.5, elapsed
    assert (check.status, check.broken, check.moved_to) == ("not_found", True, None)


def test_the_sites_search_page_finds_the_cited_title() -> None:
    from archiver.links.moved import SiteSearch

    news = "https://news.test"
    old = f"{news}/2014/04/04/story-1"
    results = (
        "<html><body><ul>"
        '<li><a href="/world/other">Crimea: Another Story</a></li>'
        '<li><a href="/world/crimea-vote"><b>Crimea Vote:</b> What Comes Next</a></li>'
        '<li><a href="javascript:alert(1)">Crimea Vote: What Comes Next</a></li>'
        "</ul></body></html>"
    )
    pages = {
        f"{news}/search?q=Crimea+Vote+What+Comes+Next": page_of(results),
        f"{news}/world/crimea-vote": page("Crimea Vote: What Comes Next - News"),
        f"{news}/world/other": page("Crimea: Another Story"),
    }
    archive = FakeArchive(
        host="ia.test",
        shots={old: [Shot(stamp="20140404000000", title="Crimea Vote: What Comes Next")]},
    )
    settings = RescueSettings(
        memento=MementoSettings(archives=(archive.web_archive(),)),
        searches=(SiteSearch(host="news.test", template="/search?q={query}"),),
    )
    with ArchivesWeb([archive], pages=pages, address="127.0.0.16") as web:
        with Fetcher(FAST_POLICY, routes=web.routes) as fetcher:
            (check,) = rescue(
                [LinkCheck(url=old, text="vote", status="not_found", broken=True)],
                fetcher=fetcher,
                settings=settings,
            )
    assert (check.status, check.moved_to) == ("moved", f"{news}/world/crimea-vote")
    (match,) = [c for c in check.moved_candidates if c.matched]
    assert match.evidence == "title_search" and "search" in match.detail
    assert all(c.url.startswith(news) for c in check.moved_candidates)


def page_of(body: str) -> Page:
    return Page(body=body)

"""Profile registry and selection from the page itself; links resolved as RFC 3986 says."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver.extract.extractor import extract
from archiver.extract.profiles import PROFILE_NAMES, PROFILES, get_profile, resolve, wayback

TESTS = Path(__file__).parent.parent
SEED_PAGE = TESTS / "web" / "pages" / "mt-a57583.html"

# (base, href, expected): RFC 3986 section 5.4 and the forms
RELATIVE = [
    ("https://h.test/nobase/a/b", "rel/page", "https://h.test/nobase/a/rel/page"),
    ("https://h.test/nobase/a/b", "./rel", "https://h.test/nobase/a/rel"),
    ("https://h.test/nobase/a/b", "../up", "https://h.test/nobase/up"),
    ("https://h.test/nobase/a/b", "../../up", "https://h.test/up"),
    ("https://h.test/nobase/a/b", "?q=1", "https://h.test/nobase/a/b?q=1"),
    ("https://h.test/nobase/a/b", "#f", "https://h.test/nobase/a/b#f"),
    ("https://h.test/nobase/a/b", "//proto.test/x", "https://proto.test/x"),
    ("http://h.test/nobase/a/b", "//proto.test/x", "http://proto.test/x"),
    ("https://h.test/nobase/a/b", "/abs", "https://h.test/abs"),
    ("https://h.test/dir/", "rel", "https://h.test/dir/rel"),
    ("https://h.test/dir/", "../up", "https://h.test/up"),
    ("https://h.test/dir/", "?q", "https://h.test/dir/?q"),
    ("https://h.test", "rel", "https://h.test/rel"),
    ("https://h.test/a/b", "mailto:x@h.test", "mailto:x@h.test"),
    ("https://h.test/a/b", " rel\n/pa\tge ", "https://h.test/a/rel/page"),
    ("https://h.test/a/b", "https://other.test/x", "https://other.test/x"),
    ("https://h.test/a/b", "#", "#"),
    ("https://h.test/a/b", "", ""),
]


@pytest.mark.parametrize(("base", "href", "expected"), RELATIVE)
def test_resolve_table(base: str, href: str, expected: str) -> None:
    assert resolve(href, base) == expected


def _generic_page(base_tag: str = "") -> str:
    paragraphs = "".join(
        f"<p>Paragraph {i} of a long enough article body that any extractor keeps as text, "
        f"with words and more words about the subject at hand, number {i}.</p>"
        for i in range(6)
    )
    links = (
        "<p>The report <a href='rel/page'>rel</a>, <a href='./dot'>dot</a>, "
        "<a href='../up'>up</a>, <a href='?q=1'>query</a>, <a href='//proto.test/x'>proto</a> "
        "and <a href='/abs'>abs</a> say so, as the article explains at length here.</p>"
    )
    return (
        f"<html><head><title>A story</title>{base_tag}</head><body><article><h1>A story</h1>"
        f"{paragraphs}{links}</article></body></html>"
    )


@pytest.mark.parametrize(
    ("base_tag", "root"),
    [
        ("", "https://h.test/nobase/a/"),
        ("<base href='https://cdn.test/m/n/'>", "https://cdn.test/m/n/"),
        ("<base href='/sub/dir/x'>", "https://h.test/sub/dir/"),
    ],
)
def test_generic_links_resolve_against_the_page_or_its_base(base_tag: str, root: str) -> None:
    doc = extract(_generic_page(base_tag), url="https://h.test/nobase/a/b")
    assert doc.profile == "generic"
    got = {link.text: link.url for link in doc.links}
    scheme_host = root.split("/", 3)[:3]
    assert got["rel"] == root + "rel/page"
    assert got["dot"] == root + "dot"
    assert got["abs"] == "/".join(scheme_host) + "/abs"
    assert got["proto"] == "https://proto.test/x"
    assert got["query"].endswith("?q=1")
    assert got["up"] == root.rsplit("/", 2)[0] + "/up"


def test_registry_names_every_profile() -> None:
    assert PROFILE_NAMES == tuple(p.name for p in PROFILES)
    assert PROFILE_NAMES[-1] == "generic"
    for name in PROFILE_NAMES:
        assert callable(get_profile(name))
    with pytest.raises(KeyError):
        get_profile("nonsense")


def test_seed_from_a_bare_loopback_address_is_read_as_the_site() -> None:
    seed = SEED_PAGE.read_bytes()
    doc = extract(seed, url="http://127.0.0.2:8080/2017/03/30/x-a57583")
    assert doc.profile == "moscowtimes"
    assert len(doc.links) == 13
    assert any("Bulgaria, France, and Moldova" in p for p in doc.paragraphs)


@pytest.mark.parametrize(
    "strip",
    [
        (b'rel="canonical"',),
        (b'rel="canonical"', b"og:url"),
        (b'rel="canonical"', b"og:url", b"og:site_name"),
    ],
)
def test_profile_from_the_page_without_its_url(strip: tuple[bytes, ...]) -> None:
    seed = SEED_PAGE.read_bytes()
    for marker in strip:
        seed = seed.replace(marker, b"data-x")
    assert extract(seed, url="http://127.0.0.2:8080/x").profile == "moscowtimes"
    assert extract(seed).profile == "moscowtimes"


def test_a_canonical_link_to_another_site_wins_over_markup() -> None:
    seed = SEED_PAGE.read_bytes().replace(
        b"https://www.themoscowtimes.com/2017/03/30/trump", b"https://other.test/2017/03/30/trump"
    )
    assert extract(seed, url="http://127.0.0.2:8080/x").profile == "generic"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://web.archive.org/web/20140226054445/http://www.x.test/a", "http://www.x.test/a"),
        ("/web/20140226054445im_/https://x.test/i.png", "https://x.test/i.png"),
        ("http://web.archive.org/web/2014/http:/x.test/a?b=1", "http://x.test/a?b=1"),
        ("https://www.x.test/web/page", None),
        ("https://x.test/a", None),
    ],
)
def test_wayback_original_url(url: str, expected: str | None) -> None:
    assert wayback.original(url) == expected


def test_replayed_seed_is_the_site_with_original_links() -> None:
    seed = SEED_PAGE.read_text(encoding="utf-8")
    ts = "https://web.archive.org/web/20170401000000/"
    replay = seed.replace('href="https://', f'href="{ts}https://').replace(
        "<body", '<body><div id="wm-ipp-base"><a href="/web/">Wayback Machine</a></div><x', 1
    )
    doc = extract(replay.encode(), url=ts + "https://www.themoscowtimes.com/2017/03/30/x-a57583")
    assert doc.profile == "moscowtimes"
    assert [link.url for link in doc.links] == [link.url for link in extract(seed).links]
    assert "Wayback Machine" not in doc.text


def test_utf8_bytes_under_a_single_byte_label_are_utf8() -> None:
    for label in ("windows-1251", "iso-8859-1", "koi8-r"):
        page = (
            f"<html><head><meta charset='{label}'><title>Санкции: sanción</title></head>"
            "<body><p>Москва — это текст, и sanción zerstören.</p></body></html>"
        ).encode()
        doc = extract(page)
        assert doc.encoding == "utf-8", label
        assert doc.title == "Санкции: sanción"
        assert any("utf-8" in w for w in doc.warnings)


def test_page_links_gives_every_link_of_a_page_that_is_not_an_article() -> None:
    from archiver.extract.extractor import page_links

    front = (
        "<html><head><base href='/section/'></head><body><nav><a href='/'>Home</a>"
        "<a href='a-story'>A story</a></nav><ul><li><a href='//other.test/x'>Other</a></li>"
        "<li><a href='javascript:void(0)'>Menu</a></li><li><a href='mailto:x@h.test'>Mail</a>"
        "</li><li><a href='#top'>Top</a></li></ul><footer><a href='../about'>About</a></footer>"
        "</body></html>"
    )
    links = page_links(front, url="https://h.test/front")
    assert [(link.url, link.text) for link in links] == [
        ("https://h.test/", "Home"),
        ("https://h.test/section/a-story", "A story"),
        ("https://other.test/x", "Other"),
        ("https://h.test/section/#top", "Top"),
        ("https://h.test/about", "About"),
    ]
    doc = extract(front, url="https://h.test/front")
    assert doc.page_type != "article"


def test_seed_served_from_a_bare_loopback_address_verifies_cosmetic(tmp_path: Path) -> None:
    """The issue's case: the same page from a mirror address (no --connect-to) is the site's."""
    import json

    from click.testing import CliRunner

    from archiver.cli import cli
    from archiver.testserver import Page as ServedPage
    from archiver.testserver import Site, SiteServer
    from tests.conftest import SEED

    site = Site()
    with SiteServer(site, host="127.0.0.4") as server:
        host = server.address  # "127.0.0.4:<port>"
        mirror = f"http://{host}/2017/03/30/trump-le-pen-a57583"
        site.add(ServedPage(url=mirror, body=SEED_PAGE.read_bytes()))
        copy = tmp_path / "seed.md"
        text = SEED.read_text(encoding="utf-8")
        copy.write_text(
            text[: text.index("Original url:")] + f"Original url: <{mirror}>\n", encoding="utf-8"
        )
        result = CliRunner().invoke(
            cli,
            [
                "--db",
                str(tmp_path / "a.db"),
                "verify",
                str(copy),
                "--json",
                "--per-host-rate",
                "100",
                "--timeout",
                "2",
            ],
            catch_exceptions=False,
        )
    (verdict,) = json.loads(result.stdout)["results"]
    assert verdict["status"] == "cosmetic", verdict["changes"]
    assert len(verdict["links"]) == 13
    assert all(link["recovered"] for link in verdict["links"])


def _article_with_sources() -> str:
    prose = "".join(
        f"<p>Paragraph {i} of the report explains at length what the investigation found, "
        f"with names, dates and figures that a reader checks against the sources, part {i}.</p>"
        for i in range(6)
    )
    return (
        "<html><head><title>A Report | Example News</title></head><body>"
        "<nav><ul><li><a href='/'>Home</a></li><li><a href='/world'>World</a></li></ul></nav>"
        "<article><h1>A Report</h1><p class='byline'>By <a href='/staff/ann'>Ann Lee</a></p>"
        f"{prose}"
        "<p>See <a href='https://gov.test/a'>the filing</a>, <a href='https://court.test/b'>the"
        " ruling</a> and <a href='https://ngo.test/c'>the audit</a>.</p>"
        f"{prose.replace('Paragraph', 'Section')}"
        "<h2>Sources</h2><ul>"
        "<li><a href='https://one.test/report.pdf'>Ministry report, 2023</a></li>"
        "<li><a href='https://two.test/data'>Open data portal</a></li>"
        "<li><a href='https://three.test/story'>An earlier investigation</a></li></ul>"
        "</article><aside class='related'><h3>Related</h3><ul>"
        "<li><a href='/2024/other-story'>Another story from us</a></li>"
        "<li><a href='/2024/more'>More from us</a></li></ul></aside>"
        "<footer><a href='/about'>About</a> <a href='/privacy'>Privacy</a></footer>"
        "</body></html>"
    )


def test_generic_keeps_every_source_and_no_boilerplate_link() -> None:
    doc = extract(_article_with_sources(), url="https://news.test/2024/05/01/a-report")
    urls = [link.url for link in doc.links]
    for source in (
        "https://gov.test/a",
        "https://court.test/b",
        "https://ngo.test/c",
        "https://one.test/report.pdf",
        "https://two.test/data",
        "https://three.test/story",
    ):
        assert source in urls, source
    for boilerplate in ("/world", "/2024/other-story", "/2024/more", "/about", "/privacy"):
        assert "https://news.test" + boilerplate not in urls, boilerplate
    assert any(p.startswith("See the filing, the ruling and the audit") for p in doc.paragraphs)
    assert doc.title == "A Report"
    assert doc.page_type == "article"

"""Link verdicts: pure classification of captures, then the loopback test web end to end."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
import requests
import responses

from archiver.fetch.fetcher import Fetcher, FetchPolicy
from archiver.links.check import (
    BROKEN,
    ProbeCache,
    check_links,
    classify,
    network_unavailable,
    precheck,
    probe_reason,
    probe_url,
    redirected_to_section,
    summarize,
    wants_head,
)
from archiver.models import Capture, Link, LinkCheck
from tests.conftest import FAST_POLICY
from tests.linkrot_web import Answer, LinkWeb, article, moved

L = Link(url="https://news.example/2017/03/30/story-a1", text="story")


def cap(status: int | None = 200, body: bytes = b"<title>Story</title>", **kw: object) -> Capture:
    return Capture(
        url=L.url, final_url=str(kw.pop("final_url", L.url)), status=status, body=body, **kw
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("href", "status"),
    [
        ("#", "placeholder"),
        ("", "placeholder"),
        ("#section", "placeholder"),
        ("mailto:a@example.org", "skipped"),
        ("javascript:alert(1)", "skipped"),
        ("tel:+7495", "skipped"),
        ("htp:/broken", "invalid"),
        ("https://", "invalid"),
        ("https://exa mple.org/", "invalid"),
        ("https://example.org:99999/", "invalid"),
        ("https://example.org/ok", None),
    ],
)
def test_precheck(href: str, status: str | None) -> None:
    result = precheck(Link(url=href, text="t"))
    assert (result.status if result else None) == status
    if result:
        assert result.broken == (status in ("placeholder", "invalid"))


@pytest.mark.parametrize(
    ("capture", "status", "broken"),
    [
        (cap(200), "ok", False),
        (
            cap(200, redirects=("https://news.example/new",), final_url="https://news.example/new"),
            "redirected",
            False,
        ),
        (cap(404), "not_found", True),
        (cap(410), "gone", True),
        (cap(503), "server_error", False),
        (cap(429), "rate_limited", False),
        (cap(403), "blocked", False),
        (cap(401), "blocked", False),
        (cap(451), "blocked", False),
        (cap(None, error="timeout"), "timeout", False),
        (cap(None, error="connection_error"), "connection_error", False),
        (cap(None, error="tls_error"), "tls_error", False),
        (cap(None, error="dns_error"), "dns_error", True),
        (cap(None, error="redirect_loop"), "redirect_loop", True),
        (cap(None, error="too_many_redirects"), "redirect_loop", True),
        (cap(None, error="robots_disallowed"), "robots_disallowed", False),
        (cap(200, body=b"<title>Page Not Found | News</title>"), "soft_404", True),
        (cap(200, body=b"<h1>Sorry, we can't find that page</h1>"), "soft_404", True),
        (
            cap(200, redirects=("https://news.example/",), final_url="https://news.example/"),
            "soft_404",
            True,
        ),
        (
            cap(200, redirects=("https://news.example/en/",), final_url="https://news.example/en/"),
            "soft_404",
            True,
        ),
        (
            cap(
                200,
                redirects=("https://news.example/login?next=x",),
                final_url="https://news.example/login?next=x",
            ),
            "blocked",  # a login wall is a suspect (CONTRACT.md), not a soft 404
            False,
        ),
    ],
)
def test_classify(capture: Capture, status: str, broken: bool) -> None:
    check = classify(L, capture)
    assert (check.status, check.broken) == (status, broken)


def test_real_page_mentioning_404_in_body_is_ok() -> None:
    body = b"<title>How error pages work</title><p>A 404 page tells you ...</p>"
    assert classify(L, cap(200, body=body)).status == "ok"


def test_network_unavailable_only_when_nothing_answered() -> None:
    down = [cap(None, error="dns_error"), cap(None, error="connection_error")]
    assert network_unavailable(down)
    assert not network_unavailable([*down, cap(404)])
    assert not network_unavailable([])


class FakeOfflineFetcher:
    """Stands in for a machine with no network: every fetch fails to resolve."""

    def fetch_many(self, urls: object, *, method: str = "GET") -> list[Capture]:
        return [Capture(url=u, final_url=u, status=None, error="dns_error") for u in urls]  # type: ignore[attr-defined]


def test_offline_gives_no_verdict() -> None:
    links = [L, Link(url="#", text="x"), Link(url="https://b.example/", text="b")]
    checks = check_links(links, FakeOfflineFetcher())
    assert [c.status for c in checks] == [
        "network_unavailable",
        "placeholder",
        "network_unavailable",
    ]
    assert not checks[0].broken
    assert summarize(checks) == {"network_unavailable": 2, "placeholder": 1}


# --- the loopback test web: one test per verdict -------------------------------------------

N = "https://news.test"
C = "https://catchall.test"
WEB_PAGES = {
    f"{N}/robots.txt": Answer(
        body="User-agent: *\nDisallow: /private/\n", content_type="text/plain"
    ),
    f"{N}/": article("News Test", "The front page of a news site with today's stories."),
    f"{N}/2017/03/ok-story": article("A real story", "Words of a real story, told in full."),
    f"{N}/2017/03/old-story": moved(f"{N}/2017/03/new-story"),
    f"{N}/2017/03/new-story": article("A moved story", "The story at its new address."),
    f"{N}/2017/03/gone": Answer(status=410, body="<title>Gone</title>"),
    f"{N}/2017/03/error-page": article("Page not found", "Try the search box."),
    f"{N}/2017/03/deep-story": moved(f"{N}/"),
    f"{N}/2017/03/members-story": moved(f"{N}/login?next=/2017/03/members-story", 302),
    f"{N}/login?next=/2017/03/members-story": article("Sign in", "Members only."),
    f"{N}/news/2017/03/deleted-story": moved(f"{N}/news/"),
    f"{N}/news/": article("News section", "All the news stories of the section."),
    f"{N}/loop-a": moved(f"{N}/loop-b", 302),
    f"{N}/loop-b": moved(f"{N}/loop-a", 302),
    f"{N}/2017/03/down": Answer(status=503, body="<title>Service Unavailable</title>"),
    f"{N}/2017/03/forbidden": Answer(status=403, body="<title>Forbidden</title>"),
    f"{N}/2017/03/busy": Answer(status=429, headers=(("Retry-After", "0"),)),
    f"{N}/2017/03/slow": Answer(body="<title>late</title>", delay=1.5),
    f"{N}/private/story": article("Private", "Robots may not read this."),
    f"{N}/files/plain.pdf": Answer(body="%PDF-1.4 plain", content_type="application/pdf"),
    f"{N}/files/lies.pdf": Answer(body="%PDF-1.4 lies", content_type="application/pdf", head=404),
    f"{N}/files/nohead.pdf": Answer(body="%PDF-1.4 no", content_type="application/pdf", head=405),
    f"{C}/2017/03/real-story": article("Real story on a catch-all host", "It exists. " * 30),
}
# catchall.test answers 200 with its front page to every path it does not know.
CATCH_ALL = article("Catch All Daily", "Welcome! Read our latest headlines and subscribe today.")

# (link, expected status); {tls} and {closed} are filled in with live addresses.
VERDICTS = [
    (f"{N}/2017/03/ok-story", "ok"),
    (f"{N}/2017/03/old-story", "redirected"),
    (f"{N}/2017/03/missing", "not_found"),
    (f"{N}/2017/03/gone", "gone"),
    (f"{N}/2017/03/error-page", "soft_404"),  # 200, but the page says not found
    (f"{N}/2017/03/deep-story", "soft_404"),  # a deep link redirected to the home page
    (f"{N}/2017/03/members-story", "blocked"),  # a login wall: a suspect
    (f"{N}/news/2017/03/deleted-story", "soft_404"),  # sent up to its section page
    (f"{C}/2017/03/vanished-story", "soft_404"),  # a host that answers 200 to any path
    (f"{C}/2017/03/real-story", "ok"),  # a real page on that host stays ok
    (f"{N}/loop-a", "redirect_loop"),
    (f"{N}/2017/03/down", "server_error"),
    (f"{N}/2017/03/forbidden", "blocked"),
    (f"{N}/2017/03/busy", "rate_limited"),
    (f"{N}/2017/03/slow", "timeout"),
    ("https://closed.test/2017/03/story", "connection_error"),
    ("{tls}", "tls_error"),
    (f"{N}/private/story", "robots_disallowed"),
    (f"{N}/files/plain.pdf", "ok"),  # HEAD is enough
    (f"{N}/files/lies.pdf", "ok"),  # HEAD says 404, GET says 200
    (f"{N}/files/nohead.pdf", "ok"),  # HEAD refused with 405
    ("http://exa mple.org/", "invalid"),
    ("#", "placeholder"),
    ("mailto:desk@news.test", "skipped"),
]
TEST_POLICY = replace(
    FAST_POLICY,
    per_host_rate=200,
    per_host_connections=4,
    timeout=0.6,
    connect_timeout=0.6,
    read_timeout=0.6,
    retries=1,
    backoff_max=FetchPolicy.backoff_max,
    retry_after_cap=1,
)


def _closed_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


@dataclass
class WebRun:
    web: LinkWeb
    checks: dict[str, LinkCheck]
    tls_url: str


@pytest.fixture(scope="module")
def web_run() -> Iterator[WebRun]:
    """Every link of VERDICTS checked once, in one run, against the live loopback web."""
    with LinkWeb(WEB_PAGES, fallback={"catchall.test": CATCH_ALL}) as web:
        host = web.address.split(":")[0]
        routes = {**web.routes, "closed.test": f"{host}:{_closed_port(host)}"}
        tls_url = f"https://{web.address}/2017/03/ok-story"
        links = [Link(url=u.replace("{tls}", tls_url), text=s) for u, s in VERDICTS]
        with Fetcher(TEST_POLICY, routes=routes) as fetcher:
            checks = check_links(links, fetcher, probes=ProbeCache(lambda: "zz-no-such-page"))
        yield WebRun(web=web, checks={c.url: c for c in checks}, tls_url=tls_url)


@pytest.mark.parametrize(("url", "status"), VERDICTS, ids=[f"{s}:{u}" for u, s in VERDICTS])
def test_verdict_on_loopback_web(web_run: WebRun, url: str, status: str) -> None:
    check = web_run.checks[url.replace("{tls}", web_run.tls_url)]
    assert check.status == status, check.detail
    assert check.broken == BROKEN[status]


def test_head_is_enough_for_a_file_and_confirmed_by_get_when_it_lies(web_run: WebRun) -> None:
    seen = web_run.web.requests
    assert [m for m, h, p in seen if p == "/files/plain.pdf"] == ["HEAD"]
    assert [m for m, h, p in seen if p == "/files/lies.pdf"] == ["HEAD", "GET"]
    assert [m for m, h, p in seen if p == "/files/nohead.pdf"] == ["HEAD", "GET"]
    assert "HEAD answered HTTP 404" in web_run.checks[f"{N}/files/lies.pdf"].detail
    # pages get one GET, no HEAD first
    assert [m for m, h, p in seen if p == "/2017/03/ok-story" and h == "news.test"] == ["GET"]


def test_probe_once_per_host_and_only_where_needed(web_run: WebRun) -> None:
    probes = [(h, p) for m, h, p in web_run.web.requests if p == "/zz-no-such-page"]
    # news.test had 2xx pages to compare (probed once); catchall.test once for both its links
    assert sorted(probes) == [
        ("catchall.test", "/zz-no-such-page"),
        ("news.test", "/zz-no-such-page"),
    ]
    assert "cannot exist" in web_run.checks[f"{C}/2017/03/vanished-story"].detail


def test_probe_reason_is_pure_and_spares_real_pages() -> None:
    probe = Capture(
        url=f"{C}/zz", final_url=f"{C}/zz", status=200, content_type="text/html",
        body=CATCH_ALL.body.encode(),
    )  # fmt: skip
    echo = CATCH_ALL.body.replace("Welcome!", "Welcome! vanished story").encode()
    same = Capture(url=f"{C}/a/vanished-story", final_url=f"{C}/a/vanished-story", status=200,
                   content_type="text/html", body=echo)  # fmt: skip
    real = replace(same, body=WEB_PAGES[f"{C}/2017/03/real-story"].body.encode())
    assert probe_reason(same.url, same, probe) is not None  # echoing its own path is no escape
    assert probe_reason(real.url, real, probe) is None
    assert probe_reason(same.url, same, replace(probe, status=404)) is None  # honest host
    assert probe_url("https://a.example/x/y?q=1", "tok") == "https://a.example/tok"


def test_wants_head_only_for_files() -> None:
    assert wants_head("https://a.example/report.PDF")
    assert not wants_head("https://a.example/2017/03/story")
    assert not wants_head("https://a.example/story.html")


def test_dns_error_while_other_hosts_answer() -> None:
    """A name that does not resolve (faked with responses: no test asks a real resolver)."""
    pages = {f"{N}/2017/03/ok-story": WEB_PAGES[f"{N}/2017/03/ok-story"]}
    with LinkWeb(pages) as web, responses.RequestsMock() as rsps:
        rsps.add_passthru(f"http://{web.address}")
        failure = requests.ConnectionError(socket.gaierror(-2, "Name or service not known"))
        rsps.add(responses.GET, re.compile(r"https?://gone-domain\.test/.*"), body=failure)
        links = [Link(url="https://gone-domain.test/story", text="a"),
                 Link(url=f"{N}/2017/03/ok-story", text="b")]  # fmt: skip
        with Fetcher(TEST_POLICY, routes=web.routes) as fetcher:
            checks = check_links(links, fetcher, probes=ProbeCache())
    assert [c.status for c in checks] == ["dns_error", "ok"]
    assert checks[0].broken


def test_network_unavailable_when_no_host_answers() -> None:
    port = _closed_port("127.0.0.3")
    routes = {"a.test": f"127.0.0.3:{port}", "b.test": f"127.0.0.3:{port}"}
    links = [Link(url="https://a.test/x", text="a"), Link(url="https://b.test/y", text="b")]
    with Fetcher(TEST_POLICY, routes=routes) as fetcher:
        checks = check_links(links, fetcher, probes=ProbeCache())
    assert {c.status for c in checks} == {"network_unavailable"}
    assert not any(c.broken for c in checks)


@pytest.mark.parametrize(
    ("heading", "soft"),
    [
        ("<title>Page Not Found | News</title>", True),
        ("<title>404</title>", True),
        ("<title>Error 404 - Page not found</title>", True),
        ("<title>News Test</title><h1>Oops! That page can't be found.</h1>", True),
        ("<title>404 Not Found</title>", True),
        ("<title>Story 404 on host 8</title>", False),
        ("<title>Treasure not found after 50 years | News</title>", False),
        ("<title>Drug no longer available in Russian pharmacies</title>", False),
        ("<title>Route 404: the road to nowhere</title>", False),
    ],
)
def test_error_title_must_be_the_gist_not_a_word(heading: str, soft: bool) -> None:
    """Titles that merely mention "not found" or 404 are real pages: never cry wolf."""
    status = classify(L, cap(200, body=heading.encode())).status
    assert status == ("soft_404" if soft else "ok")


def test_control_characters_never_reach_the_terminal() -> None:
    from archiver.report.links import format_links

    assert precheck(Link(url="https://a.example/\x1b[31mred", text="t")).status == "invalid"  # type: ignore[union-attr]
    page = cap(200, body=b"<title>Page not found \x1b]0;pwned\x07</title>")
    check = classify(L, page)
    assert check.status == "soft_404" and "\x1b" not in check.detail
    text = format_links("https://a.example/", [replace(check, url="https://a/\x1b[2J")], "text")
    assert "\x1b" not in text


def _html(title: str, text: str) -> bytes:
    head = f"<html><head><title>{title}</title></head>"
    return f"{head}<body><h1>{title}</h1>{text}</body></html>".encode()


def test_probe_comparison_title_echo_and_short_story_in_a_heavy_template() -> None:
    chrome = " ".join(f"menu{i} section{i} footer{i}" for i in range(150))  # 450 words of template
    probe = Capture(
        url=f"{C}/zz-token", final_url=f"{C}/zz-token", status=200, content_type="text/html",
        body=_html("Not here: zz-token", chrome),
    )  # fmt: skip
    lost = f"{C}/2017/lost-story"
    echo = replace(probe, url=lost, final_url=lost, body=_html("Not here: lost-story", chrome))
    assert probe_reason(echo.url, echo, probe) is not None  # the title echoes the path: same page
    words = " ".join(f"word{i}" for i in range(40))  # a short story: 40 words in 450 of template
    story = replace(echo, body=_html("Mayor resigns", f"{chrome} {words}"))
    assert probe_reason(story.url, story, probe) is None  # its own title and words: a real page


@pytest.mark.parametrize(
    ("url", "final", "section"),
    [
        ("https://n.example/news/2017/03/mayor-resigns", "https://www.n.example/news/", True),
        ("https://n.example/blog/my-post", "https://n.example/blog", True),
        ("https://n.example/story-slug-123/amp", "https://n.example/story-slug-123", False),
        ("https://n.example/2017/03/30/story", "https://n.example/2017/03/30/", False),
        ("https://n.example/news/2017/03/story", "https://other.example/news", False),
        ("https://n.example/articles/x-57205", "https://n.example/2017/02/14/x-a57205", False),
        ("https://n.example/go/abc123", "https://n.example/some-story", False),
    ],
)
def test_redirected_to_section(url: str, final: str, section: bool) -> None:
    assert redirected_to_section(url, final) is section
    capture = Capture(url=url, final_url=final, status=200, redirects=(final,), body=b"<title>x")
    assert (classify(Link(url=url, text="t"), capture).status == "soft_404") is section

"""Verdicts the contract fixes: login walls and bot challenges are blocked (suspects), meta
refresh redirects are followed, ``page#section`` has its section looked for, ``#`` hrefs are
placeholders."""

from __future__ import annotations

import pytest

from archiver.extract.extractor import extract
from archiver.fetch.fetcher import Fetcher
from archiver.links.check import check_links, classify
from archiver.links.pages import bot_challenge, fragment_of, meta_refresh
from archiver.models import Capture, Link
from tests.conftest import FAST_POLICY
from tests.linkrot_web import Answer, LinkWeb, article, moved

S = "https://site.test"
CF = """<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>
<div id="challenge-body"><script src="/cdn-cgi/challenge-platform/h/g/orchestrate/jsch/v1">
</script></div></body></html>"""
ATTENTION = "<html><head><title>Attention Required! | Cloudflare</title></head><body></body></html>"
CAPTCHA = '<html><head><title>Security check</title></head><body><div class="g-recaptcha"></div>'
REFRESH = '<html><head><meta http-equiv="Refresh" content="0; URL=\'{to}\'"></head></html>'
RELOAD = '<html><head><title>Live</title><meta http-equiv="refresh" content="300"></head></html>'
SECTIONS = """<html><head><title>Report</title></head><body><h2 id="findings">Findings</h2>
<a name="old-anchor"></a><p>Text</p></body></html>"""

PAGES = {
    f"{S}/cf": Answer(status=503, body=CF, headers=(("Server", "cloudflare"),)),
    f"{S}/attention": Answer(status=403, body=ATTENTION),
    f"{S}/captcha": Answer(status=200, body=CAPTCHA),
    f"{S}/down": Answer(status=503, body="<html><title>Service Unavailable</title></html>"),
    f"{S}/story": moved(f"{S}/subscribe?return=/story", 302),
    f"{S}/subscribe?return=/story": article("Subscribe", "Subscribe to read."),
    f"{S}/old": Answer(body=REFRESH.format(to=f"{S}/new")),
    f"{S}/new": article("The New Page", "Here it is."),
    f"{S}/to-gone": Answer(body=REFRESH.format(to="/missing")),
    f"{S}/loop-a": Answer(body=REFRESH.format(to=f"{S}/loop-b")),
    f"{S}/loop-b": Answer(body=REFRESH.format(to=f"{S}/loop-a")),
    f"{S}/live": Answer(body=RELOAD),
    f"{S}/report": Answer(body=SECTIONS),
}


@pytest.fixture(scope="module")
def checked() -> dict[str, object]:
    links = [
        Link(url=url, text="t") for url in PAGES if "subscribe" not in url and "loop-b" not in url
    ]
    links += [
        Link(url=f"{S}/report#findings", text="a"),
        Link(url=f"{S}/report#old-anchor", text="b"),
        Link(url=f"{S}/report#no-such-section", text="c"),
        Link(url=f"{S}/report#top", text="d"),
    ]
    with (
        LinkWeb(PAGES, address="127.0.0.10") as web,
        Fetcher(FAST_POLICY, routes=web.routes) as fetcher,
    ):
        checks = check_links(links, fetcher, probe=False)
        requests = web.requests
    out: dict[str, object] = {c.url: c for c in checks}
    out["requests"] = requests
    return out


@pytest.mark.parametrize(
    ("path", "status", "broken"),
    [
        ("/cf", "blocked", False),  # Cloudflare's "Just a moment..." with a 503
        ("/attention", "blocked", False),
        ("/captcha", "blocked", False),  # a 200 captcha page is not the page
        ("/down", "server_error", False),  # a plain 503 stays what it was
        ("/story", "blocked", False),  # a deep link sent to a subscription page
        ("/old", "redirected", False),  # a meta refresh followed to a live page
        ("/to-gone", "not_found", True),  # ... or to a missing one
        ("/loop-a", "redirect_loop", True),
        ("/live", "ok", False),  # a page that reloads itself is not a redirect
    ],
)
def test_verdicts(checked: dict[str, object], path: str, status: str, broken: bool) -> None:
    check = checked[S + path]
    assert (check.status, check.broken) == (status, broken), check.detail  # type: ignore[attr-defined]


def test_meta_refresh_chain_is_recorded(checked: dict[str, object]) -> None:
    check = checked[f"{S}/old"]
    assert check.final_url == f"{S}/new" and check.redirects == (f"{S}/new",)  # type: ignore[attr-defined]
    assert "meta refresh" in check.detail  # type: ignore[attr-defined]


def test_sections_are_looked_for_and_the_page_fetched_once(checked: dict[str, object]) -> None:
    found, named, missing, top = (
        checked[f"{S}/report#{f}"] for f in ("findings", "old-anchor", "no-such-section", "top")
    )
    for check in (found, named, top):
        assert check.status == "ok" and "fragment_missing" not in check.detail  # type: ignore[attr-defined]
    assert missing.status == "ok" and not missing.broken  # type: ignore[attr-defined]
    assert "fragment_missing" in missing.detail and "no-such-section" in missing.detail  # type: ignore[attr-defined]
    requests = checked["requests"]
    assert sum(1 for _, _, path in requests if path == "/report") == 1  # type: ignore[attr-defined]


def test_placeholders_on_a_live_page() -> None:
    links = [
        Link(url="#", text="reported"),
        Link(url="", text="said"),
        Link(url=f"{S}/new", text="x"),
    ]
    with (
        LinkWeb(PAGES, address="127.0.0.10") as web,
        Fetcher(FAST_POLICY, routes=web.routes) as fetcher,
    ):
        checks = check_links(links, fetcher, probe=False)
    assert [(c.status, c.broken) for c in checks] == [
        ("placeholder", True),
        ("placeholder", True),
        ("ok", False),
    ]


def test_placeholders_survive_generic_extraction() -> None:
    html = """<html><head><title>A story</title></head><body><article><h1>A story</h1>
    <p>As <a href="#">reported</a> and <a href="https://x.test/a">here</a>. More words in this
    paragraph so that the extractor keeps it as the body of the story.</p></article>
    </body></html>"""
    document = extract(html.encode(), url="https://news.test/2017/03/story")
    assert [link.url for link in document.links if link.text == "reported"] == ["#"]


def test_pure_helpers() -> None:
    cf = Capture(
        url="u",
        final_url="u",
        status=403,
        body=CF.encode(),
        headers=(("cf-mitigated", "challenge"),),
    )
    assert bot_challenge(cf) and "Cloudflare" in (bot_challenge(cf) or "")
    real = Capture(
        url="u", final_url="u", status=200, body=b"<title>Comments</title><div class=g-recaptcha>"
    )
    assert bot_challenge(real) is None  # a real page with a captcha in its comment form
    page = Capture(
        url=f"{S}/a",
        final_url=f"{S}/a",
        status=200,
        content_type="text/html",
        body=REFRESH.format(to="b").encode(),
    )
    assert meta_refresh(page) == f"{S}/b"
    script = Capture(
        url="u", final_url=f"{S}/a", status=200, body=REFRESH.format(to="javascript:x").encode()
    )
    assert meta_refresh(script) is None
    assert [fragment_of(u) for u in ("a#x", "a#", "a#top", "a#!/r", "a", "a#%C3%A9")] == [
        "x",
        None,
        None,
        None,
        None,
        "é",
    ]
    login = Capture(
        url=f"{S}/login", final_url=f"{S}/login/", status=200, redirects=(f"{S}/login/",)
    )
    assert classify(Link(url=f"{S}/login", text=""), login).status == "redirected"  # not deep

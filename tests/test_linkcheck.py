"""Link verdicts: pure classification of captures, then the loopback test web end to end."""

from __future__ import annotations

import pytest

from archiver.linkcheck import (
    check_links,
    classify,
    network_unavailable,
    precheck,
    summarize,
)
from archiver.models import Capture, Link

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
            "soft_404",
            True,
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

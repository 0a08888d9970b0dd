"""Link checking: from a link and what fetching it returned, a verdict in the contract's words.

The classification is pure (:func:`precheck`, :func:`classify`); :func:`check_links` is the one
function here that drives a fetcher. Never cry wolf: failures that may pass (timeouts, 5xx,
resets, 401/403/429) are *suspects*, never ``broken``; and when nothing answered at all in a run,
no link gets a verdict: every one is ``network_unavailable``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import Protocol
from urllib.parse import urlsplit

from archiver.models import Capture, Link, LinkCheck

# Status words of the contract, and whether each means the link is broken.
BROKEN = {
    "not_found": True,
    "gone": True,
    "soft_404": True,
    "redirect_loop": True,
    "dns_error": True,
    "invalid": True,
    "placeholder": True,
    "ok": False,
    "redirected": False,
    "server_error": False,
    "timeout": False,
    "connection_error": False,
    "tls_error": False,
    "blocked": False,
    "rate_limited": False,
    "robots_disallowed": False,
    "network_unavailable": False,
    "skipped": False,
}
SUSPECT = frozenset(
    {"server_error", "timeout", "connection_error", "tls_error", "blocked", "rate_limited"}
)
# Failures that say nothing about the target when no other host answered either.
_OFFLINE_ERRORS = frozenset({"dns_error", "connection_error", "timeout"})
_SKIPPED_SCHEMES = frozenset({"mailto", "tel", "javascript", "data", "ftp", "sms", "file", "news"})
_NOT_FOUND_TEXT = re.compile(
    r"\b(?:page\s+not\s+found|not\s+found|404|can(?:'|no)t\s+(?:be\s+)?f(?:ou|i)nd\s+"
    r"(?:that|this|the)\s+page|page\s+(?:does\s+not|doesn't)\s+exist|no\s+longer\s+available|"
    r"page\s+you\s+(?:are|were)\s+looking\s+for)\b",
    re.IGNORECASE,
)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_H1 = re.compile(rb"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
_LOGIN_PATH = re.compile(r"/(?:log-?in|sign-?in|signin|auth|account/login|sso)\b", re.IGNORECASE)


class Fetches(Protocol):
    """What link checking needs of a fetcher (archiver.fetch.Fetcher has it)."""

    def fetch_many(self, urls: Iterable[str], *, method: str = "GET") -> list[Capture]: ...


def make_check(link: Link, status: str, **fields: object) -> LinkCheck:
    """A LinkCheck for ``link`` with ``broken`` set from the status, as the contract says."""
    return LinkCheck(url=link.url, text=link.text, status=status, broken=BROKEN[status], **fields)  # type: ignore[arg-type]


def precheck(link: Link) -> LinkCheck | None:
    """The verdict that needs no network (placeholder, invalid, skipped), or None to fetch."""
    url = link.url.strip()
    if url in ("", "#") or url.startswith("#"):
        return make_check(link, "placeholder", detail="empty or '#' href where a link was")
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme in _SKIPPED_SCHEMES:
        return make_check(link, "skipped", detail=f"{scheme}: link, not checked")
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        return make_check(link, "invalid", detail="not a well-formed URL")
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or not port_ok:
        return make_check(link, "invalid", detail="not a well-formed http(s) URL")
    if any(ch.isspace() for ch in url):
        return make_check(link, "invalid", detail="URL contains white space")
    return None


def _page_text(body: bytes) -> str:
    """Title and first heading of a page, enough to tell an error page."""
    head = body[:65536]
    found = [m.group(1) for m in (_TITLE.search(head), _H1.search(head)) if m]
    text = " ".join(fragment.decode("utf-8", "replace") for fragment in found)
    return html.unescape(_TAGS.sub(" ", text))


def _is_home(url: str) -> bool:
    """Is this URL a site's home page (``/``, ``/index.html`` or a language root like ``/en/``)?"""
    path = urlsplit(url).path.strip("/")
    return path in ("", "index.html", "index.php", "home") or bool(
        re.fullmatch(r"[a-z]{2}(?:[-_][a-z]{2})?", path, re.IGNORECASE)
    )


def soft_404_reason(url: str, capture: Capture) -> str | None:
    """Why a 2xx answer is really an error page, or None when it looks like the real page."""
    if capture.redirects and not _is_home(url) and _is_home(capture.final_url):
        return f"deep link redirected to the site's home page {capture.final_url}"
    if capture.redirects and _LOGIN_PATH.search(urlsplit(capture.final_url).path):
        return f"redirected to a login page {capture.final_url}"
    text = _page_text(capture.body)
    match = _NOT_FOUND_TEXT.search(text)
    if match:
        return f"page says {match.group(0)!r}: {text.strip()[:80]}"
    return None


def classify(link: Link, capture: Capture) -> LinkCheck:
    """The verdict on ``link`` from the capture of fetching it (pure)."""
    common = {
        "http_status": capture.status,
        "final_url": capture.final_url if capture.redirects else None,
        "redirects": capture.redirects,
    }
    if capture.error is not None:
        status = capture.error
        if status == "too_many_redirects":
            status = "redirect_loop"
        if status not in BROKEN:
            status = "connection_error"
        return make_check(link, status, detail=capture.detail or status, **common)
    code = capture.status or 0
    if 200 <= code < 300:
        reason = soft_404_reason(link.url, capture)
        if reason:
            return make_check(link, "soft_404", detail=reason, **common)
        if capture.redirects:
            hops = len(capture.redirects)
            return make_check(
                link, "redirected", detail=f"{hops} redirect(s) to a live page", **common
            )
        return make_check(link, "ok", detail=f"HTTP {code}", **common)
    if code == 404:
        return make_check(link, "not_found", detail="HTTP 404", **common)
    if code == 410:
        return make_check(link, "gone", detail="HTTP 410", **common)
    if code in (401, 403, 451):
        return make_check(link, "blocked", detail=f"HTTP {code}", **common)
    if code == 429:
        return make_check(link, "rate_limited", detail="HTTP 429 after retries", **common)
    if code >= 500:
        return make_check(link, "server_error", detail=f"HTTP {code} after retries", **common)
    if 300 <= code < 400:
        return make_check(link, "redirect_loop", detail=f"HTTP {code} without a usable Location")
    return make_check(link, "not_found", detail=f"HTTP {code}", **common)


def network_unavailable(captures: Sequence[Capture]) -> bool:
    """True when nothing answered at all: no HTTP answer, only DNS/connect/timeout failures."""
    if not captures:
        return False
    return all(c.error in _OFFLINE_ERRORS for c in captures)


def check_links(links: Sequence[Link], fetcher: Fetches) -> list[LinkCheck]:
    """Check every link (order kept): prechecks first, one fetch per distinct URL."""
    results: list[LinkCheck | None] = [precheck(link) for link in links]
    to_fetch = sorted({link.url.strip() for link, r in zip(links, results, strict=True) if not r})
    captures = dict(zip(to_fetch, fetcher.fetch_many(to_fetch), strict=True)) if to_fetch else {}
    offline = network_unavailable(list(captures.values()))
    checked: list[LinkCheck] = []
    for link, result in zip(links, results, strict=True):
        if result is None:
            capture = captures[link.url.strip()]
            if offline:
                result = make_check(
                    link, "network_unavailable", detail=f"nothing answered ({capture.error})"
                )
            else:
                result = classify(link, capture)
        checked.append(result)
    return checked


def summarize(checks: Iterable[LinkCheck]) -> dict[str, int]:
    """Count of each status, for the contract's ``summary``."""
    counts: dict[str, int] = {}
    for check in checks:
        counts[check.status] = counts.get(check.status, 0) + 1
    return dict(sorted(counts.items()))

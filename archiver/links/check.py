"""Link checking: from a link and what fetching it returned, a verdict in the contract's words.

The classification is pure (:func:`precheck`, :func:`classify`, :func:`probe_reason`);
:func:`check_links` (with :func:`fetch_for_check` and :class:`ProbeCache`) is the one part here
that drives a fetcher. Never cry wolf: failures that may pass (timeouts, 5xx, resets,
401/403/429) are *suspects*, never ``broken`` on one check (``archiver.links.rot`` decides from the
history when they are); and when nothing answered at all in a run, no link gets a verdict: every
one is ``network_unavailable``.

Soft 404s are found three ways: a 2xx page whose title is an error message, a deep link
redirected to the home or its section page, and a page that is what its host answers for a random
path that cannot exist (one probe per host per run). A deep link redirected to a login or
subscription page, and a bot challenge page, are ``blocked`` (suspects), as the contract says.
``<meta http-equiv="refresh">`` redirects are followed (:data:`MAX_REFRESH_HOPS`), and a link to
``page#section`` has the section looked for (``fragment_missing`` in the detail, not broken).
File links get a HEAD; pages a GET, since only the body tells a soft 404.
"""

from __future__ import annotations

import difflib
import html
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Protocol, cast
from urllib.parse import urlsplit, urlunsplit

from archiver.fetch.urls import check_url
from archiver.links.pages import (
    bot_challenge,
    fragment_of,
    fragment_state,
    login_wall,
    meta_refresh,
)
from archiver.models import NO_ANSWER, Capture, Link, LinkCheck, Traffic

log = logging.getLogger(__name__)

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
    "moved": False,
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
OFFLINE_ERRORS = NO_ANSWER
_SKIPPED_SCHEMES = frozenset({"mailto", "tel", "javascript", "data", "ftp", "sms", "file", "news"})
_NOT_FOUND_TEXT = re.compile(
    r"\b(?:page\s+not\s+found|not\s+found|404(?:\s+error)?|error\s+404|can(?:'|no)t\s+"
    r"(?:be\s+)?f(?:ou|i)nd\s+(?:that|this|the)\s+page|page\s+can(?:'|no)t\s+be\s+found|"
    r"page\s+(?:does\s+not|doesn't)\s+exist|no\s+longer\s+available|"
    r"page\s+you\s+(?:are|were)\s+looking\s+for(?:\s+(?:does\s+not|doesn't)\s+exist)?)\b",
    re.IGNORECASE,
)
#: Title parts are split on these ("Page Not Found | Newsweek", "404 - News").
_TITLE_SEPARATORS = re.compile(r"\s+[|\-\u2013\u2014:\u00b7\u2022]\s+|\s*\|\s*")
#: An error phrase must be most of a title part, so "Treasure not found after 50 years" or
#: "Story 404" stay real pages while "Page Not Found" and "Oops! That page can't be found" don't.
_ERROR_SHARE = 0.5
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_H1 = re.compile(rb"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
#: How many ``<meta http-equiv="refresh">`` hops a link may take (after HTTP redirects).
MAX_REFRESH_HOPS = 3


class Fetches(Protocol):
    """What link checking needs of a fetcher (archiver.fetch.fetcher.Fetcher has it)."""

    def fetch_many(self, urls: Iterable[str], *, method: str = "GET") -> list[Capture]: ...


class FetchesEach(Fetches, Protocol):
    """A fetcher that also tells of each answer as it arrives (``Fetcher.fetch_many(each=)``)."""

    def fetch_many(
        self,
        urls: Iterable[str],
        *,
        method: str = "GET",
        each: Callable[[int, Capture], None] | None = None,
    ) -> list[Capture]: ...


#: Told of each page's answer as it arrives: ``(url, capture)``.
Each = Callable[[str, Capture], None]


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
    problem = check_url(url)
    return make_check(link, "invalid", detail=problem) if problem else None


def _headings(body: bytes) -> list[str]:
    """Title and first heading of a page, enough to tell an error page."""
    head = body[:65536]
    found = [m.group(1) for m in (_TITLE.search(head), _H1.search(head)) if m]
    texts = (html.unescape(_TAGS.sub(" ", f.decode("utf-8", "replace"))) for f in found)
    return [" ".join(text.split()) for text in texts]


def _page_text(body: bytes) -> str:
    """Title and first heading of a page as one string."""
    return " ".join(_headings(body))


def error_heading(body: bytes) -> str | None:
    """The error phrase a page's title or heading is made of ("Page Not Found"), or None."""
    for heading in _headings(body):
        for part in _TITLE_SEPARATORS.split(heading):
            letters = len(re.sub(r"\W", "", part))
            matches = list(_NOT_FOUND_TEXT.finditer(part))
            covered = sum(len(re.sub(r"\W", "", m.group(0))) for m in matches)
            if matches and letters and covered / letters >= _ERROR_SHARE:
                return matches[0].group(0)
    return None


def _is_home(url: str) -> bool:
    """Is this URL a site's home page (``/``, ``/index.html`` or a language root like ``/en/``)?"""
    path = urlsplit(url).path.strip("/")
    return path in ("", "index.html", "index.php", "home") or bool(
        re.fullmatch(r"[a-z]{2}(?:[-_][a-z]{2})?", path, re.IGNORECASE)
    )


_SLUG = re.compile(r"[\d_-]")


def _site_and_segments(url: str) -> tuple[str, list[str]]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    return host, [segment for segment in parts.path.split("/") if segment]


def redirected_to_section(url: str, final_url: str) -> bool:
    """Did a deep link land on one of its own ancestors, a section page (``/news/``)?

    News sites send deleted stories up to their section. Only an ancestor on the same site
    counts, only when what was cut off names the story (a slug or an id) and the landing page
    does not (no digits): ``/story-slug/amp`` to ``/story-slug`` or ``/2017/03/30/x`` to the
    day's archive are not flagged.
    """
    site, path = _site_and_segments(url)
    final_site, final_path = _site_and_segments(final_url)
    if site != final_site or not 0 < len(final_path) < len(path):
        return False
    if path[: len(final_path)] != final_path:
        return False
    cut = path[len(final_path) :]
    names_story = any(_SLUG.search(segment) or len(segment) >= 12 for segment in cut)
    return names_story and not any(ch.isdigit() for ch in final_path[-1])


def soft_404_reason(url: str, capture: Capture) -> str | None:
    """Why a 2xx answer is really an error page, or None when it looks like the real page."""
    if capture.redirects and not _is_home(url) and _is_home(capture.final_url):
        return f"deep link redirected to the site's home page {capture.final_url}"
    if capture.redirects and redirected_to_section(url, capture.final_url):
        return f"deep link redirected up to its section page {capture.final_url}"
    phrase = error_heading(capture.body)
    if phrase:
        shown = "".join(ch for ch in _page_text(capture.body) if ch.isprintable())
        return f"page says {phrase!r}: {shown.strip()[:80]}"
    return None


def _noted(detail: str, capture: Capture) -> str:
    """The verdict's detail with what the fetcher noted on the way (e.g. a HEAD that lied)."""
    return f"{detail}; {capture.detail}" if capture.detail else detail


def classify(link: Link, capture: Capture, probe: Capture | None = None) -> LinkCheck:
    """The verdict on ``link`` from the capture of fetching it (pure).

    ``probe`` is what the link's host answered for a random path that cannot exist (see
    :func:`probe_url`); when it answered 2xx, a page that looks like that answer is a soft 404.
    """
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
    wall = login_wall(link.url, capture) if 200 <= code < 400 else None
    challenge = bot_challenge(capture)
    if wall or challenge:
        return make_check(link, "blocked", detail=wall or challenge or "", **common)
    if 200 <= code < 300:
        reason = soft_404_reason(link.url, capture)
        if reason is None and probe is not None:
            reason = probe_reason(link.url, capture, probe)
        if reason:
            return make_check(link, "soft_404", detail=reason, **common)
        missing = _fragment_note(link.url, capture)
        if capture.redirects:
            hops = len(capture.redirects)
            detail = _noted(f"{hops} redirect(s) to a live page", capture) + missing
            return make_check(link, "redirected", detail=detail, **common)
        return make_check(link, "ok", detail=_noted(f"HTTP {code}", capture) + missing, **common)
    if code == 404:
        return make_check(link, "not_found", detail=_noted("HTTP 404", capture), **common)
    if code == 410:
        return make_check(link, "gone", detail=_noted("HTTP 410", capture), **common)
    if code in (401, 403, 451):
        return make_check(link, "blocked", detail=f"HTTP {code}", **common)
    if code == 429:
        return make_check(link, "rate_limited", detail="HTTP 429 after retries", **common)
    if code >= 500:
        return make_check(link, "server_error", detail=f"HTTP {code} after retries", **common)
    if 300 <= code < 400:
        return make_check(link, "redirect_loop", detail=f"HTTP {code} without a usable Location")
    return make_check(link, "not_found", detail=f"HTTP {code}", **common)


def _fragment_note(url: str, capture: Capture) -> str:
    """``; fragment_missing: #x`` when the section a link points at is not in the page."""
    fragment = fragment_of(url)
    if fragment is None or fragment_state(capture, fragment) is not False:
        return ""
    shown = "".join(ch for ch in fragment if ch.isprintable())[:80]
    return f"; fragment_missing: no element with id {shown!r} in the page"


def network_unavailable(captures: Sequence[Capture]) -> bool:
    """True when nothing answered at all (:attr:`archiver.models.Traffic.nothing_answered`)."""
    return Traffic.of(captures).nothing_answered


def summarize(checks: Iterable[LinkCheck]) -> dict[str, int]:
    """Count of each status, for the contract's ``summary``."""
    counts: dict[str, int] = {}
    for check in checks:
        counts[check.status] = counts.get(check.status, 0) + 1
    return dict(sorted(counts.items()))


# --- soft 404s on hosts that answer 2xx to any path ------------------------------------------

_SCRIPTS = re.compile(rb"<(script|style|noscript)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BYTE_TAGS = re.compile(rb"<[^>]*>")
_WORDS = re.compile(r"\w+", re.UNICODE)
#: Above this share of equal words a page *is* the host's answer to a path that cannot exist,
#: whatever its title (a short story in a heavy template can share 90 % with the error page).
SAME_PAGE = 0.98
#: With the same title, this much of the same text is enough.
SAME_TITLE_PAGE = 0.7
_MAX_WORDS = 3000


def probe_url(url: str, token: str) -> str:
    """A URL on the same host as ``url`` that no real site serves (a random token as path)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{token}", "", ""))


def _host_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _visible_words(body: bytes, drop: set[str]) -> list[str]:
    """The words a reader sees, without the words of the requested path (error pages echo it)."""
    text = _BYTE_TAGS.sub(b" ", _SCRIPTS.sub(b" ", body[:500_000]))
    words = _WORDS.findall(html.unescape(text.decode("utf-8", "replace")).casefold())
    return [word for word in words if word not in drop][:_MAX_WORDS]


def _path_words(url: str) -> set[str]:
    return set(_WORDS.findall(urlsplit(url).path.casefold()))


def page_similarity(a: Capture, b: Capture) -> float:
    """How much of two pages' visible text is the same (0..1), ignoring their own URL words."""
    words_a = _visible_words(a.body, _path_words(a.url) | _path_words(a.final_url))
    words_b = _visible_words(b.body, _path_words(b.url) | _path_words(b.final_url))
    if not words_a and not words_b:
        return 1.0 if a.sha256 == b.sha256 else 0.0
    matcher = difflib.SequenceMatcher(None, words_a, words_b, autojunk=False)
    for bound in (matcher.real_quick_ratio, matcher.quick_ratio):
        ceiling = bound()
        if ceiling < SAME_TITLE_PAGE:  # an upper bound: enough to say "not the same page"
            return ceiling
    return matcher.ratio()


def probe_reason(url: str, capture: Capture, probe: Capture) -> str | None:
    """Why a 2xx page is what its host answers for any path, or None when it is a real page.

    Only a probe that itself answered 2xx says anything: such a host cannot say "not found" with
    a status, so the link's page is compared with the probe's. The same final URL after
    redirects, or the same title with much the same text, or nearly the same text, is a soft 404;
    a real page on such a host has its own title and text, and stays ``ok``.
    """
    if not probe.ok or probe.error is not None:
        return None
    if (capture.content_type or "") != (probe.content_type or ""):
        return None
    if capture.redirects and probe.redirects and capture.final_url == probe.final_url:
        return f"redirected to {capture.final_url}, where this host sends any unknown path"
    if capture.method == "HEAD" or probe.method == "HEAD":
        return None
    similarity = page_similarity(capture, probe)
    same_title = _title_words(capture) == _title_words(probe)
    if similarity >= SAME_PAGE or (same_title and similarity >= SAME_TITLE_PAGE):
        return (
            f"same page as this host's answer to a path that cannot exist "
            f"({similarity:.0%} of the text alike{', same title' if same_title else ''})"
        )
    return None


def _title_words(capture: Capture) -> list[str]:
    """Title and heading words, without the words of the page's own URL (error pages echo it)."""
    drop = _path_words(capture.url) | _path_words(capture.final_url)
    return [w for w in _WORDS.findall(_page_text(capture.body).casefold()) if w not in drop]


class ProbeCache:
    """One probe per host for a run: what the host answers for a random path that cannot exist.

    Shared across the pages checked in one run, so a host is probed once however many links
    point at it. ``token`` makes the random path (tests pass a fixed one).
    """

    def __init__(self, token: Callable[[], str] | None = None) -> None:
        self._token = token or (lambda: secrets.token_hex(16))
        self._probes: dict[str, Capture | None] = {}

    def get(self, url: str) -> Capture | None:
        """The probe of ``url``'s host, if one was made."""
        return self._probes.get(_host_key(url))

    def __contains__(self, url: str) -> bool:
        return _host_key(url) in self._probes

    def probe(self, urls: Iterable[str], fetcher: Fetches) -> None:
        """Probe every host of ``urls`` not probed yet (one request per host, concurrently)."""
        hosts: dict[str, str] = {}
        for url in urls:
            key = _host_key(url)
            if key not in self._probes and key not in hosts:
                hosts[key] = probe_url(url, self._token())
        if not hosts:
            return
        for key, capture in zip(hosts, fetcher.fetch_many(list(hosts.values())), strict=True):
            self._probes[key] = capture
            log.info("probe of %s: %s", key, capture.error or capture.status)


# --- HEAD where it is enough, GET where the body or the truth is needed -----------------------

_FILE_SUFFIXES = (
    ".pdf", ".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".tar", ".jpg", ".jpeg", ".png",
    ".gif", ".webp", ".svg", ".tif", ".tiff", ".mp3", ".mp4", ".m4a", ".ogg", ".wav", ".webm",
    ".mov", ".avi", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt", ".ods", ".csv",
    ".epub", ".iso", ".dmg", ".exe",
)  # fmt: skip
_HTML_MEDIA = frozenset({"text/html", "application/xhtml+xml"})
#: HEAD failures that a GET would only repeat.
_FINAL_ERRORS = frozenset({"dns_error", "tls_error", "robots_disallowed", "invalid"})


def wants_head(url: str) -> bool:
    """HEAD is enough for a file (a PDF, an image): its body cannot say "page not found".

    Pages get a GET straight away, because only the body tells a soft 404 from a page, and a
    HEAD first would double the requests a site sees.
    """
    try:
        return urlsplit(url).path.lower().endswith(_FILE_SUFFIXES)
    except ValueError:
        return False


def head_is_enough(capture: Capture) -> bool:
    """Whether a HEAD answer can be trusted as the verdict, or a GET must confirm it.

    Trusted: a 2xx with a file's media type, and failures a GET would only repeat. Everything
    else is asked again with GET: servers refuse HEAD (405, 501), answer it with 403/404/5xx while
    GET works, or send an HTML page (maybe an error page) where the link names a file.
    """
    if capture.error is not None:
        return capture.error in _FINAL_ERRORS
    media = (capture.content_type or "").lower()
    return capture.ok and bool(media) and media not in _HTML_MEDIA


def fetch_for_check(
    urls: Sequence[str], fetcher: Fetches, *, each: Each | None = None
) -> dict[str, Capture]:
    """Fetch each URL the cheapest way that still gives a true answer (see :func:`wants_head`).

    ``each(url, capture)`` hears of every page's GET answer as it arrives, while the others are
    being fetched (``fetcher`` must then be a :class:`FetchesEach`); HEAD answers are not told.
    """
    heads = [url for url in urls if wants_head(url)]
    gets = [url for url in urls if not wants_head(url)]
    captures: dict[str, Capture] = {}
    if gets and each is not None:
        told = each

        def arrived(index: int, capture: Capture) -> None:
            told(gets[index], capture)

        eager = cast(FetchesEach, fetcher)
        captures.update(zip(gets, eager.fetch_many(gets, each=arrived), strict=True))
    elif gets:
        captures.update(zip(gets, fetcher.fetch_many(gets), strict=True))
    if heads:
        answers = dict(zip(heads, fetcher.fetch_many(heads, method="HEAD"), strict=True))
        again = [url for url, capture in answers.items() if not head_is_enough(capture)]
        for url, capture in zip(again, fetcher.fetch_many(again) if again else [], strict=True):
            head = answers[url]
            said = head.error or f"HTTP {head.status} {head.content_type or ''}".strip()
            note = f"HEAD answered {said}; asked again with GET"
            answers[url] = replace(capture, detail="; ".join(filter(None, [note, capture.detail])))
        captures.update(answers)
    return captures


def _probe_may_matter(verdict: LinkCheck, capture: Capture) -> bool:
    """Only a 2xx page that passed every other test needs its host probed."""
    return capture.ok and verdict.status in ("ok", "redirected")


def same_page(a: str, b: str) -> bool:
    """Whether two URLs name the same page (scheme, ``www.``, a trailing ``/``, the fragment
    aside), as web archives and moved-page candidates compare them."""
    return _page_name(a) == _page_name(b)


def _page_name(url: str) -> str:
    try:
        parts = urlsplit(url.split("#", 1)[0])
        host = (parts.hostname or "").lower().removeprefix("www.")
    except ValueError:
        return url
    path = parts.path.rstrip("/") or "/"
    return f"{host}{path}?{parts.query}" if parts.query else f"{host}{path}"


def page_key(url: str) -> str:
    """The URL a link's page is fetched by: without its ``#fragment`` (one fetch per page)."""
    return url.strip().split("#", 1)[0]


def follow_refreshes(captures: dict[str, Capture], fetcher: Fetches) -> dict[str, Capture]:
    """Each capture with its ``<meta http-equiv="refresh">`` redirects followed (bounded).

    The result stands for the original URL: ``final_url`` is where the refreshes ended, and
    ``redirects`` lists every hop, HTTP redirects and refreshes alike. A refresh back to a URL
    already in the chain is a ``redirect_loop``; more than :data:`MAX_REFRESH_HOPS` too.
    """
    out = dict(captures)
    pending = {url: target for url, c in out.items() if (target := meta_refresh(c))}
    for _ in range(MAX_REFRESH_HOPS):
        if not pending:
            return out
        targets = sorted(set(pending.values()))
        fetched = dict(zip(targets, fetcher.fetch_many(targets), strict=True))
        again: dict[str, str] = {}
        for url, target in pending.items():
            before = out[url]
            chain = (*before.redirects, target)
            if target in (url, *before.redirects):
                detail = f"meta refresh loop: {target} again"
                out[url] = replace(before, error="redirect_loop", detail=detail, redirects=chain)
                continue
            after = fetched[target]
            out[url] = replace(
                after,
                url=url,
                final_url=after.final_url,
                redirects=(*chain, *after.redirects),
                detail="; ".join(filter(None, ["followed a meta refresh", after.detail])),
            )
            following = meta_refresh(after)
            if following:
                again[url] = following
        pending = again
    for url in pending:
        detail = f"more than {MAX_REFRESH_HOPS} meta refresh redirects"
        out[url] = replace(out[url], error="redirect_loop", detail=detail)
    return out


def check_links(
    links: Sequence[Link],
    fetcher: Fetches,
    *,
    probes: ProbeCache | None = None,
    probe: bool = True,
    each: Each | None = None,
) -> list[LinkCheck]:
    """Check every link (order kept): prechecks, one fetch per distinct URL, then probes.

    ``probes`` shares one :class:`ProbeCache` across the pages of a run (a fresh one per call
    otherwise); ``probe=False`` skips soft-404 detection on hosts that answer 2xx to any path.
    ``each(url, capture)`` hears of each page's answer as it arrives (see
    :func:`fetch_for_check`), so a caller can keep the sources while the rest are fetched.
    """
    if probes is None and probe:
        probes = ProbeCache()
    results: list[LinkCheck | None] = [precheck(link) for link in links]
    to_fetch = sorted({page_key(link.url) for link, r in zip(links, results, strict=True) if not r})
    captures = fetch_for_check(to_fetch, fetcher, each=each) if to_fetch else {}
    offline = network_unavailable(list(captures.values()))
    if offline:
        return [
            result
            or make_check(
                link,
                "network_unavailable",
                detail=f"nothing answered ({captures[page_key(link.url)].error})",
            )
            for link, result in zip(links, results, strict=True)
        ]
    captures = follow_refreshes(captures, fetcher)
    # Each verdict without a probe, once: only an "ok" or "redirected" 2xx page can turn out
    # to be its host's answer to any path, so only those need the probe, and a second look.
    plain = [
        result or classify(link, captures[page_key(link.url)])
        for link, result in zip(links, results, strict=True)
    ]
    if probes is not None:
        candidates = [
            page_key(link.url)
            for link, result, verdict in zip(links, results, plain, strict=True)
            if result is None and _probe_may_matter(verdict, captures[page_key(link.url)])
        ]
        probes.probe(candidates, fetcher)
    checked: list[LinkCheck] = []
    for link, result, verdict in zip(links, results, plain, strict=True):
        url = page_key(link.url)
        found = probes.get(url) if probes is not None and result is None else None
        if found is not None and _probe_may_matter(verdict, captures[url]):
            verdict = classify(link, captures[url], found)
        checked.append(verdict)
    return checked

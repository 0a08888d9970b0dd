"""Moved pages found: most "dead" links of large sites moved rather than vanished (FABLE, 2023).

For a broken link (404, 410, soft 404) candidates for its new address are gathered, each with its
evidence and a confidence (:class:`~archiver.models.MovedCandidate`):

- ``archive_redirect``: a web archive saw the old URL redirect there (a memento of the old URL
  replays as a redirect to another original);
- ``url_rewrite``: the site's known rewrites of old URL patterns (:data:`REWRITES`: The Moscow
  Times' ``/articles/<slug>-<id>`` became ``/YYYY/MM/DD/<slug>-a<id>`` and
  ``/<...>/<slug>/<id>.html`` became ``/archive/<slug>``, as its ``config/routes.php`` says);
- ``sitemap``: the site's sitemap lists a page with the same slug or id;
- ``title_search``: the sitemap lists a page whose title is the cited page's title;
- ``archived_canonical``: the archived copy's ``<link rel="canonical">`` names another address
  on the same site.

A candidate is only *proposed*; :func:`confirm` fetches it, and the link is ``moved`` only when
the live page's title matches what was cited (the archived copy's title, the page's title as
the archive first stored it, or a long anchor text). Otherwise the link stays broken with its
candidates listed. Everything but :func:`site_maps` and :func:`confirm` is pure.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import quote_plus, unquote, urljoin, urlsplit, urlunsplit

from archiver.fetch.urls import is_web_url
from archiver.links.check import Fetches, classify, same_page
from archiver.links.pages import page_title
from archiver.models import Capture, Link, MovedCandidate

#: A page's title must be at least this alike (word sequence ratio) to what was cited.
TITLE_MATCH = 0.8
#: Candidates fetched per broken link at most, best first.
MAX_CANDIDATES = 4
#: Sitemaps read per site at most (the index and its children), and entries kept from each.
MAX_SITEMAPS = 6
MAX_ENTRIES = 50_000
MAX_SITEMAP_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class Rewrite:
    """A site's rewrite of an old URL pattern to its new one.

    ``pattern`` is matched against the old URL's path (named groups ``slug``, ``id``);
    ``target`` (a path template over the groups) gives the new path directly, and ``listed``
    (a regular expression template over the groups) finds it in the site's sitemap when the
    new URL holds what the old one did not (a date).
    """

    host: str  # the site's host name, ``www.`` aside; subdomains match too
    pattern: str
    note: str
    target: str = ""
    listed: str = ""

    def applies(self, host: str) -> bool:
        host = host.lower().removeprefix("www.")
        return host == self.host or host.endswith("." + self.host)


REWRITES: tuple[Rewrite, ...] = (
    Rewrite(
        host="themoscowtimes.com",
        pattern=r"^/(?:articles|photogalleries|news)/(?P<slug>[^/]+?)-(?P<id>\d+)/?$",
        listed=r"^/\d{{4}}/\d{{2}}/\d{{2}}/{slug}-a{id}/?$",
        note="The Moscow Times moved /articles/<slug>-<id> to /YYYY/MM/DD/<slug>-a<id>",
    ),
    Rewrite(
        host="themoscowtimes.com",
        pattern=r"^/(?:[^/]+/){0,3}(?P<slug>[^/]+)/(?P<id>\d{4,})\.html$",
        target="/archive/{slug}",
        note="The Moscow Times moved its old /<section>/<slug>/<id>.html pages to /archive/<slug>",
    ),
)


@dataclass(frozen=True, kw_only=True)
class SitemapEntry:
    """A page a site lists: in its sitemap or feed, or in its search page's results."""

    url: str
    title: str = ""
    origin: str = "sitemap"  # "sitemap" | "search"


@dataclass(frozen=True, kw_only=True)
class SiteSearch:
    """A site's search page: ``template`` is its path and query, ``{query}`` the words asked."""

    host: str  # the site's host name, ``www.`` aside; subdomains match too
    template: str  # e.g. "/search?q={query}"

    def applies(self, host: str) -> bool:
        host = host.lower().removeprefix("www.")
        return host == self.host or host.endswith("." + self.host)

    def url(self, page: str, title: str) -> str:
        parts = urlsplit(page)
        words = " ".join(_WORD.findall(title))[:200]
        path, _, query = self.template.replace("{query}", quote_plus(words)).partition("?")
        return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


# --- pure: names of a page, titles alike, sitemaps ---------------------------------------------

_ID = re.compile(r"(?:^|[-_/])a?(\d{4,})(?:\.[a-z]{2,5})?$", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SEPARATORS = re.compile(r"\s+[|\-\u2013\u2014:\u00b7\u2022]\s+|\s*\|\s*")


def _last_segment(url: str) -> str:
    try:
        path = urlsplit(url).path
    except ValueError:
        return ""
    segments = [s for s in unquote(path).split("/") if s]
    if segments and re.fullmatch(r"\d+(?:\.html?)?|index\.html?|amp", segments[-1]):
        # /<slug>/<id>.html: the slug is the segment before the id
        return "/".join(segments[-2:]) if len(segments) >= 2 else segments[-1]
    return segments[-1] if segments else ""


def page_id(url: str) -> str | None:
    """The numeric id a URL names its page by (``...-a57583``, ``/57583.html``), if any."""
    found = _ID.search(_last_segment(url))
    return found.group(1) if found else None


def slug_words(url: str) -> tuple[str, ...]:
    """The words of a URL's slug, its id and file extension aside."""
    segment = _last_segment(url).split("/")[0]
    segment = re.sub(r"\.[a-z]{2,5}$", "", segment, flags=re.IGNORECASE)
    words = [w for w in _WORD.findall(segment.casefold()) if not re.fullmatch(r"a?\d{4,}", w)]
    return tuple(words)


def _title_parts(title: str) -> list[list[str]]:
    """A title's words, whole and split at separators ("Story | Site": the story alone too)."""
    title = " ".join(html.unescape(title).split())
    parts = [title, *_SEPARATORS.split(title)]
    out = []
    for part in parts:
        words = _WORD.findall(part.casefold())
        if len(words) >= 2 or (words and len(words[0]) >= 6):
            out.append(words)
    return out


def title_similarity(cited: str, found: str) -> float:
    """How alike two titles are (0..1), the best over their parts (site names aside)."""
    best = 0.0
    for a in _title_parts(cited):
        for b in _title_parts(found):
            best = max(best, difflib.SequenceMatcher(None, a, b, autojunk=False).ratio())
    return best


_URL_BLOCK = re.compile(rb"<(url|sitemap|item|entry)\b[^>]*>(.*?)</\1\s*>", re.DOTALL | re.I)
_LOC = re.compile(
    rb"<(?:loc|link)\b[^>]*>\s*(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?\s*</(?:loc|link)>", re.S
)
_LINK_HREF = re.compile(rb"<link\b[^>]*\bhref=[\"']([^\"']+)[\"']", re.IGNORECASE)
_XML_TITLE = re.compile(
    rb"<(?:news:title|title)\b[^>]*>\s*(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?\s*</(?:news:title|title)>",
    re.DOTALL | re.IGNORECASE,
)


def parse_sitemap(body: bytes, *, limit: int = MAX_ENTRIES) -> tuple[list[SitemapEntry], list[str]]:
    """(pages, child sitemaps) of a sitemap, sitemap index, RSS or Atom feed (regular
    expressions over the bytes: no entity expansion, no DTD, nothing fetched)."""
    pages: list[SitemapEntry] = []
    children: list[str] = []
    for block in _URL_BLOCK.finditer(body[:MAX_SITEMAP_BYTES]):
        inner = block.group(2)
        loc = _LOC.search(inner) or _LINK_HREF.search(inner)
        if not loc:
            continue
        url = html.unescape(loc.group(1).decode("utf-8", "replace")).strip()
        if not is_web_url(url):
            continue
        if block.group(1).lower() == b"sitemap":
            children.append(url)
            continue
        title = _XML_TITLE.search(inner)
        text = html.unescape(title.group(1).decode("utf-8", "replace")) if title else ""
        pages.append(SitemapEntry(url=url, title=" ".join(text.split())))
        if len(pages) >= limit:
            break
    return pages, children


def _on_site(url: str, host: str) -> bool:
    other = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    return other == host.lower().removeprefix("www.")


def rewritten(
    url: str, rewrites: Sequence[Rewrite] = REWRITES
) -> list[tuple[Rewrite, dict[str, str]]]:
    """The rewrites that apply to ``url``, with what their pattern found in its path."""
    parts = urlsplit(url)
    out = []
    for rule in rewrites:
        if not rule.applies(parts.hostname or ""):
            continue
        found = re.match(rule.pattern, parts.path)
        if found:
            out.append((rule, {k: v for k, v in found.groupdict().items() if v is not None}))
    return out


def candidates(
    url: str,
    *,
    entries: Sequence[SitemapEntry] = (),
    redirects: Iterable[str] = (),
    cited_title: str | None = None,
    canonical: str | None = None,
    rewrites: Sequence[Rewrite] = REWRITES,
) -> list[MovedCandidate]:
    """Every proposed new address of ``url``, best first, one per URL (pure)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    found: dict[str, MovedCandidate] = {}

    def add(target: str, evidence: str, confidence: float, detail: str) -> None:
        if not is_web_url(target) or same_page(target, url):
            return
        old = found.get(target)
        if old is None or old.confidence < confidence:
            found[target] = MovedCandidate(
                url=target, evidence=evidence, confidence=confidence, detail=detail
            )

    for target in redirects:
        add(target, "archive_redirect", 0.9, "a web archive saw the old URL redirect here")
    if canonical and _on_site(canonical, host):
        add(canonical, "archived_canonical", 0.7, "the archived copy named this its canonical URL")
    for rule, groups in rewritten(url, rewrites):
        if rule.target:
            path = rule.target.format(**groups)
            add(
                urlunsplit((parts.scheme, parts.netloc, path, "", "")),
                "url_rewrite",
                0.75,
                rule.note,
            )
        if rule.listed:
            escaped = {k: re.escape(v) for k, v in groups.items()}
            listed = re.compile(rule.listed.format(**escaped), re.IGNORECASE)
            for entry in entries:
                if _on_site(entry.url, host) and listed.match(urlsplit(entry.url).path):
                    add(entry.url, "url_rewrite", 0.85, f"{rule.note}; the sitemap lists it")
    old_id, old_slug = page_id(url), slug_words(url)
    cited = cited_title or ""
    for entry in entries:
        if not _on_site(entry.url, host):
            continue
        if entry.origin == "search":
            if cited and entry.title and title_similarity(cited, entry.title) >= TITLE_MATCH:
                add(entry.url, "title_search", 0.75, "the site's search finds the cited title")
            continue
        same_id = old_id is not None and page_id(entry.url) == old_id
        same_slug = len(old_slug) >= 3 and slug_words(entry.url) == old_slug
        if same_id and same_slug:
            add(entry.url, "sitemap", 0.8, f"the sitemap lists a page with slug and id {old_id}")
        elif same_slug:
            add(entry.url, "sitemap", 0.7, "the sitemap lists a page with the same slug")
        elif same_id:
            add(entry.url, "sitemap", 0.5, f"the sitemap lists a page with id {old_id}")
        if cited and entry.title and title_similarity(cited, entry.title) >= TITLE_MATCH:
            add(entry.url, "title_search", 0.75, "the sitemap lists a page with the cited title")
    return sorted(found.values(), key=lambda c: (-c.confidence, c.url))


_ANCHOR = re.compile(rb"<a\b([^>]*)>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_HREF = re.compile(rb"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


def parse_results(body: bytes, base: str, *, limit: int = 200) -> list[SitemapEntry]:
    """The links of a search results page with their anchor texts (as ``search`` entries)."""
    out: list[SitemapEntry] = []
    for anchor in _ANCHOR.finditer(body[:2_000_000]):
        href = _HREF.search(anchor.group(1))
        if not href:
            continue
        raw = (href.group(1) or href.group(2) or href.group(3) or b"").decode("utf-8", "replace")
        try:
            url = urljoin(base, html.unescape(raw).strip())
        except ValueError:
            continue
        text = re.sub(r"<[^>]+>", " ", anchor.group(2).decode("utf-8", "replace"))
        title = " ".join(html.unescape(text).split())
        if is_web_url(url) and title:
            out.append(SitemapEntry(url=url.split("#", 1)[0], title=title, origin="search"))
            if len(out) >= limit:
                break
    return out


def site_searches(
    cited: Mapping[str, str | None], searches: Sequence[SiteSearch], fetcher: Fetches
) -> dict[str, list[SitemapEntry]]:
    """For each broken URL with a cited title, what its site's search page finds for it."""
    asked: dict[str, str] = {}
    for url, title in cited.items():
        host = urlsplit(url).hostname or ""
        search = next((s for s in searches if s.applies(host)), None)
        if title and search is not None:
            asked[url] = search.url(url, title)
    if not asked:
        return {}
    pages = sorted(set(asked.values()))
    captures = dict(zip(pages, fetcher.fetch_many(pages), strict=True))
    found: dict[str, list[SitemapEntry]] = {}
    for url, page in asked.items():
        capture = captures[page]
        found[url] = parse_results(capture.body, capture.final_url) if capture.ok else []
    return found


def sitemap_urls(url: str, paths: Sequence[str] = ("/sitemap.xml",)) -> list[str]:
    """Where ``url``'s site keeps its sitemap (the same scheme and host)."""
    parts = urlsplit(url)
    return [urlunsplit((parts.scheme, parts.netloc, path, "", "")) for path in paths]


def cited_title_of(
    titles: Sequence[str | None], anchor: str, *, min_anchor_words: int = 5
) -> str | None:
    """What was cited: the first known page title, else an anchor text long enough to be one."""
    for title in titles:
        if title and len(_WORD.findall(title)) >= 2:
            return title
    return anchor if len(_WORD.findall(anchor)) >= min_anchor_words else None


def judge_candidate(
    candidate: MovedCandidate, capture: Capture, cited: str | None
) -> MovedCandidate:
    """The candidate with ``matched`` set from its live page (pure): a live page whose title
    (or first heading) matches what was cited."""
    check = classify(Link(url=candidate.url, text=""), capture)
    if check.status not in ("ok", "redirected"):
        return replace(candidate, matched=False, detail=f"{candidate.detail}; it is {check.status}")
    title = page_title(capture.body)
    heading = _h1(capture.body)
    score = max(title_similarity(cited, title), title_similarity(cited, heading)) if cited else 0.0
    shown = "".join(ch for ch in (title or heading) if ch.isprintable())[:80]
    if cited and score >= TITLE_MATCH:
        note = f"live page titled {shown!r} matches the cited title ({score:.0%})"
        if capture.redirects:  # the address it lives at is where its own redirects end
            note += f"; proposed as {candidate.url}"
        return replace(
            candidate, url=capture.final_url, matched=True, detail=f"{candidate.detail}; {note}"
        )
    why = "nothing cited to compare with" if not cited else f"title {shown!r} does not match"
    return replace(candidate, matched=False, detail=f"{candidate.detail}; {why}")


_H1 = re.compile(rb"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)


def _h1(body: bytes) -> str:
    found = _H1.search(body[:200_000])
    if not found:
        return ""
    text = re.sub(r"<[^>]+>", " ", found.group(1).decode("utf-8", "replace"))
    return " ".join(html.unescape(text).split())


# --- I/O: sitemaps and candidates through the fetcher ----------------------------------------


def site_maps(
    urls: Iterable[str], fetcher: Fetches, paths: Sequence[str] = ("/sitemap.xml",)
) -> dict[str, list[SitemapEntry]]:
    """Each site's sitemap entries (by host), index children followed (:data:`MAX_SITEMAPS`)."""
    by_host: dict[str, list[str]] = {}
    for url in urls:
        host = (urlsplit(url).hostname or "").lower()
        by_host.setdefault(host, sitemap_urls(url, paths))
    entries: dict[str, list[SitemapEntry]] = {host: [] for host in by_host}
    pending = {host: list(maps) for host, maps in by_host.items()}
    read = {host: 0 for host in by_host}
    seen: set[str] = set()
    while any(pending.values()):
        batch = [(h, u) for h, us in pending.items() for u in us if u not in seen]
        pending = {h: [] for h in pending}
        batch = [(h, u) for h, u in batch if read[h] < MAX_SITEMAPS]
        if not batch:
            break
        for host, u in batch:
            seen.add(u)
            read[host] += 1
        for (host, _), capture in zip(
            batch, fetcher.fetch_many([u for _, u in batch]), strict=True
        ):
            if not capture.ok:
                continue
            pages, children = parse_sitemap(capture.body)
            entries[host].extend(pages)
            pending[host].extend(c for c in children if _on_site(c, host))
    return entries


def confirm(
    proposals: Mapping[str, Sequence[MovedCandidate]],
    cited: Mapping[str, str | None],
    fetcher: Fetches,
) -> dict[str, list[MovedCandidate]]:
    """Fetch the best candidates of each broken URL (:data:`MAX_CANDIDATES`) and judge them."""
    wanted = sorted({c.url for found in proposals.values() for c in found[:MAX_CANDIDATES]})
    captures = dict(zip(wanted, fetcher.fetch_many(wanted), strict=True)) if wanted else {}
    out: dict[str, list[MovedCandidate]] = {}
    for url, found in proposals.items():
        judged = [
            judge_candidate(c, captures[c.url], cited.get(url)) for c in found[:MAX_CANDIDATES]
        ]
        out[url] = judged + list(found[MAX_CANDIDATES:])
    return out

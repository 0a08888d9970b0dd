"""Every web archive, through Memento (RFC 7089): the capture of a URL nearest a date.

Each archive publishes a TimeMap per URL (``application/link-format``: one ``<uri>; rel=
"memento"; datetime="..."`` entry per capture). For a broken link the TimeMaps of a configurable
list of archives (:data:`DEFAULT_ARCHIVES`) are asked at once, the captures nearest the citing
article's publication date are fetched to see that they replay a page (status 200, not an
archived error page or redirect), and the nearest of those across all archives wins. Every
archive's nearest captures are kept (:class:`~archiver.models.ArchivedCopy`).

A capture that replays as a redirect to *another* original URL is what the archive saw the old
address do: evidence of a moved page (:attr:`Found.redirected_to`).

Bounds: each archive runs on its own thread through the one fetcher (``fetch_many``: its
politeness, robots.txt, ``--connect-to``), and the whole lookup has one deadline
(:attr:`MementoSettings.deadline`): an archive that is slow, down or answers 429 gives "nothing
from this archive" when the deadline passes, and the others' answers stand. A TimeMap is parsed
up to :attr:`MementoSettings.max_timemap_bytes` and :data:`MAX_ENTRIES` entries.

The parsing and choosing (:func:`parse_link_format`, :func:`mementos`, :func:`nearest`) are
pure; :func:`lookup` is the part that drives a fetcher.
"""

from __future__ import annotations

import email.utils
import logging
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import quote

from archiver.errors import InputError
from archiver.fetch.urls import is_web_url
from archiver.links.check import Fetches, error_heading, same_page
from archiver.links.deadline import run_within
from archiver.links.pages import bot_challenge, canonical_href, page_title
from archiver.models import ArchivedCopy, Capture

log = logging.getLogger(__name__)

#: Entries read from one TimeMap at most (a popular page has hundreds of thousands).
MAX_ENTRIES = 50_000


@dataclass(frozen=True, kw_only=True)
class WebArchive:
    """One Memento archive: its name and URL patterns (``{url}``: the URL looked up).

    ``timemap`` lists every capture of a URL; ``timegate`` (``{datetime}`` is a 14-digit
    timestamp) answers with the capture nearest a date. The lookup uses the TimeMap; the
    TimeGate is kept for Robust Links and for readers.
    """

    name: str
    timemap: str
    timegate: str = ""
    enabled: bool = True

    def timemap_url(self, url: str) -> str:
        return self.timemap.replace("{url}", _quoted(url))


#: The archives asked by default (each pattern as its archive documents it, 2024).
DEFAULT_ARCHIVES: tuple[WebArchive, ...] = (
    WebArchive(
        name="ia",
        timemap="https://web.archive.org/web/timemap/link/{url}",
        timegate="https://web.archive.org/web/{datetime}/{url}",
    ),
    WebArchive(
        name="archive.today",
        timemap="https://archive.ph/timemap/{url}",
        timegate="https://archive.ph/timegate/{url}",
    ),
    WebArchive(
        name="arquivo.pt",
        timemap="https://arquivo.pt/wayback/timemap/link/{url}",
        timegate="https://arquivo.pt/wayback/{datetime}/{url}",
    ),
    WebArchive(
        name="loc",
        timemap="https://webarchive.loc.gov/all/timemap/link/{url}",
        timegate="https://webarchive.loc.gov/all/{datetime}/{url}",
    ),
    WebArchive(
        name="ukwa",
        timemap="https://www.webarchive.org.uk/wayback/archive/timemap/link/{url}",
        timegate="https://www.webarchive.org.uk/wayback/archive/{datetime}/{url}",
    ),
    WebArchive(
        name="perma.cc",
        timemap="https://perma-archives.org/warc/timemap/*/{url}",
        timegate="https://perma-archives.org/warc/timegate/{url}",
    ),
)


def wayback_at(base_url: str, name: str = "ia") -> WebArchive:
    """A Wayback-style (pywb, OpenWayback) archive at ``base_url``, as ``--wayback-url`` names."""
    if not is_web_url(base_url):
        raise InputError(f"an archive URL must be an http(s) URL, not {base_url[:200]!r}")
    base = base_url.rstrip("/")
    return WebArchive(
        name=name,
        timemap=f"{base}/web/timemap/link/{{url}}",
        timegate=f"{base}/web/{{datetime}}/{{url}}",
    )


def parse_archive(spec: str) -> WebArchive:
    """``NAME=TIMEMAP-PATTERN`` (``{url}`` in the pattern; a bare base URL: Wayback style), as a
    config or an option names an archive; InputError if malformed."""
    name, sep, pattern = spec.partition("=")
    name, pattern = name.strip(), pattern.strip()
    if not sep or not name or not pattern or not re.fullmatch(r"[A-Za-z0-9._-]{1,40}", name):
        raise InputError(f"an archive is NAME=TIMEMAP-URL, not {spec[:200]!r}")
    if "{url}" not in pattern:
        return wayback_at(pattern, name=name)
    if not is_web_url(pattern.replace("{url}", "x")):
        raise InputError(f"the TimeMap pattern of {name} must be an http(s) URL")
    return WebArchive(name=name, timemap=pattern)


@dataclass(frozen=True, kw_only=True)
class MementoSettings:
    """Which archives to ask and how much time and traffic a lookup may take."""

    archives: tuple[WebArchive, ...] = DEFAULT_ARCHIVES
    deadline: float = 20.0  # seconds for the whole lookup, every archive together
    verify: int = 3  # nearest captures per archive fetched to see they replay a page
    keep: int = 3  # captures kept per archive and link
    max_timemap_bytes: int = 4 * 1024 * 1024
    max_age: float = 7 * 86400.0  # seconds a cached answer is trusted


@dataclass(frozen=True, kw_only=True)
class Memento:
    """One entry of a TimeMap: where the capture replays, and when it was made (UTC)."""

    url: str
    moment: datetime


@dataclass(frozen=True, kw_only=True)
class Found:
    """What the archives know of one URL: their nearest captures, the best, what it said."""

    copies: tuple[ArchivedCopy, ...] = ()
    best: ArchivedCopy | None = None
    title: str | None = None  # the best capture's title: what the link showed when cited
    canonical: str | None = None  # the original URL the best capture named as canonical
    redirected_to: tuple[tuple[str, ArchivedCopy], ...] = ()  # (new original, capture)
    failed: tuple[str, ...] = ()  # archives that gave no answer (down, 429, deadline)


# --- pure: link-format, datetimes, nearest -----------------------------------------------------

_ENTRY = re.compile(r'<([^<>\s]*)>((?:\s*;\s*[^;,<>"]*(?:"[^"]*"[^;,<>"]*)*)*)')
_PARAM = re.compile(r';\s*([A-Za-z0-9_.*-]+)\s*(?:=\s*(?:"([^"]*)"|([^;,\s"]*)))?')
_STAMP = re.compile(r"/(\d{14})(?:[a-z]{2}_)?/(https?:/{1,2}.*)$", re.IGNORECASE)


def _quoted(url: str) -> str:
    """A URL as it goes into a pattern: its fragment dropped, unsafe characters escaped."""
    return quote(url.split("#", 1)[0], safe=":/?&=%+@,;~!$'()*[]")


def parse_link_format(text: str, *, limit: int = MAX_ENTRIES) -> list[tuple[str, dict[str, str]]]:
    """The entries of a link-format document (RFC 6690) as (URI, parameters), in order.

    Robust to what archives really send: line breaks anywhere, parameters quoted or not, commas
    inside quoted dates, junk between entries (skipped), a document cut short (the last entry
    dropped if incomplete). Parameter names are lower-cased.
    """
    out: list[tuple[str, dict[str, str]]] = []
    for match in _ENTRY.finditer(text):
        params: dict[str, str] = {}
        for param in _PARAM.finditer(match.group(2)):
            value = param.group(2) if param.group(2) is not None else (param.group(3) or "")
            params.setdefault(param.group(1).lower(), value.strip())
        out.append((match.group(1), params))
        if len(out) >= limit:
            break
    return out


def parse_http_date(value: str) -> datetime | None:
    """An RFC 1123 date (``Thu, 30 Mar 2017 10:00:00 GMT``) as an aware UTC datetime, or None."""
    try:
        moment = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_iso(value: str | None) -> datetime | None:
    """An ISO 8601 date or time (``2017-03-30``, ``2017-03-30T10:15:00+03:00``) in UTC."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text[:10])
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def stamp14(moment: datetime) -> str:
    """The 14-digit timestamp web archives put in their URLs."""
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def mementos(text: str, *, limit: int = MAX_ENTRIES) -> list[Memento]:
    """The captures a TimeMap lists (entries whose ``rel`` has ``memento``, with a datetime)."""
    found = []
    for uri, params in parse_link_format(text, limit=limit):
        rels = params.get("rel", "").lower().split()
        if "memento" not in rels or not is_web_url(uri):
            continue
        moment = parse_http_date(params.get("datetime", ""))
        if moment is not None:
            found.append(Memento(url=uri, moment=moment))
    return found


def nearest(entries: Iterable[Memento], when: datetime | None, count: int) -> list[Memento]:
    """The ``count`` captures nearest ``when`` (the newest first when there is no date)."""
    unique = {entry.url: entry for entry in entries}.values()
    if when is None:
        return sorted(unique, key=lambda e: e.moment, reverse=True)[:count]
    return sorted(unique, key=lambda e: (abs((e.moment - when).total_seconds()), e.moment))[:count]


def original_of(capture: Capture) -> str | None:
    """The original URL a memento replays: its ``Link: <...>; rel="original"``, else its URL."""
    link = capture.header("Link")
    if link:
        for uri, params in parse_link_format(link, limit=50):
            if "original" in params.get("rel", "").lower().split() and is_web_url(uri):
                return uri
    found = _STAMP.search(capture.final_url)
    if found:
        original = re.sub(r"^(https?):/+", r"\1://", found.group(2))
        return original if is_web_url(original) else None
    return None


def canonical_of(capture: Capture) -> str | None:
    """The original URL a memento's ``<link rel="canonical">`` names (archives rewrite it to
    their own replay URL: the original is taken back out), or None."""
    href = canonical_href(capture.body)
    if not href:
        return None
    found = _STAMP.search(href)
    if found:
        href = re.sub(r"^(https?):/+", r"\1://", found.group(2))
    elif href.startswith("/"):
        return None  # relative to the archive, not the site: nothing to learn
    return href if is_web_url(href) else None


def replays_page(capture: Capture) -> bool:
    """A memento that shows a page: 2xx, not an archived error page, not a bot challenge."""
    return capture.ok and error_heading(capture.body) is None and bot_challenge(capture) is None


# --- the lookup: one thread per archive, one deadline -----------------------------------------


@dataclass(kw_only=True)
class _ArchiveAnswer:
    copies: dict[str, list[ArchivedCopy]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    canonicals: dict[str, str] = field(default_factory=dict)
    redirects: dict[str, list[tuple[str, ArchivedCopy]]] = field(default_factory=dict)
    failed: str | None = None


def _ask_archive(
    archive: WebArchive,
    urls: Sequence[str],
    when: datetime | None,
    fetcher: Fetches,
    settings: MementoSettings,
) -> _ArchiveAnswer:
    """One archive's answer for every URL: TimeMaps, then the nearest captures replayed."""
    answer = _ArchiveAnswer()
    wanted = [archive.timemap_url(url) for url in urls]
    # One first: an archive that is down or asks us to slow down is not asked the rest. It is
    # fetched on this (daemon) thread when the fetcher can: a pool's workers are joined when the
    # program exits, so an archive that never answers would hold the exit past the deadline.
    one = getattr(fetcher, "fetch", None)
    maps = [one(wanted[0])] if callable(one) else fetcher.fetch_many(wanted[:1])
    if maps and (maps[0].ok or maps[0].status in (404, 410)):
        maps += fetcher.fetch_many(wanted[1:]) if wanted[1:] else []
    else:
        urls = urls[:1]
    candidates: dict[str, list[Memento]] = {}
    for url, capture in zip(urls, maps, strict=True):
        if capture.status in (404, 410):
            answer.copies[url] = []  # the archive has no capture of it
            continue
        if not capture.ok:  # down, 429, 5xx, refused: no answer, asked again next time
            answer.failed = capture.error or f"HTTP {capture.status}"
            log.info("archive %s: %s for %s", archive.name, answer.failed, url)
            continue
        text = capture.body[: settings.max_timemap_bytes].decode("utf-8", "replace")
        candidates[url] = nearest(mementos(text), when, max(settings.verify, settings.keep))
    checks = [(url, m) for url, found in candidates.items() for m in found[: settings.verify]]
    replays = fetcher.fetch_many([m.url for _, m in checks]) if checks else []
    replayed = {(url, m.url): c for (url, m), c in zip(checks, replays, strict=True)}
    for url, found in candidates.items():
        kept: list[ArchivedCopy] = []
        for entry in found:
            replay = replayed.get((url, entry.url))
            copy = ArchivedCopy(
                archive=archive.name, url=entry.url, datetime=iso(entry.moment), original=url
            )
            if replay is not None:
                moved = original_of(replay)
                if replay.redirects and moved and not same_page(moved, url):
                    answer.redirects.setdefault(url, []).append(
                        (moved, replace(copy, status=replay.status))
                    )
                    continue
                if replays_page(replay):
                    copy = replace(copy, status=replay.status, replays=True)
                    if url not in answer.titles:
                        answer.titles[url] = page_title(replay.body)
                        canonical = canonical_of(replay)
                        if canonical:
                            answer.canonicals[url] = canonical
                else:
                    copy = replace(copy, status=replay.status or 0)
            kept.append(copy)
        answer.copies[url] = kept[: settings.keep]
    return answer


def lookup(
    urls: Sequence[str],
    published: str | None,
    *,
    fetcher: Fetches,
    settings: MementoSettings | None = None,
    cached: Mapping[tuple[str, str], Found] | None = None,
) -> tuple[dict[str, Found], dict[tuple[str, str], Found]]:
    """What every enabled archive knows of each URL, within the settings' deadline.

    ``cached`` holds fresh answers by (archive name, URL): those are not asked again. Returns
    (the merged answer per URL, each archive's new answer by (archive, URL) to cache; an
    archive that failed or missed the deadline has none, so it is asked again next time).
    """
    settings = settings or MementoSettings()
    cached = cached or {}
    when = parse_iso(published)
    keys = [u.split("#", 1)[0] for u in urls]
    archives = [a for a in settings.archives if a.enabled]
    per_archive: dict[str, _ArchiveAnswer] = {}
    fresh: dict[tuple[str, str], Found] = {}
    todo = {a.name: [u for u in dict.fromkeys(keys) if (a.name, u) not in cached] for a in archives}
    started = time.monotonic()
    if any(todo.values()):
        tasks = {
            a.name: (lambda a=a: _ask_archive(a, todo[a.name], when, fetcher, settings))
            for a in archives
            if todo[a.name]
        }
        done, why = run_within(tasks, settings.deadline, name="archiver-memento")
        per_archive.update(done)
        for name, reason in why.items():
            if reason == "late":
                log.warning("archive %s: no answer within %g s", name, settings.deadline)
                reason = f"no answer within {settings.deadline:g} s"
            per_archive[name] = _ArchiveAnswer(failed=reason)
        log.info(
            "memento lookup of %d URL(s) in %d archive(s): %.2f s",
            len(set(keys)),
            len(tasks),
            time.monotonic() - started,
        )
    for name, answer in per_archive.items():
        for url in todo[name]:
            if url in answer.copies or url in answer.redirects:
                copies = answer.copies.get(url, [])
                best = choose_best(copies, when)
                fresh[(name, url)] = Found(
                    copies=tuple(copies),
                    best=best,
                    title=answer.titles.get(url) if best is not None else None,
                    canonical=answer.canonicals.get(url) if best is not None else None,
                    redirected_to=tuple(answer.redirects.get(url, [])),
                )
    merged: dict[str, Found] = {}
    for original, key in zip(urls, keys, strict=True):
        parts = [cached.get((a.name, key)) or fresh.get((a.name, key)) for a in archives]
        failed = tuple(
            a.name
            for a in archives
            if (a.name, key) not in cached
            and (a.name, key) not in fresh
            and per_archive.get(a.name, _ArchiveAnswer()).failed
        )
        merged[original] = combine([p for p in parts if p is not None], when, failed)
    return merged, fresh


def choose_best(copies: Iterable[ArchivedCopy], when: datetime | None) -> ArchivedCopy | None:
    """The capture nearest ``when`` among those that replayed a page (status 200)."""
    good = [c for c in copies if c.replays]
    if not good:
        return None

    def distance(copy: ArchivedCopy) -> tuple[float, str]:
        moment = parse_iso(copy.datetime)
        if moment is None:
            return (float("inf"), copy.datetime)
        if when is None:
            return (-moment.timestamp(), copy.datetime)
        return (abs((moment - when).total_seconds()), copy.datetime)

    return min(good, key=distance)


def combine(parts: Sequence[Found], when: datetime | None, failed: tuple[str, ...] = ()) -> Found:
    """Every archive's answer for one URL as one: all copies, the best overall, its title."""
    copies = tuple(c for part in parts for c in part.copies)
    best = choose_best(copies, when)
    chosen = next((p for p in parts if best is not None and p.best == best), None)
    return Found(
        copies=copies,
        best=best,
        title=chosen.title if chosen else None,
        canonical=chosen.canonical if chosen else None,
        redirected_to=tuple(r for part in parts for r in part.redirected_to),
        failed=failed,
    )

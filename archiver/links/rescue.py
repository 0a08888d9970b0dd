"""The one entry point for broken links: archived copies from every archive, moved pages found.

:func:`rescue` is what a job calls after its links were checked (and judged against their
history): for each broken link it fills ``archived_copies`` (every archive's nearest captures,
:mod:`archiver.links.memento`, answers cached in the archive, :mod:`archiver.links.mementos_db`),
``archived_url`` (the capture nearest the citing article's publication date that replays a page,
unless one was already known) and, for a 404, 410 or soft 404 whose new address is found and
matches what was cited (:mod:`archiver.links.moved`), turns it into ``moved`` (not broken) with
``moved_to``; candidates that did not match are listed on the still broken link.

It never raises for the network's or an archive's trouble, and never makes a link *more* broken.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from archiver.fetch.urls import is_web_url
from archiver.links import mementos_db
from archiver.links.check import Fetches, page_key
from archiver.links.deadline import run_within
from archiver.links.memento import (
    DEFAULT_ARCHIVES,
    Found,
    MementoSettings,
    WebArchive,
    lookup,
    replays_page,
    wayback_at,
)
from archiver.links.moved import (
    REWRITES,
    Rewrite,
    SiteSearch,
    candidates,
    cited_title_of,
    confirm,
    site_maps,
    site_searches,
)
from archiver.models import LinkCheck, MovedCandidate

log = logging.getLogger(__name__)

#: Statuses whose page may have moved (a dead host or a bad URL did not move anywhere).
MOVABLE = frozenset({"not_found", "gone", "soft_404"})
T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class RescueSettings:
    """What :func:`rescue` does: which archives, whether to look for moved pages, and where."""

    memento: MementoSettings = field(default_factory=MementoSettings)
    moved_deadline: float = 30.0  # seconds for the search for moved pages (sitemaps, candidates)
    archives: bool = True  # ask the web archives (Memento) for captures
    find_moved: bool = True  # look for the new address of 404/410/soft-404 pages
    rewrites: tuple[Rewrite, ...] = REWRITES
    sitemap_paths: tuple[str, ...] = ("/sitemap.xml",)
    searches: tuple[SiteSearch, ...] = ()  # sites whose search page is asked the cited title


def settings_for(
    *,
    no_lookup: bool = False,
    wayback_url: str | None = None,
    archives: Sequence[WebArchive] | None = None,
    replay: bool = False,
    deadline: float | None = None,
) -> RescueSettings:
    """Settings from a command's options, with the rules ``archiver links`` keeps today.

    ``no_lookup`` (``--no-archive-lookup``, or ``$ARCHIVER_NO_ARCHIVE_LOOKUP``) asks no archive;
    a ``replay`` (``--connect-to``: tests, the offline demo) asks none either unless an archive
    is named, since the real ones are off the machine; ``wayback_url`` replaces the Internet
    Archive by a Wayback-style stand-in; ``archives`` replaces the whole list.
    """
    chosen: tuple[WebArchive, ...] = tuple(archives) if archives is not None else DEFAULT_ARCHIVES
    if wayback_url:
        stand_in = wayback_at(wayback_url)
        chosen = (stand_in, *(a for a in chosen if a.name != "ia"))
        if replay and archives is None:
            chosen = (stand_in,)
    off = no_lookup or bool(os.environ.get("ARCHIVER_NO_ARCHIVE_LOOKUP"))
    if replay and not wayback_url and archives is None:
        off = True
    memento = MementoSettings(archives=chosen)
    if deadline is not None:
        memento = replace(memento, deadline=deadline)
    return RescueSettings(memento=memento, archives=not off)


def _own_title(archive: Any, url: str) -> str | None:
    """The title of the archive's own capture of ``url`` from when it replayed a page."""
    if archive is None or not hasattr(archive, "latest_capture"):
        return None
    try:
        stored = archive.latest_capture(url)
    except Exception as exc:  # noqa: BLE001 - no title is no evidence, never a failure
        log.info("no stored capture of %s: %s", url, exc)
        return None
    if stored is None or not replays_page(stored.capture) or stored.document is None:
        return None
    title = stored.document.title
    return title if isinstance(title, str) else None


def rescue(
    checks: Sequence[LinkCheck],
    *,
    fetcher: Fetches,
    archive: Any = None,
    published: str | None = None,
    settings: RescueSettings | None = None,
) -> list[LinkCheck]:
    """The checks (order kept) with archived copies and moved pages for the broken ones.

    ``archive`` (an :class:`archiver.archive.store.Archive`, or None) caches the archives'
    answers and gives the title of its own capture of a link; ``published`` (ISO 8601) is the
    citing article's publication date, the moment the captures are chosen near.
    """
    settings = settings or RescueSettings()
    targets = list(dict.fromkeys(page_key(c.url) for c in checks if c.broken and is_web_url(c.url)))
    if not targets:
        return list(checks)
    found: dict[str, Found] = {}
    if settings.archives and any(a.enabled for a in settings.memento.archives):
        keys = [(a.name, url) for url in targets for a in settings.memento.archives if a.enabled]
        cached = (
            mementos_db.load(archive, keys, published=published, max_age=settings.memento.max_age)
            if archive is not None and hasattr(archive, "conn")
            else {}
        )
        found, fresh = lookup(
            targets, published, fetcher=fetcher, settings=settings.memento, cached=cached
        )
        if archive is not None and hasattr(archive, "conn"):
            mementos_db.save(archive, fresh, published=published)
    judged: dict[str, list[MovedCandidate]] = {}
    if settings.find_moved:
        status = {page_key(c.url): c.status for c in checks if c.broken}
        anchors = {page_key(c.url): c.text for c in reversed(checks)}
        movable = [url for url in targets if status.get(url) in MOVABLE]
        if movable:
            judged = _within(
                settings.moved_deadline,
                lambda: _moved(movable, found, anchors, archive, fetcher, settings),
                {},
                "the search for moved pages",
            )
    return [_rescued(check, found, judged) for check in checks]


def _within(seconds: float, work: Callable[[], T], default: T, what: str) -> T:
    """``work()``'s result, or ``default`` when it takes longer than ``seconds`` or fails."""
    done, why = run_within({what: work}, seconds, name="archiver-rescue")
    if what in done:
        return done[what]
    late = why[what] == "late"
    log.warning("%s: %s", what, f"took more than {seconds:g} s: left out" if late else why[what])
    return default


def _moved(
    urls: Sequence[str],
    found: dict[str, Found],
    anchors: dict[str, str],
    archive: Any,
    fetcher: Fetches,
    settings: RescueSettings,
) -> dict[str, list[MovedCandidate]]:
    """Candidates for each URL's new address, judged against what was cited."""
    entries = site_maps(urls, fetcher, settings.sitemap_paths)
    cited: dict[str, str | None] = {}
    proposals: dict[str, list[MovedCandidate]] = {}
    for url in urls:
        answer = found.get(url, Found())
        cited[url] = cited_title_of([answer.title, _own_title(archive, url)], anchors.get(url, ""))
    searched = site_searches(cited, settings.searches, fetcher) if settings.searches else {}
    for url in urls:
        answer = found.get(url, Found())
        host = url.split("/")[2].split(":")[0].lower() if url.count("/") >= 2 else ""
        proposals[url] = candidates(
            url,
            entries=[*entries.get(host, []), *searched.get(url, [])],
            redirects=[target for target, _ in answer.redirected_to],
            cited_title=cited[url],
            canonical=answer.canonical,
            rewrites=settings.rewrites,
        )
    return confirm({u: p for u, p in proposals.items() if p}, cited, fetcher)


def _rescued(
    check: LinkCheck, found: dict[str, Found], judged: dict[str, list[MovedCandidate]]
) -> LinkCheck:
    if not check.broken or not is_web_url(check.url):
        return check
    key = page_key(check.url)
    answer = found.get(key)
    if answer is not None:
        check = replace(
            check,
            # copies found before (the archive's own capture) stay first
            archived_copies=(*check.archived_copies, *answer.copies),
            archived_url=check.archived_url or (answer.best.url if answer.best else None),
        )
        if answer.failed:
            check = replace(
                check, detail=f"{check.detail}; no answer from {', '.join(answer.failed)}"
            )
    proposed = judged.get(key, [])
    match = next((c for c in proposed if c.matched), None)
    if match is not None:
        note = f"moved ({match.evidence}): {match.detail}"
        return replace(
            check,
            status="moved",
            broken=False,
            moved_to=match.url,
            moved_candidates=tuple(proposed),
            detail=f"{check.detail}; {note}",
        )
    if proposed:
        check = replace(check, moved_candidates=tuple(proposed))
    return check

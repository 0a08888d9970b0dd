"""Where a job gets the pages it judges: a strategy passed in, so the jobs are composed once.

``verify`` fetches every page now (:class:`LivePages`), ``verify --offline`` reads the newest
stored capture (:class:`StoredPages`), and a scheduled run sends conditional GETs and reuses what
an interrupted run already stored (:class:`archiver.runs.pages.RunPages`). Each gives a
:class:`Page` per URL; the jobs never know which one they were given.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from archiver.capture.snapshot import keep_many
from archiver.extract.profiles import warm_up
from archiver.fetch.captures import is_html
from archiver.fetch.robots import sites_linked
from archiver.models import Capture, Document

#: A page read (extracted) within this many seconds gets no read-ahead of robots.txt: nearly
#: every article. Longer, and the robots.txt of the hosts it links to is asked meanwhile.
ROBOTS_AHEAD_AFTER = 0.05

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future

    from archiver.archive.store import Archive
    from archiver.fetch.fetcher import Fetcher


@dataclass(frozen=True, kw_only=True)
class Page:
    """A page as a job sees it: its capture (None: nothing stored, offline) and its document.

    ``document`` of a 304 answer is the page as last stored; ``fresh`` counts the captures
    stored to get it (0 when it was read from the archive or reused from an interrupted run).
    """

    capture_id: int | None = None
    capture: Capture | None = None
    document: Document | None = None
    fresh: int = 0

    @property
    def not_modified(self) -> bool:
        return self.capture is not None and self.capture.not_modified


class Pages(Protocol):
    """A page-fetch strategy: the page behind each URL (each URL once)."""

    def get(self, urls: Sequence[str]) -> dict[str, Page]: ...


class LivePages:
    """Every page fetched now, in one polite concurrent batch, and stored.

    ``executor``: where the pages are extracted (:func:`~archiver.capture.snapshot.keep_many`);
    None extracts them here. Fetching and storing stay in this process either way.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        archive: Archive,
        *,
        run_id: int | None = None,
        executor: Executor | None = None,
        robots_ahead: bool = False,
    ) -> None:
        self.fetcher = fetcher
        self.archive = archive
        self.run_id = run_id
        self.executor = executor
        self.robots_ahead = robots_ahead

    def get(
        self, urls: Sequence[str], *, ahead: Future[list[Capture]] | None = None
    ) -> dict[str, Page]:
        """The pages of ``urls``, fetched now; ``ahead``: their fetch, started already
        (``Fetcher.fetch_ahead(urls)``, the same URLs in the same order)."""
        wanted = list(dict.fromkeys(urls))
        pages: dict[str, Page] = {}
        if self.executor is None:  # extracted here: the extractor imported while we wait
            warm_up()
        captures = ahead.result() if ahead is not None else None
        if captures is None or [c.url for c in captures] != wanted:
            captures = self.fetcher.fetch_many(wanted)
        robots = self._robots_ahead(captures) if self.robots_ahead else None
        kept = keep_many(self.archive, captures, executor=self.executor, run_id=self.run_id)
        try:
            for url, (capture, capture_id, document) in zip(wanted, kept, strict=True):
                pages[url] = Page(
                    capture_id=capture_id, capture=capture, document=document, fresh=1
                )
        finally:
            if robots is not None:
                robots.cancel()
        return pages

    def _robots_ahead(self, captures: Sequence[Capture]) -> threading.Timer:
        """For pages whose links are checked next (``robots_ahead``): should reading them
        take longer than :data:`ROBOTS_AHEAD_AFTER`, the robots.txt of the sites they link to
        is asked meanwhile, so those hosts' first links need not wait for it after."""

        def read() -> None:
            for capture in captures:
                if capture.ok and is_html(capture):
                    self.fetcher.read_robots_ahead(sites_linked(capture.body))

        timer = threading.Timer(ROBOTS_AHEAD_AFTER, read)
        timer.daemon = True
        timer.start()
        return timer


class StoredPages:
    """The newest stored capture of each URL (``--offline``): no network at all."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive

    def get(self, urls: Sequence[str]) -> dict[str, Page]:
        pages: dict[str, Page] = {}
        for url, state in self.archive.captures.newest_states(urls).items():
            pages[url] = (
                Page(capture_id=state[0], capture=state[1], document=state[2]) if state else Page()
            )
        return pages


class GivenPages:
    """Pages already in hand (a stored capture named by id): nothing fetched."""

    def __init__(self, pages: dict[str, Page]) -> None:
        self.pages = pages

    def get(self, urls: Sequence[str]) -> dict[str, Page]:
        return {url: self.pages.get(url, Page()) for url in urls}

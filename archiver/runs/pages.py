"""The page strategy of a scheduled run: conditional GETs, and what this cycle already stored.

A run asks each page with the validators it stored last time (``If-None-Match`` /
``If-Modified-Since``), so an unchanged page costs a 304; a page that an interrupted run of the
same cycle already stored is read back instead of fetched again, which is what makes a resumed
run neither lose nor duplicate work. Pages of a batch are fetched concurrently (the fetcher
keeps every host's limits); each is stored as soon as it arrives, one transaction each.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from archiver.capture.pages import Page
from archiver.models import Capture, Document
from archiver.parallel.executor import InlineExecutor
from archiver.parallel.stages import extract_captures, spread

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from archiver.archive.store import Archive
    from archiver.fetch.fetcher import Fetcher

log = logging.getLogger(__name__)


class RunPages:
    """Pages for one run: reused from this cycle when stored, else a conditional GET, stored."""

    def __init__(
        self,
        fetcher: Fetcher,
        archive: Archive,
        *,
        run_id: int,
        cycle: dict[str, int],
        executor: Executor | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.archive = archive
        self.run_id = run_id
        self.cycle = cycle  # url -> capture id stored this cycle (by this run or a resumed one)
        # Where pages are extracted (the run's executor: a pool, a cluster); None: here.
        self.executor = executor
        # Pages fetched ahead (:class:`archiver.runs.pipeline.Prefetcher`): taken, not fetched.
        self.ahead: dict[str, Capture] = {}
        # Documents extracted ahead from a capture's bytes (the pipeline's), or None.
        self.ready: Callable[[Capture], Document | None] | None = None

    def get(self, urls: Sequence[str]) -> dict[str, Page]:
        wanted = list(dict.fromkeys(urls))
        pages: dict[str, Page] = {}
        asked: list[str] = []
        for url in wanted:
            reused = self._reused(url)
            if reused is not None:
                pages[url] = reused
            else:
                asked.append(url)
        if not asked:
            return pages
        ready = {url: self.ahead.pop(url) for url in asked if url in self.ahead}
        fetch = [url for url in asked if url not in ready]
        validators = {url: self.archive.validators(url) for url in fetch}
        workers = max(1, min(self.fetcher.policy.max_connections, len(fetch)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="archiver-page") as pool:
            futures = {
                url: pool.submit(
                    self.fetcher.fetch,
                    url,
                    etag=validators[url][0],
                    last_modified=validators[url][1],
                )
                for url in fetch
            }
            arriving = (ready[url] if url in ready else futures[url].result() for url in asked)
            # Extracted in the executor's workers; stored in this thread, in order, as they come.
            extracted = extract_captures(
                self.executor or InlineExecutor(),
                arriving,
                chunk=spread(len(asked)),
                known=self.ready,
            )
            for url, (capture, document) in zip(asked, extracted, strict=True):
                pages[url] = self._store(url, capture, document)
        return pages

    def body(self, url: str) -> Capture:
        """A feed or sitemap: conditional GET, stored; a 304 gives the stored bytes to parse."""
        page = self.get([url])[url]
        assert page.capture is not None
        if not page.not_modified:
            return page.capture
        stored = self.archive.latest_capture(url, with_document=False)
        return stored.capture if stored is not None else page.capture

    def _reused(self, url: str) -> Page | None:
        stored_id = self.cycle.get(url)
        if stored_id is None:
            return None
        stored = self.archive.get_capture(stored_id)
        if stored is None:
            return None
        document = stored.document
        if stored.capture.not_modified:
            document = self._last_document(url)
        return Page(capture_id=stored.id, capture=stored.capture, document=document)

    def _store(self, url: str, capture: Capture, document: Document | None) -> Page:
        if capture.not_modified:
            capture_id = self.archive.save_capture(capture, None, run_id=self.run_id)
            document = self._last_document(url)
        else:
            capture_id = self.archive.save_capture(capture, document, run_id=self.run_id)
        self.cycle[url] = capture_id
        return Page(capture_id=capture_id, capture=capture, document=document, fresh=1)

    def _last_document(self, url: str) -> Document | None:
        stored = self.archive.latest_capture(url)
        return stored.document if stored is not None else None

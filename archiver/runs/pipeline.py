"""A run's pipeline: the next groups fetched while this one is extracted, compared and stored.

A run visits its due items a group at a time (:func:`archiver.runs.run._groups`). Visiting a
group is fetching (network: the politeness limits bound it) and then extracting, comparing
and storing (CPU and the disk: the one writer). Done one after the other, the fetcher waits
for the CPU and the CPU for the fetcher, and a cold run took eight times what the politeness
limits allow. So :class:`Prefetcher` fetches the pages and the due sources of the next
groups in a background thread while this process compares and stores the current one; with
an executor (a pool, a cluster) the fetching thread also sends what it fetched to be
extracted at once, so the workers extract the next groups while this process stores. The
archive is only read ahead (validators, a source's bytes already extracted), and written
only by the visiting thread, in order, so a run killed at any instant leaves what it always
left.

The fetcher's gate keeps every host's limits across all the threads that use it, so fetching
two groups at once is as polite as fetching one. :data:`DEPTH` groups at most are fetched
ahead: memory holds their captures, whatever the number of items.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archiver.fetch.captures import is_html
from archiver.models import Capture, Document
from archiver.parallel.executor import default_workers, open_executor
from archiver.parallel.stages import spread
from archiver.parallel.tasks import extract_batch
from archiver.runs.config import POOL_FROM, Cluster

if TYPE_CHECKING:
    from archiver.fetch.fetcher import Fetcher

log = logging.getLogger(__name__)

#: Groups fetched ahead of the one being visited.
DEPTH = 3


def workers_for(cluster: Cluster, *, due: int) -> int:
    """How many worker processes a run uses: ``[cluster] workers`` when set (0: one per CPU),
    else one per CPU when ``due`` items are enough to pay for starting a pool, else 1 (none)."""
    workers = cluster.workers
    if workers is None:
        workers = 0 if due >= POOL_FROM else 1
    return default_workers() if workers == 0 else workers


@contextmanager
def run_executor(cluster: Cluster, *, due: int) -> Iterator[Executor | None]:
    """Where the run extracts and compares: None (here), a process pool or a Dask cluster."""
    if cluster.scheduler:
        with open_executor(scheduler=cluster.scheduler) as executor:
            yield executor
        return
    workers = workers_for(cluster, due=due)
    if workers <= 1:
        yield None
        return
    with open_executor(workers=workers) as executor:
        yield executor


class Extracted:
    """Documents extracted ahead, by (final URL, SHA-256 of the body): the chunks' futures."""

    def __init__(self) -> None:
        self._where: dict[tuple[str, str], tuple[Future[list[Any]], int]] = {}
        self._known: dict[tuple[str, str], Document] = {}

    def know(self, capture: Capture, document: Document) -> None:
        """A document the archive already had for these bytes: given back, not extracted."""
        self._known[(capture.final_url, capture.sha256)] = document

    def send(self, executor: Executor, captures: Sequence[Capture]) -> None:
        """Send the HTML pages among ``captures`` to be extracted, spread over the workers."""
        todo = [c for c in captures if c.ok and c.body and is_html(c)]
        todo = list({(c.final_url, c.sha256): c for c in todo}.values())
        size = spread(len(todo))
        for start in range(0, len(todo), size):
            chunk = todo[start : start + size]
            future = executor.submit(
                extract_batch, [(c.body, c.final_url, c.content_type) for c in chunk]
            )
            for index, capture in enumerate(chunk):
                self._where[(capture.final_url, capture.sha256)] = (future, index)

    def get(self, capture: Capture) -> Document | None:
        """The document extracted ahead from this capture's bytes; None when none was (then
        the caller extracts it, and meets the same error a worker met, if any)."""
        key = (capture.final_url, capture.sha256)
        if key in self._known:
            return self._known[key]
        where = self._where.get(key)
        if where is None:
            return None
        future, index = where
        try:
            outcome = future.result()[index]
        except Exception as exc:  # a worker lost: extracted again by the caller
            log.debug("extraction ahead failed (%s: %s)", type(exc).__name__, exc)
            return None
        return outcome if isinstance(outcome, Document) else None


@dataclass(frozen=True, kw_only=True)
class Ahead:
    """What was fetched ahead for one group: page captures (conditional GETs), sources, and
    the documents being extracted from them."""

    pages: dict[str, Capture] = field(default_factory=dict)
    sources: dict[str, Capture] = field(default_factory=dict)
    extracted: Extracted = field(default_factory=Extracted)


#: A page to fetch ahead: its URL and the validators stored for it (ETag, Last-Modified).
PageRequest = tuple[str, str | None, str | None]


class Prefetcher:
    """Fetches groups ahead in background threads; :meth:`take` gives what one group got.

    A fetch that failed as a whole (the fetcher was stopped) gives an empty :class:`Ahead`:
    the visiting thread then fetches that group itself, and meets the same stop.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        executor: Executor | None = None,
        known: Callable[[Capture], Document | None] | None = None,
    ) -> None:
        """``executor``: where to extract what was fetched (None: the visitor extracts);
        ``known(capture)``: the document the archive already extracted from a source's
        bytes (then it is not sent, and given back as is), or None."""
        self.fetcher = fetcher
        self.executor = executor
        self.known = known
        self._pending: dict[int, Future[Ahead]] = {}
        self._lock = threading.Lock()

    def submit(self, key: int, pages: Sequence[PageRequest], sources: Sequence[str]) -> None:
        future: Future[Ahead] = Future()
        with self._lock:
            self._pending[key] = future
        thread = threading.Thread(
            target=self._fetch,
            args=(future, list(pages), list(sources)),
            name=f"archiver-ahead_{key}",
            daemon=True,
        )
        thread.start()

    def take(self, key: int) -> Ahead:
        with self._lock:
            future = self._pending.pop(key, None)
        if future is None:
            return Ahead()
        try:
            return future.result()
        except Exception as exc:  # the group is fetched by the visitor instead
            log.debug("fetching ahead failed (%s: %s)", type(exc).__name__, exc)
            return Ahead()

    @property
    def in_flight(self) -> int:
        with self._lock:
            return len(self._pending)

    def _fetch(self, future: Future[Ahead], pages: list[PageRequest], sources: list[str]) -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            ahead = self._both(pages, sources)
            if self.executor is not None:
                fresh = []
                for capture in ahead.sources.values():
                    document = self.known(capture) if self.known is not None else None
                    if document is None:
                        fresh.append(capture)
                    else:
                        ahead.extracted.know(capture, document)
                ahead.extracted.send(self.executor, [*ahead.pages.values(), *fresh])
            future.set_result(ahead)
        except BaseException as exc:  # handed to take(), as an executor would
            future.set_exception(exc)

    def _both(self, pages: list[PageRequest], sources: list[str]) -> Ahead:
        """The pages (conditional GETs, each on its own thread) while the sources are fetched
        through the fetcher's scheduler; the gate keeps the limits across both."""
        got: dict[str, Capture] = {}
        if not pages:
            fetched = self.fetcher.fetch_many(sources) if sources else []
            return Ahead(sources=dict(zip(sources, fetched, strict=True)))
        size = max(1, min(self.fetcher.policy.max_connections, len(pages)))
        with ThreadPoolExecutor(max_workers=size, thread_name_prefix="archiver-page") as pool:
            futures = {
                url: pool.submit(self.fetcher.fetch, url, etag=etag, last_modified=modified)
                for url, etag, modified in pages
            }
            fetched = self.fetcher.fetch_many(sources) if sources else []
            for url, page in futures.items():
                got[url] = page.result()
        return Ahead(pages=got, sources=dict(zip(sources, fetched, strict=True)))

"""Keep the sources while the others are still being fetched.

Checking links is bound by politeness: a host gets at most its rate of requests a second, so
the process mostly waits. Keeping a source (extracting it and storing it, :func:`keep`) is
CPU, and done after the last fetch it was a tail as long as the fetch itself (600 sources:
~4 s after a 5.3 s fetch). :class:`SourceKeeper` keeps each source in a thread of its own as
its answer arrives (``Fetcher.fetch_many(each=...)``), so by the last answer nearly every
source is stored. The pages are extracted in the keeper's thread for a few sources, in the
``executor`` given, or from :data:`POOL_FROM` sources in a pool of its own; stored by the
keeper's thread either way. What is kept, and with what, is what the loop after the fetch
kept: the same :func:`keep`, ``reuse`` and ``skip_keeping``; only the order of the capture ids
follows the order the answers arrived in. The archive is shared with the caller's thread
(its connection is guarded by a lock); a keeping that fails is raised in the caller by
:meth:`SourceKeeper.finish`, and an interrupted caller stops the thread after the capture
it is storing (each capture is its own transaction, so the archive stays consistent).
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import Executor
from types import TracebackType
from typing import TYPE_CHECKING

from archiver.capture.pages import Page
from archiver.capture.snapshot import keep, known_document
from archiver.models import Capture, Document

if TYPE_CHECKING:
    from archiver.archive.store import Archive


#: Sources per chunk sent to a worker, and chunks in flight: small, since the answers trickle
#: in at the hosts' rates and a chunk waits until it is full; larger for a large batch (one
#: round trip per chunk), at most :data:`MAX_CHUNK`.
CHUNK = 4
MAX_CHUNK = 64
IN_FLIGHT = 16
#: From this many sources to keep, with no executor given, the keeper extracts them in a pool
#: of its own (one process per CPU, started in its thread while the fetch goes on): on this
#: loaded 2-core machine 600 sources took 10-11 s with a pool and 20-22 s in a thread, since
#: a thread shares the fetcher's one core (the GIL) and a pool uses both. Below it a pool's
#: start (~1 s of CPU) costs more than it saves.
POOL_FROM = 200


def chunk_for(count: int) -> int:
    """Sources per chunk for a batch of ``count``: 4 for a page's links, up to 64 for a run's."""
    return max(CHUNK, min(MAX_CHUNK, count // 400))


class SourceKeeper:
    """A thread that keeps each source handed to :meth:`offer`, once, in the order offered."""

    def __init__(
        self,
        archive: Archive,
        *,
        targets: Collection[str],
        run_id: int | None = None,
        skip: Callable[[str], bool] | None = None,
        executor: Executor | None = None,
        pool_from: int | None = POOL_FROM,
        ready: Callable[[Capture], Document | None] | None = None,
    ) -> None:
        self._archive = archive
        self._ready = ready  # the document already extracted elsewhere (a run's pipeline)
        self._executor = executor
        self._own_pool = executor is None and pool_from is not None and len(targets) >= pool_from
        self._targets = targets
        self._run_id = run_id
        self._skip = skip
        self._queue: queue.SimpleQueue[tuple[str, Capture] | None] = queue.SimpleQueue()
        self._offered: set[str] = set()
        self._kept: dict[str, Page] = {}
        self._failure: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="archiver-keep", daemon=True)
        self._thread.start()

    def offer(self, url: str, capture: Capture) -> None:
        """Keep ``capture`` as the source ``url`` (ignored unless a target, not skipped, new)."""
        if url not in self._targets or url in self._offered:
            return
        if self._skip is not None and self._skip(url):
            return
        self._offered.add(url)
        self._queue.put((url, capture))

    def finish(self, captures: Mapping[str, Capture]) -> dict[str, Page]:
        """Offer ``captures`` not offered yet, wait for every keeping; what was stored, by URL."""
        for url, capture in captures.items():
            self.offer(url, capture)
        self._queue.put(None)
        self._thread.join()
        if self._failure is not None:
            raise self._failure
        return dict(self._kept)

    def _arrivals(self) -> Iterator[tuple[str, Capture]]:
        while (item := self._queue.get()) is not None and not self._stop.is_set():
            yield item

    def _work(self) -> None:
        try:
            if self._own_pool:
                self._work_in_own_pool()
            elif self._executor is None:
                for url, capture in self._arrivals():
                    capture_id, document = keep(
                        self._archive, capture, run_id=self._run_id, reuse=True, ready=self._ready
                    )
                    self._store(url, capture, capture_id, document)
            else:
                self._work_in(self._executor)
        except BaseException as exc:  # handed to the caller by finish()
            self._failure = exc

    def _work_in_own_pool(self) -> None:
        """Open a pool when the first source arrives (none arrives: no pool), keep in it."""
        from archiver.parallel.executor import default_workers, open_executor

        first = self._queue.get()
        if first is None or self._stop.is_set():
            return
        with open_executor(workers=default_workers()) as executor:
            self._work_in(executor, first=first)

    def _work_in(self, executor: Executor, first: tuple[str, Capture] | None = None) -> None:
        """Extraction in the executor's workers, storing here, in the order offered."""
        from archiver.parallel.stages import extract_captures

        urls: deque[str] = deque()

        def captures() -> Iterator[Capture]:
            for url, capture in itertools.chain([first] if first else [], self._arrivals()):
                urls.append(url)
                yield capture

        def known(capture: Capture) -> Document | None:
            return known_document(self._archive, capture, reuse=True, ready=self._ready)

        for capture, document in extract_captures(
            executor,
            captures(),
            chunk=chunk_for(len(self._targets)),
            in_flight=IN_FLIGHT,
            known=known,
        ):
            if self._stop.is_set():  # the caller was interrupted: what is in flight is dropped
                return
            capture_id = self._archive.save_capture(capture, document, run_id=self._run_id)
            self._store(urls.popleft(), capture, capture_id, document)

    def _store(
        self, url: str, capture: Capture, capture_id: int, document: Document | None
    ) -> None:
        self._kept[url] = Page(capture_id=capture_id, capture=capture, document=document, fresh=1)

    def __enter__(self) -> SourceKeeper:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:  # the caller failed: stop after the capture being stored
            self._stop.set()
            self._queue.put(None)
            self._thread.join()

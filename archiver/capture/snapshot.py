"""Keep a capture: extract it when it is an HTML page, store bytes, extraction and checksums.

:func:`keep` is the one way every job stores what it fetched (a page, a linked source, a feed),
and :func:`snapshot` is the job behind ``archiver snapshot``: each page and, unless told not
to, every source it links to (depth 1).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from archiver.extract.extractor import extract_capture
from archiver.extract.normalize import NORMALIZER_VERSION
from archiver.links.check import precheck
from archiver.models import Capture, Document

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from archiver.archive.store import Archive
    from archiver.fetch.fetcher import Fetcher

log = logging.getLogger(__name__)


def known_document(
    archive: Archive,
    capture: Capture,
    *,
    reuse: bool,
    ready: Callable[[Capture], Document | None] | None = None,
) -> Document | None:
    """The document of these bytes already in hand, so they are not extracted again:
    ``ready(capture)``, extracted elsewhere (a run's pipeline extracts what it fetched ahead),
    or, with ``reuse``, what the archive holds for the same bytes at the same final URL by the
    same normalizer (linked sources, which a run fetches again and again, rarely change)."""
    document = ready(capture) if ready is not None else None
    if document is None and reuse and capture.ok:
        document = archive.known_document(capture.final_url, capture.sha256, NORMALIZER_VERSION)
    return document


def keep(
    archive: Archive,
    capture: Capture,
    *,
    run_id: int | None = None,
    reuse: bool = False,
    ready: Callable[[Capture], Document | None] | None = None,
) -> tuple[int, Document | None]:
    """Store one capture with its extraction; returns (capture id, document). ``reuse`` and
    ``ready``: a document already in hand for these bytes (:func:`known_document`)."""
    known = known_document(archive, capture, reuse=reuse, ready=ready)
    document = known or extract_capture(capture)
    return archive.save_capture(capture, document, run_id=run_id), document


def keep_many(
    archive: Archive,
    captures: Iterable[Capture],
    *,
    executor: Executor | None = None,
    run_id: int | None = None,
    reuse: bool = False,
) -> Iterator[tuple[Capture, int, Document | None]]:
    """:func:`keep` for a batch: extracted in the executor's workers, stored here, in order.

    Each ``(capture, capture id, document)`` is yielded as soon as it is stored: the workers
    extract the next pages while this process, the one writer, stores. Without an executor
    (or with an inline one) it is :func:`keep` in a loop; the documents are the same.
    """
    if executor is None:
        for capture in captures:
            capture_id, document = keep(archive, capture, run_id=run_id, reuse=reuse)
            yield capture, capture_id, document
        return
    from archiver.parallel.stages import EXTRACT_CHUNK, extract_captures, spread

    def known(capture: Capture) -> Document | None:
        return known_document(archive, capture, reuse=reuse)

    # A batch of known length is spread over the workers; a stream goes in full chunks.
    chunk = spread(len(captures)) if isinstance(captures, Sequence) else EXTRACT_CHUNK
    for capture, document in extract_captures(executor, captures, known=known, chunk=chunk):
        yield capture, archive.save_capture(capture, document, run_id=run_id), document


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """One page captured (and extracted, when it is HTML), with the sources it links to."""

    capture_id: int
    capture: Capture
    document: Document | None
    sources: tuple[Snapshot, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.capture.url,
            "capture_id": self.capture_id,
            "final_url": self.capture.final_url,
            "http_status": self.capture.status,
            "error": self.capture.error,
            "sha256": self.capture.sha256,
            "size": len(self.capture.body),
            "content_type": self.capture.content_type,
            "checksum": self.document.checksum if self.document else None,
            "title": self.document.title if self.document else None,
            "sources": [source.to_json() for source in self.sources],
        }


def fetchable_targets(document: Document) -> list[str]:
    """The distinct http(s) targets of a document's links, in order (no placeholders, mailto:)."""
    return list(
        dict.fromkeys(link.url.strip() for link in document.links if precheck(link) is None)
    )


def snapshot(
    urls: Sequence[str],
    *,
    fetcher: Fetcher,
    archive: Archive,
    follow_links: bool = True,
    run_id: int | None = None,
    executor: Executor | None = None,
) -> list[Snapshot]:
    """Capture each page and, unless told not to, every http(s) source it links to (depth 1).

    ``executor``: where pages are extracted (:func:`keep_many`); this process fetches and
    stores. The captures and documents are the same wherever the extraction runs.
    """
    results: list[Snapshot] = []
    pages = keep_many(archive, fetcher.fetch_many(list(urls)), executor=executor, run_id=run_id)
    for url, (capture, capture_id, document) in zip(urls, pages, strict=True):
        sources: list[Snapshot] = []
        if follow_links and document is not None:
            kept = keep_many(
                archive,
                fetcher.fetch_many(fetchable_targets(document)),
                executor=executor,
                run_id=run_id,
            )
            for source, source_id, source_doc in kept:
                sources.append(Snapshot(capture_id=source_id, capture=source, document=source_doc))
        results.append(
            Snapshot(
                capture_id=capture_id, capture=capture, document=document, sources=tuple(sources)
            )
        )
        log.info("captured %s (%d sources)", url, len(sources))
    return results

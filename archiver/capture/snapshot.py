"""Keep a capture: extract it when it is an HTML page, store bytes, extraction and checksums.

:func:`keep` is the one way every job stores what it fetched (a page, a linked source, a feed),
and :func:`snapshot` is the job behind ``archiver snapshot``: each page and, unless told not
to, every source it links to (depth 1).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from archiver.errors import ExtractionError
from archiver.extract.extractor import extract
from archiver.extract.normalize import NORMALIZER_VERSION
from archiver.fetch.fetcher import is_html
from archiver.links.check import precheck
from archiver.models import Capture, Document

if TYPE_CHECKING:
    from archiver.archive.store import Archive
    from archiver.fetch.fetcher import Fetcher

log = logging.getLogger(__name__)


def extract_capture(capture: Capture) -> Document | None:
    """The document in a successful HTML capture, or None (not HTML, not 2xx, unreadable)."""
    if not capture.ok or not capture.body or not is_html(capture):
        return None
    try:
        return extract(capture.body, url=capture.final_url, content_type=capture.content_type)
    except ExtractionError as exc:
        log.warning("%s: not extracted: %s", capture.url, exc)
        return None


def keep(
    archive: Archive, capture: Capture, *, run_id: int | None = None, reuse: bool = False
) -> tuple[int, Document | None]:
    """Store one capture with its extraction; returns (capture id, document).

    ``reuse``: bytes already extracted at the same final URL by the same normalizer are not
    extracted again (linked sources, which a run fetches again and again, rarely change).
    """
    known = None
    if reuse and capture.ok:
        known = archive.known_document(capture.final_url, capture.sha256, NORMALIZER_VERSION)
    document = known or extract_capture(capture)
    return archive.save_capture(capture, document, run_id=run_id), document


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
) -> list[Snapshot]:
    """Capture each page and, unless told not to, every http(s) source it links to (depth 1)."""
    results: list[Snapshot] = []
    for url, capture in zip(urls, fetcher.fetch_many(list(urls)), strict=True):
        capture_id, document = keep(archive, capture, run_id=run_id)
        sources: list[Snapshot] = []
        if follow_links and document is not None:
            for source in fetcher.fetch_many(fetchable_targets(document)):
                source_id, source_doc = keep(archive, source, run_id=run_id)
                sources.append(Snapshot(capture_id=source_id, capture=source, document=source_doc))
        results.append(
            Snapshot(
                capture_id=capture_id, capture=capture, document=document, sources=tuple(sources)
            )
        )
        log.info("captured %s (%d sources)", url, len(sources))
    return results

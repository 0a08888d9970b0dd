"""The timeline of a URL: each capture, its verdict, and its drift against the one before."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from archiver.archive.records import TimelineEntry
from archiver.models import Document
from archiver.verify.compare import compare_documents

if TYPE_CHECKING:
    from archiver.archive.store import Archive


def history_of(url: str, *, archive: Archive) -> list[TimelineEntry]:
    """The timeline of a URL: each capture, its checksums, its verdict against the canonical
    copy (the newest verification made from it) and its drift against the previous capture
    that had a readable article (``drift_previous``: None for the first)."""
    timeline = []
    previous: Document | None = None
    for item in archive.history(url):
        stored = archive.get_capture(item.capture_id) if item.checksum else None
        document = stored.document if stored is not None else None
        if document is not None:
            if previous is not None:
                drift = compare_documents(previous, document)
                item = replace(item, drift_previous=drift.status, changes_previous=drift.changes)
            previous = document
        timeline.append(item)
    return timeline

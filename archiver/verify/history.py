"""The timeline of a URL: each capture, its verdict, and its drift against the one before."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archiver.models import Document
from archiver.verify.compare import compare_documents

if TYPE_CHECKING:
    from archiver.archive.store import Archive


def history_of(url: str, *, archive: Archive) -> list[dict[str, Any]]:
    """The timeline of a URL: each capture, its checksums, its verdict against the canonical
    copy (the newest verification made from it) and its drift against the previous capture
    that had a readable article (``drift_previous``: None for the first)."""
    timeline = archive.history(url)
    previous: Document | None = None
    for item in timeline:
        item["drift_previous"] = None
        item["changes_previous"] = []
        if not item.get("checksum"):
            continue
        stored = archive.get_capture(int(item["capture_id"]))
        document = stored.document if stored is not None else None
        if document is None:
            continue
        if previous is not None:
            drift = compare_documents(previous, document)
            item["drift_previous"] = drift.status
            item["changes_previous"] = [change.to_json() for change in drift.changes]
        previous = document
    return timeline

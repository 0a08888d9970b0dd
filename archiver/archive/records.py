"""Typed records out of the archive, and the one place rows and JSON become records.

Every reading method of :class:`archiver.archive.store.Archive` returns one of these frozen
dataclasses (or a record of ``archiver.models``), never a ``dict``. ``to_json()`` gives the
shapes the command line prints (the contract's keys).

:func:`capture_from_json` and :func:`document_from_json` are the only decoders of a
``Capture`` and a ``Document``: the archive's rows go through them after their JSON columns
are decoded (:func:`capture_from_row`, :func:`document_from_row`), and so do the metadata
records of a WARC.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from archiver.models import Capture, Change, Document, Drift, Image, Link, LinkCheck

# -- Capture and Document: the one decoder of each -------------------------------------------


def capture_from_json(data: Mapping[str, Any], body: bytes = b"", *, sha256: str = "") -> Capture:
    """A ``Capture`` from its JSON shape (headers as pairs, redirects as a list) and its body.

    ``sha256`` stands in for the body's when the body is left out on purpose.
    """
    return Capture(
        url=data["url"],
        final_url=data["final_url"],
        status=data["status"],
        headers=tuple((str(k), str(v)) for k, v in data.get("headers") or ()),
        body=body,
        content_type=data.get("content_type"),
        fetched_at=data.get("fetched_at") or "",
        redirects=tuple(data.get("redirects") or ()),
        truncated=bool(data.get("truncated")),
        not_modified=bool(data.get("not_modified")),
        error=data.get("error"),
        detail=data.get("detail") or "",
        elapsed=float(data.get("elapsed") or 0.0),
        method=data.get("method") or "GET",
        sha256=sha256,
    )


def capture_from_row(row: Mapping[str, Any], body: bytes = b"", *, sha256: str = "") -> Capture:
    """A ``Capture`` from a ``captures`` row (its JSON columns still text)."""
    return capture_from_json(
        {
            **row,
            "headers": json.loads(row["headers"] or "[]"),
            "redirects": json.loads(row["redirects"] or "[]"),
        },
        body,
        sha256=sha256,
    )


def document_from_json(data: Mapping[str, Any] | None) -> Document | None:
    """A ``Document`` from its ``to_json()`` shape, or None for no extraction."""
    if not data:
        return None
    links = tuple(Link(url=link["url"], text=link["text"]) for link in data["links"])
    return _document(data, links)


def _document(data: Mapping[str, Any], links: tuple[Link, ...]) -> Document:
    return Document(
        url=data["url"],
        title=data["title"],
        subtitle=data["subtitle"],
        authors=tuple(data.get("authors") or ()),
        published=data["published"],
        modified=data["modified"],
        paragraphs=tuple(data["paragraphs"]),
        links=links,
        images=tuple(Image(**image) for image in data.get("images") or ()),
        profile=data["profile"],
        checksum=data["checksum"],
        paragraph_hashes=tuple(data.get("paragraph_hashes") or ()),
        normalizer=data.get("normalizer") or "",
        label=data.get("label"),
        encoding=data.get("encoding"),
        warnings=tuple(data.get("warnings") or ()),
        published_source=data.get("published_source"),
        page_type=data.get("page_type"),
    )


def document_from_row(row: Mapping[str, Any], links: Sequence[Link]) -> Document:
    """A ``Document`` from an ``extractions`` row (JSON columns still text) and its links
    (records already: the same document :func:`document_from_json` gives from their JSON)."""
    return _document(
        {
            **row,
            "authors": json.loads(row["authors"] or "[]"),
            "paragraphs": json.loads(row["paragraphs"] or "[]"),
            "paragraph_hashes": json.loads(row["paragraph_hashes"] or "[]"),
            "images": json.loads(row["images"] or "[]"),
            "warnings": json.loads(row["warnings"] or "[]"),
        },
        tuple(links),
    )


def changes_from_json(text: str | None) -> tuple[Change, ...]:
    """The ``changes`` column of ``verifications`` as records."""
    return tuple(Change(**change) for change in json.loads(text or "[]"))


# -- records of the archive's own ------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class StoredCapture:
    """A capture as the archive holds it: its id, the capture byte for byte, its extraction."""

    id: int
    capture: Capture
    document: Document | None


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """The newest verification made from one capture, as a timeline shows it."""

    status: str
    similarity: float | None
    canonical_path: str
    verified_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "similarity": self.similarity,
            "canonical_path": self.canonical_path,
            "verified_at": self.verified_at,
        }


@dataclass(frozen=True, kw_only=True)
class TimelineEntry:
    """One capture in the history of a URL, and how it compares with the one before.

    ``vs_previous``: ``first``, ``same_body``, ``same_text``, ``text_changed`` or ``no_body``.
    ``drift_previous`` and ``changes_previous`` (the drift against the previous capture with
    a readable article) are filled in by ``archiver.verify.job.history_of``.
    """

    capture_id: int
    fetched_at: str
    url: str
    final_url: str | None
    kind: str
    status: int | None
    error: str | None
    sha256: str | None
    size: int | None
    checksum: str | None
    title: str | None
    vs_previous: str
    verification: Verdict | None = None
    drift_previous: str | None = None
    changes_previous: tuple[Change, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "capture_id": self.capture_id,
            "fetched_at": self.fetched_at,
            "url": self.url,
            "final_url": self.final_url,
            "kind": self.kind,
            "status": self.status,
            "error": self.error,
            "sha256": self.sha256,
            "size": self.size,
            "checksum": self.checksum,
            "title": self.title,
            "vs_previous": self.vs_previous,
            "verification": self.verification.to_json() if self.verification else None,
            "drift_previous": self.drift_previous,
            "changes_previous": [change.to_json() for change in self.changes_previous],
        }


@dataclass(frozen=True, kw_only=True)
class SearchHit:
    """One distinct extraction matching a full-text search, with its newest capture."""

    extraction_id: int
    url: str | None
    title: str | None
    checksum: str
    snippet: str
    rank: float
    capture_id: int | None
    last_seen: str | None
    captures: int

    def to_json(self) -> dict[str, Any]:
        return {
            "extraction_id": self.extraction_id,
            "url": self.url,
            "title": self.title,
            "checksum": self.checksum,
            "snippet": self.snippet,
            "rank": self.rank,
            "capture_id": self.capture_id,
            "last_seen": self.last_seen,
            "captures": self.captures,
        }


@dataclass(frozen=True, kw_only=True)
class StoredLinkCheck:
    """A row of ``link_checks``: the verdict on one link of one page at one time."""

    id: int
    source_url: str
    capture_id: int | None
    verification_id: int | None
    checked_at: str
    url: str
    text: str
    status: str
    broken: bool
    http_status: int | None = None
    final_url: str | None = None
    redirects: tuple[str, ...] = ()
    archived_url: str | None = None
    detail: str = ""
    recovered: bool | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> StoredLinkCheck:
        return cls(
            id=int(row["id"]),
            source_url=str(row["source_url"]),
            capture_id=row["capture_id"],
            verification_id=row["verification_id"],
            checked_at=str(row["checked_at"]),
            url=str(row["url"]),
            text=str(row["text"] or ""),
            status=str(row["status"]),
            broken=bool(row["broken"]),
            http_status=row["http_status"],
            final_url=row["final_url"],
            redirects=tuple(json.loads(row["redirects"] or "[]")),
            archived_url=row["archived_url"],
            detail=str(row["detail"] or ""),
            recovered=None if row["recovered"] is None else bool(row["recovered"]),
        )

    def to_check(self) -> LinkCheck:
        """The verdict as the pipeline's record."""
        return LinkCheck(
            url=self.url,
            text=self.text,
            status=self.status,
            broken=self.broken,
            http_status=self.http_status,
            final_url=self.final_url,
            redirects=self.redirects,
            archived_url=self.archived_url,
            detail=self.detail,
            recovered=self.recovered,
        )


@dataclass(frozen=True, kw_only=True)
class StoredSourceDrift:
    """A row of ``source_drifts``: one cited source compared with its first capture."""

    url: str
    text: str
    status: str  # same | changed | passage_missing
    similarity: float | None
    passage: str | None
    first_capture_id: int | None
    capture_id: int | None
    detail: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "text": self.text,
            "status": self.status,
            "similarity": self.similarity,
            "passage": self.passage,
            "first_capture_id": self.first_capture_id,
            "capture_id": self.capture_id,
            "detail": self.detail,
        }


@dataclass(frozen=True, kw_only=True)
class StoredVerification:
    """A row of ``verifications`` (changes decoded) with the sources it compared."""

    id: int
    canonical_path: str
    url: str
    capture_id: int | None
    run_id: int | None
    verified_at: str
    status: str
    similarity: float | None
    checksum_canonical: str
    checksum_live: str | None
    changes: tuple[Change, ...] = ()
    sources: tuple[StoredSourceDrift, ...] = ()

    @property
    def drift(self) -> Drift:
        """The verdict as the pipeline's record."""
        return Drift(
            status=self.status,
            similarity=self.similarity or 0.0,
            checksum_canonical=self.checksum_canonical,
            checksum_live=self.checksum_live,
            changes=self.changes,
        )


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """A row of ``runs``: one command run, its status and (once finished) its summary."""

    id: int
    command: str
    config: str | None
    started_at: str
    finished_at: str | None
    status: str
    summary: str | None  # JSON text, as the run wrote it

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RunRecord:
        return cls(
            id=int(row["id"]),
            command=str(row["command"]),
            config=row["config"],
            started_at=str(row["started_at"]),
            finished_at=row["finished_at"],
            status=str(row["status"]),
            summary=row["summary"],
        )

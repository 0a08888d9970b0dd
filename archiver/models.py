"""Typed records passed between the pipeline stages.

Every record is a frozen dataclass with keyword-only fields, so stages exchange values, not
mutable state. ``to_json()`` gives the shapes fixed by the command-line contract.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def utc_iso(moment: datetime | None = None) -> str:
    """``moment`` (default: now) as ISO 8601 UTC to the second, the archive's one time format."""
    return (moment or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z")


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of raw bytes (the fixity checksum of a stored body)."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, kw_only=True)
class Link:
    """A hyperlink found in an article: its target (absolute, or ``#``/empty) and anchor text."""

    url: str
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "text": self.text}


@dataclass(frozen=True, kw_only=True)
class Image:
    """An image of an article with its caption and credits (either may be empty)."""

    url: str | None
    caption: str
    credits: str

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "caption": self.caption, "credits": self.credits}


@dataclass(frozen=True, kw_only=True)
class Document:
    """What extraction finds in one page: the article as a reader sees it.

    ``checksum`` is ``sha256:<hex>`` of the normalized text (see ``normalize``), so two fetches
    that differ only in boilerplate give the same checksum. ``paragraph_hashes`` are the same per
    normalized paragraph, so a diff can point at a paragraph.
    """

    url: str | None
    title: str | None
    subtitle: str | None
    authors: tuple[str, ...]
    published: str | None  # ISO 8601 or None
    modified: str | None  # ISO 8601 or None
    paragraphs: tuple[str, ...]
    links: tuple[Link, ...]
    images: tuple[Image, ...]
    profile: str  # which extractor ran: "moscowtimes", "generic", ...
    checksum: str  # "sha256:<hex>" of the normalized text
    paragraph_hashes: tuple[str, ...] = ()
    normalizer: str = ""  # version of the normalizer that made the checksum
    label: str | None = None  # section label, e.g. "Opinion"
    encoding: str | None = None  # the charset the page was decoded with
    warnings: tuple[str, ...] = ()  # what was assumed (e.g. charset disagreements)
    published_source: str | None = None  # where ``published`` came from: json-ld, meta, ...
    page_type: str | None = None  # "article", or what the page is instead (product, listing...)

    @property
    def text(self) -> str:
        """The body paragraphs joined by a blank line (the contract's ``text``)."""
        return "\n\n".join(self.paragraphs)

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "title": self.title,
            "subtitle": self.subtitle,
            "authors": list(self.authors),
            "published": self.published,
            "modified": self.modified,
            "text": self.text,
            "paragraphs": list(self.paragraphs),
            "links": [link.to_json() for link in self.links],
            "images": [image.to_json() for image in self.images],
            "profile": self.profile,
            "checksum": self.checksum,
            "paragraph_hashes": list(self.paragraph_hashes),
            "normalizer": self.normalizer,
            "label": self.label,
            "encoding": self.encoding,
            "warnings": list(self.warnings),
            "published_source": self.published_source,
            "page_type": self.page_type,
        }


@dataclass(frozen=True, kw_only=True)
class Capture:
    """One HTTP fetch as it happened: the raw bytes exactly as received, and what led to them.

    ``error`` is None when an HTTP answer arrived (whatever its status); otherwise a status word
    of the contract naming why none did: ``timeout``, ``connection_error``, ``dns_error``,
    ``tls_error``, ``redirect_loop``, ``invalid``, ``robots_disallowed``, ``too_many_redirects``.
    """

    url: str  # the URL asked for
    final_url: str  # where the redirects ended
    status: int | None  # HTTP status of the final answer
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    content_type: str | None = None
    fetched_at: str = ""  # ISO 8601 UTC
    redirects: tuple[str, ...] = ()  # every URL after the first, in order
    truncated: bool = False  # the body hit the size cap
    not_modified: bool = False  # a 304 answer to a conditional GET
    error: str | None = None
    detail: str = ""
    elapsed: float = 0.0
    method: str = "GET"
    sha256: str = field(default="")

    def __post_init__(self) -> None:
        if not self.sha256:
            object.__setattr__(self, "sha256", sha256_hex(self.body))

    def header(self, name: str) -> str | None:
        """The first header of that name (case-insensitive), or None."""
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True, kw_only=True)
class LinkCheck:
    """The verdict on one link, in the words of the contract's link status vocabulary."""

    url: str
    text: str
    status: str
    broken: bool
    http_status: int | None = None
    final_url: str | None = None
    redirects: tuple[str, ...] = ()
    archived_url: str | None = None
    detail: str = ""
    recovered: bool | None = None  # set by verify: target recovered from the live page
    since: str | None = None  # link rot: when the current failure was first seen (ISO 8601)
    flapping: bool = False  # link rot: up and down in recent checks, so not (yet) broken

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "url": self.url,
            "text": self.text,
            "status": self.status,
            "broken": self.broken,
            "http_status": self.http_status,
            "final_url": self.final_url,
            "redirects": list(self.redirects),
            "archived_url": self.archived_url,
            "detail": self.detail,
        }
        if self.recovered is not None:
            out["recovered"] = self.recovered
        if self.since is not None:
            out["since"] = self.since
        if self.flapping:
            out["flapping"] = True
        return out


@dataclass(frozen=True, kw_only=True)
class CanonicalCopy:
    """A canonical local copy as the user keeps it (Markdown), parsed into fields."""

    path: str
    url: str
    title: str | None
    subtitle: str | None
    authors: tuple[str, ...]
    published: str | None  # ISO date
    caption: str | None
    credits: str | None
    paragraphs: tuple[str, ...]
    links: tuple[Link, ...]
    disclaimer: str | None = None


@dataclass(frozen=True, kw_only=True)
class Change:
    """One difference between the canonical copy and the live page."""

    kind: str  # "modified" | "added" | "removed" | "metadata"
    field: str  # title, subtitle, authors, published, body, caption, ...
    canonical: str | None
    live: str | None
    note: str = ""  # e.g. "correction note appended"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "field": self.field,
            "canonical": self.canonical,
            "live": self.live,
        }
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True, kw_only=True)
class Drift:
    """The verdict of comparing a canonical copy with a live document."""

    status: str  # unchanged | cosmetic | edited | rewritten | missing | unreachable
    similarity: float
    checksum_canonical: str
    checksum_live: str | None
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Traffic:
    """What a fetcher sent and what answered: the one rule for "did nothing answer?".

    A job takes ``fetcher.traffic()`` before and after its work; the difference says whether,
    in that job, requests were made and not one got any answer from any host (any HTTP
    status counts as an answer). Then no failure is a verdict: the machine is offline.
    """

    requests: int = 0
    answers: int = 0

    def __sub__(self, other: Traffic) -> Traffic:
        return Traffic(
            requests=self.requests - other.requests, answers=self.answers - other.answers
        )

    @property
    def nothing_answered(self) -> bool:
        return self.requests > 0 and self.answers == 0

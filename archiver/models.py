"""Typed records passed between the pipeline stages.

Every record is a frozen dataclass with keyword-only fields, so stages exchange values, not
mutable state. ``to_json()`` gives the shapes fixed by the command-line contract.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
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


#: Fetch errors that say nothing about the target when no other host answered either: what a
#: machine without a network sees for every URL.
NO_ANSWER = frozenset({"dns_error", "connection_error", "timeout"})


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

    @property
    def answered(self) -> bool:
        """Did a host answer anything (any HTTP status, a TLS handshake, a redirect loop)?

        Only failures that a machine without a network also sees (:data:`NO_ANSWER`) are not
        an answer: the one rule behind :class:`Traffic` and ``network_unavailable``.
        """
        return self.status is not None or self.error not in NO_ANSWER


@dataclass(frozen=True, kw_only=True)
class ArchivedCopy:
    """One capture of a link's target in a web archive (a Memento, RFC 7089).

    ``status`` is the HTTP status the memento itself answered when it was checked, or None
    when it was only listed in the archive's TimeMap; ``replays`` is True when it was checked
    and shows a page (2xx, not an archived error page, redirect or bot challenge).
    """

    archive: str  # the archive's short name: "ia", "archive.today", "arquivo.pt", ...
    url: str  # the memento: where a reader sees the capture
    datetime: str  # when the archive captured it, ISO 8601 UTC
    original: str = ""  # the URL the archive captured
    status: int | None = None
    replays: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "archive": self.archive,
            "url": self.url,
            "datetime": self.datetime,
            "original": self.original,
            "status": self.status,
            "replays": self.replays,
        }


@dataclass(frozen=True, kw_only=True)
class MovedCandidate:
    """A page that may be a broken link's new address, with why it was proposed.

    ``evidence`` names the source: ``archive_redirect`` (an archive saw the old URL redirect
    there), ``url_rewrite`` (the site's known rewrite of old URL patterns), ``sitemap`` (the
    site's sitemap or feed lists a page with the same slug, id or title), ``title_search`` (the
    archived copy's title found on the live site). ``confidence`` is 0..1 before the candidate
    is fetched; ``matched`` says whether the live page's title or text matched what was cited.
    """

    url: str
    evidence: str
    confidence: float
    detail: str = ""
    matched: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "evidence": self.evidence,
            "confidence": round(self.confidence, 2),
            "detail": self.detail,
            "matched": self.matched,
        }


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
    moved_to: str | None = None  # a moved page found: its new address (status "moved")
    archived_copies: tuple[ArchivedCopy, ...] = ()  # every archive's nearest capture found
    moved_candidates: tuple[MovedCandidate, ...] = ()  # new addresses considered, with evidence

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
        if self.moved_to is not None or self.moved_candidates:
            out["moved_to"] = self.moved_to
        if self.moved_candidates:
            out["moved_candidates"] = [c.to_json() for c in self.moved_candidates]
        if self.archived_copies:
            out["archived_copies"] = [copy.to_json() for copy in self.archived_copies]
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

    @classmethod
    def of(cls, captures: Iterable[Capture]) -> Traffic:
        """The traffic a set of captures stands for (each one a request)."""
        got = list(captures)
        return cls(requests=len(got), answers=sum(c.answered for c in got))

    @property
    def nothing_answered(self) -> bool:
        return self.requests > 0 and self.answers == 0

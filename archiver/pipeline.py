"""The jobs the commands run, composed from the stages: snapshot, verify, check links.

This is the I/O edge where a fetcher and an archive meet the pure stages (extract, compare,
linkcheck). Fetcher and archive are passed in, so tests and the demo give real ones on loopback.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from archiver.canonical import read_canonical
from archiver.compare import compare, verdict_without_page
from archiver.errors import ExtractionError, InputError
from archiver.extract import extract
from archiver.fetch import Fetcher
from archiver.linkcheck import check_links, classify, network_unavailable, precheck
from archiver.models import CanonicalCopy, Capture, Document, Drift, Link, LinkCheck
from archiver.normalize import normalize_text
from archiver.store import Archive

log = logging.getLogger(__name__)

_HTML_TYPES = ("text/html", "application/xhtml+xml")


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


@dataclass(frozen=True, kw_only=True)
class Verification:
    """The verdict on one canonical copy: drift of the article and the state of its links."""

    canonical: CanonicalCopy
    drift: Drift
    links: tuple[LinkCheck, ...]
    capture_id: int | None = None
    page_detail: str = ""
    offline: bool = field(default=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "canonical": self.canonical.path,
            "url": self.canonical.url,
            "status": self.drift.status,
            "similarity": self.drift.similarity,
            "checksum_canonical": self.drift.checksum_canonical,
            "checksum_live": self.drift.checksum_live,
            "changes": [change.to_json() for change in self.drift.changes],
            "links": [check.to_json() for check in self.links],
            "capture_id": self.capture_id,
            "detail": self.page_detail,
        }


def is_html(capture: Capture) -> bool:
    """Whether a capture should go through extraction (by type, or by sniffing untyped bodies)."""
    ctype = (capture.content_type or "").split(";")[0].strip().lower()
    if ctype:
        return ctype in _HTML_TYPES
    head = capture.body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def extract_capture(capture: Capture) -> Document | None:
    """The document in a successful HTML capture, or None (not HTML, not 2xx, unreadable)."""
    if not capture.ok or not capture.body or not is_html(capture):
        return None
    try:
        return extract(capture.body, url=capture.final_url, content_type=capture.content_type)
    except ExtractionError as exc:
        log.warning("%s: not extracted: %s", capture.url, exc)
        return None


def _store(archive: Archive, capture: Capture, run_id: int | None) -> tuple[int, Document | None]:
    document = extract_capture(capture)
    return archive.save_capture(capture, document, run_id=run_id), document


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
        capture_id, document = _store(archive, capture, run_id)
        sources: list[Snapshot] = []
        if follow_links and document is not None:
            targets = list(
                dict.fromkeys(
                    link.url for link in document.links if precheck(link) is None and link.url
                )
            )
            for source in fetcher.fetch_many(targets):
                source_id, source_doc = _store(archive, source, run_id)
                sources.append(Snapshot(capture_id=source_id, capture=source, document=source_doc))
        results.append(
            Snapshot(
                capture_id=capture_id, capture=capture, document=document, sources=tuple(sources)
            )
        )
        log.info("captured %s (%d sources)", url, len(sources))
    return results


def recover_links(canonical: Sequence[Link], live: Sequence[Link]) -> list[tuple[Link, bool]]:
    """Give each placeholder (``#``) link of the copy its target on the live page.

    Matched by anchor text (normalized, case-folded), in order, each live link used once.
    Returns (link, recovered) pairs; a placeholder with no match stays a placeholder.
    """
    pool: dict[str, list[Link]] = {}
    for link in live:
        pool.setdefault(normalize_text(link.text).casefold(), []).append(link)
    out: list[tuple[Link, bool]] = []
    for link in canonical:
        if precheck(link) is None or link.url.strip() not in ("", "#"):
            out.append((link, False))
            continue
        candidates = pool.get(normalize_text(link.text).casefold())
        if candidates:
            target = candidates.pop(0)
            out.append((Link(url=target.url, text=link.text), True))
        else:
            out.append((link, False))
    return out


def _with_recovered(checks: Sequence[LinkCheck], flags: Sequence[bool]) -> tuple[LinkCheck, ...]:
    return tuple(replace(c, recovered=f) for c, f in zip(checks, flags, strict=True))


def verify_copy(
    copy: CanonicalCopy,
    *,
    fetcher: Fetcher | None,
    archive: Archive,
    check: bool = True,
    run_id: int | None = None,
) -> Verification:
    """Compare one canonical copy with the live page (or, without a fetcher, the newest capture)."""
    capture_id: int | None = None
    live: Document | None = None
    detail = ""
    if fetcher is None:
        stored = archive.latest_capture(copy.url)
        if stored is None or stored.document is None:
            drift = verdict_without_page(copy, "unreachable", "offline: no stored capture")
        else:
            capture_id, live = stored.id, stored.document
            drift = compare(copy, live)
    else:
        (capture,) = fetcher.fetch_many([copy.url])
        capture_id, live = _store(archive, capture, run_id)
        page = classify(Link(url=copy.url, text=copy.title or ""), capture)
        detail = page.detail
        if page.status in ("ok", "redirected") and live is not None:
            drift = compare(copy, live)
        elif page.status in ("ok", "redirected"):
            drift = verdict_without_page(copy, "unreachable", "the page could not be extracted")
        else:
            drift = verdict_without_page(copy, page.status, page.detail)

    pairs = recover_links(copy.links, live.links if live else ())
    links = [link for link, _ in pairs]
    flags = [recovered for _, recovered in pairs]
    if check and fetcher is not None:
        checks = check_links(links, fetcher)
    else:
        checks = [
            precheck(link)
            or LinkCheck(
                url=link.url,
                text=link.text,
                status="skipped",
                broken=False,
                detail="offline: not checked",
            )
            for link in links
        ]
    results = _with_recovered(checks, flags)
    if fetcher is not None:
        from archiver.linkrot import judge_all, utc_now  # the history decides what is broken

        results = tuple(judge_all(results, archive, now=utc_now()))
        archive.save_link_checks(list(results), source_url=copy.url, capture_id=capture_id)
    archive.save_verification(
        canonical_path=copy.path,
        url=copy.url,
        drift=drift,
        capture_id=capture_id,
        links=list(results),
        run_id=run_id,
    )
    return Verification(
        canonical=copy,
        drift=drift,
        links=results,
        capture_id=capture_id,
        page_detail=detail,
        offline=fetcher is None,
    )


def verify_paths(
    paths: Sequence[str],
    *,
    fetcher: Fetcher | None,
    archive: Archive,
    check: bool = True,
    run_id: int | None = None,
) -> list[Verification]:
    """Read every copy first (so a bad one fails before any fetch), then verify each."""
    copies = [read_canonical(path) for path in paths]
    return [
        verify_copy(copy, fetcher=fetcher, archive=archive, check=check, run_id=run_id)
        for copy in copies
    ]


def summarize_drift(verifications: Sequence[Verification]) -> dict[str, int]:
    """Count of each drift status, for the contract's ``summary``."""
    counts: dict[str, int] = {}
    for v in verifications:
        counts[v.drift.status] = counts.get(v.drift.status, 0) + 1
    return dict(sorted(counts.items()))


def links_of(target: str, *, fetcher: Fetcher, archive: Archive) -> tuple[str, list[LinkCheck]]:
    """Check the links of a URL, a canonical copy (``.md``) or a stored capture id."""
    if target.isdigit():
        stored = archive.get_capture(int(target))
        if stored is None:
            raise InputError(f"no capture with id {target} in the archive")
        if stored.document is None:
            raise InputError(f"capture {target} has no extracted document (not an HTML page?)")
        source, capture_id = stored.capture.url, stored.id
        links = list(stored.document.links)
        flags: list[bool] | None = None
    elif target.lower().endswith((".md", ".markdown")) or os.path.exists(target):
        copy = read_canonical(target)
        (capture,) = fetcher.fetch_many([copy.url])
        capture_id, live = _store(archive, capture, None)
        pairs = recover_links(copy.links, live.links if live else ())
        source = copy.url
        links = [link for link, _ in pairs]
        flags = [recovered for _, recovered in pairs]
    else:
        if precheck(Link(url=target, text="")) is not None:
            raise InputError(f"not a URL, a canonical copy or a capture id: {target[:200]}")
        (capture,) = fetcher.fetch_many([target])
        capture_id, live = _store(archive, capture, None)
        if live is None:
            page = classify(Link(url=target, text=""), capture)
            return target, [page]
        source, links, flags = target, list(live.links), None
    checks = check_links(links, fetcher)
    if flags is not None:
        checks = list(_with_recovered(checks, flags))
    archive.save_link_checks(checks, source_url=source, capture_id=capture_id)
    return source, checks


def offline_run(verifications: Sequence[Verification]) -> bool:
    """Did nothing at all answer (every page and link failed at the network level)?"""
    statuses = [c.status for v in verifications for c in v.links if c.status != "placeholder"]
    pages_down = all(v.drift.status == "unreachable" for v in verifications)
    return (
        pages_down
        and bool(verifications)
        and all(s in ("network_unavailable", "skipped") for s in statuses)
    )


__all__ = [
    "Snapshot",
    "Verification",
    "snapshot",
    "verify_copy",
    "verify_paths",
    "recover_links",
    "extract_capture",
    "network_unavailable",
]

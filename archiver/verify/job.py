"""The jobs the commands run, composed from the stages: snapshot, verify, check links.

This is the I/O edge where a fetcher and an archive meet the pure stages (extract, compare,
linkcheck). Fetcher and archive are passed in, so tests and the demo give real ones on loopback.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from archiver.archive.store import Archive
from archiver.errors import ExtractionError, InputError
from archiver.extract.extractor import extract
from archiver.extract.normalize import normalize_text
from archiver.fetch.fetcher import Fetcher, is_html
from archiver.links.check import (
    OFFLINE_ERRORS,
    check_links,
    classify,
    network_unavailable,
    precheck,
)
from archiver.models import CanonicalCopy, Capture, Document, Drift, Link, LinkCheck, utc_iso
from archiver.verify.canonical import (
    PARSER_VERSION,
    canonical_from_bytes,
    copy_and_normalized_from_json,
    copy_to_json,
    read_copy_bytes,
)
from archiver.verify.citations import COMPARED, SourceDrift, citing_context, source_drift
from archiver.verify.compare import (
    DRIFTED,
    REWRITE_THRESHOLD,
    compare,
    compare_documents,
    normalized_paragraphs,
    remember_normalized,
    verdict_without_page,
    word_similarity,
)

log = logging.getLogger(__name__)


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
    sources: tuple[SourceDrift, ...] = ()
    page_error: str | None = None  # the fetch error of the page (timeout, dns_error, ...)

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
            "sources": [source.to_json() for source in self.sources],
        }


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


class _Recorder:
    """A fetcher that keeps what it fetched, so checking links also captures the sources."""

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher
        self.captures: dict[str, Capture] = {}

    def fetch_many(self, urls: Iterable[str], *, method: str = "GET") -> list[Capture]:
        items = list(urls)
        captures = self.fetcher.fetch_many(items, method=method)
        self.captures.update(zip(items, captures, strict=True))
        return captures


OFFLINE_DETAIL = "offline: not checked"
UNCHECKED_DETAIL = "not checked (--no-check-links)"


def _unchecked(link: Link, detail: str = OFFLINE_DETAIL) -> LinkCheck:
    return precheck(link) or LinkCheck(
        url=link.url, text=link.text, status="skipped", broken=False, detail=detail
    )


def _fetchable(check: LinkCheck) -> bool:
    """Was (or, unchecked, would) this link be fetched: not a placeholder, mailto:, bad URL."""
    if check.status == "skipped":
        return check.detail in (OFFLINE_DETAIL, UNCHECKED_DETAIL)
    return check.status not in ("placeholder", "invalid")


def page_drift(copy: CanonicalCopy, capture: Capture, live: Document | None) -> tuple[Drift, str]:
    """The verdict for a fetched page: compared, or missing / unreachable from the fetch."""
    page = classify(Link(url=copy.url, text=copy.title or ""), capture)
    if page.status not in ("ok", "redirected"):
        return verdict_without_page(copy, page.status, page.detail), page.detail
    if live is None:
        return verdict_without_page(copy, "unreachable", "the page could not be extracted"), ""
    drift = compare(copy, live)
    if page.status == "redirected" and drift.status == "rewritten" and _unrelated(copy, live):
        detail = f"redirected to an unrelated page {capture.final_url}"
        return verdict_without_page(copy, "soft_404", detail), detail
    return drift, page.detail


def _unrelated(copy: CanonicalCopy, live: Document) -> bool:
    """A redirect target that is another article: a different headline and different text."""
    if not copy.title or not live.title:
        return True
    return word_similarity(copy.title, live.title) < REWRITE_THRESHOLD


class Baselines:
    """First and newest stored captures of source URLs, looked up once per URL per run."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self._first: dict[str, tuple[int | None, Document | None]] = {}
        self._latest: dict[str, tuple[int | None, Document | None]] = {}

    def first(self, url: str) -> tuple[int | None, Document | None]:
        if url not in self._first:
            stored = self.archive.first_capture(url)
            self._first[url] = (stored.id, stored.document) if stored else (None, None)
        return self._first[url]

    def latest(self, url: str) -> tuple[int | None, Document | None]:
        """The source as it is now: its newest capture, if that was a readable page."""
        if url not in self._latest:
            state = self.archive.newest_state(url)
            ok = state is not None and state[1].ok
            self._latest[url] = (state[0], state[2]) if state and ok else (None, None)
        return self._latest[url]

    def remember(self, url: str, capture_id: int | None, document: Document | None) -> None:
        """What this run's fetch of the source gave (None: it did not answer with a page)."""
        self._latest[url] = (capture_id, document)


def source_drifts(
    copy: CanonicalCopy, checks: Sequence[LinkCheck], baselines: Baselines
) -> tuple[SourceDrift, ...]:
    """Each linked source now against its first capture, for the passage it was cited for."""
    out: list[SourceDrift] = []
    seen: set[str] = {copy.url}
    for check in checks:
        url = check.url.strip()
        if url in seen or check.broken or not _fetchable(check):
            continue
        seen.add(url)
        first_id, first = baselines.first(url)
        now_id, now = baselines.latest(url)
        compared = first is not None and now is not None and first_id != now_id
        out.append(
            source_drift(
                url=url,
                anchor=check.text,
                context=citing_context(copy.paragraphs, check.text) if compared else check.text,
                first=first,
                now=now,
                first_capture_id=first_id,
                capture_id=now_id,
            )
        )
    return tuple(out)


def read_copies(
    paths: Sequence[str], *, archive: Archive | None = None
) -> tuple[list[CanonicalCopy], list[InputError]]:
    """Read every copy; the unreadable ones come back as errors, so one cannot stop the rest.

    With an archive, a copy whose bytes were parsed before (same SHA-256, same parser version)
    is taken from the parse cache instead of being parsed again; new parses are cached.
    """
    raw: list[tuple[str, bytes, str]] = []
    errors: list[InputError] = []
    for path in paths:
        try:
            data = read_copy_bytes(path)
        except InputError as exc:
            errors.append(exc)
            continue
        raw.append((path, data, hashlib.sha256(data).hexdigest()))
    cached = archive.cached_parses([sha for _, _, sha in raw], PARSER_VERSION) if archive else {}
    copies: list[CanonicalCopy] = []
    fresh: list[tuple[str, str]] = []
    for path, content, sha in raw:
        if sha in cached:
            copy, saved = copy_and_normalized_from_json(cached[sha], path=path)
            if saved is not None:
                remember_normalized(copy.paragraphs, saved)
            copies.append(copy)
            continue
        try:
            copy = canonical_from_bytes(content, path=path)
        except InputError as exc:
            errors.append(exc)
            continue
        copies.append(copy)
        if archive is not None:
            normalized = normalized_paragraphs(copy.paragraphs)
            remember_normalized(copy.paragraphs, normalized)
            fresh.append((sha, copy_to_json(copy, normalized)))
    if archive is not None:
        archive.save_parses(fresh, PARSER_VERSION)
    return copies, errors


def verify_many(
    copies: Sequence[CanonicalCopy],
    *,
    fetcher: Fetcher | None,
    archive: Archive,
    check: bool = True,
    sources: bool = True,
    run_id: int | None = None,
) -> list[Verification]:
    """Verify many copies: every page in one polite concurrent batch, then every link in one.

    Without a fetcher (``--offline``) each copy is compared with the newest stored capture of
    its URL and links are only prechecked. Each page and each link target is fetched once per
    run however many copies name it; every capture and every verification is stored.
    """
    baselines = Baselines(archive)
    urls = list(dict.fromkeys(copy.url for copy in copies))
    # url -> (capture id, live document, the capture: fetched now, or the newest stored)
    pages: dict[str, tuple[int | None, Document | None, Capture | None]] = {}
    if fetcher is not None:
        for url, fetched in zip(urls, fetcher.fetch_many(urls), strict=True):
            fetched_id, fetched_doc = _store(archive, fetched, run_id)
            pages[url] = (fetched_id, fetched_doc, fetched)
    else:
        for url in urls:
            state = archive.newest_state(url)
            pages[url] = (state[0], state[2], state[1]) if state else (None, None, None)

    drifts: list[tuple[Drift, str]] = []
    all_links: list[Link] = []
    all_flags: list[bool] = []
    for copy in copies:
        capture_id, live, capture = pages[copy.url]
        if capture is not None:
            drifts.append(page_drift(copy, capture, live))
        elif live is not None:
            drifts.append((compare(copy, live), ""))
        else:
            detail = "offline: no stored capture"
            drifts.append((verdict_without_page(copy, "unreachable", detail), detail))
        pairs = recover_links(copy.links, live.links if live else ())
        all_links.extend(link for link, _ in pairs)
        all_flags.extend(recovered for _, recovered in pairs)

    if check and fetcher is not None:
        recorder = _Recorder(fetcher)
        # The check history decides when a suspect becomes broken (docs/contract.md).
        from archiver.links.rot import judge_all  # linkrot builds on this module

        all_checks = judge_all(check_links(all_links, recorder), archive, now=utc_iso())
        for url, source in recorder.captures.items():
            source_id, source_doc = _store(archive, source, run_id)
            if source.ok:
                baselines.remember(url, source_id, source_doc)
            else:
                baselines.remember(url, None, None)  # no page now: not compared
    else:
        detail = OFFLINE_DETAIL if fetcher is None else UNCHECKED_DETAIL
        verdicts: dict[str, LinkCheck] = {}  # one precheck per distinct URL in the run
        all_checks = []
        for link in all_links:
            if link.url not in verdicts:
                verdicts[link.url] = _unchecked(link, detail)
            known = verdicts[link.url]
            all_checks.append(known if known.text == link.text else replace(known, text=link.text))
    checked = _with_recovered(all_checks, all_flags)
    if fetcher is not None and _nothing_answered(pages, checked):
        # No page could be read, so no placeholder could be recovered: that is no verdict on
        # the copy's links either (docs/contract.md: network_unavailable), not a broken link.
        checked = tuple(
            replace(c, status="network_unavailable", broken=False, detail=NOT_RECOVERED)
            if c.status == "placeholder"
            else c
            for c in checked
        )

    results: list[Verification] = []
    to_store: list[tuple[int, list[SourceDrift]]] = []
    position = 0
    for copy, (drift, detail) in zip(copies, drifts, strict=True):
        page_id, _, page_capture = pages[copy.url]
        links = checked[position : position + len(copy.links)]
        position += len(copy.links)
        drifted_sources = source_drifts(copy, links, baselines) if sources else ()
        verification_id = archive.save_verification(
            canonical_path=copy.path,
            url=copy.url,
            drift=drift,
            capture_id=page_id,
            links=list(links) if fetcher is not None and check else [],  # else: none checked
            run_id=run_id,
        )
        compared = [d for d in drifted_sources if d.status in COMPARED]
        if compared:
            to_store.append((verification_id, compared))
        results.append(
            Verification(
                canonical=copy,
                drift=drift,
                links=links,
                capture_id=page_id,
                page_detail=detail,
                offline=fetcher is None,
                sources=drifted_sources,
                page_error=page_capture.error if page_capture is not None else None,
            )
        )
    archive.save_source_drifts_many(to_store)
    return results


def verify_copy(
    copy: CanonicalCopy,
    *,
    fetcher: Fetcher | None,
    archive: Archive,
    check: bool = True,
    run_id: int | None = None,
) -> Verification:
    """Compare one canonical copy with the live page (or, without a fetcher, the newest capture)."""
    (result,) = verify_many([copy], fetcher=fetcher, archive=archive, check=check, run_id=run_id)
    return result


def verify_paths(
    paths: Sequence[str],
    *,
    fetcher: Fetcher | None,
    archive: Archive,
    check: bool = True,
    run_id: int | None = None,
    errors: list[InputError] | None = None,
) -> list[Verification]:
    """Read every copy first, then verify them all (:func:`verify_many`).

    A copy that cannot be read raises before any fetch, unless ``errors`` is given: then the
    unreadable copies are appended there and the others are still verified (the CLI reports
    them and exits 2 at the end, as a linter does with a file it cannot parse).
    """
    copies, bad = read_copies(paths, archive=archive)
    if bad and errors is None:
        raise bad[0]
    if errors is not None:
        errors.extend(bad)
    return verify_many(copies, fetcher=fetcher, archive=archive, check=check, run_id=run_id)


def summarize_drift(verifications: Sequence[Verification]) -> dict[str, int]:
    """Count of each drift status, for the contract's ``summary``."""
    counts: dict[str, int] = {}
    for v in verifications:
        counts[v.drift.status] = counts.get(v.drift.status, 0) + 1
    return dict(sorted(counts.items()))


def found_problems(verifications: Sequence[Verification]) -> bool:
    """Exit 1 material: drift (edited, rewritten, missing), a broken link, a drifted source."""
    return any(
        v.drift.status in DRIFTED
        or any(c.broken for c in v.links)
        or any(s.flagged for s in v.sources)
        for v in verifications
    )


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


NOT_RECOVERED = "not recovered: nothing answered, so the live page could not be read"


def _nothing_answered(
    pages: dict[str, tuple[int | None, Document | None, Capture | None]],
    checks: Sequence[LinkCheck],
) -> bool:
    """Every page fetch failed at the network level and no checked link got an answer."""
    captures = [capture for _, _, capture in pages.values() if capture is not None]
    fetched = [c for c in checks if c.status not in ("placeholder", "skipped", "invalid")]
    return network_unavailable(captures) and all(c.status == "network_unavailable" for c in fetched)


def offline_run(verifications: Sequence[Verification]) -> bool:
    """Did nothing at all answer (every page and link failed at the network level)?"""
    statuses = [c.status for v in verifications for c in v.links if c.status != "placeholder"]
    pages_down = all(v.page_error in OFFLINE_ERRORS for v in verifications)
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
    "verify_many",
    "read_copies",
    "found_problems",
    "recover_links",
    "extract_capture",
    "network_unavailable",
]

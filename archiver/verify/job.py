"""The one "verify a copy" job, which ``verify``, ``verify --offline`` and a scheduled run call.

:func:`verify_many` judges canonical copies against their pages: every page through the page
strategy it is given (live, stored, or the run's conditional GETs), the drift verdict of each
copy, then every due link of every copy in one batch through the links job
(:func:`archiver.links.job.check_and_keep`), the sources compared with their first capture, and
each verification stored. What differs between callers is passed in: the page strategy, a
filter of due links, the links job's settings. Whether nothing answered is decided once, from
the fetcher's traffic over the whole job, and surfaced on the result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from archiver.capture.pages import LivePages, Page, Pages, StoredPages
from archiver.errors import InputError
from archiver.links.check import classify, precheck
from archiver.models import (
    CanonicalCopy,
    Capture,
    Document,
    Drift,
    Link,
    LinkCheck,
    Traffic,
    utc_iso,
)
from archiver.verify.citations import COMPARED, SourceDrift, citing_context, source_drift
from archiver.verify.compare import (
    DRIFTED,
    REWRITE_THRESHOLD,
    compare,
    verdict_without_page,
    word_similarity,
)
from archiver.verify.copies import read_copies
from archiver.verify.heap import few_full_collections
from archiver.verify.recover import recover_links

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from archiver.archive.store import Archive
    from archiver.fetch.fetcher import Fetcher
    from archiver.links.job import Due, LinkSettings

OFFLINE_DETAIL = "offline: not checked"
UNCHECKED_DETAIL = "not checked (--no-check-links)"


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
    links_not_due: int = 0
    page: Page = field(default_factory=Page)

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


@dataclass(frozen=True, kw_only=True)
class VerifyResult:
    """What one verify job found; ``offline``: requests were made and nothing answered."""

    verifications: tuple[Verification, ...]
    offline: bool = False

    def __iter__(self) -> Iterator[Verification]:
        return iter(self.verifications)

    def __len__(self) -> int:
        return len(self.verifications)

    def __getitem__(self, index: int) -> Verification:
        return self.verifications[index]


def _unchecked(link: Link, detail: str = OFFLINE_DETAIL) -> LinkCheck:
    return precheck(link) or LinkCheck(
        url=link.url, text=link.text, status="skipped", broken=False, detail=detail
    )


def _prechecked(links: Sequence[Link], flags: Sequence[bool], detail: str) -> list[LinkCheck]:
    """The unchecked verdict of each link (placeholder, mailto:, invalid, or ``detail``), with
    its ``recovered`` flag: one precheck per distinct URL, one record per distinct link."""
    verdicts: dict[str, LinkCheck] = {}
    made: dict[tuple[str, str, bool], LinkCheck] = {}
    out: list[LinkCheck] = []
    for link, flag in zip(links, flags, strict=True):
        key = (link.url, link.text, flag)
        check = made.get(key)
        if check is None:
            known = verdicts.get(link.url)
            if known is None:
                known = verdicts[link.url] = _unchecked(link, detail)
            if known.text == link.text:
                check = replace(known, recovered=flag)
            else:
                check = replace(known, text=link.text, recovered=flag)
            made[key] = check
        out.append(check)
    return out


def _fetchable(check: LinkCheck) -> bool:
    """Was (or, unchecked, would) this link be fetched: not a placeholder, mailto:, bad URL."""
    if check.status == "skipped":
        return check.detail in (OFFLINE_DETAIL, UNCHECKED_DETAIL)
    return check.status not in ("placeholder", "invalid")


#: How a job compares a copy with a document: ``compare``, or a drift computed elsewhere.
Comparer = Callable[[CanonicalCopy, Document], Drift]


def page_drift(
    copy: CanonicalCopy, capture: Capture, live: Document | None, *, compared: Comparer = compare
) -> tuple[Drift, str]:
    """The verdict for a fetched page: compared, or missing / unreachable from the fetch."""
    page = classify(Link(url=copy.url, text=copy.title or ""), capture)
    if page.status not in ("ok", "redirected"):
        return verdict_without_page(copy, page.status, page.detail), page.detail
    if live is None:
        return verdict_without_page(copy, "unreachable", "the page could not be extracted"), ""
    drift = compared(copy, live)
    if page.status == "redirected" and drift.status == "rewritten" and _unrelated(copy, live):
        detail = f"redirected to an unrelated page {capture.final_url}"
        return verdict_without_page(copy, "soft_404", detail), detail
    return drift, page.detail


def drift_of(copy: CanonicalCopy, page: Page, *, compared: Comparer = compare) -> tuple[Drift, str]:
    """The drift verdict of a copy against the page a strategy gave (any strategy)."""
    if page.capture is None:
        if page.document is not None:
            return compared(copy, page.document), ""
        detail = "offline: no stored capture"
        return verdict_without_page(copy, "unreachable", detail), detail
    if page.not_modified:  # the page as last stored, alive
        if page.document is not None:
            return compared(copy, page.document), ""
        detail = "the page could not be extracted"
        return verdict_without_page(copy, "unreachable", detail), ""
    return page_drift(copy, page.capture, page.document, compared=compared)


def known_drifts(drifts: Mapping[str, tuple[Document, Drift]]) -> Comparer:
    """A comparer that takes the drift computed elsewhere (a worker) for a copy, by its path,
    when it was computed against this very document; otherwise it compares now."""

    def compared(copy: CanonicalCopy, document: Document) -> Drift:
        known = drifts.get(copy.path)
        if known is not None and known[0] is document:
            return known[1]
        return compare(copy, document)

    return compared


def _unrelated(copy: CanonicalCopy, live: Document) -> bool:
    """A redirect target that is another article: a different headline and different text."""
    if not copy.title or not live.title:
        return True
    return word_similarity(copy.title, live.title) < REWRITE_THRESHOLD


class Baselines:
    """First and newest stored captures of source URLs, looked up once per URL per job."""

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

    def prefetch(self, urls: Sequence[str]) -> None:
        """Look up together the first and newest captures of the URLs not looked up yet."""
        captures = self.archive.captures
        missing = [url for url in dict.fromkeys(urls) if url not in self._first]
        for url, first in captures.first_documents(missing).items():
            self._first[url] = first if first is not None else (None, None)
        missing = [url for url in dict.fromkeys(urls) if url not in self._latest]
        for url, state in captures.newest_states(missing).items():
            ok = state is not None and state[1].ok
            self._latest[url] = (state[0], state[2]) if state and ok else (None, None)

    def remember(self, url: str, capture_id: int | None, document: Document | None) -> None:
        """What this job's fetch of the source gave (None: it did not answer with a page)."""
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


def verify_many(
    copies: Sequence[CanonicalCopy],
    *,
    fetcher: Fetcher | None,
    archive: Archive,
    check: bool = True,
    sources: bool = True,
    run_id: int | None = None,
    pages: Pages | None = None,
    due: Due | None = None,
    settings: LinkSettings | None = None,
    ahead: dict[str, Capture] | None = None,
    skip_keeping: Callable[[str], bool] | None = None,
    drifts: Mapping[str, tuple[Document, Drift]] | None = None,
    since: Traffic | None = None,
) -> VerifyResult:
    """Verify many copies: every page in one polite concurrent batch, then every link in one.

    Without a fetcher (``--offline``) each copy is compared with the newest stored capture of
    its URL and links are only prechecked. Each page and each link target is fetched once per
    job however many copies name it; every capture and every verification is stored. ``due``
    picks the links to check (a run's schedule); the others are counted, not checked.
    ``drifts``: by copy path, the drift already computed (in a worker) against a document;
    used when the page's document is that very object (:func:`known_drifts`).
    ``since``: the fetcher's traffic from which "nothing answered" is judged; a run passes its
    own start, since it fetches pages and sources ahead of the job (docs/contract.md: nothing
    at all answered *in this run*); nothing answering during the job itself counts too.
    """
    if pages is None:
        pages = LivePages(fetcher, archive, run_id=run_id) if fetcher else StoredPages(archive)
    if settings is None and fetcher is None:
        now = utc_iso()  # offline: no link is checked, so nothing of the links job is needed
    else:
        # Imported here: the links job brings the fetcher (requests), which --offline never uses.
        from archiver.links.job import LinkSettings

        settings = settings or LinkSettings(run_id=run_id)
        now = settings.now
    start = fetcher.traffic() if fetcher is not None else None
    got = pages.get([copy.url for copy in copies])

    compared = known_drifts(drifts) if drifts else compare
    verdicts: list[tuple[Drift, str]] = []
    chosen: list[list[int]] = []
    pairs_of: list[list[tuple[Link, bool]]] = []
    for copy in copies:
        page = got[copy.url]
        verdicts.append(drift_of(copy, page, compared=compared))
        pairs = recover_links(copy.links, page.document.links if page.document else ())
        pairs_of.append(pairs)
        links = [link for link, _ in pairs]
        chosen.append(list(due(links)) if due is not None else list(range(len(links))))
    all_links = [pairs_of[n][i][0] for n, picked in enumerate(chosen) for i in picked]
    all_flags = [pairs_of[n][i][1] for n, picked in enumerate(chosen) for i in picked]

    baselines = Baselines(archive)
    checked = check and fetcher is not None
    if checked:
        assert fetcher is not None and settings is not None
        from archiver.links.job import check_and_keep

        done = check_and_keep(
            all_links,
            fetcher=fetcher,
            archive=archive,
            settings=settings,
            ahead=ahead,
            skip_keeping=skip_keeping,
        )
        all_checks = list(done.checks)
        for url, source in done.kept.items():
            if source.capture is not None and source.capture.ok:
                baselines.remember(url, source.capture_id, source.document)
            else:
                baselines.remember(url, None, None)  # no page now: not compared
        checks = [replace(c, recovered=f) for c, f in zip(all_checks, all_flags, strict=True)]
    else:
        checks = _prechecked(
            all_links, all_flags, OFFLINE_DETAIL if fetcher is None else UNCHECKED_DETAIL
        )
    offline = False
    if start is not None and fetcher is not None:
        from archiver.links.job import nothing_answered

        offline = nothing_answered(fetcher, start, since)
    if offline:
        # No page could be read, so no placeholder could be recovered: that is no verdict on
        # the copy's links either (docs/contract.md: network_unavailable), not a broken link.
        from archiver.links.job import without_verdict

        checks = without_verdict(checks)

    results: list[Verification] = []
    rows: list[dict[str, Any]] = []
    position = 0
    if sources:  # the sources' first and newest captures, looked up together
        baselines.prefetch([c.url.strip() for c in checks if not c.broken and _fetchable(c)])
    for copy, (drift, detail), picked in zip(copies, verdicts, chosen, strict=True):
        page = got[copy.url]
        mine = tuple(checks[position : position + len(picked)])
        position += len(picked)
        drifted_sources = source_drifts(copy, mine, baselines) if sources else ()
        rows.append(
            {
                "canonical_path": copy.path,
                "url": copy.url,
                "drift": drift,
                "capture_id": page.capture_id,
                "links": list(mine) if checked else [],  # else: none checked
                "run_id": run_id,
                "verified_at": now,
            }
        )
        results.append(
            Verification(
                canonical=copy,
                drift=drift,
                links=mine,
                capture_id=page.capture_id,
                page_detail=detail,
                offline=fetcher is None,
                sources=drifted_sources,
                page_error=page.capture.error if page.capture is not None else None,
                links_not_due=len(copy.links) - len(picked),
                page=page,
            )
        )
    # Every verification of the job in one transaction (one commit, not one per copy).
    ids = archive.save_verifications(rows)
    to_store: list[tuple[int, list[SourceDrift]]] = []
    for verification_id, result in zip(ids, results, strict=True):
        judged = [d for d in result.sources if d.status in COMPARED]
        if judged:
            to_store.append((verification_id, judged))
    archive.save_source_drifts_many(to_store)
    return VerifyResult(verifications=tuple(results), offline=offline)


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
    settings: LinkSettings | None = None,
    executor: Executor | None = None,
) -> VerifyResult:
    """Read every copy first, then verify them all (:func:`verify_many`).

    A copy that cannot be read raises before any fetch, unless ``errors`` is given: then the
    unreadable copies are appended there and the others are still verified (the CLI reports
    them and exits 2 at the end, as a linter does with a file it cannot parse). ``executor``:
    where the copies are parsed and the fetched pages extracted (None: here).
    """
    with few_full_collections():  # the job holds every copy and verdict: docs in heap.py
        copies, bad = read_copies(paths, archive=archive, executor=executor)
        if bad and errors is None:
            raise bad[0]
        if errors is not None:
            errors.extend(bad)
        pages = None
        if executor is not None and fetcher is not None:
            pages = LivePages(fetcher, archive, run_id=run_id, executor=executor)
        return verify_many(
            copies,
            fetcher=fetcher,
            archive=archive,
            check=check,
            run_id=run_id,
            settings=settings,
            pages=pages,
        )


def summarize_drift(verifications: Sequence[Verification] | VerifyResult) -> dict[str, int]:
    """Count of each drift status, for the contract's ``summary``."""
    counts: dict[str, int] = {}
    for v in verifications:
        counts[v.drift.status] = counts.get(v.drift.status, 0) + 1
    return dict(sorted(counts.items()))


def found_problems(verifications: Sequence[Verification] | VerifyResult) -> bool:
    """Exit 1 material: drift (edited, rewritten, missing), a broken link, a drifted source."""
    return any(
        v.drift.status in DRIFTED
        or any(c.broken for c in v.links)
        or any(s.flagged for s in v.sources)
        for v in verifications
    )

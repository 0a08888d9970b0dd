"""A scheduled archival run: everything a config names, as a cron job or systemd timer runs it.

One run, in order:

1. take the archive's lock (:mod:`archiver.runs.lock`), so two runs never interleave; runs the
   archive still calls ``running`` have no process behind them and become ``interrupted``;
2. expand the sources (:mod:`archiver.runs.sources`) into items;
3. decide what is due (the pure :func:`archiver.runs.schedule.plan`): an item whose last good
   visit is older than its interval (recent articles often, old ones rarely) and not already
   done by the interrupted run this one resumes; inside an item, each link by its own state
   (broken links less often than live ones, suspects daily so evidence piles up);
4. visit each due item: a conditional GET of the page (so an unchanged page costs a 304), then
   for a canonical copy the drift verdict and its due links, for a bare URL the due sources it
   links to, captured and classified; then one ``run_items`` row says the item is done;
5. record the summary in ``runs``, notify if something new broke or drifted.

Crash safety comes from the order of writes: every capture is its own transaction, an item is
marked done only after its results are stored, and a resumed run reuses the captures and
verdicts the killed run stored instead of fetching again. So SIGKILL at any instant leaves no
half-written capture and the next run neither loses nor duplicates work.

The composition mirrors :func:`archiver.verify.job.verify_copy` and calls the same stages
(``compare``, ``classify``, ``check_links``, ``recover_links``, ``extract_capture``); it does
its own page fetch because a scheduled run needs the conditional GET and per-link schedule that
``verify_copy`` does not take.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from archiver.archive.store import Archive
from archiver.errors import ArchiverError, JobError, NetworkUnavailable
from archiver.extract.normalize import NORMALIZER_VERSION
from archiver.fetch.fetcher import Fetcher
from archiver.links.check import (
    SUSPECT,
    check_links,
    classify,
    make_check,
    network_unavailable,
    precheck,
)
from archiver.links.rot import judge_all
from archiver.models import Capture, Document, Link, LinkCheck, utc_iso
from archiver.runs import notify
from archiver.runs.config import RunConfig
from archiver.runs.lock import RunLock, lock_path
from archiver.runs.schedule import age_of, link_is_due, plan
from archiver.runs.sources import Expansion, Item, check_local, expand
from archiver.verify.citations import COMPARED
from archiver.verify.compare import DRIFTED, compare, verdict_without_page
from archiver.verify.job import Baselines, extract_capture, page_drift, recover_links, source_drifts

log = logging.getLogger(__name__)

#: Outcomes that do not count as done: the item is visited again at the next run.
FAILED = ("unreachable", "error", "network_unavailable", *sorted(SUSPECT))
#: Link verdicts that say nothing about the link: never the basis of a schedule.
NO_VERDICT = ("network_unavailable", "skipped", "placeholder")

Progress = Callable[[int, int, str], None]


# -- the run's results ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ItemResult:
    """What visiting one item found."""

    item: Item
    outcome: str  # drift status (canonical copies) or the page's link status (URLs)
    captures: int = 0
    not_modified: int = 0
    checks: tuple[LinkCheck, ...] = ()
    links_not_due: int = 0
    drift: str | None = None
    detail: str = ""
    resumed: bool = False


@dataclass(kw_only=True)
class RunResult:
    """The summary of one run, as ``--json`` prints it and ``runs.summary`` keeps it."""

    run_id: int
    config: str
    archive: str
    started: float
    status: str = "running"
    items_total: int = 0
    not_due: int = 0
    resumed_items: int = 0
    resumed_from: list[int] = field(default_factory=list)
    stale_lock: dict[str, Any] | None = None
    results: list[ItemResult] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    new_broken: list[dict[str, Any]] = field(default_factory=list)
    new_drift: list[dict[str, Any]] = field(default_factory=list)
    source_captures: int = 0
    notified: bool = False
    duration: float = 0.0

    def counts(self, what: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for result in self.results:
            if what == "drift" and result.drift is not None:
                out[result.drift] = out.get(result.drift, 0) + 1
            if what == "links":
                for check in result.checks:
                    out[check.status] = out.get(check.status, 0) + 1
        return dict(sorted(out.items()))

    @property
    def broken_links(self) -> int:
        return sum(1 for r in self.results for c in r.checks if c.broken)

    @property
    def exit_code(self) -> int:
        """The contract's code: 1 when drift, broken links or errors were found, else 0.

        What the interrupted runs this one resumed found counts as found by this one.
        """
        drifted = any(r.drift in DRIFTED for r in self.results) or self.new_drift
        broken = self.broken_links or self.new_broken
        return 1 if drifted or broken or self.errors else 0

    def to_json(self) -> dict[str, Any]:
        captures = self.source_captures + sum(r.captures for r in self.results)
        return {
            "run_id": self.run_id,
            "status": self.status,
            "config": self.config,
            "archive": self.archive,
            "items": {
                "total": self.items_total,
                "visited": sum(1 for r in self.results if not r.resumed),
                "not_due": self.not_due,
                "resumed": self.resumed_items,
            },
            "resumed_from": self.resumed_from,
            "stale_lock": self.stale_lock,
            "captures": captures,
            "not_modified": sum(r.not_modified for r in self.results),
            "drift": self.counts("drift"),
            "links": self.counts("links"),
            "links_not_due": sum(r.links_not_due for r in self.results),
            "broken_links": self.broken_links,
            "new_broken_links": len(self.new_broken),
            "new_broken": self.new_broken,
            "new_drift": self.new_drift,
            "errors": len(self.errors),
            "error_details": self.errors,
            "notified": self.notified,
            "duration": round(self.duration, 3),
        }


# -- visiting items (the I/O edge) --------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Page:
    capture_id: int
    capture: Capture
    document: Document | None
    fresh: int = 0  # captures stored now (0 when reused from the resumed run)

    @property
    def not_modified(self) -> bool:
        return self.capture.not_modified

    def verdict(self, link: Link) -> LinkCheck:
        """The page's own link status; a 304 is the page as last stored, alive."""
        if self.not_modified:
            return make_check(link, "ok", http_status=304, detail="HTTP 304 not modified")
        return classify(link, self.capture)


class _Visitor:
    """Visits items for one run: holds the archive, fetcher, schedule and what the cycle did."""

    def __init__(
        self,
        *,
        config: RunConfig,
        archive: Archive,
        fetcher: Fetcher,
        run_id: int,
        resume_ids: Sequence[int],
        now: datetime,
    ) -> None:
        self.config = config
        self.archive = archive
        self.fetcher = fetcher
        self.run_id = run_id
        self.now = now
        self.cycle = archive.run_captures(resume_ids)  # url -> capture id stored this cycle
        self._sources_stored: set[str] = set()  # link targets archived by this run
        self.resumed_verdicts = archive.run_verifications(resume_ids)
        self.link_states = archive.link_states(ignore=NO_VERDICT)
        # News is measured from before the runs this one resumes: what they found is news too.
        chain_start = archive.run_started(min(resume_ids)) if resume_ids else None
        self.link_states_before = (
            archive.link_states(ignore=NO_VERDICT, before=chain_start)
            if chain_start
            else dict(self.link_states)
        )
        self.resumed_checks = archive.run_link_checks(resume_ids)
        self.drift_before = archive.drift_states(before_run=min(resume_ids, default=run_id))
        self.batch = _Batch(fetcher)
        self._pages: dict[str, _Page] = {}

    # pages ------------------------------------------------------------------------------------

    def page(self, url: str) -> _Page:
        """The page now: reused if this cycle stored it, else a conditional GET and stored."""
        if url in self._pages:
            return self._pages.pop(url)
        stored_id = self.cycle.get(url)
        if stored_id is not None:
            stored = self.archive.get_capture(stored_id)
            if stored is not None:
                document = stored.document
                if stored.capture.not_modified:
                    document = self._last_document(url)
                return _Page(capture_id=stored.id, capture=stored.capture, document=document)
        etag, last_modified = self.archive.validators(url)
        capture = self.fetcher.fetch(url, etag=etag, last_modified=last_modified)
        return self._store_page(url, capture)

    def _store_page(self, url: str, capture: Capture) -> _Page:
        if capture.not_modified:
            capture_id = self.archive.save_capture(capture, None, run_id=self.run_id)
            document = self._last_document(url)
        else:
            document = extract_capture(capture)
            capture_id = self.archive.save_capture(capture, document, run_id=self.run_id)
        self.cycle[url] = capture_id
        return _Page(capture_id=capture_id, capture=capture, document=document, fresh=1)

    def _store_sources(self, checks: Sequence[LinkCheck]) -> None:
        """Archive the sources fetched to check a copy's links, once a run, as verify does."""
        for check in checks:
            url = check.url.strip()
            capture = self.batch.cache.get(url)
            if capture is None or url in self._sources_stored or url in self.cycle:
                continue
            self._sources_stored.add(url)
            self._save_source(capture)

    def _save_source(self, capture: Capture) -> int:
        """Store a linked source; bytes already extracted at that URL are not extracted again."""
        known = (
            self.archive.known_document(capture.final_url, capture.sha256, NORMALIZER_VERSION)
            if capture.ok
            else None
        )
        document = known or extract_capture(capture)
        return self.archive.save_capture(capture, document, run_id=self.run_id)

    def _last_document(self, url: str) -> Document | None:
        stored = self.archive.latest_capture(url)
        return stored.document if stored is not None else None

    def fetch_body(self, url: str) -> Capture:
        """A feed or sitemap: conditional GET, stored; a 304 gives the stored bytes to parse."""
        page = self.page(url)
        if not page.not_modified:
            return page.capture
        stored = self.archive.latest_capture(url, with_document=False)
        return stored.capture if stored is not None else page.capture

    def prefetch(self, items: Sequence[Item]) -> None:
        """Fetch the pages of a batch of items and their due links, all concurrently.

        The fetcher keeps every per-host limit, so a batch costs what the busiest host's
        politeness allows instead of the sum of every request's latency. Each page is stored
        (and extracted) as soon as it arrives, in this thread, while the others are still on
        the wire; its due links are then sent for in the background. The captures stored are
        the ones :meth:`page` would store, one transaction each.
        """
        by_url: dict[str, list[Item]] = {}
        for item in items:
            if not (item.canonical and item.canonical.path in self.resumed_verdicts):
                by_url.setdefault(item.url, []).append(item)
        asked = [(url, *self.archive.validators(url)) for url in by_url if url not in self.cycle]
        if not asked:
            return
        sent: set[str] = set()
        jobs: list[tuple[list[str], Future[list[Capture]]]] = []
        wanted: list[str] = []
        workers = max(1, min(self.fetcher.policy.max_connections, len(asked)))
        with (
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="archiver-page") as pages,
            ThreadPoolExecutor(max_workers=2, thread_name_prefix="archiver-links") as links,
        ):
            futures = {
                pages.submit(self.fetcher.fetch, url, etag=etag, last_modified=modified): url
                for url, etag, modified in asked
            }
            for future in as_completed(futures):
                url = futures[future]
                try:
                    page = self._store_page(url, future.result())
                except JobError:
                    raise
                except Exception as exc:  # visited again, one at a time, by visit()
                    log.warning("%s: %s: %s", url, type(exc).__name__, exc)
                    continue
                self._pages[url] = page
                for item in by_url[url]:
                    wanted += [u for u in self._due_targets(item, page) if u not in sent]
                    sent.update(wanted)
                if len(wanted) >= 32:
                    jobs.append((wanted, links.submit(self.fetcher.fetch_many, wanted)))
                    wanted = []
            if wanted:
                jobs.append((wanted, links.submit(self.fetcher.fetch_many, wanted)))
            for urls, job in jobs:
                self.batch.cache.update(zip(urls, job.result(), strict=True))

    def _due_targets(self, item: Item, page: _Page) -> list[str]:
        """The URLs of an item's links that are due and need fetching."""
        if not item.follow_links or page.document is None:
            return []
        if item.canonical is not None:
            pairs = recover_links(item.canonical.links, page.document.links)
            links = [link for link, _ in pairs]
        else:
            links = list(page.document.links)
        targets = [
            links[i].url.strip() for i in self.due_links(links) if precheck(links[i]) is None
        ]
        return [url for url in dict.fromkeys(targets) if url not in self.cycle]

    def end_batch(self) -> None:
        self.batch.cache.clear()
        self._pages.clear()

    # links ------------------------------------------------------------------------------------

    def due_links(self, links: Sequence[Link]) -> list[int]:
        schedule = self.config.schedule
        return [
            i
            for i, link in enumerate(links)
            if link_is_due(link, self.link_states, schedule, self.now)
        ]

    @property
    def stamp(self) -> str:
        """The run's clock as the archive writes times (ISO 8601 UTC)."""
        return utc_iso(self.now)

    def _judged(self, checks: Sequence[LinkCheck]) -> list[LinkCheck]:
        """Suspects turn broken only by their history in the archive, as in ``verify``."""
        return judge_all(checks, self.archive, now=self.stamp)

    def _remember(self, checks: Sequence[LinkCheck]) -> None:
        stamp = self.now.isoformat().replace("+00:00", "Z")
        for check in checks:
            if check.status not in NO_VERDICT:
                self.link_states[check.url.strip()] = (stamp, check.status, check.broken)

    # items ------------------------------------------------------------------------------------

    def visit(self, item: Item) -> ItemResult:
        if item.canonical is not None:
            return self._verify(item)
        return self._snapshot(item)

    def _verify(self, item: Item) -> ItemResult:
        copy = item.canonical
        assert copy is not None
        if copy.path in self.resumed_verdicts:
            status = self.resumed_verdicts[copy.path][0]
            return ItemResult(item=item, outcome=status, drift=status, resumed=True,
                              detail="verified by the interrupted run")  # fmt: skip
        page = self.page(copy.url)
        verdict = page.verdict(Link(url=copy.url, text=copy.title or ""))
        live = page.document
        if page.not_modified:  # the page as last stored, alive
            if live is not None:
                drift = compare(copy, live)
            else:
                detail = "the page could not be extracted"
                drift = verdict_without_page(copy, "unreachable", detail)
        else:  # the same verdict `verify` gives (a redirect to an unrelated page is missing)
            drift, _ = page_drift(copy, page.capture, live)
        pairs = recover_links(copy.links, live.links if live else ())
        links = [link for link, _ in pairs]
        due = self.due_links(links) if item.follow_links else []
        checks = self._judged(check_links([links[i] for i in due], self.batch)) if due else []
        results = tuple(
            _recovered(check, pairs[i][1]) for i, check in zip(due, checks, strict=True)
        )
        self._remember(results)
        self._store_sources(results)
        verification_id = self.archive.save_verification(
            canonical_path=copy.path,
            url=copy.url,
            drift=drift,
            capture_id=page.capture_id,
            links=list(results),
            run_id=self.run_id,
            verified_at=self.stamp,
        )
        # Sources that drift: each source now against its first capture, as verify does.
        cited = source_drifts(copy, results, Baselines(self.archive))
        compared = [d for d in cited if d.status in COMPARED]
        if compared:
            self.archive.save_source_drifts(verification_id, compared)
        return ItemResult(
            item=item,
            outcome=drift.status,
            captures=page.fresh,
            not_modified=int(page.not_modified and page.fresh > 0),
            checks=results,
            links_not_due=len(links) - len(due),
            drift=drift.status,
            detail=verdict.detail,
        )

    def _snapshot(self, item: Item) -> ItemResult:
        page = self.page(item.url)
        verdict = page.verdict(Link(url=item.url, text=""))
        document = page.document
        fresh = page.fresh
        checks: list[LinkCheck] = []
        not_due = 0
        if item.follow_links and document is not None:
            links = list(
                {
                    link.url.strip(): link for link in document.links if precheck(link) is None
                }.values()
            )
            due = [links[i] for i in self.due_links(links)]
            not_due = len(links) - len(due)
            reused = {link.url: self.cycle[link.url] for link in due if link.url in self.cycle}
            to_fetch = [link.url for link in due if link.url not in reused]
            fetched = dict(zip(to_fetch, self.batch.fetch_many(to_fetch), strict=True))
            captures: dict[str, Capture] = {}
            for url, capture in fetched.items():
                self.cycle[url] = self._save_source(capture)
                captures[url] = capture
                fresh += 1
            for url, capture_id in reused.items():
                stored = self.archive.get_capture(capture_id)
                if stored is not None:
                    captures[url] = stored.capture
            offline = network_unavailable(list(fetched.values()))
            for link in due:
                source = captures.get(link.url)
                if source is None:
                    continue
                if offline:
                    detail = f"nothing answered ({source.error})"
                    checks.append(make_check(link, "network_unavailable", detail=detail))
                else:
                    checks.append(classify(link, source))
            checks = self._judged(checks)
            if checks:
                self.archive.save_link_checks(
                    checks, source_url=item.url, capture_id=page.capture_id, checked_at=self.stamp
                )
            self._remember(checks)
        outcome = "not_modified" if page.not_modified else verdict.status
        return ItemResult(
            item=item,
            outcome=outcome,
            captures=fresh,
            not_modified=int(page.not_modified and page.fresh > 0),
            checks=tuple(checks),
            links_not_due=not_due,
            detail=verdict.detail,
        )


def _recovered(check: LinkCheck, flag: bool) -> LinkCheck:
    return replace(check, recovered=flag)


class _Batch:
    """The fetcher, with the links of a batch fetched ahead in one concurrent ``fetch_many``.

    It has the ``fetch_many`` that :func:`archiver.links.check.check_links` needs, so link
    checking stays the library's; a URL fetched ahead is answered from this batch's captures.
    """

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher
        self.cache: dict[str, Capture] = {}

    def warm(self, urls: Sequence[str]) -> None:
        todo = [url for url in dict.fromkeys(urls) if url not in self.cache]
        if todo:
            self.cache.update(zip(todo, self.fetcher.fetch_many(todo), strict=True))

    def fetch_many(self, urls: Iterable[str], *, method: str = "GET") -> list[Capture]:
        wanted = list(urls)
        if method != "GET":
            return self.fetcher.fetch_many(wanted, method=method)
        self.warm(wanted)
        return [self.cache[url] for url in wanted]


# -- the run ------------------------------------------------------------------------------------


def _resume_chain(archive: Archive, run_id: int, window: float) -> list[int]:
    """The interrupted runs right before this one (within ``window`` seconds): what to resume."""
    chain: list[int] = []
    before = run_id
    now = datetime.now(UTC)
    while True:
        previous = archive.last_run(before=before)
        if previous is None or previous["status"] != "interrupted":
            break
        age = age_of(previous["started_at"], now)
        if age is None or age > window:
            break
        chain.append(int(previous["id"]))
        before = int(previous["id"])
    return sorted(chain)


def execute(
    config: RunConfig,
    *,
    archive: Archive,
    fetcher: Fetcher,
    progress: Progress | None = None,
    stale_lock: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> RunResult:
    """One run over an open archive with a fetcher; the caller holds the lock.

    Raises :class:`NetworkUnavailable` (after recording the run) when nothing answered at all,
    so a machine without a network never marks a link broken or an item done.
    """
    moment = now or datetime.now(UTC)
    stale = [int(r["id"]) for r in archive.runs_with_status("running")]
    if stale:
        log.warning("runs %s were killed before they finished: marked interrupted", stale)
        archive.set_run_status(stale, "interrupted")
    run_id = archive.start_run(command="run", config=os.path.abspath(config.path))
    result = RunResult(
        run_id=run_id,
        config=config.path,
        archive=archive.path,
        started=time.monotonic(),
        stale_lock=stale_lock,
    )
    try:
        resume_window = max(config.schedule.recent_every, 86400.0)
        resume_ids = _resume_chain(archive, run_id, resume_window)
        result.resumed_from = resume_ids
        visitor = _Visitor(
            config=config,
            archive=archive,
            fetcher=fetcher,
            run_id=run_id,
            resume_ids=resume_ids,
            now=moment,
        )
        before = len(visitor.cycle)
        expansion: Expansion = expand(config, visitor.fetch_body)
        result.source_captures = max(0, len(visitor.cycle) - before)
        result.errors += [{"item": where, "detail": what} for where, what in expansion.errors]
        result.items_total = len(expansion.items)
        the_plan = plan(
            expansion.items,
            last_done=archive.item_times(failed=FAILED),
            resumed_done=archive.items_done(resume_ids, failed=FAILED),
            schedule=config.schedule,
            now=moment,
        )
        result.not_due = len(the_plan.not_due)
        result.resumed_items = len(the_plan.resumed)
        total = len(the_plan.due)
        for index, item in enumerate(the_plan.due):
            if index % config.batch == 0:
                visitor.end_batch()
                if progress:
                    progress(index, total, "fetching a batch")
                visitor.prefetch(the_plan.due[index : index + config.batch])
            if progress:
                progress(index, total, item.url)
            try:
                outcome = visitor.visit(item)
            except JobError:
                raise  # the archive is locked or corrupt, the network gone: stop here
            except Exception as exc:  # one bad page must not stop a scheduled run
                log.warning("%s: %s: %s", item.key, type(exc).__name__, exc)
                log.debug("the failure in full", exc_info=True)
                detail = f"{type(exc).__name__}: {exc}"[:300]
                outcome = ItemResult(item=item, outcome="error", detail=detail)
                result.errors.append({"item": item.key, "detail": detail})
            result.results.append(outcome)
            archive.mark_item(
                run_id,
                item=item.key,
                kind=item.kind,
                url=item.url,
                outcome=outcome.outcome,
                detail=outcome.detail[:500],
                done_at=visitor.stamp,  # the run's clock, which the schedule reads back
            )
            if outcome.resumed:
                result.resumed_items += 1
        if progress:
            progress(total, total, "")
        _news(result, visitor)
        result.duration = time.monotonic() - result.started
        if fetcher.attempts and not fetcher.network_seen:
            result.status = "network_unavailable"
            archive.finish_run(run_id, status=result.status, summary=result.to_json())
            raise NetworkUnavailable(
                f"nothing answered: none of {fetcher.attempts} requests got an answer; "
                "run recorded, nothing marked done"
            )
        if notify.should_notify(config.notify, result.to_json()):
            problems = notify.send(
                config.notify, result.to_json(), policy=config.policy, routes=config.routes
            )
            result.errors += [{"item": "notify", "detail": p} for p in problems]
            result.notified = not problems
        result.status = "done"
        result.duration = time.monotonic() - result.started
        archive.finish_run(run_id, status=result.status, summary=result.to_json())
        return result
    except NetworkUnavailable:
        raise
    except BaseException as exc:
        result.status = "failed" if isinstance(exc, ArchiverError) else "interrupted"
        result.duration = time.monotonic() - result.started
        try:
            archive.finish_run(run_id, status=result.status, summary=result.to_json())
        except ArchiverError:
            log.warning("could not record the end of run %d", run_id)
        raise


def _news(result: RunResult, visitor: _Visitor) -> None:
    """What is new since the last run: links newly broken, copies newly drifted."""
    found = [(c.url, c.status, c.broken, r.item.url) for r in result.results for c in r.checks]
    found = [
        (c["url"], c["status"], bool(c["broken"]), c["source_url"]) for c in visitor.resumed_checks
    ] + found
    seen: set[str] = set()
    for url, status, broken, source in found:
        before = visitor.link_states_before.get(url.strip())
        if broken and url.strip() not in seen and (before is None or not before[2]):
            seen.add(url.strip())
            result.new_broken.append({"url": url, "status": status, "source": source})
    copies = {r.item.canonical.path: r for r in result.results if r.item.canonical is not None}
    for path, (status, url) in visitor.resumed_verdicts.items():
        if path not in copies and status in DRIFTED and visitor.drift_before.get(path) != status:
            result.new_drift.append({"canonical": path, "url": url, "status": status})
    for path, item_result in copies.items():
        copy = item_result.item.canonical
        assert copy is not None
        if item_result.drift in DRIFTED and visitor.drift_before.get(path) != item_result.drift:
            result.new_drift.append(
                {"canonical": path, "url": copy.url, "status": item_result.drift}
            )


@contextmanager
def _terminate_as_interrupt(fetcher: Fetcher) -> Iterator[None]:
    """SIGTERM (systemd stop, ``kill``) ends the run like Ctrl-C: recorded as interrupted.
    On either signal the fetcher is stopped first, so fetches waiting in the run's other
    threads (a Retry-After, a backoff, a stalled body) end at once too."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        fetcher.stop()
        raise KeyboardInterrupt(f"signal {signum}")

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        fetcher.stop()
        try:
            if callable(previous_int):
                previous_int(signum, frame)  # the command line's own Ctrl-C handling
        except KeyboardInterrupt:
            pass
        raise KeyboardInterrupt("Ctrl-C")

    previous = signal.signal(signal.SIGTERM, handler)
    previous_int = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


def run(
    config: RunConfig,
    *,
    db_path: str,
    progress: Progress | None = None,
    fetcher: Fetcher | None = None,
) -> RunResult:
    """Take the lock, open the archive and a fetcher, run once, let everything go."""
    check_local(config)
    own = fetcher is None
    active = fetcher or Fetcher(config.policy, routes=config.routes)
    with RunLock(lock_path(db_path)) as lock, _terminate_as_interrupt(active):
        stale = None
        if lock.stale is not None:
            stale = {"pid": lock.stale.pid, "host": lock.stale.host, "since": lock.stale.started_at}
        try:
            with Archive(db_path) as archive:
                return execute(
                    config, archive=archive, fetcher=active, progress=progress, stale_lock=stale
                )
        except KeyboardInterrupt as exc:
            raise JobError(
                f"run interrupted ({exc or 'Ctrl-C'}): recorded as interrupted; "
                "the next run resumes where it stopped"
            ) from exc
        finally:
            if own:
                active.close()


# -- for people: a progress bar on a terminal, and a few lines of summary ---------------------


@contextmanager
def progress_bar() -> Iterator[Progress | None]:
    """A rich progress bar on stderr when stderr is a terminal; nothing at all otherwise."""
    import sys

    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    with Progress(
        TextColumn("archiving"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.description}", markup=False),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def update(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=_safe(label)[-60:])

        yield update


def summary_text(summary: dict[str, Any]) -> str:
    """The summary a person reads after a run (page text is never in it unescaped)."""
    items = summary["items"]
    lines = [
        f"run {summary['run_id']}: {summary['status']} in {summary['duration']:.1f}s — "
        f"{items['visited']} visited, {items['not_due']} not due, {items['resumed']} resumed "
        f"of {items['total']} items",
        f"captures: {summary['captures']} ({summary['not_modified']} not modified)",
        "drift: " + (", ".join(f"{k}: {v}" for k, v in summary["drift"].items()) or "-"),
        "links: " + (", ".join(f"{k}: {v}" for k, v in summary["links"].items()) or "-"),
        f"new broken links: {summary['new_broken_links']}, errors: {summary['errors']}",
    ]
    for entry in summary["new_drift"]:
        lines.append(f"  drift {entry['status']}: {_safe(entry['canonical'])}")
    for entry in summary["new_broken"]:
        lines.append(f"  broken {entry['status']}: {_safe(entry['url'])}")
    for entry in summary["error_details"]:
        lines.append(f"  error {_safe(entry['item'])}: {_safe(entry['detail'])}")
    return "\n".join(lines)


def _safe(text: str) -> str:
    """No control characters from a page or a file name reach the terminal."""
    return "".join(ch if ch.isprintable() else "?" for ch in str(text))[:300]

"""A scheduled archival run: everything a config names, as a cron job or systemd timer runs it.

One run, in order:

1. take the archive's lock (:mod:`archiver.runs.lock`), so two runs never interleave; runs the
   archive still calls ``running`` have no process behind them and become ``interrupted``;
2. expand the sources (:mod:`archiver.runs.sources`) into items;
3. decide what is due (the pure :func:`archiver.runs.schedule.plan`): an item whose last good
   visit is older than its interval (recent articles often, old ones rarely) and not already
   done by the interrupted run this one resumes; inside an item, each link by its own state
   (broken links less often than live ones, suspects daily so evidence piles up);
4. visit the due items a group at a time (a batch cut to the fetcher's connections, so items
   are marked done and counted as their group ends) through the jobs ``verify`` and ``links`` run
   (:func:`archiver.verify.job.verify_many` for canonical copies,
   :func:`archiver.links.job.check_pages` for bare URLs), with what a run does differently
   passed in: conditional GETs of the pages (an unchanged page costs a 304,
   :mod:`archiver.runs.pages`), only the links that are due, the run's clock; then one
   ``run_items`` row says each item is done;
5. record the summary in ``runs``, notify if something new broke or drifted.

Crash safety comes from the order of writes: every capture is its own transaction, an item is
marked done only after its results are stored, and a resumed run reuses the captures and
verdicts the killed run stored instead of fetching again. So SIGKILL at any instant leaves no
half-written capture and the next run neither loses nor duplicates work.

So a run and ``verify`` give the same verdicts on the same copies and links: catch-all hosts
(probes), files (HEAD), unrecovered ``#`` links when nothing answered.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from archiver.archive.store import Archive
from archiver.errors import ArchiverError, JobError, NetworkUnavailable
from archiver.evidence.seal import seal
from archiver.fetch.fetcher import Fetcher
from archiver.links.check import SUSPECT, page_key, precheck, wants_head
from archiver.links.job import LinkSettings, check_pages
from archiver.links.rescue import settings_for
from archiver.models import Capture, Link, LinkCheck, utc_iso
from archiver.runs import notify
from archiver.runs.config import RunConfig
from archiver.runs.items import Item
from archiver.runs.lock import RunLock, lock_path
from archiver.runs.pages import RunPages
from archiver.runs.pipeline import DEPTH, Ahead, PageRequest, Prefetcher, run_executor
from archiver.runs.results import ItemResult, RunResult
from archiver.runs.schedule import age_of, link_is_due, plan
from archiver.runs.sources import Expansion, check_local, expand
from archiver.runs.stops import (
    disk_full,
    in_words,
    stop_reason,
    stopped_error,
    terminate_as_interrupt,
)
from archiver.verify.compare import DRIFTED
from archiver.verify.job import verify_many

log = logging.getLogger(__name__)

#: Outcomes that do not count as done: the item is visited again at the next run.
FAILED = ("unreachable", "error", "network_unavailable", *sorted(SUSPECT))
#: Link verdicts that say nothing about the link: never the basis of a schedule.
NO_VERDICT = ("network_unavailable", "skipped", "placeholder")

Progress = Callable[[int, int, str], None]


# -- visiting items (the I/O edge) --------------------------------------------------------------


class _Visitor:
    """Visits the items of one run, a batch at a time, through the one verify and links jobs.

    A batch's canonical copies go to :func:`archiver.verify.job.verify_many` and its URLs to
    :func:`archiver.links.job.check_pages`, exactly as ``verify`` and ``links`` call them; what
    a run does differently is passed in: its page strategy (:class:`RunPages`: conditional
    GETs, reuse of what the interrupted run stored), the links that are due by the schedule,
    one probe cache and one clock for the whole run.
    """

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
        cycle = archive.run_captures(resume_ids)  # url -> capture id stored this cycle
        self.pages = RunPages(fetcher, archive, run_id=run_id, cycle=cycle)
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
        # One probe cache and one clock a run; broken links looked up as `links` does (no web
        # archive from a run whose config routes hosts elsewhere: a replay or a test web).
        self.settings = LinkSettings(
            now=self.stamp, run_id=run_id, rescue=settings_for(replay=bool(config.routes))
        )
        self._kept: set[str] = set()  # link targets archived by this run
        # The URLs sent ahead for the groups in flight: not sent again for the next ones.
        self._sent: deque[set[str]] = deque(maxlen=DEPTH + 1)

    def use(self, executor: Executor | None) -> None:
        """Extract the pages and the sources kept in ``executor`` (None: here)."""
        self.pages.executor = executor
        self.settings = replace(self.settings, executor=executor)

    def ahead_of(self, items: Sequence[Item]) -> tuple[list[PageRequest], list[str]]:
        """What to fetch ahead for a group: its pages (with their stored validators) and the
        due links of its canonical copies that the links job will GET. A URL item's links
        are known only once its page is extracted, so they are fetched when it is visited."""
        sent = set().union(*self._sent)
        pages: list[PageRequest] = []
        sources: list[str] = []
        mine: set[str] = set()
        for item in items:
            copy = item.canonical
            if copy is not None and copy.path in self.resumed_verdicts:
                continue
            if item.url not in self.cycle and item.url not in sent and item.url not in mine:
                mine.add(item.url)
                pages.append((item.url, *self.archive.validators(item.url)))
            if copy is None or not item.follow_links:
                continue
            for index in self.due_links(copy.links):
                link = copy.links[index]
                url = page_key(link.url)
                if precheck(link) is None and not wants_head(url) and url not in sent | mine:
                    mine.add(url)
                    sources.append(url)
        self._sent.append(mine)
        return pages, sources

    @property
    def cycle(self) -> dict[str, int]:
        return self.pages.cycle

    @property
    def stamp(self) -> str:
        """The run's clock as the archive writes times (ISO 8601 UTC)."""
        return utc_iso(self.now)

    def fetch_body(self, url: str) -> Capture:
        return self.pages.body(url)

    # links ------------------------------------------------------------------------------------

    def due_links(self, links: Sequence[Link]) -> list[int]:
        schedule = self.config.schedule
        return [
            i
            for i, link in enumerate(links)
            if link_is_due(link, self.link_states, schedule, self.now)
        ]

    def _kept_before(self, url: str) -> bool:
        """A source is archived once a cycle; this says so and remembers it."""
        if url in self._kept or url in self.cycle:
            return True
        self._kept.add(url)
        return False

    def _remember(self, checks: Sequence[LinkCheck]) -> None:
        stamp = self.now.isoformat().replace("+00:00", "Z")
        for check in checks:
            if check.status not in NO_VERDICT:
                self.link_states[check.url.strip()] = (stamp, check.status, check.broken)

    # items ------------------------------------------------------------------------------------

    def visit(self, items: Sequence[Item], ahead: Ahead | None = None) -> list[ItemResult]:
        """Visit a batch of items (their pages and due links fetched together, concurrently);
        ``ahead``: what was fetched for them ahead of time, used instead of fetching again."""
        self._sources = ahead.sources if ahead is not None else {}
        self.pages.ahead = dict(ahead.pages) if ahead is not None else {}
        try:
            return self._visit_items(items)
        finally:
            self.pages.ahead = {}
            self._sources = {}

    def _visit_items(self, items: Sequence[Item]) -> list[ItemResult]:
        out: dict[int, ItemResult] = {}
        copies = [(n, item) for n, item in enumerate(items) if item.canonical is not None]
        for n, item in copies:
            assert item.canonical is not None
            if item.canonical.path in self.resumed_verdicts:
                status = self.resumed_verdicts[item.canonical.path][0]
                out[n] = ItemResult(item=item, outcome=status, drift=status, resumed=True,
                                    detail="verified by the interrupted run")  # fmt: skip
        for follow in (True, False):
            group = [(n, i) for n, i in copies if n not in out and i.follow_links is follow]
            if group:
                out.update(self._verify(group, follow=follow))
        for follow in (True, False):
            group = [
                (n, i)
                for n, i in enumerate(items)
                if i.canonical is None and i.follow_links is follow
            ]
            if group:
                out.update(self._links(group, follow=follow))
        return [out[n] for n in range(len(items))]

    def _due(self, follow: bool) -> Callable[[Sequence[Link]], Sequence[int]]:
        return self.due_links if follow else (lambda links: [])

    def _verify(self, group: Sequence[tuple[int, Item]], *, follow: bool) -> dict[int, ItemResult]:
        copies = [item.canonical for _, item in group if item.canonical is not None]
        result = verify_many(
            copies,
            fetcher=self.fetcher,
            archive=self.archive,
            run_id=self.run_id,
            pages=self.pages,
            due=self._due(follow),
            settings=self.settings,
            ahead=self._sources,
            skip_keeping=self._kept_before,
        )
        out: dict[int, ItemResult] = {}
        counted: set[str] = set()
        for (n, item), verification in zip(group, result, strict=True):
            self._remember(verification.links)
            page = verification.page
            fresh = page.fresh if item.url not in counted else 0
            counted.add(item.url)
            out[n] = ItemResult(
                item=item,
                outcome=verification.drift.status,
                captures=fresh,
                not_modified=int(page.not_modified and fresh > 0),
                checks=verification.links,
                links_not_due=verification.links_not_due,
                drift=verification.drift.status,
                detail=verification.page_detail,
            )
        return out

    def _links(self, group: Sequence[tuple[int, Item]], *, follow: bool) -> dict[int, ItemResult]:
        reports = check_pages(
            [item.url for _, item in group],
            pages=self.pages,
            fetcher=self.fetcher,
            archive=self.archive,
            settings=self.settings,
            due=self._due(follow),
            ahead=self._sources,
            skip_keeping=self._kept_before,
        )
        out: dict[int, ItemResult] = {}
        counted: set[str] = set()
        for (n, item), report in zip(group, reports, strict=True):
            self._remember(report.checks)
            fresh = report.captures if item.url not in counted else 0
            counted.add(item.url)
            page = report.page
            out[n] = ItemResult(
                item=item,
                outcome="not_modified" if report.not_modified else (page.status if page else ""),
                captures=fresh,
                not_modified=int(report.not_modified and fresh > 0),
                checks=report.checks,
                links_not_due=report.links_not_due,
                detail=page.detail if page else "",
            )
        return out


# -- the run ------------------------------------------------------------------------------------


def _resume_chain(archive: Archive, run_id: int, window: float) -> list[int]:
    """The interrupted runs right before this one (within ``window`` seconds): what to resume."""
    chain: list[int] = []
    before = run_id
    now = datetime.now(UTC)
    while True:
        previous = archive.last_run(before=before)
        if previous is None or previous.status != "interrupted":
            break
        age = age_of(previous.started_at, now)
        if age is None or age > window:
            break
        chain.append(previous.id)
        before = previous.id
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
    traffic_start = fetcher.traffic()
    asked_start = fetcher.asked
    stale = [r.id for r in archive.runs_with_status("running")]
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
        result.stage = "expanding the sources"
        expansion: Expansion = expand(config, visitor.fetch_body)
        result.source_captures = max(0, len(visitor.cycle) - before)
        result.errors += [
            {"item": where, "detail": in_words(what)} for where, what in expansion.errors
        ]
        result.items_total = len(expansion.items)
        result.stage = "planning what is due"
        the_plan = plan(
            expansion.items,
            last_done=archive.item_times(failed=FAILED),
            resumed_done=archive.items_done(resume_ids, failed=FAILED),
            schedule=config.schedule,
            now=moment,
        )
        result.not_due = len(the_plan.not_due)
        result.resumed_items = len(the_plan.resumed)
        _visit_all(visitor, the_plan.due, result, progress=progress)
        result.stage = "finding what is new"
        _news(result, visitor)
        result.duration = time.monotonic() - result.started
        traffic = fetcher.traffic() - traffic_start
        if traffic.nothing_answered:
            result.status = "network_unavailable"
            archive.finish_run(run_id, status=result.status, summary=result.to_json())
            asked = fetcher.asked - asked_start
            urls = "the one URL" if asked == 1 else f"the {asked} URLs"
            raise NetworkUnavailable(
                f"nothing answered: none of {urls} the run asked for got an answer "
                f"({traffic.requests} requests, retries and robots.txt included); "
                "run recorded, nothing marked done"
            )
        if config.evidence.seal:
            result.stage = "sealing the evidence"
            _seal(result, archive=archive, fetcher=fetcher, config=config)
        if notify.should_notify(config.notify, result.to_json()):
            result.stage = "notifying"
            problems = notify.send(
                config.notify, result.to_json(), policy=config.policy, routes=config.routes
            )
            result.errors += [{"item": "notify", "detail": in_words(p)} for p in problems]
            result.notified = not problems
        result.status = "done"
        result.duration = time.monotonic() - result.started
        archive.finish_run(run_id, status=result.status, summary=result.to_json())
        return result
    except NetworkUnavailable:
        raise
    except BaseException as exc:
        why = stop_reason(exc)
        # A signal, a full disk or a bug: resumed by the next run; a locked archive: failed.
        result.status = "interrupted" if why or not isinstance(exc, ArchiverError) else "failed"
        if why:
            result.stopped = {"by": why, "while": result.stage}
        result.duration = time.monotonic() - result.started
        try:
            archive.finish_run(run_id, status=result.status, summary=result.to_json())
        except (ArchiverError, OSError, sqlite3.Error):
            # A full disk may refuse even this row: the run stays ``running``, which the next
            # run marks interrupted and resumes all the same.
            log.warning("could not record the end of run %d", run_id)
        if why:
            raise stopped_error(
                why, stage=result.stage, run_id=run_id, done=len(result.results)
            ) from exc
        raise


def _visit_all(
    visitor: _Visitor, due: Sequence[Item], result: RunResult, *, progress: Progress | None
) -> None:
    """Visit the due items a group at a time, each marked done as its group ends, while the
    next groups are fetched ahead (:mod:`archiver.runs.pipeline`) and the pure work runs in
    the run's executor (``[cluster]``: a pool of processes, a Dask cluster, or here)."""
    config, archive = visitor.config, visitor.archive
    total = len(due)
    done = 0
    if progress:
        progress(0, total, "fetching a batch")
    groups = list(_groups(due, config))
    with run_executor(config.cluster, due=total) as executor:
        visitor.use(executor)
        prefetcher = Prefetcher(visitor.fetcher)

        def send(index: int) -> None:
            if index < len(groups):
                prefetcher.submit(index, *visitor.ahead_of(groups[index][1]))

        for index in range(DEPTH):
            send(index)
        for index, (start, batch) in enumerate(groups):
            result.stage = (
                f"visiting items {start + 1}-{start + len(batch)} of {total} "
                f"({done} done; next {batch[0].key})"
            )
            ahead = prefetcher.take(index)
            send(index + DEPTH)
            for outcome in _visit(visitor, batch, result, ahead):
                result.results.append(outcome)
                archive.mark_item(
                    visitor.run_id,
                    item=outcome.item.key,
                    kind=outcome.item.kind,
                    url=outcome.item.url,
                    outcome=outcome.outcome,
                    detail=outcome.detail[:500],
                    done_at=visitor.stamp,  # the run's clock, which the schedule reads back
                )
                if outcome.resumed:
                    result.resumed_items += 1
                done += 1
                if progress:
                    progress(done, total, outcome.item.url)
    if progress:
        progress(total, total, "")


def _groups(due: Sequence[Item], config: RunConfig) -> Iterator[tuple[int, Sequence[Item]]]:
    """The due items as the groups visited together: a batch, cut into groups of as many items
    as the fetcher has connections, so each group keeps every connection busy, and the items
    of a group are marked done (and counted by the progress bar) as soon as it ends, not when
    the whole batch does. (start index, group)."""
    size = max(1, min(config.batch, config.policy.max_connections))
    for start in range(0, len(due), size):
        yield start, due[start : start + size]


def _seal(result: RunResult, *, archive: Archive, fetcher: Fetcher, config: RunConfig) -> None:
    """Log what the run stored and sign a checkpoint; a failure is an error, not a lost run."""
    try:
        done = seal(archive, settings=config.evidence, fetcher=fetcher, run_id=result.run_id)
    except ArchiverError as exc:
        result.errors.append({"item": "evidence", "detail": in_words(str(exc))[:300]})
        return
    point = done.checkpoint
    result.checkpoint = {
        "id": point.id,
        "size": point.size,
        "root": point.root.hex(),
        "key_id": point.key_id,
        "timestamped": point.token is not None,
        "detail": point.timestamp_detail,
    }


def _visit(
    visitor: _Visitor, batch: Sequence[Item], result: RunResult, ahead: Ahead | None = None
) -> list[ItemResult]:
    """A batch through the jobs; if it fails, each item alone, so one bad page stops nothing."""
    try:
        return visitor.visit(batch, ahead)
    except JobError:
        raise  # the archive is locked or corrupt, the network gone: stop here
    except Exception as exc:
        if disk_full(exc):
            raise  # every other item would fail the same way: stop, to be resumed
        if len(batch) > 1:
            log.warning("a batch failed (%s: %s); visiting its items one at a time",
                        type(exc).__name__, exc)  # fmt: skip
            return [outcome for item in batch for outcome in _visit(visitor, [item], result, ahead)]
        (item,) = batch
        log.warning("%s: %s: %s", item.key, type(exc).__name__, exc)
        log.debug("the failure in full", exc_info=True)
        words = in_words(str(exc))
        detail = ("could not visit it: " + (words or "an unexpected failure (see the log)"))[:300]
        result.errors.append({"item": item.key, "detail": detail})
        return [ItemResult(item=item, outcome="error", detail=detail)]


def _news(result: RunResult, visitor: _Visitor) -> None:
    """What is new since the last run: links newly broken, copies newly drifted."""
    found = [(c.url, c.status, c.broken, r.item.url) for r in result.results for c in r.checks]
    found = [(c.url, c.status, c.broken, c.source_url) for c in visitor.resumed_checks] + found
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
    with RunLock(lock_path(db_path)) as lock, terminate_as_interrupt(active):
        stale = None
        if lock.stale is not None:
            stale = {"pid": lock.stale.pid, "host": lock.stale.host, "since": lock.stale.started_at}
        try:
            with Archive(db_path) as archive:
                return execute(
                    config, archive=archive, fetcher=active, progress=progress, stale_lock=stale
                )
        finally:
            if own:
                active.close()

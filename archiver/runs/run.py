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
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from archiver.archive.store import Archive
from archiver.errors import ArchiverError, JobError, NetworkUnavailable
from archiver.evidence.seal import seal
from archiver.fetch.fetcher import Fetcher
from archiver.links.check import SUSPECT
from archiver.runs import notify
from archiver.runs.config import RunConfig
from archiver.runs.items import Item
from archiver.runs.lock import RunLock, lock_path
from archiver.runs.pipeline import (
    DEPTH,
    Ahead,
    Prefetcher,
    run_executor,
)
from archiver.runs.results import ItemResult, RunResult
from archiver.runs.schedule import age_of, plan
from archiver.runs.sources import Expansion, check_local, expand
from archiver.runs.stops import (
    disk_full,
    in_words,
    stop_reason,
    stopped_error,
    terminate_as_interrupt,
)
from archiver.runs.visitor import Visitor
from archiver.verify.compare import DRIFTED
from archiver.verify.copies import read_copies

log = logging.getLogger(__name__)

#: Outcomes that do not count as done: the item is visited again at the next run.
FAILED = ("unreachable", "error", "network_unavailable", *sorted(SUSPECT))

Progress = Callable[[int, int, str], None]


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
        visitor = Visitor(
            config=config,
            archive=archive,
            fetcher=fetcher,
            run_id=run_id,
            resume_ids=resume_ids,
            now=moment,
            since=traffic_start,
        )
        before = len(visitor.cycle)
        result.stage = "expanding the sources"
        expansion: Expansion = expand(
            config, visitor.fetch_body, read=lambda paths: read_copies(paths, archive=archive)
        )
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
    visitor: Visitor, due: Sequence[Item], result: RunResult, *, progress: Progress | None
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
        prefetcher = Prefetcher(visitor.fetcher, executor=executor, known=visitor.known_source)

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
    visitor: Visitor, batch: Sequence[Item], result: RunResult, ahead: Ahead | None = None
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


def _news(result: RunResult, visitor: Visitor) -> None:
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

"""Visiting a run's items: a group at a time, through the one verify and links jobs.

:class:`Visitor` gives each group's canonical copies to :func:`archiver.verify.job.verify_many`
and its URLs to :func:`archiver.links.job.check_pages`, exactly as ``verify`` and ``links``
call them, with what a run does differently passed in (its page strategy, the links due by
the schedule, one probe cache and one clock), and says what to fetch ahead for a group
(:mod:`archiver.runs.pipeline`).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from datetime import datetime

from archiver.archive.store import Archive
from archiver.extract.normalize import NORMALIZER_VERSION
from archiver.fetch.fetcher import Fetcher
from archiver.links.check import page_key, precheck, wants_head
from archiver.links.job import LinkSettings, check_pages
from archiver.links.rescue import settings_for
from archiver.models import Capture, Document, Link, LinkCheck, Traffic, utc_iso
from archiver.runs.config import RunConfig
from archiver.runs.items import Item
from archiver.runs.pages import RunPages
from archiver.runs.pipeline import (
    DEPTH,
    Ahead,
    Extracted,
    PageRequest,
)
from archiver.runs.results import ItemResult
from archiver.runs.schedule import link_is_due
from archiver.verify.job import verify_many

log = logging.getLogger(__name__)

#: Link verdicts that say nothing about the link: never the basis of a schedule.
NO_VERDICT = ("network_unavailable", "skipped", "placeholder")


class Visitor:
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
        since: Traffic,
    ) -> None:
        self.config = config
        self.archive = archive
        self.fetcher = fetcher
        # "Nothing answered" is judged over the run (docs/contract.md) from the run's start
        # (``since``), not per group only: the groups' pages and sources are fetched ahead,
        # before each group's job starts.
        self.since = since
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
        self._extracted: Extracted | None = None  # the visited group's documents, ahead
        self._sources: dict[str, Capture] = {}

    def use(self, executor: Executor | None) -> None:
        """Extract the pages and the sources kept in ``executor`` (None: here), taking what
        the pipeline extracted ahead first."""
        self.pages.executor = executor
        self.pages.ready = self._ready
        self.settings = replace(self.settings, executor=executor, ready=self._ready)

    def _ready(self, capture: Capture) -> Document | None:
        return self._extracted.get(capture) if self._extracted is not None else None

    def known_source(self, capture: Capture) -> Document | None:
        """The document the archive already extracted from a source's bytes, or None."""
        if not capture.ok:
            return None
        return self.archive.known_document(capture.final_url, capture.sha256, NORMALIZER_VERSION)

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
        self._extracted = ahead.extracted if ahead is not None else None
        try:
            return self._visit_items(items)
        finally:
            self.pages.ahead = {}
            self._sources = {}
            self._extracted = None

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
            since=self.since,
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
            since=self.since,
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

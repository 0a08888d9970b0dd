"""The one "check these links" job, which ``links``, ``verify`` and a scheduled run all call.

:func:`check_and_keep` checks a batch of links (prechecks, one fetch per distinct URL, HEAD for
files, catch-all probes), applies the one offline rule (nothing answered: no verdict, and an
unrecovered ``#`` link is ``network_unavailable`` rather than broken), judges suspects by their
history, finds archived copies of broken links, and keeps the sources it fetched in the archive.
What differs between callers is passed in as :class:`LinkSettings`: the clock, the rot policy,
the probe cache shared across a run, an archived-copy lookup.

:func:`check_pages` is the job for articles given by URL (``archiver links URL`` and a run's URL
items): get each page through a page strategy, then check the links that are due.
:func:`check_target` resolves what ``archiver links TARGET`` names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from archiver.capture.pages import GivenPages, LivePages, Page, Pages
from archiver.errors import ExtractionError, InputError
from archiver.extract.extractor import page_links
from archiver.fetch.urls import is_web_url
from archiver.links.check import ProbeCache, check_links, classify, make_check, precheck
from archiver.links.keeper import SourceKeeper
from archiver.links.rescue import RescueSettings, rescue
from archiver.links.rot import Observation, RotPolicy, judge, kind_of
from archiver.links.target import target_kind
from archiver.links.wayback import Wayback, with_archived_copies
from archiver.models import ArchivedCopy, Capture, Document, Link, LinkCheck, Traffic, utc_iso
from archiver.verify.canonical import read_canonical
from archiver.verify.recover import recover_links

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future

    from archiver.archive.records import StoredCapture
    from archiver.archive.store import Archive
    from archiver.fetch.fetcher import Fetcher

#: Picks the links that are due (indexes into the list given); None: all of them.
Due = Callable[[Sequence[Link]], Sequence[int]]

NOT_RECOVERED = "not recovered: nothing answered, so the live page could not be read"


@dataclass(frozen=True, kw_only=True)
class LinkSettings:
    """What differs between the callers of the links job."""

    now: str = field(default_factory=utc_iso)  # stamps the checks (ISO 8601 UTC)
    policy: RotPolicy = field(default_factory=RotPolicy)
    probes: ProbeCache = field(default_factory=ProbeCache)  # one per run: one probe per host
    wayback: Wayback | None = None  # the Wayback Machine's availability API (library callers)
    rescue: RescueSettings | None = None  # web archives (Memento) and moved pages; None: off
    own_copies: bool = True  # the archive's own capture of a dead link is its first copy
    run_id: int | None = None
    keep_sources: bool = True  # store the captures of the sources fetched
    executor: Executor | None = None  # where the sources kept are extracted; None: here
    ready: Callable[[Capture], Document | None] | None = None  # documents extracted ahead


class Recorder:
    """A fetcher that keeps what it fetched, so checking links also captures the sources.

    ``ahead`` are captures fetched before (a run fetches a batch's links concurrently with
    its pages); a URL found there is not fetched again.
    """

    def __init__(self, fetcher: Fetcher, ahead: dict[str, Capture] | None = None) -> None:
        self.fetcher = fetcher
        self.ahead = ahead if ahead is not None else {}
        self.captures: dict[str, Capture] = {}

    def fetch_many(
        self,
        urls: Iterable[str],
        *,
        method: str = "GET",
        each: Callable[[int, Capture], None] | None = None,
    ) -> list[Capture]:
        items = list(urls)
        if method == "GET":
            todo = [url for url in dict.fromkeys(items) if url not in self.ahead]
            if todo:
                fetched = self.fetcher.fetch_many(todo, each=_renumbered(each, items, todo))
                self.ahead.update(zip(todo, fetched, strict=True))
            captures = [self.ahead[url] for url in items]
        else:
            captures = self.fetcher.fetch_many(items, method=method)
        self.captures.update(zip(items, captures, strict=True))
        return captures


def _renumbered(
    each: Callable[[int, Capture], None] | None, items: list[str], todo: list[str]
) -> Callable[[int, Capture], None] | None:
    """``each`` told the index in ``items`` of an answer to ``todo[index]``."""
    if each is None:
        return None
    told, where = each, {url: index for index, url in enumerate(items)}
    return lambda index, capture: told(where[todo[index]], capture)


def judge_all(
    checks: Sequence[LinkCheck],
    archive: Archive,
    *,
    now: str,
    policy: RotPolicy | None = None,
) -> list[LinkCheck]:
    """:func:`~archiver.links.rot.judge` every check against the archive's history of its URL."""
    judged = [check.url for check in checks if kind_of(check.status) is not None]
    histories = {
        url: [Observation.from_row(r) for r in rows]
        for url, rows in archive.link_histories(judged).items()
    }
    return [
        judge(check, histories[check.url], now=now, policy=policy)
        if kind_of(check.status) is not None
        else check
        for check in checks
    ]


OWN = "archiver"  # the name of this archive among the archives a copy comes from


def own_copy_url(capture_id: int) -> str:
    """How a capture of this archive is named where a URL is expected (the WARC export's
    metadata records carry the same name): ``archiver links``/``history`` and ``serve`` open it."""
    return f"urn:archiver:capture:{capture_id}"


def last_alive(archive: Archive, url: str, *, before: str) -> StoredCapture | None:
    """The newest capture of ``url`` from before ``before`` that the checker calls alive: a 2xx
    HTML page that is not an error page, a redirect home or to a login (so a soft 404 captured
    on an earlier day is never offered as the page)."""
    for stored in archive.alive_before(url, before):
        if classify(Link(url=url, text=""), stored.capture).status in ("ok", "redirected"):
            return stored
    return None


def own_copies(checks: Sequence[LinkCheck], archive: Archive, *, now: str) -> list[LinkCheck]:
    """A broken link the archive captured alive (2xx, an HTML page, before this check) gets
    that capture as its first archived copy, before any web archive is asked."""
    out: list[LinkCheck] = []
    for check in checks:
        if check.broken and not check.archived_url and is_web_url(check.url.strip()):
            alive = last_alive(archive, check.url.strip(), before=now)
            if alive is not None:
                copy = ArchivedCopy(
                    archive=OWN,
                    url=own_copy_url(alive.id),
                    datetime=alive.capture.fetched_at,
                    original=alive.capture.url,
                    status=alive.capture.status,
                    replays=True,
                )
                note = f"archived copy: this archive's capture {alive.id} of {copy.datetime}"
                check = replace(
                    check,
                    archived_url=copy.url,
                    archived_copies=(copy, *check.archived_copies),
                    detail=f"{check.detail}; {note}",
                )
        out.append(check)
    return out


def archived_copies(
    checks: Sequence[LinkCheck],
    *,
    fetcher: Fetcher,
    archive: Archive,
    settings: LinkSettings,
    published: str | None,
) -> list[LinkCheck]:
    """Archived copies and moved pages for the broken links: the archive's own capture first,
    then every web archive through Memento (and the pages that moved), then the Wayback
    Machine's availability API when a caller gave one. Never raises."""
    out = own_copies(checks, archive, now=settings.now) if settings.own_copies else list(checks)
    if settings.rescue is not None:
        out = rescue(
            out, fetcher=fetcher, archive=archive, published=published, settings=settings.rescue
        )
    return with_archived_copies(out, settings.wayback, published)


def nothing_answered(fetcher: Fetcher, start: Traffic, since: Traffic | None = None) -> bool:
    """Nothing answered during the job (from ``start``), or in the whole window from ``since``
    (a run that fetched this job's pages and sources ahead of it, before ``start``)."""
    now = fetcher.traffic()
    return (now - start).nothing_answered or (since is not None and (now - since).nothing_answered)


def without_verdict(checks: Sequence[LinkCheck]) -> list[LinkCheck]:
    """Nothing answered: an unrecovered ``#`` link is no verdict either (docs/contract.md)."""
    return [
        replace(c, status="network_unavailable", broken=False, detail=NOT_RECOVERED)
        if c.status == "placeholder"
        else c
        for c in checks
    ]


@dataclass(frozen=True, kw_only=True)
class Checked:
    """A batch of links checked: the verdicts (order kept) and what was stored for them."""

    checks: tuple[LinkCheck, ...]
    offline: bool  # nothing answered: no verdict on any of them
    kept: dict[str, Page] = field(default_factory=dict)  # source URL -> what was stored


def check_and_keep(
    links: Sequence[Link],
    *,
    fetcher: Fetcher,
    archive: Archive,
    settings: LinkSettings,
    published: str | None = None,
    ahead: dict[str, Capture] | None = None,
    skip_keeping: Callable[[str], bool] | None = None,
    lookup: bool = True,
) -> Checked:
    """Check ``links``, judge them, find archived copies of broken ones, keep the sources.

    ``skip_keeping(url)`` says a source needs no new capture (a run keeps each once a cycle);
    ``lookup=False`` leaves the archived-copy lookup to the caller (one date per article).
    """
    recorder = Recorder(fetcher, ahead)
    targets = {link.url.strip() for link in links}  # not the probes of catch-all hosts
    with SourceKeeper(
        archive, targets=targets if settings.keep_sources else (), run_id=settings.run_id,
        skip=skip_keeping, executor=settings.executor, ready=settings.ready,
    ) as keeper:  # fmt: skip
        checks = check_links(links, recorder, probes=settings.probes, each=keeper.offer)
        kept = keeper.finish(recorder.captures)
    offline = Traffic.of(recorder.captures.values()).nothing_answered
    if not offline:
        checks = judge_all(checks, archive, now=settings.now, policy=settings.policy)
        if lookup:
            checks = archived_copies(
                checks, fetcher=fetcher, archive=archive, settings=settings, published=published
            )
    return Checked(checks=tuple(checks), offline=offline, kept=kept)


def page_verdict(url: str, page: Page, *, text: str = "") -> LinkCheck:
    """The page's own status as a link (a 304 is the page as last stored, alive)."""
    link = Link(url=url, text=text)
    if page.capture is None:
        return make_check(link, "skipped", detail="offline: no stored capture")
    if page.not_modified:
        return make_check(link, "ok", http_status=304, detail="HTTP 304 not modified")
    return classify(link, page.capture)


@dataclass(frozen=True, kw_only=True)
class LinkReport:
    """The links of one article checked now, judged against their history."""

    source: str
    checks: tuple[LinkCheck, ...]
    checked_at: str
    published: str | None = None
    capture_id: int | None = None
    page: LinkCheck | None = None  # the page's own status (set when it was fetched)
    offline: bool = False  # nothing answered: no verdict on any link
    links_not_due: int = 0
    captures: int = 0  # captures stored (the page when fetched now, and its sources)
    not_modified: bool = False
    page_type: str | None = None  # "article", or what the page is instead (extract's word)
    every_link: bool = False  # every link of the page was checked, not only the article's
    left_out: int = 0  # links on the page that are not the article's (checked with every_link)


def check_pages(
    urls: Sequence[str],
    *,
    pages: Pages,
    fetcher: Fetcher,
    archive: Archive,
    settings: LinkSettings,
    due: Due | None = None,
    ahead: dict[str, Capture] | None = None,
    skip_keeping: Callable[[str], bool] | None = None,
    save: bool = True,
    since: Traffic | None = None,
) -> list[LinkReport]:
    """The job for articles given by URL: every page, then all their due links in one batch,
    checked, judged, stored (each page's links kept in the page's order). ``since``: the
    traffic from which "nothing answered" is judged too (a run's start: it fetches ahead)."""
    start = fetcher.traffic()
    got = pages.get(urls)
    chosen: list[list[Link]] = []
    every: list[int] = []
    for url in urls:
        document = got[url].document
        links = list(document.links) if document is not None else []
        picked = list(due(links)) if due is not None else list(range(len(links)))
        chosen.append([links[i] for i in picked])
        every.append(len(links))
    checked = check_and_keep(
        [link for links in chosen for link in links],
        fetcher=fetcher,
        archive=archive,
        settings=settings,
        ahead=ahead,
        skip_keeping=skip_keeping,
        lookup=False,  # archived copies per page, nearest each page's publication date
    )
    offline = nothing_answered(fetcher, start, since)
    reports: list[LinkReport] = []
    position = 0
    for url, links, total in zip(urls, chosen, every, strict=True):
        page = got[url]
        document = page.document
        checks = checked.checks[position : position + len(links)]
        position += len(links)
        published = document.published if document else None
        if checks and not offline:
            checks = tuple(
                archived_copies(
                    checks, fetcher=fetcher, archive=archive, settings=settings, published=published
                )
            )
        if save and checks:
            archive.save_link_checks(
                list(checks), source_url=url, capture_id=page.capture_id, checked_at=settings.now
            )
        stored = sum(1 for link in links if link.url.strip() in checked.kept)
        reports.append(
            LinkReport(
                source=url,
                checks=checks,
                checked_at=settings.now,
                published=published,
                capture_id=page.capture_id,
                page=page_verdict(url, page),
                offline=offline,
                links_not_due=total - len(links),
                captures=page.fresh + stored,
                not_modified=page.not_modified,
                page_type=document.page_type if document else None,
            )
        )
    return reports


def check_target(
    target: str,
    *,
    fetcher: Fetcher,
    archive: Archive,
    wayback: Wayback | None = None,
    policy: RotPolicy | None = None,
    probes: ProbeCache | None = None,
    now: str | None = None,
    rescue_settings: RescueSettings | None = None,
    every_link: bool = False,
    executor: Executor | None = None,
    ahead: Future[list[Capture]] | None = None,
    since: Traffic | None = None,
) -> LinkReport:
    """Check every link of TARGET (a capture id, a canonical copy or a URL), judged and stored.

    ``now`` (ISO 8601 UTC) stamps the checks; tests pass it to stand days apart without waiting.
    ``executor``: where the page and the sources kept are extracted (None: here). ``ahead``:
    the URL's page, being fetched already (``Fetcher.fetch_ahead([target])``), and ``since``
    the fetcher's traffic before it was asked for.
    """
    settings = LinkSettings(
        now=now or utc_iso(),
        policy=policy or RotPolicy(),
        probes=probes or ProbeCache(),
        wayback=wayback,
        rescue=rescue_settings,
        executor=executor,
    )
    start = since if since is not None else fetcher.traffic()
    kind = target_kind(target)
    if kind == "capture":
        report = _stored_capture(target, fetcher=fetcher, archive=archive, settings=settings)
    elif kind == "copy":
        report = _copy(target, fetcher=fetcher, archive=archive, settings=settings)
    else:
        if precheck(Link(url=target, text="")) is not None:
            raise InputError(f"not a URL, a canonical copy or a capture id: {target[:200]}")
        got = LivePages(fetcher, archive, robots_ahead=True).get([target], ahead=ahead)
        everything = _every_link(got)
        (report,) = check_pages(
            [target],
            pages=everything if every_link else GivenPages(got),
            fetcher=fetcher,
            archive=archive,
            settings=settings,
            save=False,
        )
        article, whole = got[target].document, everything.pages[target].document
        left_out = 0
        if article is not None and whole is not None and not every_link:
            mine = {link.url for link in article.links}
            left_out = len({link.url for link in whole.links} - mine)
        report = replace(report, every_link=every_link, left_out=left_out)
        if report.page is not None and report.capture_id is not None and not report.checks:
            page = report.page
            if report.offline:  # the one host asked did not answer: no verdict
                page = make_check(
                    Link(url=target, text=""),
                    "network_unavailable",
                    detail=f"nothing answered ({page.status})",
                )
            report = replace(report, checks=(page,))
        archive.save_link_checks(
            list(report.checks),
            source_url=report.source,
            capture_id=report.capture_id,
            checked_at=settings.now,
        )
    if (fetcher.traffic() - start).nothing_answered:
        report = replace(report, offline=True)
    return report


def _every_link(got: dict[str, Page]) -> GivenPages:
    """The pages with every link they hold, not only their article's (``links --all``)."""
    out: dict[str, Page] = {}
    for url, page in got.items():
        document, capture = page.document, page.capture
        if document is not None and capture is not None:
            try:
                links = page_links(
                    capture.body, url=capture.final_url, content_type=capture.content_type
                )
            except ExtractionError:
                links = document.links
            page = replace(page, document=replace(document, links=tuple(links)))
        out[url] = page
    return GivenPages(out)


def _stored_capture(
    target: str, *, fetcher: Fetcher, archive: Archive, settings: LinkSettings
) -> LinkReport:
    stored = archive.get_capture(int(target))
    if stored is None:
        raise InputError(f"no capture with id {target} in the archive")
    if stored.document is None:
        raise InputError(f"capture {target} has no extracted document (not an HTML page?)")
    page = Page(capture_id=stored.id, capture=stored.capture, document=stored.document)
    (report,) = check_pages(
        [stored.capture.url],
        pages=GivenPages({stored.capture.url: page}),
        fetcher=fetcher,
        archive=archive,
        settings=settings,
    )
    return replace(report, page=None)


def _copy(target: str, *, fetcher: Fetcher, archive: Archive, settings: LinkSettings) -> LinkReport:
    copy = read_canonical(target)
    start = fetcher.traffic()
    page = LivePages(fetcher, archive, robots_ahead=True).get([copy.url])[copy.url]
    live = page.document
    pairs = recover_links(copy.links, live.links if live else ())
    published = copy.published or (live.published if live else None)
    checked = check_and_keep(
        [link for link, _ in pairs],
        fetcher=fetcher,
        archive=archive,
        settings=settings,
        published=published,
    )
    checks = [replace(c, recovered=r) for c, (_, r) in zip(checked.checks, pairs, strict=True)]
    offline = (fetcher.traffic() - start).nothing_answered
    if offline:
        checks = without_verdict(checks)
    archive.save_link_checks(
        checks, source_url=copy.url, capture_id=page.capture_id, checked_at=settings.now
    )
    return LinkReport(
        source=copy.url,
        checks=tuple(checks),
        checked_at=settings.now,
        published=published,
        capture_id=page.capture_id,
        page=page_verdict(copy.url, page, text=copy.title or ""),
        offline=offline,
    )

"""Link rot over time: a suspect becomes ``broken`` only when its failure persists.

One check cannot tell a dead site from a bad afternoon: timeouts, 5xx, resets and 401/403/429
pass. The archive keeps every check of every link (``link_checks``), and :func:`judge` reads that
history: a suspect is ``broken`` once the *same failure* has been seen on at least
``RotPolicy.checks`` checks on at least ``RotPolicy.days`` different (UTC) days with nothing else
in between; a link that goes up and down is marked ``flapping`` and stays not broken. "The same
failure" groups words that mean the same thing to a reader (``timeout`` and
``connection_error``: the server does not answer). Checks that carry no evidence
(``network_unavailable``, ``robots_disallowed``, ``skipped``) neither count nor reset.

:func:`judge` is pure; :func:`check_target` is the job behind ``archiver links`` (resolve the
target, check, judge against the history, look up archived copies, store) and
:func:`rot_report` the one behind ``archiver report linkrot``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from archiver.archive.store import Archive
from archiver.errors import InputError
from archiver.links.check import (
    BROKEN,
    SUSPECT,
    Fetches,
    ProbeCache,
    check_links,
    classify,
    make_check,
    network_unavailable,
    precheck,
)
from archiver.links.wayback import Wayback, with_archived_copies
from archiver.models import Link, LinkCheck, utc_iso
from archiver.verify.canonical import read_canonical
from archiver.verify.job import extract_capture, recover_links

log = logging.getLogger(__name__)

#: Suspect words that mean the same failure to a reader, so they count as one streak.
_FAILURE = {
    "server_error": "server_error",
    "timeout": "no_answer",
    "connection_error": "no_answer",
    "tls_error": "tls_error",
    "blocked": "blocked",
    "rate_limited": "rate_limited",
}
_UP = frozenset({"ok", "redirected"})
_DEAD = frozenset({"not_found", "gone", "soft_404", "redirect_loop", "dns_error"})


@dataclass(frozen=True, kw_only=True)
class RotPolicy:
    """How long a suspect must keep failing before it is called broken (docs/contract.md: 3, 3)."""

    checks: int = 3
    days: int = 3
    window: int = 10  # recent checks looked at for flapping

    def __post_init__(self) -> None:
        if self.checks < 1 or self.days < 1 or self.window < 2:
            raise InputError("suspect checks and days must be at least 1 (window at least 2)")


@dataclass(frozen=True, kw_only=True)
class Observation:
    """One past check of a link, as much of it as the verdict needs."""

    checked_at: str  # ISO 8601 UTC, as the archive stores it
    status: str
    archived_url: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Observation:
        return cls(
            checked_at=str(row["checked_at"]),
            status=str(row["status"]),
            archived_url=row.get("archived_url"),
        )


def _kind(status: str) -> str | None:
    """Which streak a status belongs to: up, dead, a failure group, or None (no evidence)."""
    if status in _UP:
        return "up"
    if status in _DEAD:
        return "dead"
    return _FAILURE.get(status)


def _timeline(observations: Iterable[Observation]) -> list[Observation]:
    """Evidence only, oldest first, one observation per check time (the last one wins)."""
    by_time: dict[str, Observation] = {}
    for obs in sorted(observations, key=lambda o: o.checked_at):
        if _kind(obs.status) is not None:
            by_time[obs.checked_at] = obs
    return list(by_time.values())


def _streak(timeline: Sequence[Observation]) -> list[Observation]:
    """The newest run of observations of the same kind, oldest first."""
    if not timeline:
        return []
    kind = _kind(timeline[-1].status)
    streak: list[Observation] = []
    for obs in reversed(timeline):
        if _kind(obs.status) != kind:
            break
        streak.append(obs)
    return streak[::-1]


def _changes(timeline: Sequence[Observation]) -> int:
    """How often the link went from up to failing or back."""
    ups = [_kind(obs.status) == "up" for obs in timeline]
    return sum(a != b for a, b in zip(ups, ups[1:], strict=False))


def judge(
    check: LinkCheck,
    history: Sequence[Observation],
    *,
    now: str,
    policy: RotPolicy | None = None,
) -> LinkCheck:
    """The check with ``broken``, ``since`` and ``flapping`` decided by its history (pure).

    ``history`` is the earlier checks of the same link target (any article); ``now`` is when
    ``check`` was made. Definite failures (404, 410, soft 404...) stay broken and get ``since``;
    suspects turn broken only after the failure persists; ``ok`` links only learn if they flap.
    """
    policy = policy or RotPolicy()
    kind = _kind(check.status)
    if kind is None:
        return check
    past = [obs for obs in history if obs.checked_at < now]
    timeline = _timeline([*past, Observation(checked_at=now, status=check.status)])
    changes = _changes(timeline[-policy.window :])
    flapping = changes >= 2
    flap_note = (
        f"flapping: {changes} up/down changes in the last {min(len(timeline), policy.window)} "
        "checks"
    )
    if kind == "up":
        if flapping:
            return replace(check, flapping=True, detail=f"{check.detail}; {flap_note}")
        return check
    streak = _streak(timeline)
    since = streak[0].checked_at
    archived = check.archived_url or next(
        (obs.archived_url for obs in reversed(past) if obs.archived_url), None
    )
    if kind == "dead":
        return replace(check, since=since, archived_url=archived, flapping=flapping)
    count, days = len(streak), len({obs.checked_at[:10] for obs in streak})
    broken = count >= policy.checks and days >= policy.days
    seen = f"failing since {since}: {count} check(s) on {days} day(s)"
    if broken:
        note = f"{seen}; persisted, so broken"
    else:
        note = f"{seen}; a suspect until {policy.checks} checks on {policy.days} days"
    if flapping:
        note += f"; {flap_note}"
    return replace(
        check,
        broken=broken,
        since=since,
        flapping=flapping,
        archived_url=archived if broken else check.archived_url,
        detail=f"{check.detail}; {note}",
    )


def judge_all(
    checks: Sequence[LinkCheck],
    archive: Archive,
    *,
    now: str,
    policy: RotPolicy | None = None,
) -> list[LinkCheck]:
    """:func:`judge` every check against the history the archive holds for its target."""
    histories: dict[str, list[Observation]] = {}
    out = []
    for check in checks:
        if _kind(check.status) is None:
            out.append(check)
            continue
        if check.url not in histories:
            histories[check.url] = [
                Observation.from_row(r) for r in archive.link_history(check.url)
            ]
        out.append(judge(check, histories[check.url], now=now, policy=policy))
    return out


@dataclass(frozen=True, kw_only=True)
class LinkReport:
    """The links of one article checked now, judged against their history."""

    source: str
    checks: tuple[LinkCheck, ...]
    checked_at: str
    published: str | None = None
    capture_id: int | None = None

    @property
    def offline(self) -> bool:
        """Nothing answered: no verdict on any link."""
        fetched = [c for c in self.checks if c.status not in ("placeholder", "invalid", "skipped")]
        return bool(fetched) and all(c.status == "network_unavailable" for c in fetched)


@dataclass(frozen=True, kw_only=True)
class _Target:
    source: str
    links: list[Link]
    flags: list[bool] | None = None
    capture_id: int | None = None
    published: str | None = None
    page: LinkCheck | None = None  # the page itself could not be read: its verdict


def _resolve(target: str, fetcher: Fetches, archive: Archive) -> _Target:
    """The article behind TARGET (capture id, canonical copy or URL) and its links."""
    if target.isdigit():
        stored = archive.get_capture(int(target))
        if stored is None:
            raise InputError(f"no capture with id {target} in the archive")
        if stored.document is None:
            raise InputError(f"capture {target} has no extracted document (not an HTML page?)")
        return _Target(
            source=stored.capture.url,
            links=list(stored.document.links),
            capture_id=stored.id,
            published=stored.document.published,
        )
    if target.lower().endswith((".md", ".markdown")) or os.path.exists(target):
        copy = read_canonical(target)
        (capture,) = fetcher.fetch_many([copy.url])
        live = extract_capture(capture)
        capture_id = archive.save_capture(capture, live)
        pairs = recover_links(copy.links, live.links if live else ())
        return _Target(
            source=copy.url,
            links=[link for link, _ in pairs],
            flags=[recovered for _, recovered in pairs],
            capture_id=capture_id,
            published=copy.published or (live.published if live else None),
        )
    if precheck(Link(url=target, text="")) is not None:
        raise InputError(f"not a URL, a canonical copy or a capture id: {target[:200]}")
    (capture,) = fetcher.fetch_many([target])
    live = extract_capture(capture)
    capture_id = archive.save_capture(capture, live)
    if live is None:
        page = classify(Link(url=target, text=""), capture)
        if network_unavailable([capture]):  # the one host asked did not answer: no verdict
            detail = f"nothing answered ({capture.error})"
            page = make_check(Link(url=target, text=""), "network_unavailable", detail=detail)
        return _Target(source=target, links=[], capture_id=capture_id, page=page)
    return _Target(
        source=target, links=list(live.links), capture_id=capture_id, published=live.published
    )


def check_target(
    target: str,
    *,
    fetcher: Fetches,
    archive: Archive,
    wayback: Wayback | None = None,
    policy: RotPolicy | None = None,
    probes: ProbeCache | None = None,
    now: str | None = None,
) -> LinkReport:
    """Check every link of TARGET, judge each against its history, find archived copies, store.

    ``now`` (ISO 8601 UTC) stamps the checks; tests pass it to stand days apart without waiting.
    """
    now = now or utc_iso()
    found = _resolve(target, fetcher, archive)
    if found.page is not None:
        checks = [found.page]
    else:
        checks = check_links(found.links, fetcher, probes=probes or ProbeCache())
        if found.flags is not None:
            checks = [replace(c, recovered=f) for c, f in zip(checks, found.flags, strict=True)]
    report = LinkReport(source=found.source, checks=tuple(checks), checked_at=now)
    if not report.offline:
        checks = judge_all(checks, archive, now=now, policy=policy)
        checks = with_archived_copies(checks, wayback, found.published)
    archive.save_link_checks(
        checks, source_url=found.source, capture_id=found.capture_id, checked_at=now
    )
    return LinkReport(
        source=found.source,
        checks=tuple(checks),
        checked_at=now,
        published=found.published,
        capture_id=found.capture_id,
    )


# --- the report over what the archive holds ------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ArticleRot:
    """One article's links at their latest check: which are broken, since when, which suspect."""

    source: str
    checked_at: str
    links: int
    broken: tuple[LinkCheck, ...]
    suspects: tuple[LinkCheck, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "checked_at": self.checked_at,
            "links": self.links,
            "broken": [check.to_json() for check in self.broken],
            "suspects": [check.to_json() for check in self.suspects],
        }


def _check_from_row(row: Mapping[str, Any]) -> LinkCheck:
    """A stored check as the value it was, ``broken`` reset to the status's own meaning."""
    status = str(row["status"])
    return LinkCheck(
        url=str(row["url"]),
        text=str(row["text"] or ""),
        status=status,
        broken=BROKEN.get(status, bool(row["broken"])),
        http_status=row["http_status"],
        final_url=row["final_url"],
        redirects=tuple(row["redirects"] or ()),
        archived_url=row["archived_url"],
        detail=str(row["detail"] or "").split("; failing since")[0],
        recovered=row["recovered"],
    )


def rot_report(archive: Archive, *, policy: RotPolicy | None = None) -> list[ArticleRot]:
    """Every article's latest link checks, re-judged over the whole history (no network).

    Re-judging means checks stored by ``verify`` (which keeps suspects as suspects) turn broken
    here too once their failure has persisted.
    """
    rows_by_source: dict[str, list[dict[str, Any]]] = {}
    for row in archive.latest_link_checks():
        rows_by_source.setdefault(str(row["source_url"]), []).append(row)
    histories: dict[str, list[Observation]] = {}
    articles = []
    for source, rows in rows_by_source.items():
        broken, suspects = [], []
        for row in rows:
            check = _check_from_row(row)
            if _kind(check.status) not in (None, "up"):
                if check.url not in histories:
                    histories[check.url] = [
                        Observation.from_row(r) for r in archive.link_history(check.url)
                    ]
                check = judge(
                    check, histories[check.url], now=str(row["checked_at"]), policy=policy
                )
            if check.broken:
                broken.append(check)
            elif check.status in SUSPECT:
                suspects.append(check)
        articles.append(
            ArticleRot(
                source=source,
                checked_at=max(str(row["checked_at"]) for row in rows),
                links=len(rows),
                broken=tuple(broken),
                suspects=tuple(suspects),
            )
        )
    return articles


def rot_summary(articles: Sequence[ArticleRot]) -> dict[str, int]:
    """Totals for the report's ``summary``."""
    return {
        "articles": len(articles),
        "articles_with_broken_links": sum(bool(a.broken) for a in articles),
        "links": sum(a.links for a in articles),
        "broken": sum(len(a.broken) for a in articles),
        "suspects": sum(len(a.suspects) for a in articles),
        "flapping": sum(c.flapping for a in articles for c in (*a.broken, *a.suspects)),
        "archived": sum(bool(c.archived_url) for a in articles for c in a.broken),
    }

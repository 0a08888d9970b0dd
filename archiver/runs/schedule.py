"""The schedule of scheduled runs: what is due now, as pure functions of times and states.

Recent articles are looked at often and old ones rarely; inside an article each link by its own
last verdict: a broken link rarely (it may come back), a suspect (timeout, 5xx, 403, 429) daily
so that the days of evidence the contract asks for before calling it broken pile up, a live one
weekly. Nothing here touches the archive or the network, so the decisions are cheap to test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from archiver.links.check import SUSPECT, precheck
from archiver.models import Link
from archiver.runs.config import Schedule
from archiver.runs.items import Item


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 time or date (``Z`` or offset, or none: UTC), or None."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def item_interval(item: Item, schedule: Schedule, now: datetime) -> float:
    """Seconds between visits: ``recent_every`` for recent (or undated) articles, else old."""
    published = parse_time(item.published)
    if published is None or (now - published).total_seconds() < schedule.recent_days * 86400:
        return schedule.recent_every
    return schedule.old_every


def link_interval(state: tuple[str, str, bool] | None, schedule: Schedule) -> float:
    """Seconds between checks of a link, by its last verdict (never checked: now)."""
    if state is None:
        return 0.0
    _, status, broken = state
    if broken:
        return schedule.links_broken_every
    if status in SUSPECT:
        return schedule.links_suspect_every
    return schedule.links_live_every


def age_of(when: str | None, now: datetime) -> float | None:
    """Seconds from an ISO 8601 time to ``now``, or None when there is no readable time."""
    moment = parse_time(when)
    return None if moment is None else (now - moment).total_seconds()


@dataclass(frozen=True, kw_only=True)
class Plan:
    """Which items this run visits, which wait for their time, which the killed run did."""

    due: tuple[Item, ...]
    not_due: tuple[Item, ...] = ()
    resumed: tuple[Item, ...] = ()


def plan(
    items: Sequence[Item],
    *,
    last_done: dict[str, str],
    resumed_done: set[str],
    schedule: Schedule,
    now: datetime,
) -> Plan:
    """Split the items: done by the run being resumed, not due yet, or due now."""
    due: list[Item] = []
    not_due: list[Item] = []
    resumed: list[Item] = []
    for item in items:
        if item.key in resumed_done:
            resumed.append(item)
            continue
        age = age_of(last_done.get(item.key), now)
        if age is not None and age < item_interval(item, schedule, now):
            not_due.append(item)
        else:
            due.append(item)
    return Plan(due=tuple(due), not_due=tuple(not_due), resumed=tuple(resumed))


def link_is_due(
    link: Link, states: dict[str, tuple[str, str, bool]], schedule: Schedule, now: datetime
) -> bool:
    """Whether a link is checked now: free verdicts (placeholder, mailto) always; else by age."""
    if precheck(link) is not None:
        return True
    state = states.get(link.url.strip())
    age = age_of(state[0], now) if state else None
    return age is None or age >= link_interval(state, schedule)

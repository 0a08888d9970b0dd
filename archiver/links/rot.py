"""Link rot over time: a suspect becomes ``broken`` only when its failure persists.

One check cannot tell a dead site from a bad afternoon: timeouts, 5xx, resets and 401/403/429
pass. The archive keeps every check of every link (``link_checks``), and :func:`judge` reads that
history: a suspect is ``broken`` once the *same failure* has been seen on at least
``RotPolicy.checks`` checks on at least ``RotPolicy.days`` different (UTC) days with nothing else
in between; a link that goes up and down is marked ``flapping`` and stays not broken. "The same
failure" groups words that mean the same thing to a reader (``timeout`` and
``connection_error``: the server does not answer). Checks that carry no evidence
(``network_unavailable``, ``robots_disallowed``, ``skipped``) neither count nor reset.

Everything here is pure: :func:`judge` decides from a check and the history given to it. The
jobs (:mod:`archiver.links.job`) read the history from the archive; the report over the whole
archive is :mod:`archiver.links.rotreport`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from archiver.archive.records import StoredLinkCheck
from archiver.errors import InputError
from archiver.models import LinkCheck

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
    """How long a suspect must keep failing before it is called broken (CONTRACT.md: 3 and 3)."""

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
    def from_row(cls, row: StoredLinkCheck) -> Observation:
        return cls(checked_at=row.checked_at, status=row.status, archived_url=row.archived_url)


def kind_of(status: str) -> str | None:
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
        if kind_of(obs.status) is not None:
            by_time[obs.checked_at] = obs
    return list(by_time.values())


def _streak(timeline: Sequence[Observation]) -> list[Observation]:
    """The newest run of observations of the same kind, oldest first."""
    if not timeline:
        return []
    kind = kind_of(timeline[-1].status)
    streak: list[Observation] = []
    for obs in reversed(timeline):
        if kind_of(obs.status) != kind:
            break
        streak.append(obs)
    return streak[::-1]


def _changes(timeline: Sequence[Observation]) -> int:
    """How often the link went from up to failing or back."""
    ups = [kind_of(obs.status) == "up" for obs in timeline]
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
    kind = kind_of(check.status)
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

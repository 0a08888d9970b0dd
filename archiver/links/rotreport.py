"""The link-rot report over what the archive holds: every article's latest link checks,
re-judged over the whole history (no network). The job behind ``archiver report linkrot``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from archiver.archive.records import StoredLinkCheck
from archiver.links.check import BROKEN, SUSPECT
from archiver.links.rot import Observation, RotPolicy, judge, kind_of
from archiver.models import LinkCheck

if TYPE_CHECKING:
    from archiver.archive.store import Archive


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


def _check_from_row(row: StoredLinkCheck) -> LinkCheck:
    """A stored check as the value it was, ``broken`` reset to the status's own meaning."""
    return replace(
        row.to_check(),
        broken=BROKEN.get(row.status, row.broken),
        detail=row.detail.split("; failing since")[0],
    )


def rot_report(archive: Archive, *, policy: RotPolicy | None = None) -> list[ArticleRot]:
    """Every article's latest link checks, re-judged over the whole history (no network).

    Re-judging means checks stored by ``verify`` (which keeps suspects as suspects) turn broken
    here too once their failure has persisted.
    """
    rows_by_source: dict[str, list[StoredLinkCheck]] = {}
    for row in archive.latest_link_checks():
        rows_by_source.setdefault(row.source_url, []).append(row)
    histories: dict[str, list[Observation]] = {}
    articles = []
    for source, rows in rows_by_source.items():
        broken, suspects = [], []
        for row in rows:
            check = _check_from_row(row)
            if kind_of(check.status) not in (None, "up"):
                if check.url not in histories:
                    histories[check.url] = [
                        Observation.from_row(r) for r in archive.link_history(check.url)
                    ]
                check = judge(check, histories[check.url], now=row.checked_at, policy=policy)
            if check.broken:
                broken.append(check)
            elif check.status in SUSPECT:
                suspects.append(check)
        articles.append(
            ArticleRot(
                source=source,
                checked_at=max(row.checked_at for row in rows),
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

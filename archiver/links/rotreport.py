"""The link-rot report over what the archive holds: every article's latest link checks,
re-judged over the whole history (no network). The job behind ``archiver report linkrot``.

Each article is headed by its title (the newest extraction of its URL) and dated by its
publication year (that extraction's ``published``, else the canonical copy's date); each broken
link carries the archived copies the archive knows (its own capture first, named
``urn:archiver:capture:N``, then the web archives' mementos, each with its date). The rot curve
(:func:`rot_curve`) is the share of cited links broken by the citing article's year.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from archiver.archive.records import StoredLinkCheck
from archiver.links.check import BROKEN, SUSPECT
from archiver.links.rot import Observation, RotPolicy, judge, kind_of
from archiver.models import ArchivedCopy, LinkCheck

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
    title: str | None = None  # from the newest extraction of ``source``
    published_year: int | None = None  # the citing article's year, None when unknown

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "title": self.title,
            "published_year": self.published_year,
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
    checks = {
        source: [_check_from_row(row) for row in rows] for source, rows in rows_by_source.items()
    }
    judged = [c.url for cs in checks.values() for c in cs if kind_of(c.status) not in (None, "up")]
    histories = {
        url: [Observation.from_row(r) for r in found]
        for url, found in archive.link_histories(judged).items()
    }
    facts = _article_facts(archive, list(rows_by_source))
    articles = []
    for source, rows in rows_by_source.items():
        broken, suspects = [], []
        for row, check in zip(rows, checks[source], strict=True):
            if kind_of(check.status) not in (None, "up"):
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
                title=facts.get(source, (None, None))[0],
                published_year=facts.get(source, (None, None))[1],
            )
        )
    return _with_copies(archive, articles)


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


# -- titles, years and archived copies, from what the archive holds ----------------------------

_YEAR = re.compile(r"\s*((?:19|20|21)[0-9]{2})(?:[-/.]|\Z|T|\s)")
_OWN = re.compile(r"urn:archiver:capture:([0-9]{1,18})\Z")
_CHUNK = 500  # values bound in one query (SQLite's limit is far above)
MAX_COPIES = 20  # archived copies kept per broken link in the report


def year_of(published: str | None) -> int | None:
    """The year of an ISO-like date (``2017-03-01``, ``2017``); None for anything else."""
    match = _YEAR.match(published or "")
    return int(match.group(1)) if match else None


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]


def _article_facts(
    archive: Archive, sources: Sequence[str]
) -> dict[str, tuple[str | None, int | None]]:
    """(title, publication year) of each source: the newest extraction of its URL (a redirected
    capture counts by its final URL too); the year, when the extraction has none, from the
    newest canonical copy of that URL the archive parsed."""
    facts: dict[str, tuple[str | None, int | None]] = {}
    for chunk in _chunks(sources):
        marks = ",".join("?" * len(chunk))
        _, rows = archive.query(
            "SELECT c.url, c.final_url, e.title, e.published FROM captures c "
            "JOIN extractions e ON e.id = c.extraction_id "
            f"WHERE c.url IN ({marks}) OR c.final_url IN ({marks}) "
            "ORDER BY c.fetched_at, c.id",
            [*chunk, *chunk],
        )
        wanted = set(chunk)
        for url, final_url, title, published in rows:  # oldest first: the newest wins
            for key in {url, final_url} & wanted:
                facts[key] = (title or None, year_of(published))
        _, parsed = archive.query(
            "SELECT json_extract(data, '$.url'), json_extract(data, '$.published'), "
            "json_extract(data, '$.title') FROM canonical_parses "
            f"WHERE json_valid(data) AND json_extract(data, '$.url') IN ({marks}) "
            "ORDER BY parsed_at",
            list(chunk),
        )
        for url, published, title in parsed:
            known_title, known_year = facts.get(url, (None, None))
            if known_year is None or known_title is None:
                facts[url] = (known_title or title or None, known_year or year_of(published))
    return facts


def _with_copies(archive: Archive, articles: list[ArticleRot]) -> list[ArticleRot]:
    """Each broken link's archived copies: this archive's capture named in ``archived_url``
    (with the date it was captured), then every web archive memento the archive holds for it."""
    links = [c for a in articles for c in a.broken]
    if not links:
        return articles
    own_ids = sorted({int(m.group(1)) for c in links if (m := _OWN.match(c.archived_url or ""))})
    captured: dict[int, tuple[str, str]] = {}
    for chunk in _chunks(own_ids):
        _, rows = archive.query(
            f"SELECT id, fetched_at, url FROM captures WHERE id IN ({','.join('?' * len(chunk))})",
            list(chunk),
        )
        captured.update({int(i): (str(at), str(url)) for i, at, url in rows})
    mementos: dict[str, list[ArchivedCopy]] = {}
    urls = sorted({c.url for c in links})
    for chunk in _chunks(urls):
        _, rows = archive.query(
            "SELECT url, archive, memento_url, memento_datetime, status, replays "
            f"FROM archived_copies WHERE url IN ({','.join('?' * len(chunk))}) "
            "ORDER BY memento_datetime DESC, id",
            list(chunk),
        )
        for url, name, memento, at, status, replays in rows:
            found = mementos.setdefault(str(url), [])
            if len(found) < MAX_COPIES and all(m.url != memento for m in found):
                found.append(
                    ArchivedCopy(
                        archive=str(name),
                        url=str(memento),
                        datetime=str(at),
                        original=str(url),
                        status=status,
                        replays=bool(replays),
                    )
                )

    def copies(check: LinkCheck) -> LinkCheck:
        out: list[ArchivedCopy] = []
        match = _OWN.match(check.archived_url or "")
        if match and int(match.group(1)) in captured:
            at, url = captured[int(match.group(1))]
            out.append(
                ArchivedCopy(archive="archiver", url=check.archived_url or "", datetime=at,
                             original=url, replays=True)
            )  # fmt: skip
        out += [m for m in mementos.get(check.url, []) if m.url != check.archived_url]
        if check.archived_url and not match:
            best = [m for m in mementos.get(check.url, []) if m.url == check.archived_url]
            out = best + out
        return replace(check, archived_copies=tuple(out[:MAX_COPIES])) if out else check

    return [replace(a, broken=tuple(copies(c) for c in a.broken)) for a in articles]


@dataclass(frozen=True, kw_only=True)
class RotYear:
    """One bar of the rot curve: the articles published in ``year`` (None: unknown), how many
    links they cite (at their latest check) and how many of those are broken."""

    year: int | None
    articles: int
    links: int
    broken: int

    @property
    def share(self) -> float:
        return self.broken / self.links if self.links else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "articles": self.articles,
            "links": self.links,
            "broken": self.broken,
            "share": round(self.share, 4),
        }


def rot_curve(articles: Sequence[ArticleRot]) -> list[RotYear]:
    """The share of cited links broken, by the citing article's publication year (oldest year
    first; the articles of an unknown year in one row at the end)."""
    totals: dict[int | None, list[int]] = {}
    for article in articles:
        row = totals.setdefault(article.published_year, [0, 0, 0])
        row[0] += 1
        row[1] += article.links
        row[2] += len(article.broken)
    years = sorted(y for y in totals if y is not None)
    order: list[int | None] = [*years, *([None] if None in totals else [])]
    return [
        RotYear(year=y, articles=totals[y][0], links=totals[y][1], broken=totals[y][2])
        for y in order
    ]

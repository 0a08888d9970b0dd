"""Memento answers kept in the archive: every archive's captures of a broken link, with an age.

Two tables (migration 7): ``memento_lookups`` (one row per archive, URL and date asked near,
when it was asked, the best capture's title) and ``archived_copies`` (the captures that answer
listed: memento URL, capture time, the status it replayed with, and where it redirected when the
archive saw the old URL redirect). An answer younger than ``max_age`` is used instead of asking
again; an archive that failed is not stored, so it is asked again next time.

SQL on the archive's own connection, in its own write transactions; an archive opened read-only
only reads.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

from archiver.links.memento import Found, choose_best, parse_iso
from archiver.models import ArchivedCopy, utc_iso

log = logging.getLogger(__name__)


class HasConnection(Protocol):
    """What is needed of :class:`archiver.archive.store.Archive`."""

    conn: sqlite3.Connection
    readonly: bool


def near_key(published: str | None) -> str:
    """The date a lookup was made near, as stored (the day: captures are chosen by day)."""
    moment = parse_iso(published)
    return moment.strftime("%Y-%m-%d") if moment else "latest"


def load(
    archive: HasConnection,
    keys: Iterable[tuple[str, str]],
    *,
    published: str | None,
    max_age: float,
    now: datetime | None = None,
) -> dict[tuple[str, str], Found]:
    """Fresh answers by (archive name, URL): the newest lookup younger than ``max_age``."""
    near = near_key(published)
    oldest = utc_iso((now or datetime.now(UTC)) - timedelta(seconds=max_age))
    when = parse_iso(published)
    out: dict[tuple[str, str], Found] = {}
    try:
        for name, url in keys:
            row = archive.conn.execute(
                "SELECT id, title, canonical FROM memento_lookups WHERE url = ? AND archive = ? "
                "AND near = ? AND looked_up_at > ? ORDER BY looked_up_at DESC, id DESC LIMIT 1",
                (url, name, near, oldest),
            ).fetchone()
            if row is None:
                continue
            copies: list[ArchivedCopy] = []
            redirects: list[tuple[str, ArchivedCopy]] = []
            for memento, moment, status, replays, redirect_to in archive.conn.execute(
                "SELECT memento_url, memento_datetime, status, replays, redirect_to "
                "FROM archived_copies WHERE lookup_id = ? ORDER BY id",
                (row[0],),
            ):
                copy = ArchivedCopy(
                    archive=name,
                    url=memento,
                    datetime=moment,
                    original=url,
                    status=status,
                    replays=bool(replays),
                )
                if redirect_to:
                    redirects.append((redirect_to, copy))
                else:
                    copies.append(copy)
            best = choose_best(copies, when)
            out[(name, url)] = Found(
                copies=tuple(copies),
                best=best,
                title=row[1] if best is not None else None,
                canonical=row[2] if best is not None else None,
                redirected_to=tuple(redirects),
            )
    except sqlite3.Error as exc:  # an older archive, or a locked one: ask the archives instead
        log.warning("memento cache not read: %s", exc)
        return {}
    return out


def save(
    archive: HasConnection,
    fresh: Mapping[tuple[str, str], Found],
    *,
    published: str | None,
    now: str | None = None,
) -> None:
    """Keep each archive's new answer (one lookup row and its captures) in one transaction."""
    if archive.readonly or not fresh:
        return
    near = near_key(published)
    stamp = now or utc_iso()
    conn = archive.conn
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for (name, url), found in fresh.items():
                cursor = conn.execute(
                    "INSERT INTO memento_lookups (url, archive, near, looked_up_at, title, "
                    "canonical, best_url) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        url,
                        name,
                        near,
                        stamp,
                        found.title,
                        found.canonical,
                        found.best.url if found.best else None,
                    ),
                )
                rows = [(c, None) for c in found.copies] + [
                    (c, target) for target, c in found.redirected_to
                ]
                conn.executemany(
                    "INSERT INTO archived_copies (lookup_id, url, archive, memento_url, "
                    "memento_datetime, status, replays, redirect_to) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (cursor.lastrowid, url, name, c.url, c.datetime, c.status, c.replays, t)
                        for c, t in rows
                    ],
                )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        log.warning("memento answers not kept in the archive: %s", exc)

"""Reading the archive: a URL's history, full-text search, link and drift verdicts, and the
read-only SQL sandbox behind ``archiver query``.

User SQL runs on its own ``mode=ro`` connection with an authorizer that refuses ``ATTACH`` and
``PRAGMA`` assignments, under a time limit (``timeout``, seconds) enforced by SQLite's progress
handler, which also makes a running query stop at once on Ctrl-C: the ``KeyboardInterrupt`` is
raised from the query, not swallowed by SQLite.
"""

from __future__ import annotations

import re
import signal
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any

from archiver.archive import DEFAULT_QUERY_TIMEOUT
from archiver.archive.db import Handle, guarded, translate
from archiver.archive.records import (
    SearchHit,
    StoredLinkCheck,
    StoredSourceDrift,
    StoredVerification,
    TimelineEntry,
    Verdict,
    changes_from_json,
)
from archiver.errors import InputError, JobError

_PROGRESS_STEPS = 1000  # SQLite VM instructions between two looks at the clock
_IN_BATCH = 500  # values in one ``IN (...)``: under SQLite's 999 variables of old builds

_PHRASE = re.compile(r'"([^"]*)"|(\S+)')
_FILE_TROUBLE = ("locked", "busy", "malformed", "not a database")


def fts_query(text: str) -> str:
    """Turn what a user types into a safe FTS5 query: words ANDed, "quoted phrases" kept."""
    parts = []
    for phrase, word in _PHRASE.findall(text):
        term = (phrase or word).strip()
        if term:
            parts.append('"' + term.replace('"', '""') + '"')
    if not parts:
        raise InputError("empty search: give one or more words")
    return " ".join(parts)


#: PRAGMAs that take an argument but only read (the schema browsers people use).
_READING_PRAGMAS = frozenset(
    {
        "table_info",
        "table_xinfo",
        "table_list",
        "index_info",
        "index_xinfo",
        "index_list",
        "foreign_key_list",
        "foreign_key_check",
        "integrity_check",
        "quick_check",
    }
)


def _authorize_reading(
    action: int, arg1: str | None, arg2: str | None, db: str | None, src: str | None
) -> int:
    """Authorizer for user SQL: no ATTACH (it could create files), no PRAGMA that sets."""
    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA and arg2 is not None:
        if (arg1 or "").lower() not in _READING_PRAGMAS:
            return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


class _Watch:
    """A progress handler: stops the query past its deadline, or once Ctrl-C was pressed."""

    def __init__(self, timeout: float | None) -> None:
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.timed_out = False
        self.interrupted = False

    def __call__(self) -> int:
        if self.interrupted:
            return 1
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.timed_out = True
            return 1
        return 0


@contextmanager
def _ctrl_c_stops(watch: _Watch) -> Iterator[None]:
    """While the query runs, SIGINT stops it; then the handler that was there gets the signal.

    Python runs signal handlers only between bytecodes, and SQLite swallows an exception raised
    in its progress handler, so the ``KeyboardInterrupt`` of the default handler would be lost
    (or, with no Python code running, never raised). This handler only notes the signal; the
    progress handler then stops SQLite, and the signal is handed on once SQLite has returned.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous == signal.SIG_IGN or previous is None:
        yield
        return

    def noted(signum: int, frame: FrameType | None) -> None:
        watch.interrupted = True

    signal.signal(signal.SIGINT, noted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if watch.interrupted:
            if callable(previous):
                previous(signal.SIGINT, None)  # the default one raises KeyboardInterrupt
            else:
                signal.raise_signal(signal.SIGINT)


def run_user_sql(
    conn: sqlite3.Connection,
    sql: str,
    params: Sequence[Any],
    *,
    path: str,
    timeout: float | None,
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The user's SQL on a read-only connection: (columns, rows), refused, or timed out."""
    watch = _Watch(timeout)
    conn.set_authorizer(_authorize_reading)
    conn.set_progress_handler(watch, _PROGRESS_STEPS)
    try:
        with _ctrl_c_stops(watch):
            cursor = conn.execute(sql, tuple(params))
            columns = [d[0] for d in cursor.description or ()]
            rows = [tuple(row) for row in cursor.fetchall()]
    except (sqlite3.DatabaseError, sqlite3.ProgrammingError) as exc:
        message = str(exc)
        if watch.timed_out:
            raise JobError(
                f"query stopped after its time limit of {timeout:g} s "
                "(--timeout SECONDS, 0 for none)"
            ) from exc
        if watch.interrupted or message == "interrupted":
            # Ctrl-C whose handler did not raise, or another signal's exception that SQLite
            # swallowed in the progress handler: the query did not finish.
            raise JobError("query interrupted") from exc
        if isinstance(exc, sqlite3.DatabaseError) and any(w in message for w in _FILE_TROUBLE):
            raise translate(path, exc, reading=True) from exc
        raise InputError(f"query refused: {message}") from exc
    finally:
        conn.set_progress_handler(None, 0)
        conn.set_authorizer(None)
    return columns, rows


def _vs_previous(row: dict[str, Any], previous: dict[str, Any] | None) -> str:
    if not row["body_sha256"]:
        return "no_body"
    if previous is None:
        return "first"
    if previous["body_sha256"] == row["body_sha256"]:
        return "same_body"
    if row["checksum"] and previous["checksum"] == row["checksum"]:
        return "same_text"
    return "text_changed"


class Queries:
    """What one archive can be asked (``archive.queries``)."""

    def __init__(self, handle: Handle) -> None:
        self.handle = handle

    @guarded
    def history(self, url: str) -> list[TimelineEntry]:
        """The timeline of one URL: each capture, its checksums, and how it compares.

        ``vs_previous`` compares with the previous capture that has a body: ``first``,
        ``same_body``, ``same_text`` (bytes changed, normalized text did not), ``text_changed``,
        or ``no_body`` for failures and 304s. ``verification`` is the newest verdict against
        the canonical copy made from this capture, if any.
        """
        db = self.handle.db
        rows = list(
            db.query(
                """SELECT captures.id, captures.url, captures.final_url, captures.fetched_at,
                    captures.kind, captures.status, captures.error, captures.body_sha256,
                    captures.size, extractions.checksum, extractions.title
                FROM captures LEFT JOIN extractions ON extractions.id = captures.extraction_id
                WHERE captures.url = :url OR captures.final_url = :url
                ORDER BY captures.fetched_at, captures.id""",
                {"url": url},
            )
        )
        verdicts: dict[int, Verdict] = {}
        for v in db.query(
            """SELECT capture_id, status, similarity, canonical_path, verified_at
            FROM verifications WHERE url = ? OR capture_id IN (
                SELECT id FROM captures WHERE url = ? OR final_url = ?)
            ORDER BY verified_at, id""",
            [url, url, url],
        ):
            if v["capture_id"] is not None:
                verdicts[v["capture_id"]] = Verdict(
                    status=v["status"],
                    similarity=v["similarity"],
                    canonical_path=v["canonical_path"],
                    verified_at=v["verified_at"],
                )
        timeline = []
        previous: dict[str, Any] | None = None
        for row in rows:
            timeline.append(
                TimelineEntry(
                    capture_id=row["id"],
                    fetched_at=row["fetched_at"],
                    url=row["url"],
                    final_url=row["final_url"],
                    kind=row["kind"],
                    status=row["status"],
                    error=row["error"],
                    sha256=row["body_sha256"],
                    size=row["size"],
                    checksum=row["checksum"],
                    title=row["title"],
                    vs_previous=_vs_previous(row, previous),
                    verification=verdicts.get(row["id"]),
                )
            )
            if row["body_sha256"]:
                previous = row
        return timeline

    @guarded
    def search(self, text: str, *, limit: int = 20, raw: bool = False) -> list[SearchHit]:
        """Full-text search (FTS5) over extracted text, best match first, with a snippet.

        Words are ANDed and "quoted phrases" kept; ``raw=True`` passes FTS5 syntax through.
        Each distinct extraction is one hit, with the newest capture that produced it.
        """
        match = text if raw else fts_query(text)
        sql = """SELECT extractions.id AS extraction_id, extractions.url, extractions.title,
                extractions.checksum,
                snippet(extractions_fts, -1, '«', '»', '…', 16) AS snippet,
                extractions_fts.rank AS rank,
                (SELECT id FROM captures WHERE captures.extraction_id = extractions.id
                    ORDER BY fetched_at DESC, id DESC LIMIT 1) AS capture_id,
                (SELECT max(fetched_at) FROM captures
                    WHERE captures.extraction_id = extractions.id) AS last_seen,
                (SELECT count(*) FROM captures
                    WHERE captures.extraction_id = extractions.id) AS captures
            FROM extractions_fts JOIN extractions ON extractions.rowid = extractions_fts.rowid
            WHERE extractions_fts MATCH ? ORDER BY rank LIMIT ?"""
        try:
            return [SearchHit(**row) for row in self.handle.db.query(sql, [match, limit])]
        except sqlite3.OperationalError as exc:
            message = str(exc)
            if any(word in message for word in _FILE_TROUBLE):
                raise
            raise InputError(f"bad search query {text!r}: {message}") from exc

    @guarded
    def query(
        self, sql: str, params: Sequence[Any] = (), *, timeout: float | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run the user's SQL on a read-only connection; return (columns, rows).

        A write, ATTACH or PRAGMA assignment is refused with an ``InputError`` (exit 2), so a
        typo in a query can never change the archive. Past ``timeout`` seconds (None: no
        limit) the query is stopped with a ``JobError`` (exit 3); Ctrl-C stops it at once
        (``KeyboardInterrupt``).
        """
        handle = self.handle
        if handle.memory:
            conn = handle.conn
            conn.execute("PRAGMA query_only = ON")
            try:
                return run_user_sql(conn, sql, params, path=handle.path, timeout=timeout)
            finally:
                if not handle.readonly:
                    conn.execute("PRAGMA query_only = OFF")
        conn = handle.connect(readonly=True)
        try:
            return run_user_sql(conn, sql, params, path=handle.path, timeout=timeout)
        finally:
            conn.close()

    @guarded
    def link_history(self, url: str) -> list[StoredLinkCheck]:
        """Every check of that link target, oldest first: the evidence for ``broken``."""
        return self.link_histories([url])[url]

    @guarded
    def link_histories(self, urls: Iterable[str]) -> dict[str, list[StoredLinkCheck]]:
        """:meth:`link_history` of many targets, looked up together (every URL given is a
        key, with ``[]`` for one never checked)."""
        wanted = list(dict.fromkeys(urls))
        found: dict[str, list[StoredLinkCheck]] = {url: [] for url in wanted}
        for at in range(0, len(wanted), _IN_BATCH):
            batch = wanted[at : at + _IN_BATCH]
            marks = ",".join("?" * len(batch))
            rows = self.handle.db.query(
                f"SELECT * FROM link_checks WHERE url IN ({marks}) ORDER BY checked_at, id", batch
            )
            for row in rows:
                found[row["url"]].append(StoredLinkCheck.from_row(row))
        return found

    @guarded
    def latest_link_checks(self) -> list[StoredLinkCheck]:
        """The newest check of every (article, link) pair: what ``report linkrot`` starts from."""
        rows = self.handle.db.query(
            "SELECT * FROM latest_link_checks ORDER BY source_url, checked_at, id"
        )
        return [StoredLinkCheck.from_row(row) for row in rows]

    @guarded
    def latest_verifications(self) -> list[StoredVerification]:
        """The newest verification of each canonical copy (path and URL), by path, with the
        sources it compared with their first capture (``sources``)."""
        db = self.handle.db
        rows = db.query(
            """SELECT v.* FROM verifications v
            WHERE v.id = (SELECT max(w.id) FROM verifications w
                WHERE w.canonical_path = v.canonical_path AND w.url = v.url)
            ORDER BY v.canonical_path, v.url"""
        )
        has_sources = "source_drifts" in db.table_names()

        def sources(verification_id: int) -> tuple[StoredSourceDrift, ...]:
            if not has_sources:
                return ()
            return tuple(
                StoredSourceDrift(**source)
                for source in db.query(
                    """SELECT url, text, status, similarity, passage, first_capture_id,
                        capture_id, detail FROM source_drifts
                    WHERE verification_id = ? ORDER BY id""",
                    [verification_id],
                )
            )

        return [
            StoredVerification(
                **{**row, "changes": changes_from_json(row["changes"])},
                sources=sources(row["id"]),
            )
            for row in list(rows)
        ]


__all__ = ["DEFAULT_QUERY_TIMEOUT", "Queries", "fts_query", "run_user_sql"]

"""The archive: every capture, extraction, link check and verification, in one SQLite file.

Users query this archive for years, so it must never lose or silently corrupt a capture:

* raw bodies are stored once per SHA-256 (``bodies``), compressed with zlib when that helps, and
  re-hashed on every read and by ``fsck`` (``archiver.archive.codec``);
* every capture is written in one ``BEGIN IMMEDIATE`` transaction, in WAL mode with a busy
  timeout, so a reader can query while a run writes;
* the schema only moves forward through ``archiver.archive.migrations``;
  ``docs/schema.md`` documents it.

:class:`Archive` is the face: it opens the file (``archiver.archive.db``) and composes the
parts, each one responsibility — ``captures``, ``verdicts`` (link checks and verifications),
``runs`` (the run log), ``parses`` (the canonical parse cache), ``queries`` (history, search,
the SQL sandbox) — and keeps one thin method per operation for its callers. Failures of the
file itself become ``ArchiveCorrupt`` / ``ArchiveLocked`` / ``JobError`` (exit 3); results such
as a failed fixity check are values (``FsckReport``), not exceptions.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from sqlite_utils import Database

from archiver.archive import fsck as fixity
from archiver.archive.captures import Captures
from archiver.archive.db import DEFAULT_BUSY_TIMEOUT, Handle, guarded
from archiver.archive.parses import ParseCache
from archiver.archive.queries import DEFAULT_QUERY_TIMEOUT, Queries, fts_query
from archiver.archive.records import (
    RunRecord,
    SearchHit,
    StoredCapture,
    StoredLinkCheck,
    StoredVerification,
    TimelineEntry,
)
from archiver.archive.runlog import RunLog
from archiver.archive.verdicts import Verdicts
from archiver.models import Capture, Document, Drift, LinkCheck


class Archive:
    """One archive file. Open it, save and read captures, check it, close it.

    ``readonly=True`` opens an existing file through a ``mode=ro`` URI (``immutable=1`` when
    its folder cannot be written and no ``-wal`` is pending) and never creates one: a missing
    file is an ``InputError`` naming the path.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        readonly: bool = False,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        durable: bool = True,
    ) -> None:
        self.handle = Handle(path, readonly=readonly, busy_timeout=busy_timeout, durable=durable)
        self.captures = Captures(self.handle)
        self.verdicts = Verdicts(self.handle)
        self.runs = RunLog(self.handle)
        self.parses = ParseCache(self.handle)
        self.queries = Queries(self.handle)

    @classmethod
    def memory(cls) -> Archive:
        """An archive in memory, for tests and one-off extractions."""
        return cls(":memory:")

    @property
    def path(self) -> str:
        return self.handle.path

    @property
    def readonly(self) -> bool:
        return self.handle.readonly

    @property
    def conn(self) -> sqlite3.Connection:
        return self.handle.conn

    @property
    def db(self) -> Database:
        return self.handle.db

    def close(self) -> None:
        self.handle.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- captures ----------------------------------------------------------------------------

    def save_capture(
        self, capture: Capture, document: Document | None = None, *, run_id: int | None = None
    ) -> int:
        """Store one capture (and its extraction) in one transaction; return its id."""
        return self.captures.save(capture, document, run_id=run_id)

    def get_capture(self, capture_id: int) -> StoredCapture | None:
        """The capture with that id, its body restored and re-verified, or None."""
        return self.captures.get(capture_id)

    def latest_capture(self, url: str, *, with_document: bool = True) -> StoredCapture | None:
        """The newest capture of that URL with a body, a 2xx answer preferred over others."""
        return self.captures.latest(url, with_document=with_document)

    def first_capture(self, url: str, *, with_document: bool = True) -> StoredCapture | None:
        """The oldest 2xx capture of that URL with an extraction: a source's baseline text."""
        return self.captures.first(url, with_document=with_document)

    def alive_before(self, url: str, before: str, *, limit: int = 5) -> list[StoredCapture]:
        """The newest 2xx HTML captures of that URL fetched before ``before``, with bodies."""
        return self.captures.alive_before(url, before, limit=limit)

    def newest_state(self, url: str) -> tuple[int, Capture, Document | None] | None:
        """The newest capture of that URL (not a 304), without its body, and its extraction."""
        return self.captures.newest_state(url)

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) of the newest 2xx capture, for a conditional GET."""
        return self.captures.validators(url)

    def body(self, sha256: str) -> bytes | None:
        """The stored body with that SHA-256, verified, or None if the archive lacks it."""
        return self.captures.body(sha256)

    def has_capture(self, capture: Capture) -> bool:
        """Whether this very capture (URL, time, outcome, body) is already stored."""
        return self.captures.has(capture)

    def capture_ids(self) -> list[int]:
        """Every capture id, oldest first (export, benchmarks)."""
        return self.captures.ids()

    def known_document(self, final_url: str, sha256: str, normalizer: str) -> Document | None:
        """The extraction already stored for these exact bytes at this URL by this normalizer."""
        return self.captures.known_document(final_url, sha256, normalizer)

    # -- verdicts ----------------------------------------------------------------------------

    def save_link_checks(
        self,
        checks: Sequence[LinkCheck],
        *,
        source_url: str,
        capture_id: int | None = None,
        checked_at: str | None = None,
    ) -> None:
        """Record the verdict on every link of one page; the history decides what is broken."""
        self.verdicts.save_link_checks(
            checks, source_url=source_url, capture_id=capture_id, checked_at=checked_at
        )

    def save_verification(
        self,
        *,
        canonical_path: str,
        url: str,
        drift: Drift,
        capture_id: int | None,
        links: Sequence[LinkCheck] = (),
        run_id: int | None = None,
        verified_at: str | None = None,
    ) -> int:
        """Record one comparison of a canonical copy with a capture, and its link checks."""
        return self.verdicts.save_verification(
            canonical_path=canonical_path,
            url=url,
            drift=drift,
            capture_id=capture_id,
            links=links,
            run_id=run_id,
            verified_at=verified_at,
        )

    def save_verifications(self, items: Sequence[dict[str, Any]]) -> list[int]:
        """Many verifications (the keyword arguments of :meth:`save_verification` each), one
        transaction; their ids in order."""
        return self.verdicts.save_verifications(items)

    def save_source_drifts(self, verification_id: int, drifts: Sequence[Any]) -> None:
        """Record how each source of a verification compares with its first capture."""
        self.verdicts.save_source_drifts_many([(verification_id, drifts)])

    def save_source_drifts_many(self, items: Sequence[tuple[int, Sequence[Any]]]) -> None:
        """Source drifts of many verifications, one transaction."""
        self.verdicts.save_source_drifts_many(items)

    # -- reading -----------------------------------------------------------------------------

    def history(self, url: str) -> list[TimelineEntry]:
        """The timeline of one URL: each capture, its checksums, and how it compares."""
        return self.queries.history(url)

    def search(self, text: str, *, limit: int = 20, raw: bool = False) -> list[SearchHit]:
        """Full-text search (FTS5) over extracted text, best match first, with a snippet."""
        return self.queries.search(text, limit=limit, raw=raw)

    def query(
        self,
        sql: str,
        params: Sequence[Any] = (),
        *,
        timeout: float | None = None,
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run the user's SQL on a read-only connection, within ``timeout`` seconds (None: no
        limit; the command line gives it ``DEFAULT_QUERY_TIMEOUT``)."""
        return self.queries.query(sql, params, timeout=timeout)

    def link_history(self, url: str) -> list[StoredLinkCheck]:
        """Every check of that link target, oldest first: the evidence for ``broken``."""
        return self.queries.link_history(url)

    def link_histories(self, urls: Iterable[str]) -> dict[str, list[StoredLinkCheck]]:
        """The histories of many link targets, looked up together."""
        return self.queries.link_histories(urls)

    def latest_link_checks(self) -> list[StoredLinkCheck]:
        """The newest check of every (article, link) pair."""
        return self.queries.latest_link_checks()

    def latest_verifications(self) -> list[StoredVerification]:
        """The newest verification of each canonical copy, with the sources it compared."""
        return self.queries.latest_verifications()

    # -- the parse cache ---------------------------------------------------------------------

    def cached_parses(self, keys: Sequence[str], parser: str) -> dict[str, str]:
        """Parsed canonical copies by the SHA-256 of their bytes (those the cache holds)."""
        return self.parses.get(keys, parser)

    def save_parses(self, items: Sequence[tuple[str, str]], parser: str) -> None:
        """Remember parsed canonical copies, (sha256 of bytes, JSON); not on a read-only one."""
        self.parses.save(items, parser)

    # -- the run log -------------------------------------------------------------------------

    def start_run(self, *, command: str, config: str | None = None) -> int:
        return self.runs.start(command=command, config=config)

    def finish_run(self, run_id: int, *, status: str, summary: dict[str, Any]) -> None:
        self.runs.finish(run_id, status=status, summary=summary)

    def set_run_status(self, run_ids: Sequence[int], status: str) -> None:
        self.runs.set_status(run_ids, status)

    def runs_with_status(self, status: str, *, command: str = "run") -> list[RunRecord]:
        return self.runs.with_status(status, command=command)

    def last_run(self, *, command: str = "run", before: int | None = None) -> RunRecord | None:
        return self.runs.last(command=command, before=before)

    def run_started(self, run_id: int) -> str | None:
        return self.runs.started(run_id)

    def mark_item(
        self,
        run_id: int,
        *,
        item: str,
        kind: str,
        url: str,
        outcome: str,
        detail: str = "",
        done_at: str | None = None,
    ) -> None:
        self.runs.mark_item(
            run_id, item=item, kind=kind, url=url, outcome=outcome, detail=detail, done_at=done_at
        )

    def items_done(self, run_ids: Sequence[int], *, failed: Sequence[str] = ()) -> set[str]:
        return self.runs.items_done(run_ids, failed=failed)

    def item_times(self, *, failed: Sequence[str] = ()) -> dict[str, str]:
        return self.runs.item_times(failed=failed)

    def run_captures(self, run_ids: Sequence[int]) -> dict[str, int]:
        return self.runs.captures(run_ids)

    def run_verifications(self, run_ids: Sequence[int]) -> dict[str, tuple[str, str]]:
        return self.runs.verifications(run_ids)

    def run_link_checks(self, run_ids: Sequence[int]) -> list[StoredLinkCheck]:
        return self.runs.link_checks(run_ids)

    def link_states(
        self, *, ignore: Sequence[str] = (), before: str | None = None
    ) -> dict[str, tuple[str, str, bool]]:
        return self.runs.link_states(ignore=ignore, before=before)

    def drift_states(self, *, before_run: int | None = None) -> dict[str, str]:
        return self.runs.drift_states(before_run=before_run)

    # -- fixity and WARC ---------------------------------------------------------------------

    @guarded
    def has_evidence_log(self) -> bool:
        """Whether this archive's schema has the evidence log (an old read-only file may not)."""
        return "evidence_log" in self.db.table_names()

    def fsck(self) -> fixity.FsckReport:
        """Re-hash every stored body and run SQLite's integrity check; problems are values."""
        return fixity.check(self.handle.conn, self.handle.path)

    def export_warc(self, path: str, *, revisits: bool = True) -> int:
        """Write every capture to a gzipped WARC/1.1 file; return the number of captures."""
        from archiver.archive import warc  # warcio is loaded by the commands that use it

        return warc.export_warc(self, path, revisits=revisits)

    def import_warc(self, path: str) -> int:
        """Bring the responses of a WARC file into the archive; return the captures added."""
        from archiver.archive import warc

        return warc.import_warc(self, path)


__all__ = ["DEFAULT_BUSY_TIMEOUT", "DEFAULT_QUERY_TIMEOUT", "Archive", "StoredCapture", "fts_query"]

"""The archive: every capture, extraction, link check and verification, in one SQLite file.

Users query this archive for years, so it must never lose or silently corrupt a capture:

* raw bodies are stored once per SHA-256 (``bodies``), compressed with zlib when that helps, and
  re-hashed on every read and by ``fsck``;
* every capture is written in one ``BEGIN IMMEDIATE`` transaction, in WAL mode with a busy
  timeout, so a reader can query while a run writes;
* the schema only moves forward through ``archiver.archive.migrations``;
  ``docs/schema.md`` documents it.

Only this module (with ``migrations`` and ``warc``) touches SQLite. Failures of the file itself
become ``ArchiveCorrupt`` / ``ArchiveLocked`` (exit 3); results such as a failed fixity check
are values (``FsckReport``), not exceptions.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import quote

from sqlite_utils import Database

from archiver.archive import migrations
from archiver.errors import ArchiveCorrupt, ArchiveLocked, ArchiverError, InputError
from archiver.models import (
    Capture,
    Change,
    Document,
    Drift,
    Image,
    Link,
    LinkCheck,
    sha256_hex,
    utc_iso,
)

if TYPE_CHECKING:
    from archiver.archive.fsck import FsckReport

log = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT = 10.0  # seconds a writer waits for another writer before ArchiveLocked
ZLIB_LEVEL = 6  # the knee of zlib's size/speed curve for HTML

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True, kw_only=True)
class StoredCapture:
    """A capture as the archive holds it: its id, the capture byte for byte, its extraction."""

    id: int
    capture: Capture
    document: Document | None


def _translate(path: str, exc: sqlite3.Error) -> ArchiverError:
    """Map SQLite's failure to the error tree: locked -> ArchiveLocked, the rest -> corrupt."""
    message = str(exc)
    if isinstance(exc, sqlite3.IntegrityError):
        return InputError(f"{path}: record refused by the archive's constraints ({message})")
    if "locked" in message or "busy" in message:
        return ArchiveLocked(f"{path}: database is locked by another writer ({message})")
    return ArchiveCorrupt(f"{path}: not a usable archive ({message})")


def _guarded(
    method: Callable[Concatenate[Archive, P], R],
) -> Callable[Concatenate[Archive, P], R]:
    """Turn SQLite errors escaping a public method into the archive's one-line errors."""

    @functools.wraps(method)
    def wrapper(self: Archive, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            with self._lock:
                return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise _translate(self.path, exc) from exc

    return wrapper


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def compress_body(body: bytes) -> tuple[str, bytes]:
    """zlib when it makes the body smaller, else the bytes as they are (images, archives)."""
    packed = zlib.compress(body, ZLIB_LEVEL)
    if len(packed) < len(body):
        return "zlib", packed
    return "identity", body


def decompress_body(compression: str, data: bytes) -> bytes:
    if compression == "zlib":
        return zlib.decompress(data)
    if compression == "identity":
        return bytes(data)
    raise ValueError(f"unknown compression {compression!r}")


def document_key(document: Document) -> str:
    """Identity of an extraction: the same document seen 100 times is stored once."""
    blob = json.dumps(document.to_json(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


_PHRASE = re.compile(r'"([^"]*)"|(\S+)')


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


class Archive:
    """One archive file. Open it, save and read captures, check it, close it.

    ``readonly=True`` opens an existing file through a ``mode=ro`` URI and never creates one:
    a missing file is an ``InputError`` naming the path.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        readonly: bool = False,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        durable: bool = True,
    ) -> None:
        self.path = os.fspath(path)
        # durable: fsync every commit (synchronous=FULL). False trades the last commits before
        # a power cut (never consistency) for speed: bulk imports, benchmarks.
        self.durable = durable
        self.readonly = readonly
        self.busy_timeout = busy_timeout
        self._memory = self.path == ":memory:"
        # One connection shared by the threads of a run (fetch workers), one call at a time.
        self._lock = threading.RLock()
        try:
            self.conn = self._open()
        except sqlite3.Error as exc:
            raise _translate(self.path, exc) from exc
        self.db = Database(self.conn)

    @classmethod
    def memory(cls) -> Archive:
        """An archive in memory, for tests and one-off extractions."""
        return cls(":memory:")

    # -- opening ---------------------------------------------------------------------------

    def _connect(self, *, readonly: bool) -> sqlite3.Connection:
        if self._memory:
            target, uri = ":memory:", False
        elif readonly:
            target, uri = f"file:{quote(os.path.abspath(self.path))}?mode=ro", True
        else:
            target, uri = self.path, False
        conn = sqlite3.connect(
            target,
            timeout=self.busy_timeout,
            isolation_level=None,
            uri=uri,
            check_same_thread=False,
        )
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            # Reading the schema fails here, not later, for a file that is not SQLite.
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except BaseException:
            conn.close()
            raise
        return conn

    def _open(self) -> sqlite3.Connection:
        if self.readonly and not self._memory:
            if not os.path.isfile(self.path):
                raise InputError(f"no archive at {self.path}")
            conn = self._connect(readonly=True)
            if _version(conn) < migrations.SCHEMA_VERSION:
                # An archive from an older release: upgrade it once, then read.
                conn.close()
                self._connect_and_migrate().close()
                conn = self._connect(readonly=True)
            conn.execute("PRAGMA query_only = ON")
            return conn
        if not self._memory:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        return self._connect_and_migrate()

    def _connect_and_migrate(self) -> sqlite3.Connection:
        """Open for writing and bring the schema up to date.

        Migrations cannot be one transaction (sqlite-utils commits inside ``enable_fts``), so
        two processes creating an archive at once can collide; the steps are idempotent and a
        collision is retried until the busy timeout.
        """
        conn = self._connect(readonly=False)
        deadline = time.monotonic() + self.busy_timeout
        try:
            while True:
                try:
                    self._prepare(conn)
                    return conn
                except sqlite3.OperationalError as exc:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    if time.monotonic() >= deadline:
                        raise
                    log.info("%s: opening raced with another process (%s); again", self.path, exc)
                    time.sleep(0.05)
        except BaseException:
            conn.close()
            raise

    def _prepare(self, conn: sqlite3.Connection) -> None:
        if not self._memory:
            conn.execute("PRAGMA journal_mode = WAL")
            # FULL: a committed capture survives a power cut, not only a crash.
            conn.execute(f"PRAGMA synchronous = {'FULL' if self.durable else 'NORMAL'}")
        db = Database(conn)
        if _version(conn) == 0:
            foreign = [
                t
                for t in db.table_names()
                if t not in migrations.TABLES and not t.startswith("extractions_fts")
            ]
            if foreign:
                raise ArchiveCorrupt(
                    f"{self.path}: an SQLite file but not an archive (has tables "
                    f"{', '.join(sorted(foreign)[:5])})"
                )
        try:
            migrations.migrate(db)
        except ValueError as exc:
            raise ArchiveCorrupt(f"{self.path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (IMMEDIATE) so it never fails half-way on BUSY."""
        if self.readonly:
            raise InputError(f"{self.path} is open read-only")
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- writing ---------------------------------------------------------------------------

    @_guarded
    def save_capture(
        self, capture: Capture, document: Document | None = None, *, run_id: int | None = None
    ) -> int:
        """Store one capture (and its extraction) in one transaction; return its id.

        A body already stored under its SHA-256 is not stored again. A 304 is recorded as
        ``not_modified`` and a failed fetch as ``error``, both without a body: they are history.
        The partial body of a fetch cut short (a timeout mid-body) is kept, ``truncated``.
        """
        if sha256_hex(capture.body) != capture.sha256:
            raise InputError(f"capture of {capture.url}: sha256 does not match its body")
        kind = capture_kind(capture)
        keep_body = has_stored_body(capture)
        packed: tuple[str, bytes] | None = None
        if keep_body and not self._has_body(capture.sha256):
            packed = compress_body(capture.body)
        fetched_at = capture.fetched_at or utc_iso()
        with self._transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO urls (url, first_seen) VALUES (?, ?)",
                (capture.url, fetched_at),
            )
            url_id = conn.execute("SELECT id FROM urls WHERE url = ?", (capture.url,)).fetchone()[0]
            if packed is not None:
                conn.execute(
                    "INSERT OR IGNORE INTO bodies (sha256, size, compression, data, stored_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (capture.sha256, len(capture.body), packed[0], packed[1], utc_iso()),
                )
            extraction_id = self._insert_document(conn, document) if document else None
            cursor = conn.execute(
                """INSERT INTO captures (url_id, url, final_url, method, fetched_at, kind, status,
                    error, detail, content_type, headers, redirects, body_sha256, size, etag,
                    last_modified, truncated, not_modified, elapsed, extraction_id, run_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    url_id,
                    capture.url,
                    capture.final_url or capture.url,
                    capture.method,
                    fetched_at,
                    kind,
                    capture.status,
                    capture.error,
                    capture.detail,
                    capture.content_type,
                    _dumps([list(pair) for pair in capture.headers]),
                    _dumps(list(capture.redirects)),
                    capture.sha256 if keep_body else None,
                    len(capture.body) if keep_body else None,
                    capture.header("ETag"),
                    capture.header("Last-Modified"),
                    int(capture.truncated),
                    int(kind == "not_modified"),
                    capture.elapsed,
                    extraction_id,
                    run_id,
                ),
            )
            capture_id = int(cursor.lastrowid or 0)
        log.debug("stored capture %d of %s (%s)", capture_id, capture.url, kind)
        return capture_id

    def _has_body(self, sha256: str) -> bool:
        row = self.conn.execute("SELECT 1 FROM bodies WHERE sha256 = ?", (sha256,)).fetchone()
        return row is not None

    def _insert_document(self, conn: sqlite3.Connection, document: Document) -> int:
        key = document_key(document)
        cursor = conn.execute(
            """INSERT OR IGNORE INTO extractions (key, url, profile, normalizer, checksum, title,
                subtitle, authors, published, modified, label, encoding, text, paragraphs,
                paragraph_hashes, images, warnings)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                key,
                document.url,
                document.profile,
                document.normalizer,
                document.checksum,
                document.title,
                document.subtitle,
                _dumps(list(document.authors)),
                document.published,
                document.modified,
                document.label,
                document.encoding,
                document.text,
                _dumps(list(document.paragraphs)),
                _dumps(list(document.paragraph_hashes)),
                _dumps([image.to_json() for image in document.images]),
                _dumps(list(document.warnings)),
            ),
        )
        if cursor.rowcount:
            extraction_id = int(cursor.lastrowid or 0)
            conn.executemany(
                "INSERT INTO links (extraction_id, position, target, text) VALUES (?, ?, ?, ?)",
                [(extraction_id, i, link.url, link.text) for i, link in enumerate(document.links)],
            )
            return extraction_id
        return int(conn.execute("SELECT id FROM extractions WHERE key = ?", (key,)).fetchone()[0])

    def _insert_link_checks(
        self,
        conn: sqlite3.Connection,
        checks: Sequence[LinkCheck],
        *,
        source_url: str,
        capture_id: int | None,
        checked_at: str,
        verification_id: int | None = None,
    ) -> None:
        conn.executemany(
            """INSERT INTO link_checks (source_url, capture_id, verification_id, checked_at, url,
                text, status, broken, http_status, final_url, redirects, archived_url, detail,
                recovered)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (
                    source_url,
                    capture_id,
                    verification_id,
                    checked_at,
                    check.url,
                    check.text,
                    check.status,
                    int(check.broken),
                    check.http_status,
                    check.final_url,
                    _dumps(list(check.redirects)),
                    check.archived_url,
                    check.detail,
                    None if check.recovered is None else int(check.recovered),
                )
                for check in checks
            ],
        )

    @_guarded
    def save_link_checks(
        self,
        checks: Sequence[LinkCheck],
        *,
        source_url: str,
        capture_id: int | None = None,
        checked_at: str | None = None,
    ) -> None:
        """Record the verdict on every link of one page; the history decides what is broken."""
        with self._transaction() as conn:
            self._insert_link_checks(
                conn,
                checks,
                source_url=source_url,
                capture_id=capture_id,
                checked_at=checked_at or utc_iso(),
            )

    @_guarded
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
        when = verified_at or utc_iso()
        with self._transaction() as conn:
            cursor = conn.execute(
                """INSERT INTO verifications (canonical_path, url, capture_id, run_id, verified_at,
                    status, similarity, checksum_canonical, checksum_live, changes)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    canonical_path,
                    url,
                    capture_id,
                    run_id,
                    when,
                    drift.status,
                    drift.similarity,
                    drift.checksum_canonical,
                    drift.checksum_live,
                    _dumps([change.to_json() for change in drift.changes]),
                ),
            )
            verification_id = int(cursor.lastrowid or 0)
            self._insert_link_checks(
                conn,
                links,
                source_url=url,
                capture_id=capture_id,
                checked_at=when,
                verification_id=verification_id,
            )
        return verification_id

    @_guarded
    def start_run(self, *, command: str, config: str | None = None) -> int:
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO runs (command, config, started_at, status) VALUES (?, ?, ?, ?)",
                (command, config, utc_iso(), "running"),
            )
        return int(cursor.lastrowid or 0)

    @_guarded
    def finish_run(self, run_id: int, *, status: str, summary: dict[str, Any]) -> None:
        with self._transaction() as conn:
            conn.execute(
                "UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE id = ?",
                (utc_iso(), status, _dumps(summary), run_id),
            )

    # -- reading ---------------------------------------------------------------------------

    def _body(self, sha256: str, capture_id: int) -> bytes:
        row = self.conn.execute(
            "SELECT compression, CAST(data AS BLOB) FROM bodies WHERE sha256 = ?", (sha256,)
        ).fetchone()
        if row is None:
            raise ArchiveCorrupt(f"{self.path}: body of capture {capture_id} is missing")
        try:
            body = decompress_body(row[0], row[1])
        except (zlib.error, ValueError) as exc:
            raise ArchiveCorrupt(
                f"{self.path}: body of capture {capture_id} is unreadable ({exc}); run fsck"
            ) from exc
        if sha256_hex(body) != sha256:
            raise ArchiveCorrupt(
                f"{self.path}: body of capture {capture_id} fails its SHA-256; run fsck"
            )
        return body

    def _capture_from_row(self, row: dict[str, Any]) -> Capture:
        body = self._body(row["body_sha256"], row["id"]) if row["body_sha256"] else b""
        return Capture(
            url=row["url"],
            final_url=row["final_url"],
            status=row["status"],
            headers=tuple((str(k), str(v)) for k, v in json.loads(row["headers"])),
            body=body,
            content_type=row["content_type"],
            fetched_at=row["fetched_at"],
            redirects=tuple(json.loads(row["redirects"])),
            truncated=bool(row["truncated"]),
            not_modified=bool(row["not_modified"]),
            error=row["error"],
            detail=row["detail"] or "",
            elapsed=row["elapsed"] or 0.0,
            method=row["method"] or "GET",
        )

    def _document(self, extraction_id: int) -> Document | None:
        rows = list(self.db.query("SELECT * FROM extractions WHERE id = ?", [extraction_id]))
        if not rows:
            return None
        row = rows[0]
        links = tuple(
            Link(url=link["target"], text=link["text"])
            for link in self.db.query(
                "SELECT target, text FROM links WHERE extraction_id = ? ORDER BY position",
                [extraction_id],
            )
        )
        return Document(
            url=row["url"],
            title=row["title"],
            subtitle=row["subtitle"],
            authors=tuple(json.loads(row["authors"] or "[]")),
            published=row["published"],
            modified=row["modified"],
            paragraphs=tuple(json.loads(row["paragraphs"])),
            links=links,
            images=tuple(Image(**image) for image in json.loads(row["images"] or "[]")),
            profile=row["profile"],
            checksum=row["checksum"],
            paragraph_hashes=tuple(json.loads(row["paragraph_hashes"] or "[]")),
            normalizer=row["normalizer"] or "",
            label=row["label"],
            encoding=row["encoding"],
            warnings=tuple(json.loads(row["warnings"] or "[]")),
        )

    def _stored(self, row: dict[str, Any], *, with_document: bool = True) -> StoredCapture:
        document = None
        if with_document and row["extraction_id"] is not None:
            document = self._document(row["extraction_id"])
        return StoredCapture(id=row["id"], capture=self._capture_from_row(row), document=document)

    @_guarded
    def get_capture(self, capture_id: int) -> StoredCapture | None:
        """The capture with that id, its body restored and re-verified, or None."""
        rows = list(self.db.query("SELECT * FROM captures WHERE id = ?", [capture_id]))
        return self._stored(rows[0]) if rows else None

    @_guarded
    def latest_capture(self, url: str, *, with_document: bool = True) -> StoredCapture | None:
        """The newest capture of that URL with a body, a 2xx answer preferred over others."""
        rows = list(
            self.db.query(
                """SELECT * FROM captures
                WHERE (url = :url OR final_url = :url) AND body_sha256 IS NOT NULL
                AND kind = 'response'
                ORDER BY (status BETWEEN 200 AND 299) DESC, fetched_at DESC, id DESC LIMIT 1""",
                {"url": url},
            )
        )
        return self._stored(rows[0], with_document=with_document) if rows else None

    @_guarded
    def validators(self, url: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) of the newest 2xx capture, for a conditional GET."""
        row = self.conn.execute(
            """SELECT etag, last_modified FROM captures
            WHERE url = ? AND kind = 'response' AND status BETWEEN 200 AND 299
            ORDER BY fetched_at DESC, id DESC LIMIT 1""",
            (url,),
        ).fetchone()
        return (row[0], row[1]) if row else (None, None)

    @_guarded
    def body(self, sha256: str) -> bytes | None:
        """The stored body with that SHA-256, verified, or None if the archive lacks it."""
        if not self._has_body(sha256):
            return None
        return self._body(sha256, 0)

    @_guarded
    def has_capture(self, capture: Capture) -> bool:
        """Whether this very capture (URL, time, outcome, body) is already stored."""
        kind = capture_kind(capture)
        row = self.conn.execute(
            """SELECT 1 FROM captures WHERE url = ? AND fetched_at = ? AND kind = ?
            AND status IS ? AND coalesce(body_sha256, '') = ? LIMIT 1""",
            (
                capture.url,
                capture.fetched_at,
                kind,
                capture.status,
                capture.sha256 if has_stored_body(capture) else "",
            ),
        ).fetchone()
        return row is not None

    @_guarded
    def capture_ids(self) -> list[int]:
        """Every capture id, oldest first (export, benchmarks)."""
        return [row[0] for row in self.conn.execute("SELECT id FROM captures ORDER BY id")]

    @_guarded
    def link_history(self, url: str) -> list[dict[str, Any]]:
        """Every check of that link target, oldest first: the evidence for ``broken``."""
        rows = self.db.query(
            "SELECT * FROM link_checks WHERE url = ? ORDER BY checked_at, id", [url]
        )
        return [_link_check_row(row) for row in rows]

    @_guarded
    def history(self, url: str) -> list[dict[str, Any]]:
        """The timeline of one URL: each capture, its checksums, and how it compares.

        ``vs_previous`` compares with the previous capture that has a body: ``first``,
        ``same_body``, ``same_text`` (bytes changed, normalized text did not), ``text_changed``,
        or ``no_body`` for failures and 304s. ``verification`` is the newest verdict against
        the canonical copy made from this capture, if any.
        """
        rows = list(
            self.db.query(
                """SELECT captures.id, captures.url, captures.final_url, captures.fetched_at,
                    captures.kind, captures.status, captures.error, captures.body_sha256,
                    captures.size, extractions.checksum, extractions.title
                FROM captures LEFT JOIN extractions ON extractions.id = captures.extraction_id
                WHERE captures.url = :url OR captures.final_url = :url
                ORDER BY captures.fetched_at, captures.id""",
                {"url": url},
            )
        )
        verdicts: dict[int, dict[str, Any]] = {}
        for v in self.db.query(
            """SELECT capture_id, status, similarity, canonical_path, verified_at
            FROM verifications WHERE url = ? OR capture_id IN (
                SELECT id FROM captures WHERE url = ? OR final_url = ?)
            ORDER BY verified_at, id""",
            [url, url, url],
        ):
            if v["capture_id"] is not None:
                verdicts[v["capture_id"]] = {k: v[k] for k in v if k != "capture_id"}
        timeline = []
        previous: dict[str, Any] | None = None
        for row in rows:
            if not row["body_sha256"]:
                vs = "no_body"
            elif previous is None:
                vs = "first"
            elif previous["body_sha256"] == row["body_sha256"]:
                vs = "same_body"
            elif row["checksum"] and previous["checksum"] == row["checksum"]:
                vs = "same_text"
            else:
                vs = "text_changed"
            timeline.append(
                {
                    "capture_id": row["id"],
                    "fetched_at": row["fetched_at"],
                    "url": row["url"],
                    "final_url": row["final_url"],
                    "kind": row["kind"],
                    "status": row["status"],
                    "error": row["error"],
                    "sha256": row["body_sha256"],
                    "size": row["size"],
                    "checksum": row["checksum"],
                    "title": row["title"],
                    "vs_previous": vs,
                    "verification": verdicts.get(row["id"]),
                }
            )
            if row["body_sha256"]:
                previous = row
        return timeline

    @_guarded
    def search(self, text: str, *, limit: int = 20, raw: bool = False) -> list[dict[str, Any]]:
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
            return list(self.db.query(sql, [match, limit]))
        except sqlite3.OperationalError as exc:
            message = str(exc)
            if any(word in message for word in ("locked", "busy", "malformed", "not a database")):
                raise
            raise InputError(f"bad search query {text!r}: {message}") from exc

    @_guarded
    def query(
        self, sql: str, params: Sequence[Any] = ()
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run the user's SQL on a read-only connection; return (columns, rows).

        A write, ATTACH or PRAGMA assignment is refused with an ``InputError`` (exit 2), so a
        typo in a query can never change the archive.
        """
        if self._memory:
            conn, own = self.conn, False
            conn.execute("PRAGMA query_only = ON")
        else:
            try:
                conn, own = self._connect(readonly=True), True
            except sqlite3.Error as exc:
                raise _translate(self.path, exc) from exc
        conn.set_authorizer(_authorize_reading)
        try:
            cursor = conn.execute(sql, tuple(params))
            columns = [d[0] for d in cursor.description or ()]
            rows = [tuple(row) for row in cursor.fetchall()]
        except (sqlite3.DatabaseError, sqlite3.ProgrammingError) as exc:
            message = str(exc)
            if any(word in message for word in ("locked", "busy", "malformed", "not a database")):
                raise _translate(self.path, exc) from exc
            raise InputError(f"query refused: {message}") from exc
        finally:
            conn.set_authorizer(None)
            if own:
                conn.close()
            else:
                conn.execute("PRAGMA query_only = OFF")
        return columns, rows

    # -- fixity ----------------------------------------------------------------------------

    @_guarded
    def fsck(self) -> FsckReport:
        """Re-hash every stored body and run SQLite's integrity check; problems are values."""
        from archiver.archive.fsck import check

        return check(self.conn, self.path)

    # -- WARC ------------------------------------------------------------------------------

    def export_warc(self, path: str, *, revisits: bool = True) -> int:
        """Write every capture to a gzipped WARC/1.1 file; return the number of captures."""
        from archiver.archive.warc import export_warc

        return export_warc(self, path, revisits=revisits)

    def import_warc(self, path: str) -> int:
        """Bring the responses of a WARC file into the archive; return the captures added."""
        from archiver.archive.warc import import_warc

        return import_warc(self, path)

    # -- link rot (linkrot branch) -------------------------------------------------------------

    @_guarded
    def latest_link_checks(self) -> list[dict[str, Any]]:
        """The newest check of every (article, link) pair: what ``report linkrot`` starts from."""
        rows = self.db.query("SELECT * FROM latest_link_checks ORDER BY source_url, checked_at, id")
        return [_link_check_row(row) for row in rows]

    # -- drift (verify): baselines and verifications -----------------------------------------

    @_guarded
    def first_capture(self, url: str, *, with_document: bool = True) -> StoredCapture | None:
        """The oldest 2xx capture of that URL with an extraction: a source's baseline text."""
        rows = list(
            self.db.query(
                """SELECT * FROM captures
                WHERE (url = :url OR final_url = :url) AND body_sha256 IS NOT NULL
                AND status BETWEEN 200 AND 299 AND extraction_id IS NOT NULL
                ORDER BY fetched_at, id LIMIT 1""",
                {"url": url},
            )
        )
        return self._stored(rows[0], with_document=with_document) if rows else None

    @_guarded
    def newest_state(self, url: str) -> tuple[int, Capture, Document | None] | None:
        """The newest capture of that URL (a 304 does not count: it says "as before"), with
        its extraction, for ``verify --offline``: a page that answered 404 last time is gone,
        whatever older captures hold.

        The capture comes without its body: the extraction is all a comparison needs, so the
        body is not decompressed and re-hashed here (``fsck`` is the place for that).
        """
        rows = list(
            self.db.query(
                """SELECT * FROM captures
                WHERE (url = :url OR final_url = :url) AND kind != 'not_modified'
                ORDER BY fetched_at DESC, id DESC LIMIT 1""",
                {"url": url},
            )
        )
        if not rows:
            return None
        row = rows[0]
        capture = Capture(
            url=row["url"],
            final_url=row["final_url"],
            status=row["status"],
            content_type=row["content_type"],
            fetched_at=row["fetched_at"],
            redirects=tuple(json.loads(row["redirects"] or "[]")),
            error=row["error"],
            detail=row["detail"] or "",
            sha256=row["body_sha256"] or "-",
        )
        document = self._document(row["extraction_id"]) if row["extraction_id"] else None
        return int(row["id"]), capture, document

    @_guarded
    def cached_parses(self, keys: Sequence[str], parser: str) -> dict[str, str]:
        """Parsed canonical copies by the SHA-256 of their bytes (those the cache holds)."""
        found: dict[str, str] = {}
        wanted = list(dict.fromkeys(keys))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            for sha, data in self.conn.execute(
                "SELECT sha256, data FROM canonical_parses "
                f"WHERE parser = ? AND sha256 IN ({marks})",
                [parser, *chunk],
            ):
                found[sha] = data
        return found

    @_guarded
    def save_parses(self, items: Sequence[tuple[str, str]], parser: str) -> None:
        """Remember parsed canonical copies, (sha256 of bytes, JSON), in one transaction."""
        if not items:
            return
        when = utc_iso()
        with self._transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO canonical_parses (sha256, parser, data, parsed_at) "
                "VALUES (?, ?, ?, ?)",
                [(sha, parser, data, when) for sha, data in items],
            )

    @_guarded
    def save_source_drifts(self, verification_id: int, drifts: Sequence[Any]) -> None:
        """Record how each source of a verification compares with its first capture."""
        self.save_source_drifts_many([(verification_id, drifts)])

    @_guarded
    def save_source_drifts_many(self, items: Sequence[tuple[int, Sequence[Any]]]) -> None:
        """Source drifts of many verifications (``archiver.verify.citations.SourceDrift``), one
        transaction."""
        rows = [(verification_id, d) for verification_id, drifts in items for d in drifts]
        if not rows:
            return
        with self._transaction() as conn:
            conn.executemany(
                """INSERT INTO source_drifts (verification_id, url, text, status, similarity,
                    passage, first_capture_id, capture_id, detail)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    (
                        verification_id,
                        d.url,
                        d.text,
                        d.status,
                        d.similarity,
                        d.passage,
                        d.first_capture_id,
                        d.capture_id,
                        d.detail,
                    )
                    for verification_id, d in rows
                ],
            )

    @_guarded
    def latest_verifications(self) -> list[dict[str, Any]]:
        """The newest verification of each canonical copy (path and URL), by path, with the
        sources it compared with their first capture (``sources``)."""
        rows = list(
            self.db.query(
                """SELECT v.* FROM verifications v
                WHERE v.id = (SELECT max(w.id) FROM verifications w
                    WHERE w.canonical_path = v.canonical_path AND w.url = v.url)
                ORDER BY v.canonical_path, v.url"""
            )
        )
        has_sources = "source_drifts" in self.db.table_names()
        for row in rows:
            row["changes"] = json.loads(row["changes"] or "[]")
            row["sources"] = (
                list(
                    self.db.query(
                        """SELECT url, text, status, similarity, passage, first_capture_id,
                            capture_id, detail FROM source_drifts
                        WHERE verification_id = ? ORDER BY id""",
                        [row["id"]],
                    )
                )
                if has_sources
                else []
            )
        return rows

    # -- scheduled runs (archiver.runs.run) -----------------------------------------------------

    @_guarded
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
        """Record that a run finished with one item (the run log resume and schedule read)."""
        with self._transaction() as conn:
            conn.execute(
                """INSERT INTO run_items (run_id, item, kind, url, outcome, detail, done_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)""",
                (run_id, item, kind, url, outcome, detail, done_at or utc_iso()),
            )

    @_guarded
    def items_done(self, run_ids: Sequence[int], *, failed: Sequence[str] = ()) -> set[str]:
        """Items those runs finished, leaving out the outcomes named in ``failed``."""
        if not run_ids:
            return set()
        marks = ",".join("?" * len(run_ids))
        skip = ",".join("?" * len(failed)) or "''"
        rows = self.conn.execute(
            f"SELECT item FROM run_items WHERE run_id IN ({marks}) AND outcome NOT IN ({skip})",
            (*run_ids, *failed),
        )
        return {row[0] for row in rows}

    @_guarded
    def item_times(self, *, failed: Sequence[str] = ()) -> dict[str, str]:
        """When each item was last finished by a run (outcomes in ``failed`` do not count)."""
        skip = ",".join("?" * len(failed)) or "''"
        rows = self.conn.execute(
            f"SELECT item, max(done_at) FROM run_items WHERE outcome NOT IN ({skip}) GROUP BY item",
            tuple(failed),
        )
        return {row[0]: row[1] for row in rows}

    @_guarded
    def runs_with_status(self, status: str, *, command: str = "run") -> list[dict[str, Any]]:
        """Runs of a command in one status, oldest first (``running`` ones no lock holds)."""
        return list(
            self.db.query(
                "SELECT id, config, started_at, status FROM runs "
                "WHERE status = ? AND command = ? ORDER BY id",
                [status, command],
            )
        )

    @_guarded
    def last_run(self, *, command: str = "run", before: int | None = None) -> dict[str, Any] | None:
        """The newest run of a command (before run id ``before``, when given)."""
        rows = list(
            self.db.query(
                "SELECT id, config, started_at, finished_at, status FROM runs "
                "WHERE command = ? AND id < ? ORDER BY id DESC LIMIT 1",
                [command, before if before is not None else 2**62],
            )
        )
        return rows[0] if rows else None

    @_guarded
    def set_run_status(self, run_ids: Sequence[int], status: str) -> None:
        """Mark runs (e.g. ``interrupted``: found ``running`` with no process behind them)."""
        with self._transaction() as conn:
            conn.executemany(
                "UPDATE runs SET status = ? WHERE id = ?", [(status, i) for i in run_ids]
            )

    @_guarded
    def run_captures(self, run_ids: Sequence[int]) -> dict[str, int]:
        """URL to the newest capture id those runs stored, so a resumed run does not refetch."""
        if not run_ids:
            return {}
        marks = ",".join("?" * len(run_ids))
        rows = self.conn.execute(
            f"SELECT url, max(id) FROM captures WHERE run_id IN ({marks}) GROUP BY url",
            tuple(run_ids),
        )
        return {row[0]: row[1] for row in rows}

    @_guarded
    def run_verifications(self, run_ids: Sequence[int]) -> dict[str, tuple[str, str]]:
        """Canonical path to the (drift status, URL) those runs recorded."""
        if not run_ids:
            return {}
        marks = ",".join("?" * len(run_ids))
        rows = self.conn.execute(
            f"SELECT canonical_path, status, url FROM verifications WHERE run_id IN ({marks}) "
            "ORDER BY id",
            tuple(run_ids),
        )
        return {row[0]: (row[1], row[2]) for row in rows}

    @_guarded
    def run_started(self, run_id: int) -> str | None:
        """When a run started (ISO 8601), or None if there is no such run."""
        row = self.conn.execute("SELECT started_at FROM runs WHERE id = ?", (run_id,)).fetchone()
        return str(row[0]) if row else None

    @_guarded
    def link_states(
        self, *, ignore: Sequence[str] = (), before: str | None = None
    ) -> dict[str, tuple[str, str, bool]]:
        """Each link target's newest verdict: (checked_at, status, broken).

        Verdicts in ``ignore`` (no verdict at all, like ``network_unavailable``) are passed
        over; with ``before`` (ISO 8601), only checks made before that time count.
        """
        skip = ",".join("?" * len(ignore)) or "''"
        rows = self.conn.execute(
            f"""SELECT l.url, l.checked_at, l.status, l.broken FROM link_checks l
            JOIN (SELECT url, max(id) AS id FROM link_checks
                WHERE status NOT IN ({skip}) AND checked_at < ? GROUP BY url) newest
            ON newest.id = l.id""",
            (*ignore, before or "9999"),
        )
        return {row[0]: (row[1], row[2], bool(row[3])) for row in rows}

    @_guarded
    def run_link_checks(self, run_ids: Sequence[int]) -> list[dict[str, Any]]:
        """The link checks those runs made (through their verifications or page captures)."""
        if not run_ids:
            return []
        marks = ",".join("?" * len(run_ids))
        return list(
            self.db.query(
                f"""SELECT l.url, l.status, l.broken, l.source_url FROM link_checks l
                LEFT JOIN verifications v ON v.id = l.verification_id
                LEFT JOIN captures c ON c.id = l.capture_id
                WHERE v.run_id IN ({marks})
                    OR (l.verification_id IS NULL AND c.run_id IN ({marks}))
                ORDER BY l.id""",
                [*run_ids, *run_ids],
            )
        )

    @_guarded
    def drift_states(self, *, before_run: int | None = None) -> dict[str, str]:
        """Each canonical copy's newest drift verdict (made before run ``before_run``, if given)."""
        limit = before_run if before_run is not None else 2**62
        rows = self.conn.execute(
            """SELECT v.canonical_path, v.status FROM verifications v
            JOIN (SELECT canonical_path, max(id) AS id FROM verifications
                WHERE run_id IS NULL OR run_id < ? GROUP BY canonical_path) newest
            ON newest.id = v.id""",
            (limit,),
        )
        return {row[0]: row[1] for row in rows}

    @_guarded
    def known_document(self, final_url: str, sha256: str, normalizer: str) -> Document | None:
        """The extraction already stored for these exact bytes at this URL by this normalizer.

        Extraction is a pure function of the bytes and the URL, so a body seen before need not
        be extracted again (a scheduled run re-fetching unchanged sources).
        """
        row = self.conn.execute(
            """SELECT c.extraction_id FROM captures c JOIN extractions e ON e.id = c.extraction_id
            WHERE c.final_url = ? AND c.body_sha256 = ? AND e.normalizer = ?
            ORDER BY c.id DESC LIMIT 1""",
            (final_url, sha256, normalizer),
        ).fetchone()
        return self._document(int(row[0])) if row else None


def capture_kind(capture: Capture) -> str:
    """How a capture is recorded: ``response`` (with a body), ``not_modified`` or ``error``."""
    if capture.error:
        return "error"
    if capture.not_modified or capture.status == 304:
        return "not_modified"
    return "response"


def has_stored_body(capture: Capture) -> bool:
    """Whether the archive keeps this capture's body: every answer's, and any partial bytes."""
    return capture_kind(capture) == "response" or bool(capture.body)


def _version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _link_check_row(row: dict[str, Any]) -> dict[str, Any]:
    """A ``link_checks`` row with its flags as booleans and its redirect chain decoded."""
    row["broken"] = bool(row["broken"])
    row["redirects"] = json.loads(row["redirects"] or "[]")
    if row["recovered"] is not None:
        row["recovered"] = bool(row["recovered"])
    return row


def drift_from_row(row: dict[str, Any]) -> Drift:
    """Rebuild a ``Drift`` from a ``verifications`` row (reports read them back)."""
    return Drift(
        status=row["status"],
        similarity=row["similarity"],
        checksum_canonical=row["checksum_canonical"],
        checksum_live=row["checksum_live"],
        changes=tuple(Change(**change) for change in json.loads(row["changes"] or "[]")),
    )


def canned_queries() -> dict[str, dict[str, str]]:
    """Datasette canned queries: link rot by article, drift over time, recent captures."""
    return {
        "link_rot_by_article": {
            "title": "Link rot by article",
            "description": "For each article, how many of its links were broken at last check.",
            "sql": """SELECT source_url AS article, count(*) AS links,
    sum(broken) AS broken,
    group_concat(CASE WHEN broken THEN url || ' (' || status || ')' END, char(10)) AS broken_links,
    max(checked_at) AS last_checked
FROM latest_link_checks GROUP BY source_url ORDER BY broken DESC, article""",
        },
        "drift_over_time": {
            "title": "Drift over time",
            "description": "Every verification of every canonical copy, newest first.",
            "sql": """SELECT url, canonical_path, verified_at, status,
    round(similarity, 3) AS similarity, checksum_canonical, checksum_live, capture_id
FROM verifications ORDER BY url, verified_at DESC""",
        },
        "captures_of_url": {
            "title": "Captures of one URL",
            "sql": """SELECT id, fetched_at, kind, status, error, body_sha256, size, final_url
FROM captures WHERE url = :url OR final_url = :url ORDER BY fetched_at""",
        },
    }


def datasette_metadata(path: str) -> dict[str, Any]:
    """Metadata that makes Datasette open the archive with the canned queries."""
    name = Path(path).stem
    return {
        "title": "archiver",
        "databases": {name: {"queries": canned_queries()}},
    }


def datasette_app(path: str) -> Any:
    """A Datasette instance on the archive with the canned queries (the ``serve`` extra).

    Raises ``InputError`` when Datasette is not installed or the archive does not exist.
    """
    if not os.path.isfile(path):
        raise InputError(f"no archive at {path}")
    try:
        from datasette.app import Datasette
    except ImportError as exc:
        raise InputError("datasette is not installed: pip install 'archiver[serve]'") from exc
    # Open (and migrate) once first, so Datasette sees the current schema and views.
    Archive(path, readonly=True).close()
    return Datasette(files=[path], metadata=datasette_metadata(path))

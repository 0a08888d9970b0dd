"""Captures in and out of the archive: each fetch with its body (once per SHA-256) and its
extraction, written in one transaction and read back byte for byte, re-hashed.

Every capture is one ``BEGIN IMMEDIATE`` transaction: URL, body, extraction, links, capture
row — a crash leaves all of it or none.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Collection, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import idna

from archiver.archive.codec import (
    capture_kind,
    compress_body,
    document_key,
    dumps,
    has_stored_body,
    unpack_body,
)
from archiver.archive.db import Handle, guarded
from archiver.archive.records import (
    StoredCapture,
    capture_from_row,
    document_from_row,
)
from archiver.errors import ArchiveCorrupt, InputError
from archiver.fetch.urls import normalize_url
from archiver.models import Capture, Document, Link, sha256_hex, utc_iso

log = logging.getLogger(__name__)

#: A capture of this URL in any of its spellings (as asked, its one spelling, Unicode host):
#: by the one spelling ``urls`` keys it by, or by where it ended (``final_url``).
_SAME_ASKED = "url_id IN (SELECT id FROM urls WHERE url IN (:u0, :u1, :u2))"
_SAME_URL = f"({_SAME_ASKED} OR final_url IN (:u0, :u1, :u2))"
#: URLs looked up together by :meth:`Captures.newest_states` (three spellings each: the
#: query's parameters stay under SQLite's oldest limit of 999).
_STATES_CHUNK = 300


@functools.lru_cache(maxsize=4096)
def _one_spelling(url: str) -> str:
    """The URL's one spelling (lower-case scheme and host, IDNA host), or the URL itself."""
    try:
        return normalize_url(url)
    except ValueError:
        return url


@functools.lru_cache(maxsize=4096)
def _unicode_spelling(url: str) -> str:
    """The URL with an IDNA (``xn--``) host written in Unicode, as a browser shows it."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if "xn--" not in host:
            return url
        shown = idna.decode(host)
        netloc = parts.netloc.replace(host, shown, 1) if host in parts.netloc else parts.netloc
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    except (ValueError, idna.IDNAError, UnicodeError):
        return url


def _spellings(url: str) -> dict[str, str]:
    """The three spellings a lookup of ``url`` matches (``:u0``, ``:u1``, ``:u2``): as given,
    the one spelling, and with its host in Unicode (rows stored before hosts were normalized
    hold the URL as it was typed, either way)."""
    one = _one_spelling(url)  # both cached: a run looks the same URLs up many times
    return {"u0": url, "u1": one, "u2": _unicode_spelling(one)}


class Captures:
    """The captures of one archive (``archive.captures``)."""

    def __init__(self, handle: Handle) -> None:
        self.handle = handle

    # -- writing ---------------------------------------------------------------------------

    def save(
        self, capture: Capture, document: Document | None = None, *, run_id: int | None = None
    ) -> int:
        """Store one capture (and its extraction) in one transaction; return its id.

        A body already stored under its SHA-256 is not stored again. A 304 is recorded as
        ``not_modified`` and a failed fetch as ``error``, both without a body: they are history.
        The partial body of a fetch cut short (a timeout mid-body) is kept, ``truncated``.

        Hashing and compressing happen before the archive's turn is taken, so the other
        threads of a run wait only for the SQL.
        """
        if sha256_hex(capture.body) != capture.sha256:
            raise InputError(f"capture of {capture.url}: sha256 does not match its body")
        packed: tuple[str, bytes] | None = None
        if has_stored_body(capture) and not self.has_body(capture.sha256):
            packed = compress_body(capture.body)  # another thread may store it first: IGNORE
        return self._write(capture, document, packed, run_id=run_id)

    @guarded
    def has_body(self, sha256: str) -> bool:
        """Whether a body with that SHA-256 is stored."""
        return self._has_body(sha256)

    @guarded
    def _write(
        self,
        capture: Capture,
        document: Document | None,
        packed: tuple[str, bytes] | None,
        *,
        run_id: int | None,
    ) -> int:
        kind = capture_kind(capture)
        keep_body = has_stored_body(capture)
        fetched_at = capture.fetched_at or utc_iso()
        with self.handle.transaction() as conn:
            # ``urls`` holds a URL's one spelling (so a punycode and a Unicode host are one URL);
            # the capture keeps the URL as it was asked, which is what reports show.
            key = _one_spelling(capture.url)
            added = conn.execute(
                "INSERT OR IGNORE INTO urls (url, first_seen) VALUES (?, ?)", (key, fetched_at)
            )
            if added.rowcount == 1:
                url_id = added.lastrowid
            else:
                url_id = conn.execute("SELECT id FROM urls WHERE url = ?", (key,)).fetchone()[0]
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
                    dumps([list(pair) for pair in capture.headers]),
                    dumps(list(capture.redirects)),
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
        row = self.handle.conn.execute(
            "SELECT 1 FROM bodies WHERE sha256 = ?", (sha256,)
        ).fetchone()
        return row is not None

    def _insert_document(self, conn: sqlite3.Connection, document: Document) -> int:
        key = document_key(document)
        cursor = conn.execute(
            """INSERT OR IGNORE INTO extractions (key, url, profile, normalizer, checksum, title,
                subtitle, authors, published, modified, label, encoding, text, paragraphs,
                paragraph_hashes, images, warnings, published_source, page_type)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                key,
                document.url,
                document.profile,
                document.normalizer,
                document.checksum,
                document.title,
                document.subtitle,
                dumps(list(document.authors)),
                document.published,
                document.modified,
                document.label,
                document.encoding,
                document.text,
                dumps(list(document.paragraphs)),
                dumps(list(document.paragraph_hashes)),
                dumps([image.to_json() for image in document.images]),
                dumps(list(document.warnings)),
                document.published_source,
                document.page_type,
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

    # -- reading ---------------------------------------------------------------------------

    def _body(self, sha256: str, capture_id: int) -> bytes:
        row = self.handle.conn.execute(
            "SELECT compression, CAST(data AS BLOB) FROM bodies WHERE sha256 = ?", (sha256,)
        ).fetchone()
        if row is None:
            raise ArchiveCorrupt(f"{self.handle.path}: body of capture {capture_id} is missing")
        try:
            return unpack_body(sha256, row[0], row[1])
        except ValueError as exc:
            raise ArchiveCorrupt(
                f"{self.handle.path}: body of capture {capture_id} {exc}; run fsck"
            ) from exc

    def document(self, extraction_id: int) -> Document | None:
        """The extraction with that id (its links in order), or None."""
        rows = list(self.handle.db.query("SELECT * FROM extractions WHERE id = ?", [extraction_id]))
        if not rows:
            return None
        links = [
            Link(url=link["target"], text=link["text"])
            for link in self.handle.db.query(
                "SELECT target, text FROM links WHERE extraction_id = ? ORDER BY position",
                [extraction_id],
            )
        ]
        return document_from_row(rows[0], links)

    def _stored(self, row: dict[str, Any], *, with_document: bool = True) -> StoredCapture:
        document = None
        if with_document and row["extraction_id"] is not None:
            document = self.document(row["extraction_id"])
        body = self._body(row["body_sha256"], row["id"]) if row["body_sha256"] else b""
        return StoredCapture(id=row["id"], capture=capture_from_row(row, body), document=document)

    def _one(self, sql: str, params: Any, *, with_document: bool = True) -> StoredCapture | None:
        rows = list(self.handle.db.query(sql, params))
        return self._stored(rows[0], with_document=with_document) if rows else None

    @guarded
    def get(self, capture_id: int) -> StoredCapture | None:
        """The capture with that id, its body restored and re-verified, or None."""
        return self._one("SELECT * FROM captures WHERE id = ?", [capture_id])

    @guarded
    def latest(self, url: str, *, with_document: bool = True) -> StoredCapture | None:
        """The newest capture of that URL with a body, a 2xx answer preferred over others."""
        return self._one(
            f"""SELECT * FROM captures
            WHERE {_SAME_URL} AND body_sha256 IS NOT NULL
            AND kind = 'response'
            ORDER BY (status BETWEEN 200 AND 299) DESC, fetched_at DESC, id DESC LIMIT 1""",
            _spellings(url),
            with_document=with_document,
        )

    @guarded
    def first(self, url: str, *, with_document: bool = True) -> StoredCapture | None:
        """The oldest 2xx capture of that URL with an extraction: a source's baseline text."""
        return self._one(
            f"""SELECT * FROM captures
            WHERE {_SAME_URL} AND body_sha256 IS NOT NULL
            AND status BETWEEN 200 AND 299 AND extraction_id IS NOT NULL
            ORDER BY fetched_at, id LIMIT 1""",
            _spellings(url),
            with_document=with_document,
        )

    @guarded
    def alive_before(self, url: str, before: str, *, limit: int = 5) -> list[StoredCapture]:
        """The newest 2xx captures of that URL with an extraction (HTML pages) fetched before
        ``before`` (ISO 8601), bodies restored: candidates for what the page was when alive."""
        rows = list(
            self.handle.db.query(
                f"""SELECT * FROM captures
                WHERE {_SAME_URL} AND body_sha256 IS NOT NULL
                AND status BETWEEN 200 AND 299 AND extraction_id IS NOT NULL
                AND fetched_at < :before
                ORDER BY fetched_at DESC, id DESC LIMIT :limit""",
                {**_spellings(url), "before": before, "limit": limit},
            )
        )
        return [self._stored(row, with_document=False) for row in rows]

    @guarded
    def newest_state(self, url: str) -> tuple[int, Capture, Document | None] | None:
        """The newest capture of that URL (a 304 does not count: it says "as before"), with
        its extraction, for ``verify --offline``: a page that answered 404 last time is gone,
        whatever older captures hold.

        The capture comes without its body: the extraction is all a comparison needs, so the
        body is not decompressed and re-hashed here (``fsck`` is the place for that).
        """
        rows = list(
            self.handle.db.query(
                f"""SELECT * FROM captures
                WHERE {_SAME_URL} AND kind != 'not_modified'
                ORDER BY fetched_at DESC, id DESC LIMIT 1""",
                _spellings(url),
            )
        )
        if not rows:
            return None
        row = rows[0]
        capture = capture_from_row(row, sha256=row["body_sha256"] or "-")
        document = self.document(row["extraction_id"]) if row["extraction_id"] else None
        return int(row["id"]), capture, document

    @guarded
    def newest_states(
        self, urls: Sequence[str]
    ) -> dict[str, tuple[int, Capture, Document | None] | None]:
        """:meth:`newest_state` of many URLs at once: a few queries per chunk of URLs instead
        of three per URL (``verify --offline`` looks up every copy's page). The same capture,
        the same extraction, the same answer for each URL as :meth:`newest_state` gives."""
        found: dict[str, tuple[int, Capture, Document | None] | None] = {}
        wanted = list(dict.fromkeys(urls))
        for at in range(0, len(wanted), _STATES_CHUNK):
            found.update(self._newest_states(wanted[at : at + _STATES_CHUNK]))
        return found

    def _newest_states(
        self, urls: Sequence[str]
    ) -> dict[str, tuple[int, Capture, Document | None] | None]:
        picked = self._pick(urls, "c.kind != 'not_modified'", newest=True)
        rows = {int(row["id"]): row for row in self._rows("captures", "id", set(picked.values()))}
        documents = self._documents({row["extraction_id"] for row in rows.values()} - {None})
        out: dict[str, tuple[int, Capture, Document | None] | None] = {}
        for url in urls:
            row = rows.get(picked.get(url, -1))
            if row is None:
                out[url] = None
                continue
            capture = capture_from_row(row, sha256=row["body_sha256"] or "-")
            out[url] = int(row["id"]), capture, documents.get(row["extraction_id"])
        return out

    @guarded
    def first_documents(self, urls: Sequence[str]) -> dict[str, tuple[int, Document] | None]:
        """For each URL, the id and extraction of what :meth:`first` finds (the oldest 2xx
        capture with an extraction), many URLs at once and without restoring the bodies:
        a source's baseline text, as ``verify`` compares it."""
        found: dict[str, tuple[int, Document] | None] = {}
        wanted = list(dict.fromkeys(urls))
        for at in range(0, len(wanted), _STATES_CHUNK):
            chunk = wanted[at : at + _STATES_CHUNK]
            picked = self._pick(
                chunk,
                "c.body_sha256 IS NOT NULL AND c.status BETWEEN 200 AND 299"
                " AND c.extraction_id IS NOT NULL",
                newest=False,
            )
            extraction_of = {
                int(capture_id): int(extraction_id)
                for capture_id, extraction_id in self._select(
                    "SELECT id, extraction_id FROM captures WHERE id IN ({})", set(picked.values())
                )
            }
            documents = self._documents(set(extraction_of.values()))
            for url in chunk:
                capture_id = picked.get(url, -1)
                document = documents.get(extraction_of.get(capture_id, -1))
                found[url] = (capture_id, document) if document is not None else None
        return found

    def _pick(self, urls: Sequence[str], where: str, *, newest: bool) -> dict[str, int]:
        """Per URL (any of its spellings, as asked or where it ended), the id of the newest
        (or oldest) capture by (``fetched_at``, ``id``) that ``where`` (over ``c``) admits."""
        asked_by: dict[str, list[str]] = {}  # a spelling -> the URLs asked that it stands for
        for url in urls:
            for spelling in dict.fromkeys(_spellings(url).values()):
                asked_by.setdefault(spelling, []).append(url)
        spellings = list(asked_by)
        marks = ", ".join(f"?{n}" for n in range(1, len(spellings) + 1))
        best: dict[str, tuple[str, int]] = {}  # asked URL -> (fetched_at, id) of the pick
        for key, capture_id, fetched_at in self.handle.conn.execute(
            f"""SELECT u.url, c.id, c.fetched_at FROM urls u JOIN captures c ON c.url_id = u.id
            WHERE u.url IN ({marks}) AND {where}
            UNION ALL SELECT c.final_url, c.id, c.fetched_at FROM captures c
            WHERE c.final_url IN ({marks}) AND {where}""",
            spellings,
        ):
            rank = (fetched_at, capture_id)
            for url in asked_by[key]:
                known = best.get(url)
                if known is None or (rank > known if newest else rank < known):
                    best[url] = rank
        return {url: rank[1] for url, rank in best.items()}

    def _select(self, sql: str, keys: Collection[Any]) -> list[tuple[Any, ...]]:
        """``sql`` with its ``{}`` made the placeholders of ``keys``; nothing if no keys."""
        if not keys:
            return []
        marks = ", ".join("?" * len(keys))
        return list(self.handle.conn.execute(sql.format(marks), list(keys)))

    def _rows(self, table: str, column: str, keys: Collection[Any]) -> list[dict[str, Any]]:
        """Every row of ``table`` whose ``column`` is one of ``keys``, as dicts."""
        if not keys:
            return []
        cursor = self.handle.conn.execute(
            f"SELECT * FROM {table} WHERE {column} IN ({', '.join('?' * len(keys))})", list(keys)
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def _documents(self, ids: Collection[int]) -> dict[int, Document]:
        """The extractions with those ids (their links in order), as :meth:`document` reads."""
        links: dict[int, list[Link]] = {}
        if ids:
            for extraction_id, target, text in self.handle.conn.execute(
                f"""SELECT extraction_id, target, text FROM links
                WHERE extraction_id IN ({", ".join("?" * len(ids))})
                ORDER BY extraction_id, position""",
                list(ids),
            ):
                links.setdefault(extraction_id, []).append(Link(url=target, text=text))
        return {
            int(row["id"]): document_from_row(row, links.get(row["id"], []))
            for row in self._rows("extractions", "id", ids)
        }

    @guarded
    def validators(self, url: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) of the newest 2xx capture, for a conditional GET."""
        row = self.handle.conn.execute(
            f"""SELECT etag, last_modified FROM captures
            WHERE {_SAME_ASKED} AND kind = 'response' AND status BETWEEN 200 AND 299
            ORDER BY fetched_at DESC, id DESC LIMIT 1""",
            _spellings(url),
        ).fetchone()
        return (row[0], row[1]) if row else (None, None)

    @guarded
    def body(self, sha256: str) -> bytes | None:
        """The stored body with that SHA-256, verified, or None if the archive lacks it."""
        if not self._has_body(sha256):
            return None
        return self._body(sha256, 0)

    @guarded
    def has(self, capture: Capture) -> bool:
        """Whether this very capture (URL, time, outcome, body) is already stored."""
        kind = capture_kind(capture)
        row = self.handle.conn.execute(
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

    @guarded
    def ids(self) -> list[int]:
        """Every capture id, oldest first (export, benchmarks)."""
        return [row[0] for row in self.handle.conn.execute("SELECT id FROM captures ORDER BY id")]

    @guarded
    def known_document(self, final_url: str, sha256: str, normalizer: str) -> Document | None:
        """The extraction already stored for these exact bytes at this URL by this normalizer.

        Extraction is a pure function of the bytes and the URL, so a body seen before need not
        be extracted again (a scheduled run re-fetching unchanged sources).
        """
        row = self.handle.conn.execute(
            """SELECT c.extraction_id FROM captures c JOIN extractions e ON e.id = c.extraction_id
            WHERE c.final_url = ? AND c.body_sha256 = ? AND e.normalizer = ?
            ORDER BY c.id DESC LIMIT 1""",
            (final_url, sha256, normalizer),
        ).fetchone()
        return self.document(int(row[0])) if row else None

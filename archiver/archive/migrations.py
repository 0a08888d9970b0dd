"""Schema of the archive, as an ordered list of migrations.

Users keep an archive for years and write SQL against it, so the schema only ever moves forward
through numbered migrations, from the first release on. ``PRAGMA user_version`` records the last
one applied and the ``migrations`` table says when each ran. A migration is never edited after
release: a change to the schema is a new function appended to ``MIGRATIONS``.

Every migration is idempotent (``IF NOT EXISTS``, ``replace=True``): sqlite-utils commits inside
``enable_fts``, so a migration is not one transaction, and one cut short by a crash, or run by
two processes opening a new archive at once, must be safe to run again.

Tables are created the sqlite-utils way (``db.table(...).create`` with an explicit ``pk``), FTS
through ``enable_fts``; views are plain SQL because users read them like tables.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlite_utils import Database

log = logging.getLogger(__name__)


def _m001_initial(db: Database) -> None:
    """The first release: URLs, bodies, captures, extractions, links, checks, runs."""
    db.table("runs").create(
        {
            "id": int,
            "command": str,
            "config": str,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "summary": str,
        },
        pk="id",
        not_null={"command", "started_at"},
        if_not_exists=True,
    )
    db.table("urls").create(
        {"id": int, "url": str, "first_seen": str},
        pk="id",
        not_null={"url", "first_seen"},
        if_not_exists=True,
    )
    db.execute("CREATE UNIQUE INDEX IF NOT EXISTS idx_urls_url ON urls(url)")
    db.table("bodies").create(
        {
            "sha256": str,
            "size": int,
            "compression": str,
            "data": bytes,
            "stored_at": str,
        },
        pk="sha256",
        not_null={"size", "compression", "data", "stored_at"},
        if_not_exists=True,
    )
    db.table("extractions").create(
        {
            "id": int,
            "key": str,
            "url": str,
            "profile": str,
            "normalizer": str,
            "checksum": str,
            "title": str,
            "subtitle": str,
            "authors": str,
            "published": str,
            "modified": str,
            "label": str,
            "encoding": str,
            "text": str,
            "paragraphs": str,
            "paragraph_hashes": str,
            "images": str,
            "warnings": str,
        },
        pk="id",
        not_null={"key", "profile", "checksum", "text", "paragraphs"},
        if_not_exists=True,
    )
    db.execute("CREATE UNIQUE INDEX IF NOT EXISTS idx_extractions_key ON extractions(key)")
    db.execute("CREATE INDEX IF NOT EXISTS idx_extractions_checksum ON extractions(checksum)")
    db.table("captures").create(
        {
            "id": int,
            "url_id": int,
            "url": str,
            "final_url": str,
            "method": str,
            "fetched_at": str,
            "kind": str,
            "status": int,
            "error": str,
            "detail": str,
            "content_type": str,
            "headers": str,
            "redirects": str,
            "body_sha256": str,
            "size": int,
            "etag": str,
            "last_modified": str,
            "truncated": int,
            "not_modified": int,
            "elapsed": float,
            "extraction_id": int,
            "run_id": int,
        },
        pk="id",
        foreign_keys=[
            ("url_id", "urls", "id"),
            ("body_sha256", "bodies", "sha256"),
            ("extraction_id", "extractions", "id"),
            ("run_id", "runs", "id"),
        ],
        not_null={"url_id", "url", "final_url", "fetched_at", "kind", "headers", "redirects"},
        if_not_exists=True,
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_captures_url ON captures(url_id, fetched_at)")
    db.execute("CREATE INDEX IF NOT EXISTS idx_captures_body ON captures(body_sha256)")
    db.execute("CREATE INDEX IF NOT EXISTS idx_captures_final ON captures(final_url)")
    db.table("links").create(
        {"id": int, "extraction_id": int, "position": int, "target": str, "text": str},
        pk="id",
        foreign_keys=[("extraction_id", "extractions", "id")],
        not_null={"extraction_id", "position", "target", "text"},
        if_not_exists=True,
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_links_extraction ON links(extraction_id)")
    db.execute("CREATE INDEX IF NOT EXISTS idx_links_target ON links(target)")
    db.table("verifications").create(
        {
            "id": int,
            "canonical_path": str,
            "url": str,
            "capture_id": int,
            "run_id": int,
            "verified_at": str,
            "status": str,
            "similarity": float,
            "checksum_canonical": str,
            "checksum_live": str,
            "changes": str,
        },
        pk="id",
        foreign_keys=[("capture_id", "captures", "id"), ("run_id", "runs", "id")],
        not_null={"canonical_path", "url", "verified_at", "status", "changes"},
        if_not_exists=True,
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_verifications_url ON verifications(url)")
    db.table("link_checks").create(
        {
            "id": int,
            "source_url": str,
            "capture_id": int,
            "verification_id": int,
            "checked_at": str,
            "url": str,
            "text": str,
            "status": str,
            "broken": int,
            "http_status": int,
            "final_url": str,
            "redirects": str,
            "archived_url": str,
            "detail": str,
            "recovered": int,
        },
        pk="id",
        foreign_keys=[
            ("capture_id", "captures", "id"),
            ("verification_id", "verifications", "id"),
        ],
        not_null={"source_url", "checked_at", "url", "status", "broken"},
        if_not_exists=True,
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_link_checks_url ON link_checks(url, checked_at)")
    db.execute("CREATE INDEX IF NOT EXISTS idx_link_checks_source ON link_checks(source_url)")


def _m002_search_and_views(db: Database) -> None:
    """Full-text search over extracted text, and the views people query most."""
    db.table("extractions").enable_fts(
        ["title", "subtitle", "text"], fts_version="FTS5", create_triggers=True, replace=True
    )
    db.execute(
        """
        CREATE VIEW IF NOT EXISTS capture_links AS
        SELECT captures.id AS capture_id, captures.url AS source_url, captures.fetched_at,
               links.position, links.target, links.text
        FROM captures JOIN links ON links.extraction_id = captures.extraction_id
        """
    )
    db.execute(
        """
        CREATE VIEW IF NOT EXISTS latest_captures AS
        SELECT captures.* FROM captures
        WHERE captures.id = (
            SELECT c2.id FROM captures c2 WHERE c2.url_id = captures.url_id
            ORDER BY c2.fetched_at DESC, c2.id DESC LIMIT 1
        )
        """
    )
    db.execute(
        """
        CREATE VIEW IF NOT EXISTS latest_link_checks AS
        SELECT link_checks.* FROM link_checks
        WHERE link_checks.id = (
            SELECT l2.id FROM link_checks l2
            WHERE l2.url = link_checks.url AND l2.source_url = link_checks.source_url
            ORDER BY l2.checked_at DESC, l2.id DESC LIMIT 1
        )
        """
    )


def _m003_stemmed_search(db: Database) -> None:
    """Search finds "friends" for "friend": rebuild the FTS index with the Porter stemmer."""
    db.table("extractions").enable_fts(
        ["title", "subtitle", "text"],
        fts_version="FTS5",
        create_triggers=True,
        tokenize="porter",
        replace=True,
    )


def _m004_indexes_for_lookups(db: Database) -> None:
    """Indexes for the lookups the library makes by URL text and by capture."""
    db.execute("CREATE INDEX IF NOT EXISTS idx_captures_url_text ON captures(url, fetched_at)")
    db.execute("CREATE INDEX IF NOT EXISTS idx_captures_extraction ON captures(extraction_id)")
    db.execute("CREATE INDEX IF NOT EXISTS idx_verifications_capture ON verifications(capture_id)")
    db.execute("CREATE INDEX IF NOT EXISTS idx_link_checks_capture ON link_checks(capture_id)")


def _m005_drift(db: Database) -> None:
    """Drift verification: parsed canonical copies by content hash, and source drift verdicts.

    ``canonical_parses`` lets a run over hundreds of unchanged copies skip re-parsing their
    Markdown (keyed by the SHA-256 of the file's bytes and the parser version).
    ``source_drifts`` keeps, per verification, how each cited source that could be compared
    with its first capture compares (``same``, ``changed``, ``passage_missing``; see
    ``archiver.verify.citations``).
    """
    db.table("canonical_parses").create(
        {"sha256": str, "parser": str, "data": str, "parsed_at": str},
        pk=("sha256", "parser"),
        not_null={"sha256", "parser", "data", "parsed_at"},
        if_not_exists=True,
    )
    db.table("source_drifts").create(
        {
            "id": int,
            "verification_id": int,
            "url": str,
            "text": str,
            "status": str,
            "similarity": float,
            "passage": str,
            "first_capture_id": int,
            "capture_id": int,
            "detail": str,
        },
        pk="id",
        foreign_keys=[("verification_id", "verifications", "id")],
        not_null={"verification_id", "url", "status"},
        if_not_exists=True,
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_source_drifts_url ON source_drifts(url, verification_id)"
    )


def _m006_run_items(db: Database) -> None:
    """Scheduled runs: what each run did to each item, so a killed run can be resumed."""
    db.table("run_items").create(
        {
            "id": int,
            "run_id": int,
            "item": str,
            "kind": str,
            "url": str,
            "outcome": str,
            "detail": str,
            "done_at": str,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id")],
        not_null={"run_id", "item", "kind", "url", "outcome", "done_at"},
        if_not_exists=True,
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_run_items_run ON run_items(run_id, item)")
    db.execute("CREATE INDEX IF NOT EXISTS idx_run_items_item ON run_items(item, done_at)")
    db.execute("CREATE INDEX IF NOT EXISTS idx_captures_run ON captures(run_id)")


def _m007_evidence(db: Database) -> None:
    """The tamper-evident log: one leaf a record, and the signed checkpoints of its root."""
    db.table("evidence_log").create(
        {"seq": int, "kind": str, "row_id": int, "leaf": bytes, "logged_at": str},
        pk="seq",
        not_null={"kind", "row_id", "leaf", "logged_at"},
        if_not_exists=True,
    )
    db.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS idx_evidence_log_row ON evidence_log(kind, row_id)"
    )
    db.table("checkpoints").create(
        {
            "id": int,
            "origin": str,
            "size": int,
            "root": bytes,
            "time": str,
            "key_id": str,
            "signature": bytes,
            "public_key": str,
            "token": bytes,
            "tsa": str,
            "timestamp_detail": str,
            "run_id": int,
        },
        pk="id",
        not_null={"origin", "size", "root", "time", "key_id", "signature", "public_key"},
        if_not_exists=True,
    )
    db.table("archive_meta").create(
        {"key": str, "value": str}, pk="key", not_null={"value"}, if_not_exists=True
    )


def _m008_archived_copies(db: Database) -> None:
    """Memento lookups of broken links: each archive's answer, with its age, and its captures."""
    db.table("memento_lookups").create(
        {
            "id": int,
            "url": str,
            "archive": str,
            "near": str,
            "looked_up_at": str,
            "title": str,
            "canonical": str,
            "best_url": str,
        },
        pk="id",
        not_null={"url", "archive", "near", "looked_up_at"},
        if_not_exists=True,
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_memento_lookups_url "
        "ON memento_lookups(url, archive, near, looked_up_at)"
    )
    db.table("archived_copies").create(
        {
            "id": int,
            "lookup_id": int,
            "url": str,
            "archive": str,
            "memento_url": str,
            "memento_datetime": str,
            "status": int,
            "replays": int,
            "redirect_to": str,
        },
        pk="id",
        foreign_keys=[("lookup_id", "memento_lookups", "id")],
        not_null={"lookup_id", "url", "archive", "memento_url", "memento_datetime"},
        if_not_exists=True,
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_archived_copies_url ON archived_copies(url)")
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_archived_copies_lookup ON archived_copies(lookup_id)"
    )


def _m009_capture_flags(db: Database) -> None:
    """What an import found wrong with a record it still brought in (a failed digest, a record
    cut short by the end of the file): one row per capture and flag, for fsck and reports."""
    db.table("capture_flags").create(
        {"id": int, "capture_id": int, "flag": str, "detail": str, "source": str},
        pk="id",
        foreign_keys=[("capture_id", "captures", "id")],
        not_null={"capture_id", "flag"},
        if_not_exists=True,
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_capture_flags ON capture_flags(capture_id)")


def _m010_extraction_provenance(db: Database) -> None:
    """Where an extraction's date came from, and whether the page is an article at all."""
    columns = {column.name for column in db.table("extractions").columns}
    if "published_source" not in columns:
        db.execute("ALTER TABLE extractions ADD COLUMN published_source TEXT")
    if "page_type" not in columns:
        db.execute("ALTER TABLE extractions ADD COLUMN page_type TEXT")


Migration = Callable[[Database], None]

#: Applied in order; the position (1-based) is the schema version. Append only.
MIGRATIONS: tuple[Migration, ...] = (
    _m001_initial,
    _m002_search_and_views,
    _m003_stemmed_search,
    _m004_indexes_for_lookups,
    _m005_drift,
    _m006_run_items,
    _m007_evidence,
    _m008_archived_copies,
    _m009_capture_flags,
    _m010_extraction_provenance,
)

SCHEMA_VERSION = len(MIGRATIONS)

#: Every table the migrations create (FTS shadow tables aside): an SQLite file holding any other
#: table at version 0 is someone else's database, not a new archive.
TABLES = frozenset(
    {
        "migrations",
        "runs",
        "urls",
        "bodies",
        "extractions",
        "captures",
        "links",
        "verifications",
        "link_checks",
        "canonical_parses",
        "source_drifts",
        "run_items",
        "evidence_log",
        "checkpoints",
        "archive_meta",
        "memento_lookups",
        "archived_copies",
        "capture_flags",
    }
)


def current_version(db: Database) -> int:
    """The schema version an archive is at (0 for a new, empty file)."""
    row = db.execute("PRAGMA user_version").fetchone()
    return int(row[0]) if row else 0


def migrate(db: Database, *, upto: int | None = None) -> list[int]:
    """Apply every migration the archive lacks, oldest first; return the versions applied.

    ``upto`` stops early (tests use it to build an archive as an older release left it).
    Raises ``ValueError`` when the archive is newer than this program knows.
    """
    target = SCHEMA_VERSION if upto is None else upto
    version = current_version(db)
    if version > SCHEMA_VERSION:
        raise ValueError(
            f"schema version {version} is newer than this archiver knows ({SCHEMA_VERSION})"
        )
    db.table("migrations").create(
        {"version": int, "name": str, "applied_at": str},
        pk="version",
        if_not_exists=True,
    )
    applied: list[int] = []
    for number in range(version + 1, target + 1):
        step = MIGRATIONS[number - 1]
        log.info("applying migration %d (%s)", number, step.__name__)
        step(db)
        db.execute(
            "INSERT OR REPLACE INTO migrations (version, name, applied_at) VALUES (?, ?, ?)",
            [number, step.__name__.lstrip("_"), datetime.now(UTC).isoformat()],
        )
        db.execute(f"PRAGMA user_version = {int(number)}")
        applied.append(number)
    return applied

"""What the jobs conclude, recorded: link checks, verifications, and the sources they cite.

Every check is kept (history, not just state): that is what lets a suspect link become broken
only after it kept failing. A verification and its link checks are one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from archiver.archive.codec import dumps
from archiver.archive.db import Handle, guarded
from archiver.models import Drift, LinkCheck, utc_iso


def _insert_link_checks(
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
                dumps(list(check.redirects)),
                check.archived_url,
                check.detail,
                None if check.recovered is None else int(check.recovered),
            )
            for check in checks
        ],
    )


def _insert_verification(
    conn: sqlite3.Connection,
    *,
    canonical_path: str,
    url: str,
    drift: Drift,
    capture_id: int | None,
    links: Sequence[LinkCheck] = (),
    run_id: int | None = None,
    verified_at: str | None = None,
) -> int:
    when = verified_at or utc_iso()
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
            dumps([change.to_json() for change in drift.changes]),
        ),
    )
    verification_id = int(cursor.lastrowid or 0)
    _insert_link_checks(
        conn,
        links,
        source_url=url,
        capture_id=capture_id,
        checked_at=when,
        verification_id=verification_id,
    )
    return verification_id


class Verdicts:
    """Link checks and verifications of one archive (``archive.verdicts``)."""

    def __init__(self, handle: Handle) -> None:
        self.handle = handle

    @guarded
    def save_link_checks(
        self,
        checks: Sequence[LinkCheck],
        *,
        source_url: str,
        capture_id: int | None = None,
        checked_at: str | None = None,
    ) -> None:
        """Record the verdict on every link of one page; the history decides what is broken."""
        with self.handle.transaction() as conn:
            _insert_link_checks(
                conn,
                checks,
                source_url=source_url,
                capture_id=capture_id,
                checked_at=checked_at or utc_iso(),
            )

    @guarded
    def save_verifications(self, items: Sequence[dict[str, Any]]) -> list[int]:
        """Many verifications (each the keyword arguments of :meth:`save_verification`) with
        their link checks, in one transaction, in order; their ids. One commit for a job's
        batch instead of one per copy: the same rows, the same ids."""
        if not items:
            return []
        ids: list[int] = []
        with self.handle.transaction() as conn:
            for item in items:
                ids.append(_insert_verification(conn, **item))
        return ids

    @guarded
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
        with self.handle.transaction() as conn:
            return _insert_verification(
                conn,
                canonical_path=canonical_path,
                url=url,
                drift=drift,
                capture_id=capture_id,
                links=links,
                run_id=run_id,
                verified_at=verified_at,
            )

    @guarded
    def save_source_drifts_many(self, items: Sequence[tuple[int, Sequence[Any]]]) -> None:
        """Source drifts of many verifications (``archiver.verify.citations.SourceDrift``), one
        transaction."""
        rows = [(verification_id, d) for verification_id, drifts in items for d in drifts]
        if not rows:
            return
        with self.handle.transaction() as conn:
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

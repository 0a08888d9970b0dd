"""Fixity: re-hash every stored body and ask SQLite to check its own structure.

``fsck`` is how a user learns, years later, that the archive still holds what it was given: a
flipped byte on disk is reported with every capture that shares the damaged body. Problems are
values in an ``FsckReport`` (warcio's checker does the same), never exceptions, so one damaged
body does not hide the next.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from archiver.archive.codec import check_body

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class FsckProblem:
    """One thing ``fsck`` found wrong, with the captures it touches."""

    kind: str  # checksum_mismatch | size_mismatch | unreadable | missing_body | integrity |
    # imported_digest_failed | imported_truncated | imported_bad_length (flagged on import)
    detail: str
    sha256: str | None = None
    capture_ids: tuple[int, ...] = ()
    urls: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "detail": self.detail,
            "sha256": self.sha256,
            "capture_ids": list(self.capture_ids),
            "urls": list(self.urls),
        }


@dataclass(frozen=True, kw_only=True)
class FsckReport:
    """What a fixity check found: counts, SQLite's own verdict, and every problem."""

    path: str
    bodies_checked: int
    bytes_checked: int
    captures: int
    integrity: tuple[str, ...] = ("ok",)
    problems: tuple[FsckProblem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "archive": self.path,
            "ok": self.ok,
            "bodies_checked": self.bodies_checked,
            "bytes_checked": self.bytes_checked,
            "captures": self.captures,
            "integrity": list(self.integrity),
            "problems": [p.to_json() for p in self.problems],
        }


def check(conn: sqlite3.Connection, path: str) -> FsckReport:
    """Re-hash every stored body and run SQLite's integrity check; problems are values."""
    problems: list[FsckProblem] = []
    integrity: list[str] = []
    try:
        integrity = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        integrity = [str(exc)]
    if integrity != ["ok"]:
        problems.extend(FsckProblem(kind="integrity", detail=line) for line in integrity)
    bodies = size_total = captures = 0
    try:
        captures = conn.execute("SELECT count(*) FROM captures").fetchone()[0]
        for sha, size, compression, data in conn.execute(
            "SELECT sha256, size, compression, CAST(data AS BLOB) FROM bodies"
        ):
            bodies += 1
            size_total += size or 0
            problem = check_body(sha, size, compression, data)
            if problem:
                kind, detail = problem
                problems.append(_with_captures(conn, kind, detail, sha))
        for capture_id, url, sha in conn.execute(
            """SELECT id, url, body_sha256 FROM captures WHERE body_sha256 IS NOT NULL
            AND body_sha256 NOT IN (SELECT sha256 FROM bodies)"""
        ):
            problems.append(
                FsckProblem(
                    kind="missing_body",
                    detail="the capture's body is not in the archive",
                    sha256=sha,
                    capture_ids=(capture_id,),
                    urls=(url,),
                )
            )
        problems.extend(_import_flags(conn))
    except sqlite3.DatabaseError as exc:
        problems.append(FsckProblem(kind="integrity", detail=f"reading bodies failed: {exc}"))
    report = FsckReport(
        path=path,
        bodies_checked=bodies,
        bytes_checked=size_total,
        captures=captures,
        integrity=tuple(integrity),
        problems=tuple(problems),
    )
    log.info("fsck of %s: %d bodies, %d problems", path, bodies, len(problems))
    return report


def _import_flags(conn: sqlite3.Connection) -> list[FsckProblem]:
    """Records imported although their WARC said they were damaged (``capture_flags``)."""
    problems = []
    for flag, ids, urls, source in conn.execute(
        """SELECT f.flag, group_concat(c.id), group_concat(c.url, ' '),
        group_concat(DISTINCT f.source)
        FROM capture_flags f JOIN captures c ON c.id = f.capture_id GROUP BY f.flag"""
    ):
        problems.append(
            FsckProblem(
                kind=f"imported_{flag}",
                detail=f"imported from WARC records marked {flag} (from {source})",
                capture_ids=tuple(int(i) for i in ids.split(",")),
                urls=tuple(dict.fromkeys(urls.split(" "))),
            )
        )
    return problems


def _with_captures(conn: sqlite3.Connection, kind: str, detail: str, sha: str) -> FsckProblem:
    rows = conn.execute(
        "SELECT id, url FROM captures WHERE body_sha256 = ? ORDER BY id", (sha,)
    ).fetchall()
    return FsckProblem(
        kind=kind,
        detail=detail,
        sha256=sha,
        capture_ids=tuple(r[0] for r in rows),
        urls=tuple(dict.fromkeys(r[1] for r in rows)),
    )

"""The evidence log in SQLite: append new records' leaves, store checkpoints, audit both.

The log (``evidence_log``) is append-only: each capture, extraction, link check and verdict
gets one leaf (:mod:`archiver.evidence.records`) the first time a checkpoint is made after it
was stored. ``audit`` recomputes every leaf from its row and the tree from the leaves, and says
which record was changed, removed or reordered, and whether each signed checkpoint still
matches the log; when someone rewrote a row and its leaf together, the signed root no longer
matches and the audit names the range of records the change is in.

Sealing costs what was added, not the whole log: the tree's frontier (the roots of its complete
subtrees, :func:`archiver.evidence.merkle.extend`) is kept in ``archive_meta`` under
``evidence_frontier``, written in the same transaction as the leaves it covers. It is a cache,
never the evidence: it is used only when it covers exactly the log (its size is the last
``seq``) and agrees with the newest checkpoint of that size; otherwise it is rebuilt from every
leaf, as the first seal after an upgrade does. The audit never reads it.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from archiver.evidence.checkpoint import Checkpoint
from archiver.evidence.merkle import EMPTY_ROOT, extend, frontier_root
from archiver.evidence.records import KINDS, LEAF_COLUMNS, record_leaf
from archiver.models import utc_iso

#: The ``archive_meta`` key of the tree's frontier: {"size": n, "nodes": [hex, ...]}.
FRONTIER_KEY = "evidence_frontier"

#: How many changed rows are compared with each other to tell a reordering from a change.
MAX_REORDER_SEARCH = 500


@dataclass(frozen=True, kw_only=True)
class LogEntry:
    seq: int  # 1-based position in the log; leaf index is seq - 1
    kind: str
    row_id: int
    leaf: bytes


@dataclass(frozen=True, kw_only=True)
class LogProblem:
    """One thing the audit found: what, which record, in a line."""

    kind: str  # "changed", "removed", "reordered", "checkpoint", "signature", "gap"
    detail: str
    table: str | None = None
    row_id: int | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "problem": self.kind,
            "table": self.table,
            "row_id": self.row_id,
            "detail": self.detail,
        }


def origin(db: Database) -> str:
    """The archive's own id (made once), which every checkpoint names."""
    rows = list(db.query("SELECT value FROM archive_meta WHERE key = 'origin'"))
    if rows:
        return str(rows[0]["value"])
    made = f"archiver:{uuid.uuid4()}"
    db.execute("INSERT OR IGNORE INTO archive_meta(key, value) VALUES ('origin', ?)", [made])
    return str(next(iter(db.query("SELECT value FROM archive_meta WHERE key='origin'")))["value"])


def _rows(db: Database, kind: str, after: int) -> list[dict[str, Any]]:
    columns = ", ".join(LEAF_COLUMNS[kind])
    return list(db.query(f"SELECT {columns} FROM {kind} WHERE id > ? ORDER BY id", [after]))


@contextmanager
def _atomic(conn: sqlite3.Connection) -> Iterator[None]:
    """One ``BEGIN IMMEDIATE`` transaction, or a part of the caller's when one is open."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@dataclass(frozen=True, kw_only=True)
class Tree:
    """The log's Merkle tree as a seal needs it: its size, frontier and root."""

    size: int
    frontier: tuple[bytes, ...]

    @property
    def root(self) -> bytes:
        return frontier_root(self.frontier) if self.size else EMPTY_ROOT


def _stored_frontier(db: Database) -> Tree | None:
    row = db.execute("SELECT value FROM archive_meta WHERE key = ?", [FRONTIER_KEY]).fetchone()
    if row is None:
        return None
    try:
        data = json.loads(row[0])
        size, nodes = int(data["size"]), tuple(bytes.fromhex(n) for n in data["nodes"])
    except (ValueError, TypeError, KeyError):
        return None
    if size < 0 or len(nodes) != size.bit_count() or any(len(n) != 32 for n in nodes):
        return None
    return Tree(size=size, frontier=nodes)


def _save_frontier(db: Database, tree: Tree) -> None:
    value = json.dumps({"size": tree.size, "nodes": [n.hex() for n in tree.frontier]})
    db.execute(
        "INSERT OR REPLACE INTO archive_meta(key, value) VALUES (?, ?)", [FRONTIER_KEY, value]
    )


def tree(db: Database) -> Tree:
    """The log's tree: from the kept frontier when it covers exactly this log and agrees with
    the newest checkpoint of its size, else rebuilt from every leaf (O(n), once)."""
    last = int(db.execute("SELECT coalesce(max(seq), 0) FROM evidence_log").fetchone()[0])
    kept = _stored_frontier(db)
    if kept is not None and kept.size == last:
        signed = db.execute(
            "SELECT root FROM checkpoints WHERE size = ? ORDER BY id DESC LIMIT 1", [last]
        ).fetchone()
        if signed is None or bytes(signed[0]) == kept.root:
            return kept
    leaves = [bytes(r[0]) for r in db.execute("SELECT leaf FROM evidence_log ORDER BY seq")]
    return Tree(size=len(leaves), frontier=tuple(extend((), 0, leaves)))


def append_new(db: Database, *, now: str | None = None) -> tuple[int, Tree]:
    """Append a leaf for every record not yet in the log, in one transaction, and keep the
    tree's frontier beside them; how many were added, and the tree with them."""
    stamp = now or utc_iso()
    added = 0
    with _atomic(db.conn):
        grown = tree(db)
        for kind in KINDS:
            last = db.execute(
                "SELECT coalesce(max(row_id), 0) FROM evidence_log WHERE kind = ?", [kind]
            ).fetchone()[0]
            batch = [
                (kind, row["id"], record_leaf(kind, row), stamp)
                for row in _rows(db, kind, int(last))
            ]
            if not batch:
                continue
            db.conn.executemany(
                "INSERT INTO evidence_log(kind, row_id, leaf, logged_at) VALUES (?, ?, ?, ?)", batch
            )
            leaves = [leaf for _, _, leaf, _ in batch]
            grown = Tree(
                size=grown.size + len(leaves),
                frontier=tuple(extend(grown.frontier, grown.size, leaves)),
            )
            added += len(batch)
        _save_frontier(db, grown)
    return added, grown


def count_unlogged(db: Database) -> int:
    """Records stored after the last one logged (they go into the next checkpoint)."""
    total = 0
    for kind in KINDS:
        last = db.execute(
            "SELECT coalesce(max(row_id), 0) FROM evidence_log WHERE kind = ?", [kind]
        ).fetchone()[0]
        total += db.execute(f"SELECT count(*) FROM {kind} WHERE id > ?", [last]).fetchone()[0]
    return int(total)


def entries(db: Database, *, upto: int | None = None) -> list[LogEntry]:
    sql = "SELECT seq, kind, row_id, leaf FROM evidence_log ORDER BY seq"
    out = [
        LogEntry(
            seq=int(r["seq"]), kind=str(r["kind"]), row_id=int(r["row_id"]), leaf=bytes(r["leaf"])
        )
        for r in db.query(sql)
    ]
    return out[:upto] if upto is not None else out


def save_checkpoint(
    db: Database, checkpoint: Checkpoint, *, public_key: str, run_id: int | None = None
) -> int:
    with _atomic(db.conn):
        cursor = db.execute(
            """INSERT INTO checkpoints (origin, size, root, time, key_id, signature, public_key,
               token, tsa, timestamp_detail, run_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)""",
            [
                checkpoint.origin,
                checkpoint.size,
                checkpoint.root,
                checkpoint.time,
                checkpoint.key_id,
                checkpoint.signature,
                public_key,
                checkpoint.token,
                checkpoint.tsa,
                checkpoint.timestamp_detail,
                run_id,
            ],
        )
    return int(cursor.lastrowid or 0)


def checkpoints(db: Database) -> list[tuple[Checkpoint, str]]:
    """Every checkpoint, oldest first, with the public key (PEM) recorded beside it."""
    out = []
    for r in db.query("SELECT * FROM checkpoints ORDER BY id"):
        out.append(
            (
                Checkpoint(
                    id=int(r["id"]),
                    origin=str(r["origin"]),
                    size=int(r["size"]),
                    root=bytes(r["root"]),
                    time=str(r["time"]),
                    key_id=str(r["key_id"]),
                    signature=bytes(r["signature"]),
                    token=bytes(r["token"]) if r["token"] is not None else None,
                    tsa=r["tsa"],
                    timestamp_detail=str(r["timestamp_detail"] or ""),
                ),
                str(r["public_key"]),
            )
        )
    return out


def audit(db: Database, *, checks: Sequence[Checkpoint] = ()) -> list[LogProblem]:
    """Recompute the log from the rows and the tree from the log; every problem, oldest first.

    ``checks`` are the checkpoints to hold the log against (their signatures are the caller's
    to verify, with the public key it trusts).
    """
    problems: list[LogProblem] = []
    log = entries(db)
    logged = {(e.kind, e.row_id): e.leaf for e in log}
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for kind in KINDS:
        for found in _rows(db, kind, 0):
            rows[(kind, int(found["id"]))] = found
    changed = [
        e
        for e in log
        if (e.kind, e.row_id) in rows and record_leaf(e.kind, rows[(e.kind, e.row_id)]) != e.leaf
    ]
    changed_seqs = {e.seq for e in changed}
    for entry in log:
        where = f"{entry.kind} row {entry.row_id} (log entry {entry.seq})"
        current = rows.get((entry.kind, entry.row_id))
        if current is None:
            problems.append(
                LogProblem(
                    kind="removed",
                    table=entry.kind,
                    row_id=entry.row_id,
                    detail=f"{where} was removed",
                )
            )
        elif entry.seq in changed_seqs:
            # Does it hold, word for word, what another changed row held when logged?
            other = next(
                (
                    o.row_id
                    for o in changed[:MAX_REORDER_SEARCH]
                    if o.kind == entry.kind
                    and o.row_id != entry.row_id
                    and record_leaf(o.kind, {**current, "id": o.row_id})
                    == logged[(o.kind, o.row_id)]
                ),
                None,
            )
            if other is not None:
                detail = f"{where} now holds what was logged as row {other}: rows reordered"
                problems.append(
                    LogProblem(
                        kind="reordered", table=entry.kind, row_id=entry.row_id, detail=detail
                    )
                )
            else:
                problems.append(
                    LogProblem(
                        kind="changed",
                        table=entry.kind,
                        row_id=entry.row_id,
                        detail=f"{where} was changed after it was logged",
                    )
                )
    leaves = [entry.leaf for entry in log]
    previous = 0
    grown = Tree(size=0, frontier=())  # the tree of the first ``grown.size`` leaves
    for checkpoint in checks:
        if checkpoint.size > len(leaves):
            problems.append(
                LogProblem(
                    kind="checkpoint",
                    detail=(
                        f"checkpoint {checkpoint.id} covers {checkpoint.size} records but the "
                        f"log holds {len(leaves)}: log entries were removed"
                    ),
                )
            )
        elif (grown := _grown(grown, leaves, checkpoint.size)).root != checkpoint.root:
            problems.append(
                LogProblem(
                    kind="checkpoint",
                    detail=(
                        f"the log no longer matches signed checkpoint {checkpoint.id} (size "
                        f"{checkpoint.size}): a record among log entries {previous + 1}-"
                        f"{checkpoint.size} was changed together with its log entry"
                    ),
                )
            )
        previous = checkpoint.size
    return problems


def _grown(tree: Tree, leaves: Sequence[bytes], size: int) -> Tree:
    """The tree of the first ``size`` leaves, grown from ``tree`` when it is a prefix of it,
    so holding the log against every checkpoint in order costs O(n), not O(n) a checkpoint."""
    start = tree if tree.size <= size else Tree(size=0, frontier=())
    nodes = extend(start.frontier, start.size, leaves[start.size : size])
    return Tree(size=size, frontier=tuple(nodes))

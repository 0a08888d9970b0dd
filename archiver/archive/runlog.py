"""The run log: which command ran when, how it ended, and what a scheduled run finished.

``archiver.runs.run`` reads it to resume a killed run (the items done, the captures and
verdicts stored) and to tell what is due; ``import-warc`` and the jobs record themselves in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from archiver.archive.codec import dumps
from archiver.archive.db import Handle, guarded
from archiver.archive.records import RunRecord, StoredLinkCheck
from archiver.models import utc_iso

_NEVER = 2**62  # an id no run reaches


def _marks(values: Sequence[object]) -> str:
    """``?`` placeholders for an ``IN (...)``; ``''`` (matches nothing) for none."""
    return ",".join("?" * len(values)) or "''"


class RunLog:
    """The run log of one archive (``archive.runs``)."""

    def __init__(self, handle: Handle) -> None:
        self.handle = handle

    @guarded
    def start(self, *, command: str, config: str | None = None) -> int:
        """Record a run as ``running``; return its id."""
        with self.handle.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO runs (command, config, started_at, status) VALUES (?, ?, ?, ?)",
                (command, config, utc_iso(), "running"),
            )
        return int(cursor.lastrowid or 0)

    @guarded
    def finish(self, run_id: int, *, status: str, summary: dict[str, Any]) -> None:
        """Record how a run ended, with its summary (JSON): a sync point (fsynced)."""
        with self.handle.transaction(sync=True) as conn:
            conn.execute(
                "UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE id = ?",
                (utc_iso(), status, dumps(summary), run_id),
            )

    @guarded
    def set_status(self, run_ids: Sequence[int], status: str) -> None:
        """Mark runs (e.g. ``interrupted``: found ``running`` with no process behind them)."""
        with self.handle.transaction() as conn:
            conn.executemany(
                "UPDATE runs SET status = ? WHERE id = ?", [(status, i) for i in run_ids]
            )

    @guarded
    def with_status(self, status: str, *, command: str = "run") -> list[RunRecord]:
        """Runs of a command in one status, oldest first (``running`` ones no lock holds)."""
        rows = self.handle.db.query(
            "SELECT * FROM runs WHERE status = ? AND command = ? ORDER BY id", [status, command]
        )
        return [RunRecord.from_row(row) for row in rows]

    @guarded
    def last(self, *, command: str = "run", before: int | None = None) -> RunRecord | None:
        """The newest run of a command (before run id ``before``, when given)."""
        rows = list(
            self.handle.db.query(
                "SELECT * FROM runs WHERE command = ? AND id < ? ORDER BY id DESC LIMIT 1",
                [command, before if before is not None else _NEVER],
            )
        )
        return RunRecord.from_row(rows[0]) if rows else None

    @guarded
    def started(self, run_id: int) -> str | None:
        """When a run started (ISO 8601), or None if there is no such run."""
        row = self.handle.conn.execute(
            "SELECT started_at FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        return str(row[0]) if row else None

    # -- the items of scheduled runs --------------------------------------------------------

    @guarded
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
        with self.handle.transaction() as conn:
            conn.execute(
                """INSERT INTO run_items (run_id, item, kind, url, outcome, detail, done_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)""",
                (run_id, item, kind, url, outcome, detail, done_at or utc_iso()),
            )

    @guarded
    def items_done(self, run_ids: Sequence[int], *, failed: Sequence[str] = ()) -> set[str]:
        """Items those runs finished, leaving out the outcomes named in ``failed``."""
        if not run_ids:
            return set()
        rows = self.handle.conn.execute(
            f"SELECT item FROM run_items WHERE run_id IN ({_marks(run_ids)}) "
            f"AND outcome NOT IN ({_marks(failed)})",
            (*run_ids, *failed),
        )
        return {row[0] for row in rows}

    @guarded
    def item_times(self, *, failed: Sequence[str] = ()) -> dict[str, str]:
        """When each item was last finished by a run (outcomes in ``failed`` do not count)."""
        rows = self.handle.conn.execute(
            f"SELECT item, max(done_at) FROM run_items WHERE outcome NOT IN ({_marks(failed)}) "
            "GROUP BY item",
            tuple(failed),
        )
        return {row[0]: row[1] for row in rows}

    # -- what runs stored (for resuming) ---------------------------------------------------

    @guarded
    def captures(self, run_ids: Sequence[int]) -> dict[str, int]:
        """URL to the newest capture id those runs stored, so a resumed run does not refetch."""
        if not run_ids:
            return {}
        rows = self.handle.conn.execute(
            f"SELECT url, max(id) FROM captures WHERE run_id IN ({_marks(run_ids)}) GROUP BY url",
            tuple(run_ids),
        )
        return {row[0]: row[1] for row in rows}

    @guarded
    def verifications(self, run_ids: Sequence[int]) -> dict[str, tuple[str, str]]:
        """Canonical path to the (drift status, URL) those runs recorded."""
        if not run_ids:
            return {}
        rows = self.handle.conn.execute(
            "SELECT canonical_path, status, url FROM verifications "
            f"WHERE run_id IN ({_marks(run_ids)}) ORDER BY id",
            tuple(run_ids),
        )
        return {row[0]: (row[1], row[2]) for row in rows}

    @guarded
    def link_checks(self, run_ids: Sequence[int]) -> list[StoredLinkCheck]:
        """The link checks those runs made (through their verifications or page captures)."""
        if not run_ids:
            return []
        marks = _marks(run_ids)
        rows = self.handle.db.query(
            f"""SELECT l.* FROM link_checks l
            LEFT JOIN verifications v ON v.id = l.verification_id
            LEFT JOIN captures c ON c.id = l.capture_id
            WHERE v.run_id IN ({marks})
                OR (l.verification_id IS NULL AND c.run_id IN ({marks}))
            ORDER BY l.id""",
            [*run_ids, *run_ids],
        )
        return [StoredLinkCheck.from_row(row) for row in rows]

    @guarded
    def link_states(
        self, *, ignore: Sequence[str] = (), before: str | None = None
    ) -> dict[str, tuple[str, str, bool]]:
        """Each link target's newest verdict: (checked_at, status, broken).

        Verdicts in ``ignore`` (no verdict at all, like ``network_unavailable``) are passed
        over; with ``before`` (ISO 8601), only checks made before that time count.
        """
        rows = self.handle.conn.execute(
            f"""SELECT l.url, l.checked_at, l.status, l.broken FROM link_checks l
            JOIN (SELECT url, max(id) AS id FROM link_checks
                WHERE status NOT IN ({_marks(ignore)}) AND checked_at < ? GROUP BY url) newest
            ON newest.id = l.id""",
            (*ignore, before or "9999"),
        )
        return {row[0]: (row[1], row[2], bool(row[3])) for row in rows}

    @guarded
    def drift_states(self, *, before_run: int | None = None) -> dict[str, str]:
        """Each canonical copy's newest drift verdict (made before run ``before_run``, if given)."""
        rows = self.handle.conn.execute(
            """SELECT v.canonical_path, v.status FROM verifications v
            JOIN (SELECT canonical_path, max(id) AS id FROM verifications
                WHERE run_id IS NULL OR run_id < ? GROUP BY canonical_path) newest
            ON newest.id = v.id""",
            (before_run if before_run is not None else _NEVER,),
        )
        return {row[0]: row[1] for row in rows}

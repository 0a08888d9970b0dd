"""The canonical parse cache: a parsed canonical copy, by the SHA-256 of its bytes.

``verify`` parses hundreds of Markdown copies per run; a copy whose bytes did not change since
it was last parsed (by the same parser version) is read from here instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from archiver.archive.db import Handle, guarded
from archiver.models import utc_iso

_CHUNK = 500  # keys per query, well under SQLite's limit on bound parameters


class ParseCache:
    """The parse cache of one archive (``archive.parses``)."""

    def __init__(self, handle: Handle) -> None:
        self.handle = handle

    @guarded
    def get(self, keys: Sequence[str], parser: str) -> dict[str, str]:
        """Parsed canonical copies by the SHA-256 of their bytes (those the cache holds)."""
        found: dict[str, str] = {}
        wanted = list(dict.fromkeys(keys))
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ", ".join("?" for _ in chunk)
            for sha, data in self.handle.conn.execute(
                "SELECT sha256, data FROM canonical_parses "
                f"WHERE parser = ? AND sha256 IN ({marks})",
                [parser, *chunk],
            ):
                found[sha] = data
        return found

    @guarded
    def save(self, items: Sequence[tuple[str, str]], parser: str) -> None:
        """Remember parsed canonical copies, (sha256 of bytes, JSON), in one transaction."""
        if not items or self.handle.readonly:
            return
        when = utc_iso()
        with self.handle.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO canonical_parses (sha256, parser, data, parsed_at) "
                "VALUES (?, ?, ?, ?)",
                [(sha, parser, data, when) for sha, data in items],
            )

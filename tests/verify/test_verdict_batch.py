"""The verify job stores its verifications in one transaction: the same rows as one by one."""

from __future__ import annotations

from typing import Any

from archiver.archive.store import Archive
from archiver.models import Change, Drift, LinkCheck


def _items() -> list[dict[str, Any]]:
    edited = Drift(
        status="edited",
        similarity=0.91,
        checksum_canonical="sha256:a",
        checksum_live="sha256:b",
        changes=(Change(kind="modified", field="body", canonical="old", live="new"),),
    )
    same = Drift(
        status="unchanged", similarity=1.0, checksum_canonical="sha256:c", checksum_live="sha256:c"
    )
    dead = LinkCheck(
        url="https://example.org/x", text="x", status="not_found", broken=True, http_status=404
    )
    fine = LinkCheck(
        url="https://example.org/y", text="y", status="ok", broken=False, recovered=True
    )
    return [
        {
            "canonical_path": "a.md",
            "url": "https://example.org/a",
            "drift": edited,
            "capture_id": None,
            "links": [dead, fine],
            "run_id": None,
            "verified_at": "2026-12-01T00:00:00Z",
        },
        {
            "canonical_path": "b.md",
            "url": "https://example.org/b",
            "drift": same,
            "capture_id": None,
            "links": [],
            "run_id": None,
            "verified_at": "2026-12-01T00:00:01Z",
        },
        {
            "canonical_path": "c.md",
            "url": "https://example.org/c",
            "drift": same,
            "capture_id": None,
            "links": [fine],
            "run_id": None,
            "verified_at": "2026-12-01T00:00:02Z",
        },
    ]


def _rows(archive: Archive) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    verifications = archive.conn.execute("SELECT * FROM verifications ORDER BY id").fetchall()
    checks = archive.conn.execute("SELECT * FROM link_checks ORDER BY id").fetchall()
    return verifications, checks


def test_a_batch_stores_what_one_by_one_stores() -> None:
    one_by_one, batch = Archive.memory(), Archive.memory()
    ids = [one_by_one.save_verification(**item) for item in _items()]
    assert batch.save_verifications(_items()) == ids
    assert _rows(batch) == _rows(one_by_one)
    verifications, checks = _rows(batch)
    assert len(verifications) == 3 and len(checks) == 3


def test_an_empty_batch_writes_nothing() -> None:
    archive = Archive.memory()
    assert archive.save_verifications([]) == []
    assert _rows(archive) == ([], [])

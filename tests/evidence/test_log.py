"""The tamper-evident log over a real archive: tampering is found and named.

The archive is filled the way a user fills it (``archiver verify`` of the seed over the
loopback web: captures, extractions, link checks, a verdict), sealed, then changed behind the
tool's back with plain SQL, as anyone with write access to the file could.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.archive import evidence_log
from archiver.archive.store import Archive
from archiver.cli import cli
from archiver.evidence.audit import audit
from archiver.evidence.merkle import root
from archiver.evidence.seal import seal
from archiver.models import LinkCheck
from tests.conftest import SEED

FAST = ["--per-host-rate", "100", "--timeout", "5"]


@pytest.fixture()
def sealed(tmp_path: Path, connect_to: list[str], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARCHIVER_KEY", str(tmp_path / "keys" / "signing.key"))
    db = tmp_path / "archive.db"
    result = CliRunner().invoke(
        cli, ["--db", str(db), "verify", str(SEED), *FAST, *connect_to], catch_exceptions=False
    )
    assert result.exit_code == 1, result.output  # the seed has broken links
    with Archive(db) as archive:
        done = seal(archive)
        assert done.added > 20 and done.checkpoint.size == done.added
        assert audit(archive).ok
    return db


def _sql(db: Path, *statements: str) -> None:
    conn = sqlite3.connect(db)
    with conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()


def _problems(db: Path) -> list[str]:
    with Archive(db) as archive:
        return [p.detail for p in audit(archive).problems]


def test_the_key_is_made_on_first_use_outside_the_archive_0600(sealed: Path) -> None:
    key = sealed.parent / "keys" / "signing.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert b"PRIVATE KEY" in key.read_bytes()
    assert b"PRIVATE KEY" not in sealed.read_bytes()


def test_a_body_changed_with_its_sha256_is_named(sealed: Path) -> None:
    conn = sqlite3.connect(sealed)
    capture_id, old = conn.execute(
        "SELECT id, body_sha256 FROM captures WHERE body_sha256 IS NOT NULL ORDER BY id LIMIT 1"
    ).fetchone()
    conn.close()
    forged = b"<html><body><p>What the article never said.</p></body></html>"
    new = hashlib.sha256(forged).hexdigest()
    conn = sqlite3.connect(sealed)
    with conn:
        conn.execute(
            "INSERT INTO bodies (sha256, size, compression, data, stored_at) "
            "SELECT ?, ?, 'zlib', ?, stored_at FROM bodies WHERE sha256 = ?",
            (new, len(forged), zlib.compress(forged), old),
        )
        conn.execute(
            "UPDATE captures SET body_sha256 = ?, size = ? WHERE id = ?",
            (new, len(forged), capture_id),
        )
    conn.close()
    problems = _problems(sealed)
    seq = _seq(sealed, "captures", capture_id)
    assert (
        problems[0]
        == f"captures row {capture_id} (log entry {seq}) was changed after it was logged"
    )


def _seq(db: Path, kind: str, row_id: int) -> int:
    conn = sqlite3.connect(db)
    seq = conn.execute(
        "SELECT seq FROM evidence_log WHERE kind = ? AND row_id = ?", (kind, row_id)
    ).fetchone()[0]
    conn.close()
    return int(seq)


def test_a_deleted_link_check_is_named(sealed: Path) -> None:
    _sql(sealed, "DELETE FROM link_checks WHERE id = 3")
    assert _problems(sealed) == [
        f"link_checks row 3 (log entry {_seq(sealed, 'link_checks', 3)}) was removed"
    ]


def test_two_rows_swapped_are_named_reordered(sealed: Path) -> None:
    conn = sqlite3.connect(sealed)
    cols = [r[1] for r in conn.execute("PRAGMA table_info(link_checks)") if r[1] != "id"]
    a = conn.execute(f"SELECT {', '.join(cols)} FROM link_checks WHERE id = 4").fetchone()
    b = conn.execute(f"SELECT {', '.join(cols)} FROM link_checks WHERE id = 5").fetchone()
    assert a != b
    sets = ", ".join(f"{c} = ?" for c in cols)
    with conn:
        conn.execute(f"UPDATE link_checks SET {sets} WHERE id = 4", b)
        conn.execute(f"UPDATE link_checks SET {sets} WHERE id = 5", a)
    conn.close()
    problems = _problems(sealed)
    assert len(problems) == 2
    assert problems[0].startswith("link_checks row 4 ") and "rows reordered" in problems[0]
    assert "logged as row 5" in problems[0]


def test_a_row_rewritten_with_its_log_entry_breaks_the_signed_checkpoint(sealed: Path) -> None:
    from archiver.evidence.records import record_leaf

    conn = sqlite3.connect(sealed)
    conn.row_factory = sqlite3.Row
    with conn:
        conn.execute("UPDATE verifications SET status = 'unchanged' WHERE id = 1")
        row = dict(conn.execute("SELECT * FROM verifications WHERE id = 1").fetchone())
        conn.execute(
            "UPDATE evidence_log SET leaf = ? WHERE kind = 'verifications' AND row_id = 1",
            (record_leaf("verifications", row),),
        )
    conn.close()
    problems = _problems(sealed)
    assert len(problems) == 1 and "no longer matches signed checkpoint 1" in problems[0]


def test_a_checkpoint_signed_with_another_key_is_refused(
    sealed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHIVER_KEY", str(tmp_path / "other" / "signing.key"))
    with Archive(sealed) as archive:
        seal(archive)  # a second checkpoint, by someone else's key
    monkeypatch.setenv("ARCHIVER_KEY", str(tmp_path / "keys" / "signing.key"))
    problems = _problems(sealed)
    assert len(problems) == 1 and "not this archive's key" in problems[0]


def test_new_records_are_logged_at_the_next_seal(sealed: Path, connect_to: list[str]) -> None:
    CliRunner().invoke(cli, ["--db", str(sealed), "verify", str(SEED), *FAST, *connect_to])
    with Archive(sealed) as archive:
        before = audit(archive)
        assert before.ok and before.unlogged > 0
        done = seal(archive)
        after = audit(archive)
    assert done.added == before.unlogged and after.unlogged == 0 and after.checkpoints == 2


def _fsck(db: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", str(db), "fsck"], catch_exceptions=False)
    return result.exit_code, result.output


def test_fsck_exits_1_and_names_each_tampering(sealed: Path) -> None:
    code, out = _fsck(sealed)
    assert code == 0 and "evidence log:" in out and ": ok" in out.splitlines()[-1]
    # a body changed with its SHA-256
    forged = b"<html><body><p>Never said.</p></body></html>"
    new = hashlib.sha256(forged).hexdigest()
    conn = sqlite3.connect(sealed)
    capture_id, old = conn.execute(
        "SELECT id, body_sha256 FROM captures WHERE body_sha256 IS NOT NULL ORDER BY id LIMIT 1"
    ).fetchone()
    with conn:
        conn.execute(
            "INSERT INTO bodies (sha256, size, compression, data, stored_at) "
            "SELECT ?, ?, 'zlib', ?, stored_at FROM bodies WHERE sha256 = ?",
            (new, len(forged), zlib.compress(forged), old),
        )
        conn.execute("UPDATE captures SET body_sha256 = ? WHERE id = ?", (new, capture_id))
        conn.execute("DELETE FROM link_checks WHERE id = 2")
    conn.close()
    code, out = _fsck(sealed)
    assert code == 1
    assert f"evidence changed: captures row {capture_id} " in out
    assert "evidence removed: link_checks row 2 " in out


def _add_records(archive: Archive, n: int) -> None:
    checks = [
        LinkCheck(url=f"https://example.test/{i}", text=f"link {i}", status="ok", broken=False)
        for i in range(n)
    ]
    archive.save_link_checks(checks, source_url="https://example.test/")


def _true_root(archive: Archive) -> tuple[int, bytes]:
    leaves = [
        bytes(r[0]) for r in archive.conn.execute("SELECT leaf FROM evidence_log ORDER BY seq")
    ]
    return len(leaves), root(leaves)


def test_a_second_seal_reads_only_the_new_records(sealed: Path) -> None:
    with Archive(sealed) as archive:
        _add_records(archive, 7)
        statements: list[str] = []
        archive.conn.set_trace_callback(statements.append)
        done = seal(archive)
        archive.conn.set_trace_callback(None)
        assert done.added == 7
        assert (done.checkpoint.size, done.checkpoint.root) == _true_root(archive)
        assert audit(archive).ok
    reads = [s for s in statements if "FROM evidence_log" in s and "max(" not in s]
    assert not reads, reads  # no old leaf read back: O(new records)
    assert sum(s.startswith("INSERT INTO evidence_log") for s in statements) == 7


@pytest.mark.parametrize(
    "frontier",
    [
        None,  # lost (an archive sealed by an older release has none)
        "not json",
        '{"size": 1, "nodes": []}',  # does not fit its size
        "SAME_SIZE_WRONG_NODES",  # fits the log's size but not its signed checkpoint
    ],
)
def test_a_lost_or_wrong_frontier_is_rebuilt_from_the_leaves(
    sealed: Path, frontier: str | None
) -> None:
    with Archive(sealed) as archive:
        size = archive.conn.execute("SELECT max(seq) FROM evidence_log").fetchone()[0]
        if frontier == "SAME_SIZE_WRONG_NODES":
            frontier = json.dumps({"size": size, "nodes": ["ab" * 32] * size.bit_count()})
    if frontier is None:
        _sql(sealed, "DELETE FROM archive_meta WHERE key = 'evidence_frontier'")
    else:
        _sql(
            sealed, f"UPDATE archive_meta SET value = '{frontier}' WHERE key = 'evidence_frontier'"
        )
    with Archive(sealed) as archive:
        _add_records(archive, 3)
        done = seal(archive)
        assert (done.checkpoint.size, done.checkpoint.root) == _true_root(archive)
        assert audit(archive).ok


def test_a_seal_cut_short_before_its_checkpoint_is_finished_by_the_next(sealed: Path) -> None:
    with Archive(sealed) as archive:
        _add_records(archive, 4)
        added, _ = evidence_log.append_new(archive.db)  # killed here: leaves, no checkpoint
        _add_records(archive, 2)
    with Archive(sealed) as archive:
        done = seal(archive)
        assert added == 4 and done.added == 2
        assert (done.checkpoint.size, done.checkpoint.root) == _true_root(archive)
        assert audit(archive).ok

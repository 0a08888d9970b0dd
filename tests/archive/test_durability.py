"""What a commit survives: the process killed at once (every commit), a power cut (sync points).

Under WAL with ``synchronous=NORMAL`` a commit is in the ``-wal`` file when COMMIT returns, so
SIGKILL loses nothing committed; sync points (the end of a run, a seal's checkpoint) are
committed with ``synchronous=FULL``, which fsyncs the WAL and every commit in it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from archiver.archive.store import Archive
from archiver.evidence.audit import audit
from archiver.evidence.seal import seal
from archiver.evidence.settings import EvidenceSettings
from tests.archive.test_store import make_capture, make_document

KILLED_WRITER = """
import os, signal, sys
from archiver.archive.store import Archive
from tests.archive.test_store import make_capture, make_document
with Archive(sys.argv[1]) as archive:
    run = archive.start_run(command="run")
    for i in range(int(sys.argv[2])):
        body = f"<html><p>page {i}</p></html>".encode()
        url = f"https://example.test/{i}"
        archive.save_capture(
            make_capture(body, url=url, final_url=url),
            make_document(url=url, paragraphs=(f"Paragraph of page {i}.",)),
            run_id=run,
        )
        archive.mark_item(run, item=url, kind="url", url=url, outcome="ok")
    print("committed", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # no close, no checkpoint of the WAL
"""


def test_every_commit_survives_sigkill_and_the_archive_stays_whole(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    done = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(db), "25"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert done.returncode == -9 and "committed" in done.stdout, done.stderr
    assert (tmp_path / "archive.db-wal").stat().st_size > 0  # the commits were only in the WAL
    with Archive(db) as archive:
        assert archive.fsck().ok
        count = archive.conn.execute("SELECT count(*) FROM captures").fetchone()[0]
        items = archive.items_done([1])
        assert count == 25 and len(items) == 25
        assert [hit.url for hit in archive.search("Paragraph page 24")] == [
            "https://example.test/24"
        ]


def _traced(archive: Archive) -> list[str]:
    statements: list[str] = []
    archive.conn.set_trace_callback(statements.append)
    return statements


def _committed_under(statements: list[str]) -> list[str]:
    """The synchronous setting each COMMIT ran under, in order."""
    setting, out = "NORMAL", []
    for statement in statements:
        if statement.startswith("PRAGMA synchronous"):
            setting = statement.split("=")[1].strip()
        elif statement == "COMMIT":
            out.append(setting)
    return out


def test_captures_commit_without_fsync_and_sync_points_fsync(tmp_path: Path) -> None:
    with Archive(tmp_path / "archive.db") as archive:
        assert archive.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert archive.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        statements = _traced(archive)
        run = archive.start_run(command="run")
        archive.save_capture(make_capture(), make_document(), run_id=run)
        archive.finish_run(run, status="ok", summary={})
        seal(archive, settings=EvidenceSettings(key=tmp_path / "key"), run_id=run)
        assert _committed_under(statements) == ["NORMAL", "NORMAL", "FULL", "NORMAL", "FULL"]
        assert archive.conn.execute("PRAGMA synchronous").fetchone()[0] == 1
        assert audit(archive, key=tmp_path / "key").ok


def test_a_not_durable_archive_never_fsyncs_a_commit(tmp_path: Path) -> None:
    with Archive(tmp_path / "archive.db", durable=False) as archive:
        statements = _traced(archive)
        run = archive.start_run(command="run")
        archive.finish_run(run, status="ok", summary={})
        assert _committed_under(statements) == ["NORMAL", "NORMAL"]

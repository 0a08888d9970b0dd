"""Fixity: fsck re-hashes every stored body and names the captures a damaged body belongs to."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.archive.store import Archive
from archiver.cli import cli
from archiver.errors import ArchiveCorrupt
from archiver.models import Capture

URL = "https://www.themoscowtimes.com/2017/03/30/a57583"
MARKER = b"FIXITY-MARKER-0123456789"


def capture(body: bytes, url: str = URL, when: str = "2026-01-01T00:00:00Z") -> Capture:
    return Capture(url=url, final_url=url, status=200, body=body, fetched_at=when)


@pytest.fixture
def archive_file(tmp_path: Path) -> Path:
    """An archive with a compressible page (zlib) captured twice and an incompressible one."""
    path = tmp_path / "archive.db"
    with Archive(path) as archive:
        archive.save_capture(capture(b"<html>" + b"<p>text</p>" * 200 + b"</html>"))
        archive.save_capture(capture(b"<html>" + b"<p>text</p>" * 200 + b"</html>", when="2026-02"))
        archive.save_capture(capture(MARKER + os.urandom(4000), url="https://x.example/img.jpg"))
    return path


def raw_update(path: Path, sql: str, *params: object) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(sql, params)
    conn.close()


def test_clean_archive_passes(archive_file: Path) -> None:
    with Archive(archive_file, readonly=True) as archive:
        report = archive.fsck()
    assert report.ok and report.integrity == ("ok",)
    assert report.bodies_checked == 2 and report.captures == 3
    result = CliRunner().invoke(cli, ["--db", str(archive_file), "fsck"], catch_exceptions=False)
    assert result.exit_code == 0 and ": ok" in result.output


def test_a_flipped_byte_in_the_file_is_found_with_its_capture(archive_file: Path) -> None:
    """Real damage: one byte of the SQLite file itself, inside the stored image."""
    data = bytearray(archive_file.read_bytes())
    offset = data.index(MARKER) + len(MARKER) + 100
    data[offset] ^= 0x01
    archive_file.write_bytes(bytes(data))
    result = CliRunner().invoke(
        cli, ["--db", str(archive_file), "fsck", "--json"], catch_exceptions=False
    )
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False
    [problem] = report["problems"]
    assert problem["kind"] == "checksum_mismatch"
    assert problem["capture_ids"] == [3] and problem["urls"] == ["https://x.example/img.jpg"]
    with Archive(archive_file) as archive, pytest.raises(ArchiveCorrupt, match="capture 3"):
        archive.get_capture(3)


def test_a_damaged_compressed_body_names_every_capture_sharing_it(archive_file: Path) -> None:
    raw_update(
        archive_file,
        "UPDATE bodies SET data = substr(data, 1, 20) || x'00' || substr(data, 22) "
        "WHERE compression = 'zlib'",
    )
    with Archive(archive_file) as archive:
        report = archive.fsck()
    [problem] = report.problems
    assert problem.kind in ("unreadable", "checksum_mismatch")
    assert problem.capture_ids == (1, 2) and problem.urls == (URL,)
    result = CliRunner().invoke(cli, ["--db", str(archive_file), "fsck"], catch_exceptions=False)
    assert result.exit_code == 1 and "captures 1, 2" in result.output


def test_missing_body_and_wrong_size_are_reported(archive_file: Path) -> None:
    conn = sqlite3.connect(archive_file)
    conn.execute("PRAGMA foreign_keys = OFF")
    with conn:
        conn.execute("DELETE FROM bodies WHERE compression = 'zlib'")
        conn.execute("UPDATE bodies SET size = size + 1")
    conn.close()
    with Archive(archive_file) as archive:
        kinds = sorted((p.kind, p.capture_ids) for p in archive.fsck().problems)
    assert kinds == [("missing_body", (1,)), ("missing_body", (2,)), ("size_mismatch", (3,))]


def test_structural_damage_is_reported_by_integrity_check(archive_file: Path) -> None:
    """Damage to a b-tree page header: SQLite's own check must speak, not a traceback."""
    page_size = 4096
    data = bytearray(archive_file.read_bytes())
    pages = len(data) // page_size
    assert pages > 3
    # Scramble the header of the last page (a leaf of some table or index).
    start = (pages - 1) * page_size
    data[start : start + 12] = b"\xff" * 12
    archive_file.write_bytes(bytes(data))
    with Archive(archive_file, readonly=True) as archive:
        report = archive.fsck()
    assert not report.ok
    assert any(p.kind == "integrity" for p in report.problems)


def test_fsck_of_a_file_that_is_not_an_archive_exits_3(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\x00not sqlite" * 1000)
    proc = subprocess.run(
        [sys.executable, "-m", "archiver", "--db", str(junk), "fsck"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr and str(junk) in proc.stderr


def test_a_writer_killed_mid_run_leaves_a_clean_archive(tmp_path: Path) -> None:
    """kill -9 while captures are being written: every committed capture is whole, fsck passes."""
    import signal
    import time

    path = tmp_path / "killed.db"
    code = (
        "import os, sys\n"
        "from archiver.models import Capture\n"
        "from archiver.archive.store import Archive\n"
        "with Archive(sys.argv[1]) as a:\n"
        "    for i in range(100000):\n"
        "        body = os.urandom(2000) + b'%d' % i\n"
        "        a.save_capture(Capture(url='https://k.example/%d' % (i % 7), final_url='u',\n"
        "                               status=200, body=body, fetched_at='2026-01-01Z'))\n"
        "        if i == 20: print('writing', flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"writing\n"
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()
    with Archive(path) as archive:
        report = archive.fsck()
        assert report.ok, report.to_json()
        count = archive.query("SELECT count(*) FROM captures")[1][0][0]
        assert count > 20
        orphans = archive.query(
            "SELECT count(*) FROM captures WHERE body_sha256 NOT IN (SELECT sha256 FROM bodies)"
        )
        assert orphans[1] == [(0,)]
        assert archive.save_capture(capture(b"after the crash")) == count + 1

"""A read-only archive can be read: on a read-only mount, in a folder nobody may write, as WAL.

Tests run as root (inside ``unshare -rn`` under ``make test``), for whom file modes mean
nothing, so a real read-only place is made with a read-only bind mount in a private mount
namespace (``unshare -m``; ``unshare -rm`` when not root). A separate test drops to an
unprivileged user with ``os.setuid`` where that user exists in this user namespace.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from archiver.archive import migrations
from archiver.archive.store import Archive
from archiver.models import Change, Drift, LinkCheck
from tests.archive.test_store import URL, make_capture, make_document

ROOT = Path(__file__).resolve().parents[2]
MOUNT = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'

pytestmark = pytest.mark.slow


def _unshare() -> list[str] | None:
    """The command prefix that runs a command with one folder mounted read-only, or None."""
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return None
    probe = tempfile.mkdtemp()
    try:
        for prefix in (["unshare", "-m"], ["unshare", "-rm"]):
            proc = subprocess.run(
                [*prefix, "sh", "-c", MOUNT, probe, "sh", "-c", f"! touch {probe}/x"],
                capture_output=True,
                timeout=30,
            )
            if proc.returncode == 0:
                return prefix
        return None
    finally:
        shutil.rmtree(probe, ignore_errors=True)


PREFIX = _unshare()
needs_mount = pytest.mark.skipif(
    PREFIX is None, reason="no private mount namespace here (unshare -m / -rm refused)"
)


def read_only(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``archiver --db folder/archive.db ARGS`` with ``folder`` mounted read-only."""
    assert PREFIX is not None
    command = [sys.executable, "-m", "archiver", "--db", str(folder / "archive.db"), *args]
    return subprocess.run(
        [*PREFIX, "sh", "-c", MOUNT, str(folder), *command],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def fill(path: Path) -> None:
    with Archive(path) as archive:
        first = archive.save_capture(make_capture(), make_document())
        archive.save_verification(
            canonical_path="snapshots/a.md",
            url=URL,
            capture_id=first,
            drift=Drift(
                status="edited",
                similarity=0.9,
                checksum_canonical="sha256:a",
                checksum_live="sha256:b",
                changes=(Change(kind="modified", field="title", canonical="a", live="b"),),
            ),
            links=[LinkCheck(url="https://gone.example/", text="x", status="gone", broken=True)],
        )


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    where = tmp_path / "ro"
    where.mkdir()
    fill(where / "archive.db")
    yield where


READS = (
    ("query", "SELECT count(*) AS n FROM captures", "--json"),
    ("fsck",),
    ("history", URL),
    ("search", "friend"),
    ("report", "drift", "--format", "json"),
    ("report", "linkrot", "--format", "json"),
)


def _check_reads(folder: Path) -> None:
    for args in READS:
        proc = read_only(folder, *args)
        assert proc.returncode in (0, 1), (args, proc.stderr)  # report: 1 = problems found
        assert "Traceback" not in proc.stderr and "read-only" not in proc.stderr, args
    proc = read_only(folder, "query", "SELECT count(*) AS n FROM captures", "--json")
    assert json.loads(proc.stdout) == [{"n": 1}]


@needs_mount
def test_read_commands_work_on_a_read_only_mount(folder: Path) -> None:
    """A clean WAL archive (no -wal, no -shm beside it): SQLite cannot create its -shm."""
    assert not (folder / "archive.db-shm").exists()
    _check_reads(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["archive.db"]  # nothing created


@needs_mount
def test_read_commands_see_commits_still_in_the_wal(folder: Path) -> None:
    """A writer killed before its checkpoint: the commits are only in -wal (with its -shm)."""
    script = (
        "import os, sys\n"
        "from archiver.archive.store import Archive\n"
        "from tests.archive.test_store import make_capture\n"
        "a = Archive(sys.argv[1])\n"
        "a.conn.execute('PRAGMA wal_autocheckpoint = 0')\n"
        "a.save_capture(make_capture(b'<html>second</html>', fetched_at='2026-02-01T00:00:00Z'))\n"
        "os._exit(0)\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(folder / "archive.db")], check=True, cwd=ROOT, timeout=60
    )
    assert (folder / "archive.db-wal").stat().st_size > 0
    proc = read_only(folder, "query", "--json", "SELECT count(*) AS n FROM captures")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [{"n": 2}]  # the commit in -wal is seen
    proc = read_only(folder, "history", URL, "--json")
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["captures"]) == 2
    # Without its -shm, the -wal cannot be read here, and is not silently ignored.
    (folder / "archive.db-shm").unlink()
    proc = read_only(folder, "query", "SELECT count(*) FROM captures")
    assert proc.returncode == 3
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "-wal" in lines[0] and str(folder / "archive.db") in lines[0]


@needs_mount
def test_commands_that_write_say_the_archive_is_read_only(folder: Path) -> None:
    copy = ROOT / "snapshots"
    for args in (("verify", "--offline", str(copy)), ("snapshot", "https://127.0.0.1:9/")):
        proc = read_only(folder, *args)
        assert proc.returncode == 3, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        assert "read-only" in lines[0] and str(folder / "archive.db") in lines[0]


@needs_mount
def test_an_old_archive_on_a_read_only_mount_is_refused_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    conn = sqlite3.connect(folder / "archive.db")
    migrations.migrate(Database(conn), upto=1)
    conn.commit()
    conn.close()
    proc = read_only(folder, "query", "SELECT 1")
    assert proc.returncode == 3
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "older release" in lines[0] and "read-only" in lines[0]


def _other_user() -> int | None:
    """An unprivileged uid this process may switch to (root, outside a user namespace)."""
    if os.getuid() != 0:
        return None
    try:
        mapping = Path("/proc/self/uid_map").read_text().split()
    except OSError:
        return None
    # "0 0 4294967295" is the initial namespace; in unshare -r only uid 0 is mapped.
    if len(mapping) < 3 or int(mapping[2]) < 65535:
        return None
    return 65534


def _interpreter_for(uid: int) -> tuple[str, dict[str, str]]:
    """A Python that uid can run with this package importable (a venv under /root is not)."""
    site = sysconfig.get_paths()["purelib"]
    env = {**os.environ, "HOME": "/nonexistent"}
    candidates = [
        (sys.executable, {**env, "PYTHONPATH": str(ROOT)}),
        ("/usr/bin/python3", {**env, "PYTHONPATH": os.pathsep.join([str(ROOT), site])}),
    ]
    failures = []
    for python, python_env in candidates:
        try:
            subprocess.run(
                [python, "-c", "import archiver.cli, sqlite_utils"],
                user=uid, check=True, timeout=60, cwd=ROOT, env=python_env, capture_output=True,
            )  # fmt: skip
        except (OSError, subprocess.CalledProcessError) as exc:
            failures.append(f"{python}: {exc}")
            continue
        return python, python_env
    pytest.skip(f"uid {uid} can run no Python with this package ({'; '.join(failures)})")


@pytest.mark.skipif(
    _other_user() is None,
    reason="needs root outside a user namespace to drop to an unprivileged uid "
    "(under make test's unshare -r only uid 0 exists); the read-only mount tests cover it",
)
def test_read_commands_work_for_a_user_who_cannot_write_the_folder() -> None:
    uid = _other_user()
    assert uid is not None
    python, env = _interpreter_for(uid)
    where = Path(tempfile.mkdtemp())
    try:
        where.chmod(0o755)
        fill(where / "archive.db")
        (where / "archive.db").chmod(0o644)
        for args in READS:
            proc = subprocess.run(
                [python, "-m", "archiver", "--db", str(where / "archive.db"), *args],
                capture_output=True, text=True, timeout=60, cwd=ROOT, env=env, user=uid,
            )  # fmt: skip
            assert proc.returncode in (0, 1), (args, proc.stderr)
            assert "Traceback" not in proc.stderr, args
        assert sorted(p.name for p in where.iterdir()) == ["archive.db"]
    finally:
        shutil.rmtree(where, ignore_errors=True)

"""``query`` has a time limit and stops at once on Ctrl-C, even inside a query that never ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archiver.archive.store import Archive
from archiver.errors import JobError
from tests.archive.test_store import make_capture, make_document

ROOT = Path(__file__).resolve().parents[2]
ENDLESS = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "archive.db"
    with Archive(path) as archive:
        archive.save_capture(make_capture(), make_document())
    return path


def test_the_time_limit_stops_a_query_that_never_ends(db: Path) -> None:
    with Archive(db, readonly=True) as archive:
        started = time.monotonic()
        with pytest.raises(JobError, match="time limit of 0.3 s"):
            archive.query(ENDLESS, timeout=0.3)
        assert time.monotonic() - started < 3
        # The connection is fine afterwards, and a quick query is not limited.
        assert archive.query("SELECT count(*) FROM captures", timeout=0.3)[1] == [(1,)]


def test_memory_archive_query_has_the_limit_too() -> None:
    with Archive.memory() as archive:
        with pytest.raises(JobError):
            archive.query(ENDLESS, timeout=0.2)
        archive.save_capture(make_capture())  # query_only was switched off again


@pytest.mark.slow
def test_cli_query_timeout_exits_3_in_one_line(db: Path) -> None:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "archiver", "--db", str(db), "query", "--timeout", "0.5", ENDLESS],
        capture_output=True, text=True, timeout=60, env=ENV,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert time.monotonic() - started < 15
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "time limit" in lines[0] and "--timeout" in lines[0]
    assert proc.stdout == ""


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "1e300"])
def test_cli_query_timeout_out_of_range_exits_2(db: Path, value: str) -> None:
    from click.testing import CliRunner

    from archiver.cli import cli

    result = CliRunner().invoke(cli, ["--db", str(db), "query", "--timeout", value, "SELECT 1"])
    assert result.exit_code == 2
    assert "--timeout" in result.output


def _interrupt(command: list[str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """Start ``command``, let its query run, send SIGINT; (the result, seconds it took to end)."""
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV
    )
    try:
        time.sleep(1.5)  # interpreter start-up, open, and into the endless query
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        out, err = proc.communicate(timeout=20)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(command, proc.returncode, out, err), took


@pytest.mark.slow
def test_ctrl_c_interrupts_a_query_inside_sqlite(db: Path) -> None:
    """The library raises KeyboardInterrupt from the running query (SQLite would swallow it)."""
    script = (
        "import sys\n"
        "from archiver.archive.store import Archive\n"
        "archive = Archive(sys.argv[1], readonly=True)\n"
        "try:\n"
        f"    archive.query({ENDLESS!r}, timeout=None)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', file=sys.stderr)\n"
        "    sys.exit(130)\n"
    )
    result, took = _interrupt([sys.executable, "-c", script, str(db)])
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip() == "interrupted"
    assert took < 2


@pytest.mark.slow
def test_ctrl_c_stops_the_query_command_promptly(db: Path) -> None:
    """``archiver query`` ends within a moment of Ctrl-C, without a traceback.

    The exit code is the command line's one rule for Ctrl-C (130 in the contract); this test
    checks the query lets that rule act at once.
    """
    command = [sys.executable, "-m", "archiver", "--db", str(db), "query", "--timeout", "0"]
    result, took = _interrupt([*command, ENDLESS])
    assert took < 2
    assert result.returncode in (1, 130), result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

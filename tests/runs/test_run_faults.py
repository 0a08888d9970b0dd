"""A run under faults: Ctrl-C and SIGTERM, a full disk, honest words when nothing answered.

Every test runs the real command in a subprocess against a loopback news site
(:mod:`tests.run_web`); signals are real signals, the full disk a real small tmpfs.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.run_web import NewsWeb, build_site, write_config

ROOT = Path(__file__).resolve().parents[2]


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db, timeout=10)
    try:
        return list(conn.execute(sql))
    finally:
        conn.close()


def _done_items(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        return int(_rows(db, "SELECT count(*) FROM run_items")[0][0])
    except sqlite3.OperationalError:
        return 0


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archiver", "run", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip


def _signalled_run(tmp_path: Path, signum: int) -> tuple[int, str, float, Path, Path, NewsWeb]:
    """A run of 6 slow items, sent ``signum`` once one item is done; (code, stderr, seconds
    from the signal to the exit, db, config, web)."""
    web = NewsWeb()
    web.__enter__()
    build_site(web, tmp_path / "copies", 6)
    config = write_config(tmp_path / "a.toml", web, '[[sources]]\ncanonical = "copies"\n', batch=2)
    db = tmp_path / "archive.db"
    web.delay = 0.4
    command = [sys.executable, "-m", "archiver", "run", "--config", str(config)]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _done_items(db) < 1:
        time.sleep(0.02)
    sent = time.monotonic()
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    took = time.monotonic() - sent
    web.delay = 0.0
    return proc.returncode, err, took, db, config, web


def _stopped(db: Path) -> tuple[str, dict[str, Any]]:
    status, summary = _rows(db, "SELECT status, summary FROM runs ORDER BY id")[0]
    return status, json.loads(summary)


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code", "name"), [
    (signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM"),
])  # fmt: skip
def test_a_signal_ends_a_run_quickly_with_its_code_one_line_and_where_it_was(
    tmp_path: Path, signum: int, code: int, name: str
) -> None:
    returncode, err, took, db, config, web = _signalled_run(tmp_path, signum)
    try:
        second = _run("--config", str(config), "--json")
    finally:
        web.__exit__(None, None, None)
    assert returncode == code, err
    assert took < 5.0, took
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "interrupted" in err and "while visiting items" in err, err
    status, summary = _stopped(db)
    assert status == "interrupted"
    assert summary["stopped"]["by"] == name
    assert summary["stopped"]["while"].startswith("visiting items ")
    resumed = json.loads(second.stdout)
    assert resumed["resumed_from"] == [1]
    assert resumed["items"]["resumed"] + resumed["items"]["visited"] == 6

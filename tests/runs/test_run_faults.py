"""A run under faults: Ctrl-C and SIGTERM, a full disk, honest words when nothing answered.

Every test runs the real command in a subprocess against a loopback news site
(:mod:`tests.run_web`); signals are real signals, the full disk a real small tmpfs.
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from archiver.runs.run import in_words
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


# -- honest words -------------------------------------------------------------------------------


def test_nothing_answered_counts_the_urls_asked_not_the_retries(tmp_path: Path) -> None:
    with NewsWeb() as web:
        build_site(web, tmp_path / "copies", 3)  # 3 pages and 6 sources: 9 URLs
        config = write_config(tmp_path / "a.toml", web, '[[sources]]\ncanonical = "copies"\n')
    # The site is gone: every connection is refused, and each URL is tried 3 times.
    config.write_text(config.read_text().replace("retries = 0", "retries = 2"))
    done = _run("--config", str(config))
    assert done.returncode == 3, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert "none of the 9 URLs the run asked for got an answer" in line, line
    sent = int(re.search(r"\((\d+) requests, retries and robots\.txt included\)", line)[1])  # type: ignore[index]
    assert sent > 9
    status, summary = _stopped(tmp_path / "archive.db")
    assert status == "network_unavailable" and summary["items"]["visited"] == 3


@pytest.mark.parametrize(("text", "words"), [
    ("HTTPSConnectionPool(host='a.test', port=443): Max retries exceeded with url: /x (Caused "
     "by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f12>: Failed to "
     "establish a new connection: [Errno 111] Connection refused'))",
     "Max retries exceeded with url: /x"),
    ("_WatchedHTTPSPool(host='x.test', port=443): Read timed out. (read timeout=5)",
     "Read timed out. (read timeout=5)"),
    ("sqlite3.OperationalError: database or disk is full", "database or disk is full"),
    ("ValueError: not a sitemap", "not a sitemap"),
    ("e-mail via 127.0.0.5:25: [Errno 111] Connection refused",
     "e-mail via 127.0.0.5:25: [Errno 111] Connection refused"),
    ("story (2017) about Error Handling (part 2)", "story (2017) about Error Handling (part 2)"),
])  # fmt: skip
def test_run_error_details_name_no_python_classes(text: str, words: str) -> None:
    assert in_words(text) == words

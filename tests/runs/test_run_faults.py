"""A run under faults: Ctrl-C and SIGTERM, a full disk, honest words when nothing answered.

Every test runs the real command in a subprocess against a loopback news site
(:mod:`tests.run_web`); signals are real signals, the full disk a real small tmpfs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from archiver.archive.store import Archive
from archiver.fetch.fetcher import Fetcher
from archiver.models import Capture
from archiver.runs.config import load_config
from archiver.runs.run import run
from archiver.runs.stops import in_words
from tests.run_web import Answer, NewsWeb, build_site, write_config

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
    made = build_site(web, tmp_path / "copies", 6)
    config = write_config(tmp_path / "a.toml", web, '[[sources]]\ncanonical = "copies"\n', batch=2)
    db = tmp_path / "archive.db"
    web.delay = 0.4
    web.held = {urlsplit(url).path for url, _ in made[4:]}  # it cannot finish unsignalled
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
    web.released.set()
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


# -- a full disk --------------------------------------------------------------------------------

_DISK_SCRIPT = r"""
set -e
mount -t tmpfs -o size=1200k tmpfs "$HERE"
cp -r "$FROM"/copies "$FROM"/a.toml "$HERE"/
set +e
"$PY" -m archiver run --config "$HERE/a.toml" --json > "$FROM/first.json" 2> "$FROM/first.err"
echo $? > "$FROM/first.code"
sqlite3_rows() { "$PY" -c "$ROWS" "$HERE/archive.db" "$1"; }
sqlite3_rows "SELECT url FROM captures WHERE run_id = 1" > "$FROM/first.urls"
mount -o remount,size=64m "$HERE"
"$PY" -m archiver run --config "$HERE/a.toml" --json > "$FROM/second.json" 2> "$FROM/second.err"
echo $? > "$FROM/second.code"
sqlite3_rows "SELECT id, status FROM runs" > "$FROM/runs.txt"
"""
_ROWS = (
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
    "print('\\n'.join('|'.join(map(str, r)) for r in c.execute(sys.argv[2])))"
)


def _can_mount_tmpfs() -> str | None:
    if shutil.which("unshare") is None:
        return "no unshare(1) on this machine"
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt || "
         "mount -t tmpfs -o size=64k tmpfs /tmp"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    if probe.returncode != 0:
        return f"cannot mount a tmpfs in a user namespace here: {probe.stderr.strip()[:200]}"
    return None


@pytest.mark.slow
def test_a_run_stopped_by_a_full_disk_is_resumed_without_fetching_again(tmp_path: Path) -> None:
    why = _can_mount_tmpfs()
    if why:
        pytest.skip(why)
    here = tmp_path / "small"
    here.mkdir()
    with NewsWeb() as web:
        made = build_site(web, tmp_path / "copies", 20)
        for url, _ in made:
            # 120 kB of incompressible text a page: the 1.2 MB disk fills after a few pages.
            body = web.pages[("news.test", url.split("news.test", 1)[1])].body
            padding = b"<!-- " + os.urandom(60_000).hex().encode() + b" -->"
            web.add(url, Answer(body=body.replace(b"</body>", padding + b"</body>")))
        write_config(tmp_path / "a.toml", web, '[[sources]]\ncanonical = "copies"\n', batch=4)
        env = {**os.environ, "HERE": str(here), "FROM": str(tmp_path), "PY": sys.executable,
               "ROWS": _ROWS}  # fmt: skip
        done = subprocess.run(
            ["unshare", "-rm", "sh", "-c", _DISK_SCRIPT], env=env, cwd=ROOT,
            capture_output=True, text=True, timeout=240, check=False,
        )  # fmt: skip
        hits = {url: web.hits(url) for url, _ in made}
    assert done.returncode == 0, done.stderr
    first_err = (tmp_path / "first.err").read_text()
    assert (tmp_path / "first.code").read_text().strip() == "3", first_err
    assert "disk full" in first_err and "Traceback" not in first_err, first_err
    stored = set((tmp_path / "first.urls").read_text().split())
    pages = {url for url, _ in made}
    assert 0 < len(stored & pages) < len(pages), stored  # the disk filled midway
    second = json.loads((tmp_path / "second.json").read_text())
    assert (tmp_path / "second.code").read_text().strip() == "0", second
    assert second["resumed_from"] == [1]
    assert (tmp_path / "runs.txt").read_text().split() == ["1|interrupted", "2|done"]
    # What the first run stored is reused: those pages were fetched once, in all.
    assert all(hits[url] == 1 for url in stored & pages), hits
    assert second["items"]["visited"] + second["items"]["resumed"] == 20


# -- the progress bar ---------------------------------------------------------------------------


def test_the_progress_bar_counts_items_as_they_finish_not_per_batch(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    with NewsWeb() as web:
        build_site(web, tmp_path / "copies", 40)
        # One batch of 64 items, 16 connections: the 40 items are visited 16, 16 and 8.
        config = load_config(str(write_config(
            tmp_path / "a.toml", web, '[[sources]]\ncanonical = "copies"\n', batch=64
        )))  # fmt: skip
        with Fetcher(config.policy, routes=config.routes) as fetcher:
            seen: list[tuple[int, int]] = []  # (items done, copies verified so far)

            def progress(done: int, total: int, label: str) -> None:
                assert total == 40
                # Read beside the run's own connection, as a person querying it would.
                with closing(sqlite3.connect(db)) as reader:
                    (verified,) = reader.execute("select count(*) from verifications").fetchone()
                seen.append((done, verified))

            result = run(config, db_path=str(db), progress=progress, fetcher=fetcher)
    assert result.status == "done" and len(result.results) == 40
    counts = [done for done, _ in seen]
    assert counts == sorted(counts) and counts[-1] == 40
    first = next(verified for done, verified in seen if done >= 1)
    # The first item was counted when its group (16) was verified, not the whole batch (40).
    assert first == 16, seen
    assert len({verified for done, verified in seen if 0 < done < 40}) >= 2


# -- one URL, however its host is spelled ------------------------------------------------------

UNICODE, PUNYCODE = "https://bücher.test/a?q=1", "https://xn--bcher-kva.test/a?q=1"


def _capture(url: str, body: bytes, when: str) -> Capture:
    return Capture(url=url, final_url=url, status=200, body=body, content_type="text/html",
                   fetched_at=when, headers=(("ETag", f'"{when}"'),))  # fmt: skip


@pytest.mark.parametrize(("stored", "asked"), [
    (UNICODE, PUNYCODE), (PUNYCODE, UNICODE), ("HTTPS://News.TEST/x", "https://news.test/x"),
])  # fmt: skip
def test_punycode_and_unicode_spellings_of_a_host_are_one_url(
    tmp_path: Path, stored: str, asked: str
) -> None:
    with Archive(str(tmp_path / "archive.db")) as archive:
        first = archive.save_capture(_capture(stored, b"<p>one</p>", "2026-01-01T00:00:00Z"))
        assert archive.latest_capture(asked) is not None
        assert archive.latest_capture(asked).id == first  # type: ignore[union-attr]
        assert archive.first_capture(asked, with_document=False) is None  # no extraction
        assert archive.validators(asked) == ('"2026-01-01T00:00:00Z"', None)
        assert archive.newest_state(asked) is not None
        second = archive.save_capture(_capture(asked, b"<p>two</p>", "2026-01-02T00:00:00Z"))
        assert archive.latest_capture(stored).id == second  # type: ignore[union-attr]
        urls = _rows(tmp_path / "archive.db", "SELECT url FROM urls")
        shown = _rows(tmp_path / "archive.db", "SELECT url FROM captures ORDER BY id")
    assert len(urls) == 1  # one URL in the archive
    assert [u for (u,) in shown] == [stored, asked]  # each capture as it was asked

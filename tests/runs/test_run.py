"""Scheduled runs: schedule, conditional GET, news and webhooks, the lock, and resume after SIGKILL.

Every run here is real: canonical copies on disk, a real SQLite archive, a loopback news site
(:mod:`tests.run_web`) and, for the crash and lock tests, the real command in a subprocess.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from archiver.archive.store import Archive
from archiver.cli import cli
from archiver.fetch.fetcher import Fetcher
from archiver.models import Link
from archiver.runs.config import Schedule, load_config
from archiver.runs.items import Item
from archiver.runs.lock import RunLock, lock_path
from archiver.runs.run import execute, run
from archiver.runs.schedule import item_interval, link_is_due, plan
from tests.run_web import Answer, NewsWeb, article, build_site, source_page, write_config

ROOT = Path(__file__).resolve().parents[2]
FEED = ROOT / "tests" / "data" / "feeds" / "moscowtimes-rss-2017-01-23.xml"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
FORCE = (
    '[schedule]\nrecent_every = "0s"\nold_every = "0s"\nlinks_live_every = "0s"\n'
    'links_broken_every = "0s"\n\n'
)


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    # Not mode=ro: a read-only connection cannot open a WAL database whose -shm is gone.
    conn = sqlite3.connect(db, timeout=10)
    try:
        return list(conn.execute(sql))
    finally:
        conn.close()


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archiver", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=60,
        check=False,
    )


# -- the schedule (pure) -----------------------------------------------------------------------


def _item(key: str, published: str | None = None) -> Item:
    return Item(url=f"https://a.test/{key}", published=published)


def test_recent_articles_often_old_ones_rarely_undated_as_recent() -> None:
    schedule = Schedule(recent_days=30, recent_every=3600, old_every=30 * 86400)
    recent = _item("r", (NOW - timedelta(days=2)).isoformat())
    old = _item("o", "2017-03-30")
    assert item_interval(recent, schedule, NOW) == 3600
    assert item_interval(old, schedule, NOW) == 30 * 86400
    assert item_interval(_item("u"), schedule, NOW) == 3600


def test_plan_splits_due_not_due_and_resumed() -> None:
    schedule = Schedule(recent_every=3600, old_every=30 * 86400)
    items = [_item("new"), _item("fresh"), _item("old", "2017-01-01"), _item("stale"), _item("k")]
    hour_ago = (NOW - timedelta(minutes=59)).isoformat()
    last = {
        "https://a.test/fresh": hour_ago,
        "https://a.test/old": (NOW - timedelta(days=10)).isoformat(),
        "https://a.test/stale": (NOW - timedelta(hours=2)).isoformat(),
    }
    result = plan(items, last_done=last, resumed_done={"https://a.test/k"}, schedule=schedule,
                  now=NOW)  # fmt: skip
    assert [i.url[-3:] for i in result.due] == ["new", "ale"]
    assert [i.url[-3:] for i in result.not_due] == ["esh", "old"]
    assert [i.url[-1:] for i in result.resumed] == ["k"]


def test_broken_links_are_checked_less_often_than_live_ones_suspects_daily() -> None:
    schedule = Schedule(links_live_every=7 * 86400, links_suspect_every=86400,
                        links_broken_every=30 * 86400)  # fmt: skip
    two_days = (NOW - timedelta(days=2)).isoformat()
    ten_days = (NOW - timedelta(days=10)).isoformat()
    states = {
        "https://a.test/live": (two_days, "ok", False),
        "https://a.test/live-old": (ten_days, "ok", False),
        "https://a.test/dead": (ten_days, "not_found", True),
        "https://a.test/flaky": (two_days, "timeout", False),
    }

    def due(url: str) -> bool:
        return link_is_due(Link(url=url, text=""), states, schedule, NOW)

    assert not due("https://a.test/live")
    assert due("https://a.test/live-old")
    assert not due("https://a.test/dead")  # broken 10 days ago: next look after 30
    assert due("https://a.test/flaky")  # a suspect: evidence every day
    assert due("https://a.test/never-seen")
    assert due("#")  # a placeholder costs nothing: always reported


# -- runs over a loopback site ------------------------------------------------------------------


def test_a_run_verifies_copies_checks_links_and_records_itself(tmp_path: Path) -> None:
    with NewsWeb() as web:
        build_site(web, tmp_path / "copies", 3, broken=1)
        config = load_config(
            str(write_config(tmp_path / "a.toml", web, '[[sources]]\ncanonical = "copies"\n'))
        )
        db = str(tmp_path / "archive.db")
        first = run(config, db_path=db)
        summary = first.to_json()
        assert summary["status"] == "done"
        assert summary["items"] == {"total": 3, "visited": 3, "not_due": 0, "resumed": 0}
        assert summary["captures"] == 3
        assert summary["drift"] == {"unchanged": 3}
        assert summary["links"] == {"not_found": 1, "ok": 5}
        assert summary["new_broken_links"] == 1
        assert summary["new_broken"][0]["url"] == "https://sources.test/gone-1"
        assert first.exit_code == 1
        requests_after_first = len(web.requests)

        second = run(config, db_path=db)
        assert second.to_json()["items"]["not_due"] == 3
        assert second.exit_code == 0
        assert len(web.requests) == requests_after_first  # nothing due: nothing fetched

    runs = _rows(tmp_path / "archive.db", "SELECT id, command, status, summary FROM runs")
    assert [(r[0], r[1], r[2]) for r in runs] == [(1, "run", "done"), (2, "run", "done")]
    assert json.loads(runs[0][3])["new_broken_links"] == 1
    items = _rows(tmp_path / "archive.db", "SELECT run_id, outcome FROM run_items")
    assert items == [(1, "unchanged")] * 3
    assert not Path(lock_path(db)).read_text()  # a clean exit leaves no holder


def test_unchanged_pages_cost_a_304_and_keep_their_verdict(tmp_path: Path) -> None:
    with NewsWeb() as web:
        build_site(web, tmp_path / "copies", 2)
        config = load_config(
            str(
                write_config(
                    tmp_path / "a.toml", web, FORCE + '[[sources]]\ncanonical = "copies"\n'
                )
            )
        )
        db = str(tmp_path / "archive.db")
        run(config, db_path=db)
        second = run(config, db_path=db).to_json()
        conditional = [r for r in web.requests if r[0] == "news.test" and r[3]]
    assert second["not_modified"] == 2
    assert second["drift"] == {"unchanged": 2}
    assert len(conditional) == 2  # the second visit of each page sent If-None-Match
    pages = "SELECT kind, count(*) FROM captures WHERE url LIKE 'https://news.test/%' GROUP BY kind"
    assert dict(_rows(tmp_path / "archive.db", pages)) == {"response": 2, "not_modified": 2}
    # The sources the copies cite are archived too, each run, and compared with their first
    # capture for the passage they were cited for (as `verify` does).
    sources = "SELECT count(*) FROM captures WHERE url LIKE 'https://sources.test/%'"
    assert _rows(tmp_path / "archive.db", sources) == [(8,)]
    drifts = "SELECT status, count(*) FROM source_drifts GROUP BY status"
    assert dict(_rows(tmp_path / "archive.db", drifts)) == {"same": 4}


def test_news_only_once_a_webhook_when_something_new_breaks_or_drifts(tmp_path: Path) -> None:
    with NewsWeb() as web, NewsWeb("127.0.0.4") as hooks:
        made = build_site(web, tmp_path / "copies", 2)
        url, _, _ = article(2, "news.test", [])
        body = (
            '[notify]\nwebhook = "http://127.0.0.4:{port}/hook"\n\n' + FORCE
            + '[[sources]]\ncanonical = "copies"\n'
        ).replace("{port}", hooks.address.split(":")[1])  # fmt: skip
        config = load_config(str(write_config(tmp_path / "a.toml", web, body)))
        db = str(tmp_path / "archive.db")
        assert run(config, db_path=db).exit_code == 0
        assert hooks.posts == []  # nothing new: nobody is disturbed

        edited = article(2, "news.test", [("https://sources.test/doc-2", "document 2")])[2]
        web.add(
            url, Answer(body=edited.replace(b"Paragraph three closes", b"Paragraph three ends"))
        )
        web.add("https://sources.test/doc-1", Answer(status=410, body=b"gone"))
        news = run(config, db_path=db)
        summary = news.to_json()
        assert news.exit_code == 1
        assert summary["new_drift"] == [
            {"canonical": str(made[1][1]), "url": made[1][0], "status": "edited"}
        ]
        assert [b["url"] for b in summary["new_broken"]] == ["https://sources.test/doc-1"]
        assert summary["notified"] is True
        assert len(hooks.posts) == 1
        path, posted = hooks.posts[0]
        assert path == "/hook" and posted["event"] == "archiver.run"
        assert posted["new_broken_links"] == 1 and posted["new_drift"][0]["status"] == "edited"

        again = run(config, db_path=db).to_json()
        assert again["broken_links"] == 1 and again["new_broken_links"] == 0
        assert again["new_drift"] == []
        assert len(hooks.posts) == 1  # the same news is not sent twice


def test_a_feed_whose_old_style_urls_redirect(tmp_path: Path) -> None:
    """The real 2017 feed, served on loopback; each old-style URL answers 301 to a new one."""
    from archiver.runs.sources import parse_feed

    entries = parse_feed(FEED.read_bytes())[:4]
    with NewsWeb() as web:
        web.add("https://themoscowtimes.com/feeds/articles.xml",
                Answer(body=FEED.read_bytes(), content_type="application/rss+xml"))  # fmt: skip
        new_style = {}
        for old, _ in entries:
            slug, _, number = old.rsplit("/", 1)[1].rpartition("-")
            new = f"https://www.themoscowtimes.com/2017/01/23/{slug}-a{number}"
            new_style[old] = new
            web.add(old, Answer(status=301, location=new, body=b""))
            web.add(new, Answer(body=source_page(slug)))
        body = '[[sources]]\nfeed = "https://themoscowtimes.com/feeds/articles.xml"\nlimit = 4\n'
        config = load_config(str(write_config(tmp_path / "a.toml", web, body)))
        result = run(config, db_path=str(tmp_path / "archive.db"))
    summary = result.to_json()
    assert summary["items"]["visited"] == 4 and summary["errors"] == 0
    assert [r.outcome for r in result.results] == ["redirected"] * 4
    finals = dict(_rows(tmp_path / "archive.db", "SELECT url, final_url FROM captures"))
    for old, new in new_style.items():
        assert finals[old] == new
    assert "https://themoscowtimes.com/feeds/articles.xml" in finals  # the feed is kept too
    assert result.exit_code == 0


def test_nothing_answering_exits_3_and_marks_nothing_done(tmp_path: Path) -> None:
    with NewsWeb() as web:  # only to write the copies: nothing is routed to it
        build_site(web, tmp_path / "copies", 2)
    (tmp_path / "a.toml").write_text(
        '[archive]\ndb = "archive.db"\n[fetch]\ntimeout = 1\nretries = 0\nper_host_rate = 50\n'
        'connect_to = ["news.test=127.0.0.1:9", "sources.test=127.0.0.1:9"]\n'
        '[[sources]]\ncanonical = "copies"\n'
    )
    result = CliRunner().invoke(cli, ["run", "--config", str(tmp_path / "a.toml"), "--json"])
    assert result.exit_code == 3, result.output
    assert "nothing answered" in result.output and "Traceback" not in result.output
    db = tmp_path / "archive.db"
    assert _rows(db, "SELECT status FROM runs") == [("network_unavailable",)]
    assert {row[0] for row in _rows(db, "SELECT outcome FROM run_items")} == {"unreachable"}


# -- one at a time ------------------------------------------------------------------------------


def test_a_second_run_while_one_is_going_exits_3(tmp_path: Path) -> None:
    config = tmp_path / "a.toml"
    config.write_text('[archive]\ndb = "archive.db"\n[[sources]]\nurls = ["https://a.test/"]\n')
    with RunLock(lock_path(str(tmp_path / "archive.db"))):
        result = _cli("run", "--config", str(config))
    assert result.returncode == 3
    message = result.stderr.strip()
    assert f"another run holds {tmp_path / 'archive.db'}.lock (pid {os.getpid()}" in message
    assert "one run at a time" in message and "Traceback" not in message
    assert len(message.splitlines()) == 1
    assert not (tmp_path / "archive.db").exists()  # refused before touching the archive


def test_a_stale_lock_of_a_killed_run_is_detected_and_taken_over(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    db = tmp_path / "archive.db"
    with Archive(str(db)) as archive:
        killed = archive.start_run(command="run", config="old.toml")  # left "running"
    Path(lock_path(str(db))).write_text(
        json.dumps(
            {"pid": dead.pid, "host": os.uname().nodename, "started": "2026-01-01T00:00:00Z"}
        )
    )
    with NewsWeb() as web:
        build_site(web, tmp_path / "copies", 1)
        config = write_config(tmp_path / "a.toml", web, '[[sources]]\ncanonical = "copies"\n')
        result = CliRunner().invoke(cli, ["run", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["stale_lock"]["pid"] == dead.pid
    assert summary["status"] == "done"
    statuses = dict(_rows(db, "SELECT id, status FROM runs"))
    assert statuses == {killed: "interrupted", summary["run_id"]: "done"}


# -- crash safety ------------------------------------------------------------------------------


@pytest.mark.slow
def test_sigkill_mid_run_then_the_next_run_resumes_without_duplicates(tmp_path: Path) -> None:
    count = 6
    with NewsWeb() as web:
        made = build_site(web, tmp_path / "copies", count, broken=2)
        body = '[[sources]]\ncanonical = "copies"\n'
        config = write_config(tmp_path / "a.toml", web, body, batch=2)
        db = tmp_path / "archive.db"
        # The last two articles are held unanswered, so the run cannot finish before it is
        # killed however fast this machine is (it fetches ahead: a delay alone raced it).
        web.held = {urlsplit(url).path for url, _ in made[4:]}
        command = [sys.executable, "-m", "archiver", "run", "--config", str(config), "--json"]
        first = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        done = 0
        while time.monotonic() < deadline:
            if db.exists():
                try:
                    done = _rows(db, "SELECT count(*) FROM run_items")[0][0]
                except sqlite3.OperationalError:
                    done = 0  # the schema is still being created
            if done >= 3:
                break
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        out, err = first.communicate(timeout=10)
        assert first.returncode == -signal.SIGKILL, (done, out, err)
        assert 3 <= done < count, "the run was not killed in the middle"
        assert _rows(db, "SELECT status FROM runs") == [("running",)]

        web.released.set()
        second = _cli("run", "--config", str(config), "--json")
    assert second.returncode == 1, second.stderr
    summary = json.loads(second.stdout)
    assert summary["resumed_from"] == [1]
    # The killed run found two broken links and never said so: the resumed run does.
    news = sorted(entry["url"] for entry in summary["new_broken"])
    assert news == ["https://sources.test/gone-1", "https://sources.test/gone-2"]
    resumed = summary["items"]["resumed"]
    assert resumed >= 3
    assert summary["items"]["visited"] + resumed == count
    assert dict(_rows(db, "SELECT id, status FROM runs")) == {1: "interrupted", 2: "done"}
    # Every copy verified once, every page captured once: nothing lost, nothing twice.
    per_item = _rows(db, "SELECT item, count(*) FROM run_items GROUP BY item")
    assert len(per_item) == count and all(n == 1 for _, n in per_item)
    per_page = dict(_rows(db, "SELECT url, count(*) FROM captures GROUP BY url"))
    assert all(per_page[url] == 1 for url, _ in made)
    per_copy = _rows(db, "SELECT canonical_path, count(*) FROM verifications GROUP BY 1")
    assert len(per_copy) == count and all(n == 1 for _, n in per_copy)
    fsck = _cli("--db", str(db), "fsck", "--json")
    assert fsck.returncode == 0, fsck.stdout
    assert json.loads(fsck.stdout)["ok"] is True


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the lock is fcntl.flock, POSIX only")
def test_lock_is_released_by_the_kernel_when_the_holder_dies(tmp_path: Path) -> None:
    path = lock_path(str(tmp_path / "archive.db"))
    code = f"import time, archiver.runs.lock as m; m.RunLock({path!r}).acquire(); time.sleep(30)"
    holder = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not _holder_written(path):
            time.sleep(0.02)
        from archiver.errors import ArchiveLocked

        with pytest.raises(ArchiveLocked):
            RunLock(path).acquire()
    finally:
        holder.kill()
        holder.wait()
    lock = RunLock(path).acquire()
    try:
        assert lock.stale is not None and lock.stale.pid == holder.pid
    finally:
        lock.release()


def _holder_written(path: str) -> bool:
    return Path(path).exists() and bool(Path(path).read_text().strip())


# -- the documentation works as written -------------------------------------------------------

DOCS = ROOT / "docs" / "runs.md"
UNITS = ROOT / "examples" / "systemd"


@pytest.mark.parametrize("name", ["archiver-run.service", "archiver-run.timer"])
def test_the_units_in_the_docs_are_the_checked_files(name: str) -> None:
    unit = (UNITS / name).read_text()
    assert f"# /etc/systemd/system/{name}\n{unit}" in DOCS.read_text()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not here")
def test_systemd_units_verify(tmp_path: Path) -> None:
    """``systemd-analyze verify`` on the units, the install folder pointed at this checkout."""
    archiver_bin = Path(sys.executable).parent / "archiver"
    if not archiver_bin.exists():
        pytest.skip("no archiver console script next to this Python")
    for name in ("archiver-run.service", "archiver-run.timer"):
        text = (
            (UNITS / name).read_text().replace("/srv/archiver/.venv/bin", str(archiver_bin.parent))
        )
        (tmp_path / name).write_text(text.replace("/srv/archiver", str(ROOT)))
    done = subprocess.run(
        ["systemd-analyze", "verify", *(str(p) for p in sorted(tmp_path.iterdir()))],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    calendar = subprocess.run(
        ["systemd-analyze", "calendar", "*-*-* 00/6:17:00"], capture_output=True, text=True,
        check=False, timeout=60,
    )  # fmt: skip
    assert calendar.returncode == 0 and "Next elapse" in calendar.stdout


def test_the_crontab_line_is_five_fields_and_a_run_command() -> None:
    text = DOCS.read_text()
    block = text.split("```crontab\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(block) == 1
    fields = block[0].split()
    minute, hour, day, month, weekday = fields[:5]
    assert minute.isdigit() and 0 <= int(minute) < 60
    assert hour.startswith("*/") and 24 % int(hour[2:]) == 0
    assert (day, month, weekday) == ("*", "*", "*")
    command = fields[5:]
    assert command[0].endswith("/.venv/bin/archiver") and command[1] == "run"
    # The options it uses exist, as written.
    result = CliRunner().invoke(cli, ["run", "--help"])
    for option in command[2:]:
        if option.startswith("-"):
            assert option in result.output


# -- more of the same run: signals, e-mail, a bad item, the terminal -------------------------


@pytest.mark.slow
def test_sigterm_ends_a_run_as_interrupted_exit_143_and_the_next_resumes(tmp_path: Path) -> None:
    with NewsWeb() as web:
        made = build_site(web, tmp_path / "copies", 5)
        body = '[[sources]]\ncanonical = "copies"\n'
        config = write_config(tmp_path / "a.toml", web, body, batch=1)
        db = tmp_path / "archive.db"
        web.held = {urlsplit(url).path for url, _ in made[3:]}  # it cannot finish unsignalled
        command = [sys.executable, "-m", "archiver", "run", "--config", str(config)]
        first = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _done_items(db) < 1:
            time.sleep(0.02)
        first.send_signal(signal.SIGTERM)
        _, err = first.communicate(timeout=20)
        web.released.set()
        second = _cli("run", "--config", str(config), "--json")
    assert first.returncode == 143, err  # 128 + SIGTERM (was 3 before issue 14 item 7)
    assert "run interrupted" in err and "Traceback" not in err
    assert _rows(db, "SELECT id, status FROM runs")[0] == (1, "interrupted")
    summary = json.loads(second.stdout)
    assert summary["resumed_from"] == [1]
    assert summary["items"]["resumed"] + summary["items"]["visited"] == 5


def _done_items(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        return int(_rows(db, "SELECT count(*) FROM run_items")[0][0])
    except sqlite3.OperationalError:
        return 0


class SMTPSink:
    """The smallest SMTP server smtplib will talk to, on loopback; keeps each message."""

    def __init__(self, address: str = "127.0.0.5") -> None:
        self.messages: list[str] = []
        self.server = socket.create_server((address, 0))
        self.server.settimeout(0.05)  # accept() wakes up to see that it should stop
        self.port = self.server.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(10)
            with conn, conn.makefile("rb") as reader:
                conn.sendall(b"220 sink\r\n")
                for line in reader:
                    verb = line[:4].upper()
                    if verb == b"DATA":
                        conn.sendall(b"354 go on\r\n")
                        data = []
                        for part in reader:
                            if part == b".\r\n":
                                break
                            data.append(part)
                        self.messages.append(b"".join(data).decode("utf-8", "replace"))
                        conn.sendall(b"250 kept\r\n")
                    elif verb == b"QUIT":
                        conn.sendall(b"221 bye\r\n")
                        break
                    else:
                        conn.sendall(b"250 ok\r\n")

    def __enter__(self) -> SMTPSink:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.server.close()


def test_an_email_says_what_newly_broke(tmp_path: Path) -> None:
    with NewsWeb() as web, SMTPSink() as sink:
        build_site(web, tmp_path / "copies", 2, broken=1)
        body = (
            f'[notify]\nemail_to = ["archivist@example.org"]\nsmtp_host = "127.0.0.5"\n'
            f"smtp_port = {sink.port}\n\n" + '[[sources]]\ncanonical = "copies"\n'
        )
        config = load_config(str(write_config(tmp_path / "a.toml", web, body)))
        result = run(config, db_path=str(tmp_path / "archive.db"))
    assert result.notified is True
    assert len(sink.messages) == 1
    message = sink.messages[0]
    assert "Subject: archiver: 1 new broken link(s), 0 new drift" in message
    assert "To: archivist@example.org" in message
    assert "broken link: not_found: https://sources.test/gone-1" in message


def test_a_notification_that_cannot_be_sent_is_an_error_not_a_lost_run(tmp_path: Path) -> None:
    with NewsWeb() as web:
        build_site(web, tmp_path / "copies", 1, broken=1)
        body = '[notify]\nwebhook = "http://127.0.0.1:9/hook"\ntimeout = 1\n\n'
        body += '[[sources]]\ncanonical = "copies"\n'
        config = load_config(str(write_config(tmp_path / "a.toml", web, body)))
        result = run(config, db_path=str(tmp_path / "archive.db"))
    summary = result.to_json()
    assert summary["status"] == "done" and summary["notified"] is False
    assert summary["errors"] == 1 and "webhook" in summary["error_details"][0]["detail"]
    assert summary["new_broken_links"] == 1  # the findings are kept all the same


class _FailingOn(Fetcher):
    """A real fetcher that fails (as a bug would) on one URL."""

    def __init__(self, bad: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bad = bad

    def fetch(self, url: str, **kwargs: Any) -> Any:
        if url == self.bad:
            raise RuntimeError("boom")
        return super().fetch(url, **kwargs)


def test_one_item_failing_does_not_stop_the_run_and_is_retried(tmp_path: Path) -> None:
    with NewsWeb() as web:
        made = build_site(web, tmp_path / "copies", 3)
        config = load_config(
            str(write_config(tmp_path / "a.toml", web, '[[sources]]\ncanonical = "copies"\n'))
        )
        db = str(tmp_path / "archive.db")
        routes = {r.split("=")[0]: r.split("=")[1] for r in web.routes()}
        with _FailingOn(made[1][0], policy=config.policy, routes=routes) as fetcher:
            first = run(config, db_path=db, fetcher=fetcher)
        summary = first.to_json()
        assert [r.outcome for r in first.results] == ["unchanged", "error", "unchanged"]
        # The failure in words, no Python class name (issue 14 item 9; was "RuntimeError: boom").
        assert summary["errors"] == 1
        assert summary["error_details"][0]["detail"] == "could not visit it: boom"
        assert first.exit_code == 1
        again = run(config, db_path=db).to_json()
    assert again["items"]["visited"] == 1 and again["items"]["not_due"] == 2
    assert again["drift"] == {"unchanged": 1}


def test_db_on_the_command_line_wins_over_the_config(tmp_path: Path) -> None:
    with NewsWeb() as web:
        build_site(web, tmp_path / "copies", 1)
        config = write_config(tmp_path / "a.toml", web, '[[sources]]\ncanonical = "copies"\n')
        other = tmp_path / "elsewhere" / "other.db"
        result = CliRunner().invoke(cli, ["--db", str(other), "run", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert other.exists() and not (tmp_path / "archive.db").exists()


@pytest.mark.slow
def test_silent_off_a_terminal_progress_bar_on_one(tmp_path: Path) -> None:
    import pty

    with NewsWeb() as web:
        build_site(web, tmp_path / "copies", 3)
        config = write_config(
            tmp_path / "a.toml", web, FORCE + '[[sources]]\ncanonical = "copies"\n'
        )
        quiet = _cli("run", "--config", str(config), "--json")
        assert quiet.returncode == 0 and quiet.stderr == ""
        assert json.loads(quiet.stdout)["items"]["visited"] == 3

        master, slave = pty.openpty()
        chunks: list[bytes] = []

        def drain() -> None:
            while True:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    return
                if not data:
                    return
                chunks.append(data)

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        env = {**os.environ, "TERM": "xterm", "COLUMNS": "100"}
        done = subprocess.run(
            [sys.executable, "-m", "archiver", "run", "--config", str(config), "--json"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=slave, env=env, timeout=60, check=False,
        )  # fmt: skip
        os.close(slave)
        reader.join(timeout=5)
        os.close(master)
    assert done.returncode == 0
    assert json.loads(done.stdout)["items"]["visited"] == 3  # stdout is still only the JSON
    assert b"archiving" in b"".join(chunks)


def test_a_sitemap_index_with_a_gzipped_child_capped_by_max_items(tmp_path: Path) -> None:
    import gzip

    with NewsWeb() as web:
        made = build_site(web, tmp_path / "unused", 4)
        urls = [url for url, _ in made]

        def urlset(locs: list[str]) -> bytes:
            entries = "".join(f"<url><loc>{u}</loc></url>" for u in locs)
            return (
                '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"{entries}</urlset>"
            ).encode()

        index = (
            b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            b"<sitemap><loc>https://news.test/sitemap-1.xml</loc></sitemap>"
            b"<sitemap><loc>https://news.test/sitemap-2.xml.gz</loc></sitemap></sitemapindex>"
        )
        xml = "application/xml"
        web.add("https://news.test/sitemap.xml", Answer(body=index, content_type=xml))
        web.add("https://news.test/sitemap-1.xml", Answer(body=urlset(urls[:2]), content_type=xml))
        packed = gzip.compress(urlset(urls[2:]))
        web.add("https://news.test/sitemap-2.xml.gz", Answer(body=packed, content_type="x/gzip"))
        body = '[[sources]]\nsitemap = "https://news.test/sitemap.xml"\n'
        text = write_config(tmp_path / "a.toml", web, body).read_text()
        (tmp_path / "a.toml").write_text(
            text.replace('db = "archive.db"', 'db = "archive.db"\nmax_items = 3')
        )
        result = run(load_config(str(tmp_path / "a.toml")), db_path=str(tmp_path / "archive.db"))
    summary = result.to_json()
    assert [r.item.url for r in result.results] == urls[:3]
    assert [r.outcome for r in result.results] == ["ok"] * 3
    assert summary["captures"] == 3 + 3 * 3  # the three sitemaps; each page and its 2 sources
    assert summary["links"] == {"ok": 6} and summary["errors"] == 0


def test_quiet_prints_only_news(tmp_path: Path) -> None:
    with NewsWeb() as web:
        build_site(web, tmp_path / "copies", 2, broken=1)
        body = FORCE + '[[sources]]\ncanonical = "copies"\n'
        config = str(write_config(tmp_path / "a.toml", web, body))
        runner = CliRunner()
        first = runner.invoke(cli, ["run", "--config", config, "-q"])
        second = runner.invoke(cli, ["run", "--config", config, "-q"])
    assert first.exit_code == 1
    assert "new broken links: 1" in first.output
    assert "broken not_found: https://sources.test/gone-1" in first.output
    assert second.exit_code == 1  # still broken, so still exit 1 ...
    assert second.output == ""  # ... but nothing new to say


@pytest.mark.slow
def test_two_real_runs_at_once_the_second_exits_3_naming_the_first(tmp_path: Path) -> None:
    with NewsWeb() as web:
        build_site(web, tmp_path / "copies", 4)
        config = write_config(
            tmp_path / "a.toml", web, '[[sources]]\ncanonical = "copies"\n', batch=1
        )
        db = tmp_path / "archive.db"
        # The first run takes seconds, until the second has been refused: each answer waits
        # 3 s (a run fetches its next groups ahead, so the 4 items' requests overlap).
        web.delay = 3.0
        command = [sys.executable, "-m", "archiver", "run", "--config", str(config), "--json"]
        first = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _holder_written(lock_path(str(db))):
            time.sleep(0.02)
        second = _cli("run", "--config", str(config), "--json")
        web.delay = 0.0
        out, err = first.communicate(timeout=60)
    assert second.returncode == 3, second.stderr
    assert f"(pid {first.pid} on " in second.stderr and second.stdout == ""
    assert first.returncode == 0, err
    assert json.loads(out)["items"]["visited"] == 4  # the first run was not disturbed
    assert _rows(db, "SELECT count(*) FROM runs") == [(1,)]  # the refused run left no trace


@pytest.mark.slow
def test_the_example_config_over_the_bundled_web_as_the_docs_show(
    tmp_path: Path, connect_to: list[str]
) -> None:
    """``examples/archive.toml`` as written (the seed copy), the hosts routed to loopback."""
    db = str(tmp_path / "archive.db")
    args = ["--db", db, "run", "--config", str(ROOT / "examples" / "archive.toml"), "--json"]
    runner = CliRunner()
    first = runner.invoke(cli, [*args, "--per-host-rate", "10", *connect_to])
    assert first.exit_code == 1, first.output
    summary = json.loads(first.stdout)
    assert summary["items"]["visited"] == 1 and sum(summary["drift"].values()) == 1
    # The bundled web answers 404 and 410 for two of the seed's sources (tests/web/site.toml).
    broken = {entry["url"] for entry in summary["new_broken"]}
    assert "https://www.occrp.org/en/panamapapers/profiles/sergei-roldugin" in broken
    assert "https://www.rferl.org/a/putin-dresden-kgb-friends/28343152.html" in broken
    second = runner.invoke(cli, [*args, *connect_to])
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["items"]["not_due"] == 1  # a 2017 article: in 30 days


def test_a_suspect_turns_broken_only_when_it_keeps_failing_over_days(tmp_path: Path) -> None:
    """A 503 is a suspect on day 1 and 2, broken on day 3 (the contract's 3 checks, 3 days)."""
    with NewsWeb() as web:
        (made,) = build_site(web, tmp_path / "copies", 1)
        web.add("https://sources.test/doc-1b", Answer(status=503, body=b"down"))
        config = load_config(
            str(
                write_config(
                    tmp_path / "a.toml", web, FORCE + '[[sources]]\ncanonical = "copies"\n'
                )
            )
        )
        verdicts = []
        with Archive(str(tmp_path / "archive.db")) as archive:
            for day in range(3):
                with Fetcher(config.policy, routes=config.routes) as fetcher:
                    result = execute(
                        config, archive=archive, fetcher=fetcher, now=NOW + timedelta(days=day)
                    )
                summary = result.to_json()
                verdicts.append((summary["links"].get("server_error"), summary["broken_links"]))
    assert verdicts[0] == (1, 0)  # day 1: a suspect, not broken
    assert verdicts[1] == (1, 0)  # day 2: still only a suspect
    assert verdicts[2] == (1, 1)  # day 3: the failure persisted over 3 checks on 3 days

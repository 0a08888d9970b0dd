"""Every archive through Memento: TimeMaps parsed, the nearest capture that replays a page,
several fake archives on loopback (one down, one 429, one malformed, one slow), one deadline."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from archiver.archive.store import Archive
from archiver.fetch.fetcher import Fetcher
from archiver.links.memento import (
    DEFAULT_ARCHIVES,
    Memento,
    MementoSettings,
    lookup,
    mementos,
    nearest,
    parse_link_format,
)
from archiver.links.rescue import RescueSettings, rescue
from archiver.models import LinkCheck
from tests.archives_web import ArchivesWeb, FakeArchive, Shot
from tests.conftest import FAST_POLICY

D = "https://dead.test"
PUBLISHED = "2017-03-30T10:00:00Z"

TIMEMAP = """<http://example.com/a>; rel="original",
<http://arch.test/timemap/link/http://example.com/a> ; rel="self";
  type="application/link-format"; from="Tue, 01 Mar 2016 00:00:00 GMT",
<http://arch.test/web/20160301000000/http://example.com/a>; rel="first memento";
  datetime="Tue, 01 Mar 2016 00:00:00 GMT",
<http://arch.test/web/20170329120000/http://example.com/a>;rel=memento;datetime="Wed, 29 Mar
 2017 12:00:00 GMT",
junk that is no entry,
<javascript:alert(1)>; rel="memento"; datetime="Wed, 29 Mar 2017 12:00:00 GMT",
<http://arch.test/web/20170401000000/http://example.com/a>; rel="last memento";
   datetime="Sat, 01 Apr 2017 00:00:00 GMT",
<http://arch.test/web/2017bad/http://example.com/a>; rel="memento"; datetime="not a date",
<http://arch.test/web/20180101000000/http://example.com/a>; rel="memento"; datet"""


def test_timemap_parsed_robustly() -> None:
    entries = parse_link_format(TIMEMAP)
    assert entries[0] == ("http://example.com/a", {"rel": "original"})
    assert entries[1][1]["type"] == "application/link-format"
    found = mementos(TIMEMAP)
    # first, plain, last; the javascript: URI, the bad date and the cut-off entry are dropped
    assert [m.url.split("/")[4] for m in found] == [
        "20160301000000",
        "20170329120000",
        "20170401000000",
    ]
    assert found[1].moment == datetime(2017, 3, 29, 12, tzinfo=UTC)
    assert mementos("<html>not a timemap</html>") == []
    assert len(parse_link_format(TIMEMAP, limit=2)) == 2


def test_nearest_the_date_and_newest_without_one() -> None:
    found = mementos(TIMEMAP)
    when = datetime(2017, 3, 30, 10, tzinfo=UTC)
    assert [m.url for m in nearest(found, when, 2)] == [found[1].url, found[2].url]
    assert nearest(found, None, 1) == [found[2]]
    twice = [*found, Memento(url=found[0].url, moment=found[0].moment)]
    assert len(nearest(twice, None, 10)) == 3


def test_default_archives_are_documented_patterns() -> None:
    names = [a.name for a in DEFAULT_ARCHIVES]
    assert names == ["ia", "archive.today", "arquivo.pt", "loc", "ukwa", "perma.cc"]
    for archive in DEFAULT_ARCHIVES:
        assert archive.timemap.startswith("https://") and "{url}" in archive.timemap
        assert "{url}" in archive.timegate
    ia = DEFAULT_ARCHIVES[0].timemap_url("https://x.test/a b#frag")
    assert ia == "https://web.archive.org/web/timemap/link/https://x.test/a%20b"


#: Three good archives and three bad ones; each broken link has its right nearest capture.
GOOD = [
    FakeArchive(
        host="ia.test",
        shots={
            f"{D}/one": [
                Shot(stamp="20160101000000", title="One, long ago"),
                Shot(stamp="20170329000000", title="One as cited"),
                Shot(stamp="20170330110000", error=True),  # nearest, but an archived error page
                Shot(stamp="20170330120000", status=404),  # an archived 404
            ],
            f"{D}/three": [Shot(stamp="20150101000000", title="Three, too early")],
        },
    ),
    FakeArchive(
        host="today.test",
        shots={f"{D}/one": [Shot(stamp="20170330080000", title="One as cited")]},
    ),
    FakeArchive(
        host="arquivo.test",
        shots={
            f"{D}/two": [
                Shot(stamp="20170301000000", title="Two"),
                Shot(stamp="20200101000000", title="Two"),
            ],
            f"{D}/three": [Shot(stamp="20170402000000", title="Three")],
        },
    ),
]
BAD = [
    FakeArchive(host="ratelimit.test", fault="429"),
    FakeArchive(host="malformed.test", fault="malformed"),
    FakeArchive(host="down.test"),
]
EXPECTED = {
    f"{D}/one": "http://today.test/web/20170330080000/" + f"{D}/one",
    f"{D}/two": "http://arquivo.test/web/20170301000000/" + f"{D}/two",
    f"{D}/three": "http://arquivo.test/web/20170402000000/" + f"{D}/three",
    f"{D}/four": None,  # no archive has it
}


def broken(url: str) -> LinkCheck:
    return LinkCheck(url=url, text="a source", status="not_found", broken=True, http_status=404)


@pytest.fixture(scope="module")
def archives() -> ArchivesWeb:
    with ArchivesWeb([*GOOD, *BAD], down=["down.test"]) as web:
        yield web


def settings(deadline: float = 8.0, archives: list[FakeArchive] | None = None) -> RescueSettings:
    chosen = archives if archives is not None else [*GOOD, *BAD]
    memento = MementoSettings(archives=tuple(a.web_archive() for a in chosen), deadline=deadline)
    return RescueSettings(memento=memento, find_moved=False)


def test_each_broken_link_gets_its_nearest_capture_despite_bad_archives(
    archives: ArchivesWeb, tmp_path: object
) -> None:
    checks = [broken(url) for url in EXPECTED] + [
        LinkCheck(url="https://ok.test/", text="ok", status="ok", broken=False)
    ]
    policy = replace(FAST_POLICY, retry_after_cap=1.0, retries=1)
    started = time.monotonic()
    with Archive.memory() as archive, Fetcher(policy, routes=archives.routes) as fetcher:
        out = rescue(
            checks, fetcher=fetcher, archive=archive, published=PUBLISHED, settings=settings()
        )
        elapsed = time.monotonic() - started
        stored = archive.conn.execute("SELECT count(*) FROM archived_copies").fetchone()[0]
    assert {c.url: c.archived_url for c in out[:4]} == EXPECTED
    assert out[4].archived_url is None and not out[4].archived_copies  # only broken links
    one = out[0]
    assert {c.archive for c in one.archived_copies} == {"ia", "today"}
    ia = [c for c in one.archived_copies if c.archive == "ia"]
    # the nearest three by date, each with the status it replayed with
    assert [(c.datetime, c.status) for c in ia] == [
        ("2017-03-30T11:00:00Z", 200),  # replays, but as an error page: not chosen
        ("2017-03-30T12:00:00Z", 404),
        ("2017-03-29T00:00:00Z", 200),
    ]
    assert "ratelimit" in one.detail and "down" in one.detail  # named, not failed on
    assert one.broken and one.status == "not_found"  # an archive never changes a verdict
    assert stored >= 5
    assert elapsed < 8.0
    hits = [p for h, p in archives.requests if h == "ratelimit.test" and p != "/robots.txt"]
    assert len(set(hits)) == 1  # asked once (and retried), then not asked the other links


def test_the_deadline_bounds_a_slow_archive_and_the_others_stand() -> None:
    slow = FakeArchive(host="slow.test", delay=3.0)
    chosen = [*GOOD, slow]
    with ArchivesWeb(chosen, address="127.0.0.6") as web:
        policy = replace(FAST_POLICY, timeout=10.0, read_timeout=10.0)
        with Fetcher(policy, routes=web.routes) as fetcher:
            started = time.monotonic()
            out = rescue(
                [broken(f"{D}/one")],
                fetcher=fetcher,
                published=PUBLISHED,
                settings=settings(deadline=1.0, archives=chosen),
            )
            elapsed = time.monotonic() - started
    assert elapsed < 2.0, elapsed
    assert out[0].archived_url == EXPECTED[f"{D}/one"]
    assert "slow" in out[0].detail


def test_answers_are_cached_in_the_archive_with_an_age(
    archives: ArchivesWeb, tmp_path: object
) -> None:
    chosen = GOOD
    with Archive.memory() as archive, Fetcher(FAST_POLICY, routes=archives.routes) as fetcher:
        first = rescue(
            [broken(f"{D}/two")],
            fetcher=fetcher,
            archive=archive,
            published=PUBLISHED,
            settings=settings(archives=chosen),
        )
        before = len(archives.requests)
        again = rescue(
            [broken(f"{D}/two")],
            fetcher=fetcher,
            archive=archive,
            published=PUBLISHED,
            settings=settings(archives=chosen),
        )
        asked = len(archives.requests) - before
        stale = replace(settings(archives=chosen).memento, max_age=0.0)
        rescue(
            [broken(f"{D}/two")],
            fetcher=fetcher,
            archive=archive,
            published=PUBLISHED,
            settings=RescueSettings(memento=stale, find_moved=False),
        )
        asked_stale = len(archives.requests) - before - asked
    assert first[0].archived_url == again[0].archived_url == EXPECTED[f"{D}/two"]
    assert first[0].archived_copies == again[0].archived_copies
    assert asked == 0  # from the archive, not the archives
    assert asked_stale >= len(chosen)  # too old: asked again


def test_offline_archives_give_no_copy_and_never_raise() -> None:
    with ArchivesWeb(GOOD, down=[a.host for a in GOOD], address="127.0.0.7") as web:
        with Fetcher(FAST_POLICY, routes=web.routes) as fetcher:
            found, fresh = lookup(
                [f"{D}/one"], PUBLISHED, fetcher=fetcher, settings=settings(archives=GOOD).memento
            )
    assert found[f"{D}/one"].best is None and fresh == {}
    assert set(found[f"{D}/one"].failed) == {"ia", "today", "arquivo"}


def test_archives_named_in_options_and_the_replay_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    from archiver.errors import InputError
    from archiver.links.memento import parse_archive
    from archiver.links.rescue import settings_for

    arquivo = parse_archive("pt=https://arquivo.pt/wayback/timemap/link/{url}")
    assert arquivo.timemap_url("https://a.test/x") == (
        "https://arquivo.pt/wayback/timemap/link/https://a.test/x"
    )
    local = parse_archive("local=http://127.0.0.1:8080/")
    assert local.timemap == "http://127.0.0.1:8080/web/timemap/link/{url}"
    for bad in ("nothing", "=http://x/{url}", "x=ftp://x/{url}", "a b=http://x/{url}"):
        with pytest.raises(InputError):
            parse_archive(bad)
    monkeypatch.delenv("ARCHIVER_NO_ARCHIVE_LOOKUP", raising=False)
    assert settings_for().archives and len(settings_for().memento.archives) == 6
    assert not settings_for(replay=True).archives  # --connect-to: the real archives are off
    pointed = settings_for(replay=True, wayback_url="http://127.0.0.1:9/")
    assert pointed.archives and [a.name for a in pointed.memento.archives] == ["ia"]
    assert not settings_for(no_lookup=True).archives
    monkeypatch.setenv("ARCHIVER_NO_ARCHIVE_LOOKUP", "1")
    assert not settings_for().archives


SLOW_EXIT = """
import time
from archiver.fetch.fetcher import Fetcher, FetchPolicy
from archiver.links.memento import MementoSettings
from archiver.links.rescue import RescueSettings, rescue
from archiver.models import LinkCheck
from tests.archives_web import ArchivesWeb, FakeArchive

slow = FakeArchive(host="slow.test", delay=6.0)
web = ArchivesWeb([slow], address="127.0.0.13").start()
policy = FetchPolicy(per_host_rate=1000.0, timeout=20.0, read_timeout=20.0, retries=0)
fetcher = Fetcher(policy, routes=web.routes)
check = LinkCheck(url="https://dead.test/x", text="x", status="not_found", broken=True)
settings = RescueSettings(
    memento=MementoSettings(archives=(slow.web_archive(),), deadline=0.5), find_moved=False
)
started = time.monotonic()
(out,) = rescue([check], fetcher=fetcher, settings=settings)
print(round(time.monotonic() - started, 2), out.archived_url)
"""


def test_a_slow_archive_does_not_keep_the_program_from_exiting() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", SLOW_EXIT],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=30,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-2000:]
    took, best = done.stdout.split()
    assert float(took) < 1.5 and best == "None"
    assert elapsed < 5.0, elapsed  # not the archive's 6 s: the lookup thread is left behind

"""Robust Links: a repair writes data-originalurl, data-versionurl and data-versiondate for each
cited source with a capture, and the new address of a moved one, without touching the text."""

from __future__ import annotations

import shutil
from pathlib import Path

from archiver.models import ArchivedCopy, CanonicalCopy, Link, LinkCheck
from archiver.verify.canonical import read_canonical
from archiver.verify.repair import plan_repairs, plan_robust_links, repair_file
from tests.conftest import SEED

IA = "https://web.archive.org/web"


def checks_for(copy: CanonicalCopy) -> list[LinkCheck]:
    """The seed's links as a rescue left them: one moved, one archived, one with copies only."""
    out = []
    for index, link in enumerate(copy.links):
        url = f"https://source.test/{index}" if link.url in ("", "#") else link.url
        check = LinkCheck(url=url, text=link.text, status="ok", broken=False, recovered=True)
        if index == 0:
            check = LinkCheck(
                url=url,
                text=link.text,
                status="moved",
                broken=False,
                moved_to="https://source.test/new-home",
                archived_url=f"{IA}/20170329000000/{url}",
            )
        elif index == 1:
            copy_ = ArchivedCopy(
                archive="ia",
                url=f"{IA}/20170328101010/{url}",
                datetime="2017-03-28T10:10:10Z",
                replays=True,
                status=200,
            )
            check = LinkCheck(
                url=url,
                text=link.text,
                status="not_found",
                broken=True,
                archived_url=copy_.url,
                archived_copies=(copy_,),
            )
        elif index == 2:
            only = ArchivedCopy(
                archive="arquivo.pt",
                url=f"https://arquivo.pt/wayback/20170301000000/{url}",
                datetime="2017-03-01T00:00:00Z",
                replays=True,
                status=200,
            )
            check = LinkCheck(
                url=url,
                text=link.text,
                status="ok",
                broken=False,
                archived_copies=(only,),
            )
        out.append(check)
    return out


def test_dry_run_shows_robust_links_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "copy.md"
    shutil.copyfile(SEED, path)
    before = path.read_bytes()
    copy = read_canonical(str(path))
    checks = checks_for(copy)
    repair = repair_file(copy, checks, dry_run=True)
    assert path.read_bytes() == before and not repair.written
    added = [line for line in repair.diff.splitlines() if line.startswith("+<a ")]
    assert len(added) == 3
    assert 'data-originalurl="https://source.test/0"' in added[0]
    assert 'href="https://source.test/new-home"' in added[0]  # the moved one's new address
    assert 'data-versionurl="https://web.archive.org/web/20170329000000/' in added[0]
    assert 'data-versiondate="2017-03-29"' in added[0]
    assert 'data-versiondate="2017-03-28"' in added[1]
    assert 'data-versionurl="https://arquivo.pt/wayback/20170301000000/' in added[2]
    assert [f.reason for f in repair.fixes][:2] == ["moved", "archived"]
    as_json = repair.to_json()["robust_links"]
    assert as_json[1]["data-versionurl"] == checks[1].archived_url


def test_written_block_leaves_text_and_links_as_they_were(tmp_path: Path) -> None:
    path = tmp_path / "copy.md"
    shutil.copyfile(SEED, path)
    copy = read_canonical(str(path))
    checks = checks_for(copy)
    # only captures known, nothing to write into the text (recovered=False: the copy's own #)
    plain = [
        LinkCheck(url=c.url, text=c.text, status="ok", broken=False, recovered=False)
        for c in checks
    ]
    plain[1] = LinkCheck(url=checks[1].url, text=checks[1].text, status="ok", broken=False,
                         recovered=False, archived_copies=checks[1].archived_copies)  # fmt: skip
    repair = repair_file(copy, plain)
    assert repair.written and not repair.fixes  # only the block
    again = read_canonical(str(path))
    assert again.paragraphs == copy.paragraphs and again.links == copy.links
    assert again.title == copy.title and again.published == copy.published
    once = path.read_bytes()
    second = repair_file(again, plain)
    assert path.read_bytes() == once and not second.written  # the block is replaced, not added


def test_hostile_values_are_escaped_and_only_web_urls_kept() -> None:
    copy = CanonicalCopy(
        path="x.md", url="https://a.test/", title="t", subtitle=None, authors=(), published=None,
        caption=None, credits=None, paragraphs=("p",),
        links=(Link(url="https://s.test/a", text='<b>"x"</b>'),),
    )  # fmt: skip
    hostile = ArchivedCopy(
        archive="x",
        url='https://arch.test/"><script>',
        datetime="2017-01-01T00:00:00Z",
        replays=True,
    )
    check = LinkCheck(
        url="https://s.test/a", text="", status="gone", broken=True, archived_copies=(hostile,)
    )
    (link,) = plan_robust_links(copy, [check])
    element = link.html()
    assert "<script>" not in element and "&lt;b&gt;" in element and "&quot;&gt;" in element
    bad = LinkCheck(
        url="https://s.test/a", text="", status="moved", broken=False, moved_to="javascript:x"
    )
    assert plan_repairs(copy, [bad]) == [None]


def test_end_to_end_checked_rescued_and_shown_by_a_dry_run(tmp_path: Path) -> None:
    """A copy's links checked on a loopback web, rescued from a fake archive, and the dry run's
    diff: the moved link's new address and a Robust Link for each source with a capture."""
    from archiver.fetch.fetcher import Fetcher
    from archiver.links.check import check_links
    from archiver.links.memento import MementoSettings
    from archiver.links.moved import Rewrite
    from archiver.links.rescue import RescueSettings, rescue
    from tests.archives_web import ArchivesWeb, FakeArchive, Page, Shot, page
    from tests.conftest import FAST_POLICY

    mt = "https://www.themoscowtimes.com"
    old, new = f"{mt}/articles/putin-meets-trump-12345", f"{mt}/archive/putin-meets-trump"
    gone, live = "https://gone.test/report", "https://live.test/doc"
    text = (
        f"---\nurl: {mt}/2017/04/01/citing-a1\n---\n\n# Citing\n\nBy A. Writer\n\n"
        f"April 1, 2017\n\nThe [meeting]({old}), the [report]({gone}) and a [document]({live}).\n"
    )
    path = tmp_path / "copy.md"
    path.write_text(text, encoding="utf-8")
    copy = read_canonical(str(path))
    ia = FakeArchive(
        host="ia.test",
        shots={
            old: [Shot(stamp="20170330120000", title="Putin Meets Trump")],
            gone: [Shot(stamp="20170331000000", title="The Report")],
        },
    )
    rewrite = Rewrite(
        host="themoscowtimes.com",
        pattern=r"^/articles/(?P<slug>[^/]+?)-(?P<id>\d+)$",
        target="/archive/{slug}",
        note="a test rewrite",
    )
    pages = {
        new: page("Putin Meets Trump | The Moscow Times"),
        live: page("A Document"),
        gone: Page(status=404, body="<title>Not Found</title>"),
    }
    with ArchivesWeb([ia], pages=pages, address="127.0.0.15") as web:
        with Fetcher(FAST_POLICY, routes=web.routes) as fetcher:
            checks = check_links(copy.links, fetcher, probe=False)
            settings = RescueSettings(
                memento=MementoSettings(archives=(ia.web_archive(),)), rewrites=(rewrite,)
            )
            checks = rescue(checks, fetcher=fetcher, published=copy.published, settings=settings)
    assert [c.status for c in checks] == ["moved", "not_found", "ok"]
    repair = repair_file(copy, checks, dry_run=True)
    assert not repair.written and path.read_text(encoding="utf-8") == text
    assert f"+The [meeting]({new})" in repair.diff
    assert (
        f'+<a href="{new}" data-originalurl="{old}" '
        f'data-versionurl="http://ia.test/web/20170330120000/{old}" '
        'data-versiondate="2017-03-30">meeting</a><br>'
    ) in repair.diff
    assert f'data-originalurl="{gone}"' in repair.diff and f'"{live}"' not in repair.diff

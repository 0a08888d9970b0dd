"""Link rot over time: suspects turn broken only when the failure persists; reports of the archive.

Time is passed in (``now``, ``checked_at``): three days of checks take no time at all.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner

from archiver.archive.store import Archive
from archiver.cli import cli
from archiver.errors import InputError
from archiver.fetch.fetcher import Fetcher
from archiver.links.check import BROKEN
from archiver.links.job import check_target
from archiver.links.rot import Observation, RotPolicy, judge
from archiver.links.rotreport import rot_report, rot_summary
from archiver.models import LinkCheck
from archiver.report.links import format_linkrot, format_links
from tests.linkrot_web import Answer, LinkWeb
from tests.links.test_linkcheck import TEST_POLICY, WEB_PAGES, _closed_port

URL = "https://flaky.example/story"
DAY = "2026-11-{:02d}T06:00:00Z"


def check(status: str, *, url: str = URL) -> LinkCheck:
    return LinkCheck(url=url, text="a link", status=status, broken=BROKEN[status], detail=status)


def past(*entries: tuple[int, str]) -> list[Observation]:
    return [Observation(checked_at=DAY.format(day), status=status) for day, status in entries]


# --- judge: pure ------------------------------------------------------------------------------


def test_a_single_failure_is_a_suspect() -> None:
    out = judge(check("server_error"), [], now=DAY.format(1))
    assert not out.broken and out.since == DAY.format(1)
    assert "a suspect until 3 checks on 3 days" in out.detail


def test_three_checks_on_three_days_turn_a_suspect_broken() -> None:
    out = judge(check("server_error"), past((1, "server_error"), (2, "server_error")),
                now=DAY.format(3))  # fmt: skip
    assert out.status == "server_error"  # the word stays; broken says the failure persisted
    assert out.broken and out.since == DAY.format(1)
    assert "persisted, so broken" in out.detail


def test_three_checks_on_one_day_are_not_enough() -> None:
    history = [
        Observation(checked_at="2026-11-01T06:00:00Z", status="timeout"),
        Observation(checked_at="2026-11-01T12:00:00Z", status="timeout"),
        Observation(checked_at="2026-11-01T18:00:00Z", status="timeout"),
    ]
    assert not judge(check("timeout"), history, now="2026-11-01T23:00:00Z").broken


def test_an_answer_in_between_resets_the_count() -> None:
    history = past((1, "blocked"), (2, "blocked"), (3, "ok"), (4, "blocked"))
    out = judge(check("blocked"), history, now=DAY.format(5))
    assert not out.broken and out.since == DAY.format(4)


def test_timeout_and_refused_are_the_same_failure_but_5xx_is_another() -> None:
    same = judge(check("connection_error"), past((1, "timeout"), (2, "connection_error")),
                 now=DAY.format(3))  # fmt: skip
    assert same.broken
    other = judge(check("server_error"), past((1, "timeout"), (2, "timeout")), now=DAY.format(3))
    assert not other.broken


def test_no_evidence_neither_counts_nor_resets() -> None:
    history = past((1, "rate_limited"), (2, "network_unavailable"), (3, "rate_limited"))
    out = judge(check("rate_limited"), history, now=DAY.format(4))
    assert out.broken and out.since == DAY.format(1)


def test_flapping_is_shown_and_not_broken() -> None:
    history = past((1, "ok"), (2, "server_error"), (3, "ok"), (4, "server_error"), (5, "ok"))
    out = judge(check("server_error"), history, now=DAY.format(6))
    assert out.flapping and not out.broken
    assert "flapping" in out.detail
    up = judge(check("ok"), past((1, "timeout"), (2, "ok"), (3, "timeout")), now=DAY.format(4))
    assert up.flapping and not up.broken and up.status == "ok"


def test_definite_failures_are_broken_at_once_with_since() -> None:
    out = judge(check("not_found"), past((1, "ok"), (2, "not_found")), now=DAY.format(3))
    assert out.broken and out.since == DAY.format(2)
    assert judge(check("gone"), [], now=DAY.format(1)).broken


def test_policy_is_configurable_and_validated() -> None:
    policy = RotPolicy(checks=2, days=2)
    assert judge(check("timeout"), past((1, "timeout")), now=DAY.format(2), policy=policy).broken
    with pytest.raises(InputError):
        RotPolicy(checks=0)


def test_archived_copy_is_carried_over_from_the_history() -> None:
    history = [
        Observation(checked_at=DAY.format(1), status="not_found", archived_url="https://w/1")
    ]
    assert judge(check("not_found"), history, now=DAY.format(2)).archived_url == "https://w/1"


# --- check_target over the loopback web and a real archive -----------------------------------

N = "https://news.test"
HOSTILE = '<script>alert("x")</script> & "quotes" \'single\''
CITING = f"""<!DOCTYPE html><html><head><title>Citing story</title>
<meta property="article:published_time" content="2017-03-30T10:00:00Z"></head><body><article>
<h1>Citing story</h1>
<p>The first paragraph cites <a href="{N}/2017/03/ok-story">a real story</a>, words enough.</p>
<p>The second cites <a href="{N}/2017/03/missing">{html.escape(HOSTILE)}</a>, which is dead,
and <a href="{N}/2017/03/down">a flaky one</a> that answers 503.</p>
</article></body></html>"""


@pytest.fixture(scope="module")
def news_web() -> Iterator[LinkWeb]:
    pages = {
        **{k: v for k, v in WEB_PAGES.items() if k.startswith(N)},
        f"{N}/2017/03/citing": Answer(body=CITING),
    }
    with LinkWeb(pages, address="127.0.0.4") as web:
        yield web


def test_suspect_turns_broken_on_the_third_day(tmp_path: Path, news_web: LinkWeb) -> None:
    with (
        Archive(str(tmp_path / "a.db")) as archive,
        Fetcher(TEST_POLICY, routes=news_web.routes) as f,
    ):
        runs = [
            check_target(f"{N}/2017/03/citing", fetcher=f, archive=archive, now=DAY.format(d))
            for d in (1, 2, 3)
        ]
        by_day = [{c.url: c for c in run.checks} for run in runs]
        flaky = [day[f"{N}/2017/03/down"] for day in by_day]
        assert [c.status for c in flaky] == ["server_error"] * 3
        assert [c.broken for c in flaky] == [False, False, True]
        assert flaky[2].since == DAY.format(1)
        assert all(day[f"{N}/2017/03/missing"].broken for day in by_day)
        assert runs[0].published == "2017-03-30T10:00:00Z"

        (rot,) = rot_report(archive)
    assert rot.source == f"{N}/2017/03/citing"
    assert {c.url: c.since for c in rot.broken} == {
        f"{N}/2017/03/missing": DAY.format(1),
        f"{N}/2017/03/down": DAY.format(1),
    }
    assert rot_summary([rot])["broken"] == 2


def test_broken_links_get_the_archived_copy_nearest_publication(
    tmp_path: Path, news_web: LinkWeb
) -> None:
    from archiver.links.wayback import Wayback

    with responses.RequestsMock() as rsps:
        rsps.add_passthru(f"http://{news_web.address}")
        rsps.add(
            responses.GET,
            "http://wayback.test/wayback/available",
            json={"archived_snapshots": {"closest": {
                "status": "200", "available": True,
                "url": "http://wayback.test/web/20170329000000/" + f"{N}/2017/03/missing"}}},
        )  # fmt: skip
        with (
            Archive(str(tmp_path / "a.db")) as archive,
            Fetcher(TEST_POLICY, routes=news_web.routes) as fetcher,
            Wayback(base_url="http://wayback.test", min_interval=0) as wayback,
        ):
            result = check_target(
                f"{N}/2017/03/citing", fetcher=fetcher, archive=archive, wayback=wayback
            )
        lookups = [c.request.url for c in rsps.calls if "wayback.test" in (c.request.url or "")]
    missing = next(c for c in result.checks if c.url.endswith("/missing"))
    assert missing.archived_url == f"http://wayback.test/web/20170329000000/{N}/2017/03/missing"
    assert len(lookups) == 1 and "timestamp=20170330100000" in lookups[0]  # broken links only


# --- the command line: links and report linkrot ------------------------------------------------


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def routes(web: LinkWeb) -> list[str]:
    out: list[str] = []
    for host, address in web.routes.items():
        out += ["--connect-to", f"{host}={address}"]
    return out


FAST = ["--per-host-rate", "200", "--timeout", "2"]


@pytest.mark.slow
def test_links_command_json_and_report_linkrot_formats(tmp_path: Path, news_web: LinkWeb) -> None:
    db = str(tmp_path / "a.db")
    code, out = run("--db", db, "links", f"{N}/2017/03/citing", "--json", *FAST, *routes(news_web))
    assert code == 1, out
    doc = json.loads(out)
    assert doc["source"] == f"{N}/2017/03/citing"
    assert doc["summary"] == {"not_found": 1, "ok": 1, "server_error": 1}
    keys = {"url", "text", "status", "broken", "http_status", "final_url", "redirects",
            "archived_url", "detail"}  # fmt: skip
    assert all(keys <= set(link) for link in doc["links"])
    assert next(x for x in doc["links"] if x["status"] == "not_found")["text"] == HOSTILE

    code, out = run("--db", db, "report", "linkrot", "--json")
    assert code == 1
    report = json.loads(out)
    (article_rot,) = report["articles"]
    assert [x["status"] for x in article_rot["broken"]] == ["not_found"]
    assert [x["status"] for x in article_rot["suspects"]] == ["server_error"]
    assert article_rot["broken"][0]["since"]

    html_file = tmp_path / "rot.html"
    code, _ = run("--db", db, "report", "linkrot", "--format", "html", "-o", str(html_file))
    page = html_file.read_text(encoding="utf-8")
    assert code == 1
    assert "<script>" not in page and 'alert("x")' not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<link" not in page and "src=" not in page  # one self-contained file

    code, out = run("--db", db, "report", "linkrot", "--format", "md")
    assert "<script>" not in out and f"<{N}/2017/03/missing>" in out
    code, out = run("--db", db, "report", "linkrot", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["status"] for r in rows] == ["not_found", "server_error"]
    assert rows[0]["text"] == HOSTILE and rows[0]["since"]


@pytest.mark.slow
def test_links_html_report_escapes_hostile_text(tmp_path: Path, news_web: LinkWeb) -> None:
    db = str(tmp_path / "a.db")
    code, out = run("--db", db, "links", f"{N}/2017/03/citing", "--format", "html",
                    *FAST, *routes(news_web))  # fmt: skip
    assert code == 1
    assert "<script>" not in out
    assert re.search(r"<td>&lt;script&gt;alert\(&quot;x&quot;\)", out)


def test_hostile_urls_never_become_links_in_html() -> None:
    from archiver.links.rotreport import ArticleRot

    evil = LinkCheck(
        url='javascript:alert(1)"><img src=x onerror=alert(2)>',
        text="<b onmouseover=alert(3)>x</b>",
        status="not_found",
        broken=True,
        archived_url='https://w.example/"><script>alert(4)</script>',
        detail="<iframe>",
    )
    rot = ArticleRot(source="https://a.example/<x>", checked_at="t", links=1, broken=(evil,),
                     suspects=())  # fmt: skip
    page = format_linkrot([rot], rot_summary([rot]), "html")
    for raw in ("<img", "<script>", "<b ", "<iframe>", "<x>", 'href="javascript'):
        assert raw not in page
    markdown = format_linkrot([rot], rot_summary([rot]), "md")
    for raw in ("<img", "<script>", "<b ", "<iframe>", "<x>"):
        assert raw not in markdown
    assert "<https://w.example/%22%3E%3Cscript%3Ealert(4)%3C/script%3E>" in markdown
    links_md = format_links("https://a.example/", [evil], "md")
    for raw in ("<img", "<script>", "<b ", "<iframe>"):
        assert raw not in links_md


@pytest.mark.slow
def test_report_on_an_empty_archive_and_links_offline(tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    with Archive(db):
        pass
    code, out = run("--db", db, "report", "linkrot", "--json")
    assert code == 0 and json.loads(out)["summary"]["broken"] == 0
    # nothing answers: no verdict and exit 3, one line, no traceback
    address = f"127.0.0.4:{_closed_port('127.0.0.4')}"
    code, out = run("--db", db, "links", "https://nowhere.test/a", "--timeout", "0.5",
                    "--connect-to", f"nowhere.test={address}")  # fmt: skip
    assert code == 3 and "network" in out and "Traceback" not in out


@pytest.mark.slow
def test_wayback_lookup_off_in_replays_unless_pointed(tmp_path: Path, news_web: LinkWeb) -> None:
    """With --connect-to and no --wayback-url, no request may leave for archive.org."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru(f"http://{news_web.address}")
        code, _ = run("--db", str(tmp_path / "a.db"), "links", f"{N}/2017/03/citing",
                      *FAST, *routes(news_web))  # fmt: skip
        assert code == 1
        assert not [c for c in rsps.calls if "archive.org" in (c.request.url or "")]


@pytest.mark.slow
def test_links_of_a_stored_capture_and_bad_wayback_url(tmp_path: Path, news_web: LinkWeb) -> None:
    db = str(tmp_path / "a.db")
    code, out = run("--db", db, "snapshot", f"{N}/2017/03/citing", "--no-links", "--json",
                    *FAST, *routes(news_web))  # fmt: skip
    assert code == 0, out
    capture_id = json.loads(out)["snapshots"][0]["capture_id"]
    code, out = run("--db", db, "links", str(capture_id), "--json", *FAST, *routes(news_web))
    assert code == 1
    assert json.loads(out)["summary"] == {"not_found": 1, "ok": 1, "server_error": 1}
    code, out = run("--db", db, "links", "999", *FAST)
    assert code == 2 and "no capture with id 999" in out
    code, out = run("--db", db, "links", f"{N}/x", "--wayback-url", "ftp://x", *FAST)
    assert code == 2 and "Wayback URL" in out and "Traceback" not in out


@pytest.mark.slow
def test_verify_turns_a_persistent_suspect_broken(tmp_path: Path, connect_to: list[str]) -> None:
    """Two earlier days of 503 in the archive, and today's 503 makes three: broken."""
    from tests.conftest import SEED, SEED_URL

    flaky = "https://www.bellingcat.com/news/2017/03/20/bulgaria-russian-consultants/"
    db = str(tmp_path / "a.db")
    earlier = [check("server_error", url=flaky)]
    with Archive(db) as archive:
        for day in ("2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z"):
            archive.save_link_checks(earlier, source_url=SEED_URL, checked_at=day)
    code, out = run("--db", db, "verify", str(SEED), "--json", *FAST, *connect_to)
    assert code == 1
    links = {x["url"]: x for x in json.loads(out)["results"][0]["links"]}
    assert links[flaky]["status"] == "server_error"
    assert links[flaky]["broken"] is True
    assert links[flaky]["since"] == "2020-01-01T00:00:00Z"


def test_csv_cells_from_the_web_cannot_become_formulas() -> None:
    from archiver.models import LinkCheck
    from archiver.report.links import format_links

    check = LinkCheck(
        url="https://example.org/a",
        text='=HYPERLINK("https://evil.example","click")',
        status="ok",
        broken=False,
        detail="@SUM(A1)",
    )
    rows = format_links("https://example.org/", [check], "csv").splitlines()
    assert "'=HYPERLINK" in rows[1] and "'@SUM" in rows[1]
    assert ",=" not in rows[1] and ",@" not in rows[1]

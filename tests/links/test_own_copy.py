"""The archive's own capture is the first archived copy of a link that died (issue 17).

A source is captured alive by one ``links`` run; later it answers 404. The next ``links`` and
``report linkrot`` give the archive's own capture as its archived copy, with the web archives
unreachable (a Wayback stand-in on a closed port), and say which copy it is and when.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from tests.linkrot_web import Answer, LinkWeb, article
from tests.links.test_linkcheck import _closed_port

N = "https://news.test"
SOURCE = f"{N}/2017/03/cited-report"
CITING = f"""<!DOCTYPE html><html><head><title>Citing story</title>
<meta property="article:published_time" content="2017-03-30T10:00:00Z"></head><body><article>
<h1>Citing story</h1><p>The story cites <a href="{SOURCE}">the cited report</a> and words
enough around it to be a paragraph of an article.</p></article></body></html>"""


def _web(source: Answer) -> LinkWeb:
    pages = {f"{N}/2017/03/citing": Answer(body=CITING), SOURCE: source}
    return LinkWeb(pages, address="127.0.0.6")


def _links(db: Path, web: LinkWeb, *extra: str) -> tuple[int, dict]:
    routes = [f"--connect-to=news.test={web.address}"]
    result = CliRunner().invoke(
        cli,
        [
            "--db",
            str(db),
            "links",
            f"{N}/2017/03/citing",
            "--json",
            "--timeout",
            "2",
            *routes,
            *extra,
        ],
        catch_exceptions=False,
    )
    return result.exit_code, json.loads(result.output)


@pytest.mark.slow
def test_a_source_captured_alive_then_dead_gets_the_archives_own_capture(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    with _web(article("The cited report", "What the report said, in full. " * 10)) as web:
        code, first = _links(db, web)
    assert code == 0 and first["links"][0]["status"] == "ok"

    down = f"http://127.0.0.6:{_closed_port('127.0.0.6')}"  # the web archives: unreachable
    with _web(Answer(status=404, body="<title>Not Found</title>")) as web:
        code, second = _links(db, web, "--wayback-url", down)
    (link,) = second["links"]
    assert code == 1 and link["status"] == "not_found" and link["broken"]
    assert link["archived_url"].startswith("urn:archiver:capture:")
    capture_id = int(link["archived_url"].rsplit(":", 1)[1])
    assert link["archived_copies"][0]["archive"] == "archiver"
    assert f"this archive's capture {capture_id} of 20" in link["detail"]

    result = CliRunner().invoke(cli, ["--db", str(db), "report", "linkrot", "--format", "json"])
    (article_rot,) = json.loads(result.output)["articles"]
    (broken,) = article_rot["broken"]
    assert broken["archived_url"] == link["archived_url"]
    # the capture it names is the page as it was alive
    shown = CliRunner().invoke(
        cli,
        [
            "--db",
            str(db),
            "query",
            "--format",
            "json",
            f"select status, url from captures where id = {capture_id}",
        ],
    )
    assert json.loads(shown.output) == [{"status": 200, "url": SOURCE}]

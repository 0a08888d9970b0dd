"""A login wall is `blocked` (a suspect) in `links`, `verify` and scheduled runs alike: every job
classifies through links.check.classify, over one loopback news web."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from archiver.archive.store import Archive
from archiver.cli import cli
from archiver.runs.config import load_config
from archiver.runs.run import run
from tests.run_web import Answer, NewsWeb, article, source_page, write_config

WALLED = "https://sources.test/members/report-7"
OPEN = "https://sources.test/doc-7"


def _site(web: NewsWeb, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    url, markdown, page = article(7, "news.test", [(OPEN, "document 7"), (WALLED, "report 7")])
    path = folder / "story-00007.md"
    path.write_text(markdown, encoding="utf-8")
    web.add(url, Answer(body=page))
    web.add(OPEN, Answer(body=source_page("Document 7")))
    web.add(WALLED, Answer(status=302, location="https://sources.test/account/signin"))
    web.add("https://sources.test/account/signin", Answer(body=source_page("Sign in")))
    return path


def test_login_walls_are_blocked_in_links_verify_and_runs(tmp_path: Path) -> None:
    with NewsWeb(address="127.0.0.12") as web:
        copy = _site(web, tmp_path / "copies")
        routes = [arg for route in web.routes() for arg in ("--connect-to", route)]
        fast = ["--per-host-rate", "200", "--timeout", "5"]
        runner = CliRunner()
        links = runner.invoke(
            cli,
            ["--db", str(tmp_path / "l.db"), "links", str(copy), "--json", *routes, *fast],
        )
        verify = runner.invoke(
            cli, ["--db", str(tmp_path / "v.db"), "verify", str(copy), "--json", *routes, *fast]
        )
        config = load_config(
            str(write_config(tmp_path / "a.toml", web, '[[sources]]\ncanonical = "copies"\n'))
        )
        ran = run(config, db_path=str(tmp_path / "r.db"))
    by_links = {c["url"]: c for c in json.loads(links.output)["links"]}
    by_verify = {c["url"]: c for c in json.loads(verify.output)["results"][0]["links"]}
    with Archive(str(tmp_path / "r.db")) as archive:
        stored = {
            r.url: {"status": r.status, "broken": r.broken} for r in archive.latest_link_checks()
        }
    for seen in (by_links, by_verify, stored):
        assert seen[WALLED]["status"] == "blocked" and not seen[WALLED]["broken"]
        assert seen[OPEN]["status"] == "ok"
    assert links.exit_code == 0 and verify.exit_code == 0  # a suspect is not a broken link
    assert ran.to_json()["links"] == {"blocked": 1, "ok": 1}

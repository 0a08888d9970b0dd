"""``links URL`` on a page that is not an article says so; ``--all`` checks every link on it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from archiver.cli import cli
from tests.linkrot_web import Answer, LinkWeb, article

N = "https://news.test"
STORIES = [f"{N}/2017/03/{n:02d}/story-{n}" for n in range(1, 13)]
FRONT = (
    "<!doctype html><html><head><title>News Test — the front page</title></head><body>"
    "<nav><a href='/politics'>Politics</a> <a href='/business'>Business</a></nav><main><ul>"
    + "".join(
        f"<li><a href='{url}'>Headline number {i} of today</a></li>"
        for i, url in enumerate(STORIES, 1)
    )
    + "</ul></main><footer><a href='/about'>About us</a></footer></body></html>"
)


def _web() -> LinkWeb:
    pages = {
        f"{N}/": Answer(body=FRONT),
        f"{N}/politics": article("Politics", "Section."),
        f"{N}/business": article("Business", "Section."),
        f"{N}/about": article("About", "Us."),
    }
    pages.update(
        {url: article(f"Story {url[-1]}", "A story told in full. " * 20) for url in STORIES}
    )
    return LinkWeb(pages, address="127.0.0.7")


def _links(tmp_path: Path, web: LinkWeb, *extra: str) -> tuple[int, dict, str]:
    result = CliRunner().invoke(
        cli,
        [
            "--db",
            str(tmp_path / "a.db"),
            "links",
            f"{N}/",
            "--json",
            "--per-host-rate",
            "200",
            "--timeout",
            "2",
            f"--connect-to=news.test={web.address}",
            *extra,
        ],
        catch_exceptions=False,
    )
    return result.exit_code, json.loads(result.stdout), result.stderr


def test_a_front_page_says_it_is_not_an_article_and_all_checks_every_link(tmp_path: Path) -> None:
    with _web() as web:
        _, plain, said = _links(tmp_path, web)
        code, every, said_all = _links(tmp_path, web, "--all")
    assert "is not an article" in said and "--all checks every link" in said and "others on" in said
    assert said_all == ""
    checked = {link["url"] for link in every["links"]}
    assert set(STORIES) <= checked and f"{N}/politics" in checked and f"{N}/about" in checked
    assert len(every["links"]) == len(STORIES) + 3 and code == 0
    assert len(plain["links"]) < len(every["links"])

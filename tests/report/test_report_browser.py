"""HTML reports in a real browser: hostile page text is shown as text and never runs.

Headless Chromium (Debian's ``chromium`` package) loads the reports the CLI wrote from a page and
a canonical copy full of markup; the DOM it ends with must show that markup as text, with the
document's title untouched and no element the page smuggled in. Skipped, saying why, where
Chromium is not installed (``.ci/run`` installs it where it can).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.testserver import Page, Site, SiteServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium not installed (apt-get install chromium)"
)

URL = "https://hostile.example/2024/01/01/story"
EVIL = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
PAGE = (
    "<!DOCTYPE html><html><head><title>A story</title></head><body><article><h1>A story</h1>"
    "<p>The first paragraph of a story with enough words in it to be read as the body of "
    "an article by any extractor.</p>"
    f"<p>The second paragraph now quotes {EVIL.replace('<', '&lt;').replace('>', '&gt;')} "
    'and links <a href="https://hostile.example/x?a=&quot;&gt;&lt;script&gt;">'
    "&lt;script&gt;alert(1)&lt;/script&gt;</a> too.</p>"
    "</article></body></html>"
)
COPY = (
    "# A story\n\n"
    "The first paragraph of a story with enough words in it to be read as the body of an "
    "article by any extractor.\n\n"
    "The second paragraph said something else entirely, with a [link](#).\n\n"
    f"Original url: <{URL}>\n"
)
BROWSER_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def rendered_dom(html_file: Path, profile: Path) -> str:
    """The DOM after Chromium loaded the file and ran whatever it would run."""
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, *BROWSER_FLAGS, f"--user-data-dir={profile}", "--dump-dom", html_file.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


@pytest.mark.slow
def test_reports_show_hostile_text_as_text(tmp_path: Path) -> None:
    site = Site()
    site.add(Page(url=URL, body=PAGE.encode("utf-8")))
    copy = tmp_path / "story.md"
    copy.write_text(COPY, encoding="utf-8")
    db = str(tmp_path / "a.db")
    with SiteServer(site, host="127.0.0.2") as server:
        routes = server.connect_to_options()
        runner = CliRunner()
        verify = runner.invoke(cli, ["--db", db, "verify", str(copy), *routes])
        assert verify.exit_code == 1, verify.output  # edited, and the link is a placeholder
        reports = {
            "drift": ["report", "drift", "--format", "html"],
            "linkrot": ["report", "linkrot", "--format", "html"],
            "links": ["links", URL, "--format", "html", "--no-archive-lookup", *routes],
        }
        for name, args in reports.items():
            out = tmp_path / f"{name}.html"
            result = runner.invoke(cli, ["--db", db, *args, "-o", str(out)])
            assert result.exit_code in (0, 1), result.output
            assert out.exists()

    for name in reports:
        html = (tmp_path / f"{name}.html").read_text(encoding="utf-8")
        assert "<script" not in html.lower(), name  # escaped in the file itself
        dom = rendered_dom(tmp_path / f"{name}.html", tmp_path / f"profile-{name}")
        assert "pwned" not in dom.split("</title>")[0], name  # the title was never rewritten
        assert "<script" not in dom.lower(), name
        assert "<img" not in dom.lower(), name  # no element the page smuggled in
    drift_dom = rendered_dom(tmp_path / "drift.html", tmp_path / "profile-drift-2")
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in drift_dom
    assert "<img" not in drift_dom


@pytest.mark.slow
def test_rot_curve_and_copies_render_and_hostile_titles_stay_text(tmp_path: Path) -> None:
    from archiver.links.rotreport import ArticleRot, rot_curve, rot_summary
    from archiver.models import ArchivedCopy, LinkCheck
    from archiver.report.links import format_linkrot, format_links

    copy = ArchivedCopy(
        archive="archiver", url="urn:archiver:capture:3", datetime="2024-01-02T03:04:05Z"
    )
    memento = ArchivedCopy(archive=EVIL, url=f"https://w.example/{EVIL}", datetime=EVIL)
    gone = LinkCheck(
        url=f"https://hostile.example/{EVIL}", text=EVIL, status="not_found", broken=True,
        final_url="https://hostile.example/b", redirects=("https://hostile.example/a", "https://hostile.example/b"),
        archived_url=copy.url, archived_copies=(copy, memento), moved_to=f"https://m.example/{EVIL}",
    )  # fmt: skip
    articles = [
        ArticleRot(source=f"https://hostile.example/{year}", checked_at="t", links=4,
                   broken=(gone,) * broken, suspects=(), title=EVIL, published_year=year)
        for year, broken in ((2016, 3), (2021, 1), (None, 2))
    ]  # fmt: skip
    pages = {
        "rot": format_linkrot(articles, rot_summary(articles), "html", curve=rot_curve(articles)),
        "links": format_links(URL, [gone], "html"),
    }
    for name, html in pages.items():
        (tmp_path / f"{name}.html").write_text(html, encoding="utf-8")
        assert "<script" not in html.lower() and "<img" not in html.lower(), name
        dom = rendered_dom(tmp_path / f"{name}.html", tmp_path / f"profile-{name}")
        assert "pwned" not in dom.split("</title>")[0], name
        assert "<script" not in dom.lower() and "<img" not in dom.lower(), name
        assert "this archive's capture 3 of 2024-01-02 03:04 UTC" in dom.replace("&#x27;", "'")
    dom = rendered_dom(tmp_path / "rot.html", tmp_path / "profile-rot-2")
    (svg,) = re.findall(r"<svg.*?</svg>", dom, flags=re.S)
    assert len(re.findall(r"<rect\b", svg)) == 3  # 2016, 2021 and the unknown year
    assert "2016: 3 of 4 cited links broken (75%)" in svg
    assert dom.count("<h2>&lt;script&gt;document.title='pwned'&lt;/script&gt;") == 3

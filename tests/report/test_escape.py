"""One escaper per target (archiver.report.escape), used everywhere; the reports are pure."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from archiver.report.escape import (
    csv_cell,
    csv_text,
    html_link,
    html_text,
    md_cell,
    md_fence,
    md_url,
    terminal,
    terminal_line,
)
from tests.conftest import ROOT

HOSTILE = "a\x1b[2Jb\x1b]0;pwned\x07c\rd\te\u202eevil\u2028f\x9bg\ud800h"


def test_terminal_keeps_lines_and_drops_every_control() -> None:
    assert terminal(HOSTILE + "\nnext") == "a[2Jb]0;pwnedcdeevilfgh\nnext"
    assert terminal(None) == ""
    assert terminal("Старый друг — «цитата»\u00a0ok") == "Старый друг — «цитата»\u00a0ok"


def test_terminal_line_shows_controls_and_stays_on_one_line() -> None:
    shown = terminal_line(HOSTILE + "\nnext")
    assert shown == (
        "a\\x1b[2Jb\\x1b]0;pwned\\x07c\\x0dd\\x09e\\u202eevil\\u2028f\\x9bg\\ud800h\\x0anext"
    )
    assert shown.isprintable()
    shown.encode("utf-8")  # a lone surrogate cannot crash the terminal's encoder any more
    assert terminal_line(None) == "" and terminal_line(b"\x00\x01") == "<2 bytes>"
    assert terminal_line("\x1b" * 500, limit=3) == "\\x1b" * 3  # cut before, never mid-escape


def test_html_escapes_quotes_and_links_only_the_web() -> None:
    assert html_text('<a href="x">\'</a>&') == "&lt;a href=&quot;x&quot;&gt;&#x27;&lt;/a&gt;&amp;"
    assert html_link("javascript:alert(1)") == "javascript:alert(1)"
    assert html_link('https://a.example/"><script>').startswith(
        '<a href="https://a.example/&quot;&gt;&lt;script&gt;"'
    )
    assert html_link(None) == ""


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_never_start_a_formula(start: str) -> None:
    assert csv_cell(start + "SUM(A1)") == "'" + start + "SUM(A1)"


def test_csv_writer_protects_every_text_cell_and_keeps_numbers() -> None:
    text = csv_text(
        ["=header", "n", "x", "b", "d"],
        [["=1+1", -5, None, b"\x00", {"k": 1}], {"=header": "@x", "n": 2.5, "extra": "dropped"}],
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["'=header", "n", "x", "b", "d"],
        ["'=1+1", "-5", "", "<1 bytes>", "{'k': 1}"],
        ["'@x", "2.5", "", "", ""],
    ]
    assert "dropped" not in text and text.endswith("\n") and "\r" not in text


def test_markdown_cell_cannot_carry_markup() -> None:
    cell = md_cell("<img src=x> [t](javascript:x) *b* `c` | d\ne # f_g")
    assert "<" not in cell and "\n" not in cell
    assert "\\[t\\](javascript:x)" in cell and "\\|" in cell and "\\*b\\*" in cell
    assert "\\`c\\`" in cell and "\\_" in cell
    assert md_url('https://a/"><x>') == "<https://a/%22%3E%3Cx%3E>"
    assert md_url("javascript:alert(1)") == "`javascript:alert(1)`"
    fenced = md_fence("````\x1b[2J")
    assert fenced.startswith("`````text\n") and "\x1b" not in fenced


def test_report_modules_are_pure_formatters() -> None:
    """No click, no archive, no fetcher: the reports format records; the CLI writes them."""
    code = (
        "import sys\n"
        "import archiver.report.links, archiver.report.drift, archiver.report.escape\n"
        "bad = ('click', 'archiver.archive.store', 'archiver.fetch.fetcher', 'requests',"
        " 'sqlite_utils', 'archiver.cli')\n"
        "print(','.join(m for m in bad if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_no_other_escaper_in_the_writers() -> None:
    """The CLI, the reports and the run's console escape only through report/escape.py."""
    pattern = re.compile(
        r"html\.escape\(|\.isprintable\(|csv\.(writer|DictWriter)\(|def _(printable|clean_text"
        r"|safe|md_cell|md_text|md_inline|fence)\b|click\.style\("
    )
    offenders = []
    for folder in ("cli", "report", "runs"):
        for path in sorted((ROOT / "archiver" / folder).glob("*.py")):
            if path.name == "escape.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


# -- the contract in the project itself --------------------------------------------------------

SHARED = next(
    (
        p / "shared" / "CONTRACT.md"
        for p in (ROOT.parent, ROOT.parent.parent)
        if (p / "shared" / "CONTRACT.md").is_file()
    ),
    ROOT / "no-shared",
)
CONTRACT = ROOT / "docs" / "contract.md"


def test_the_contract_is_in_the_project() -> None:
    text = CONTRACT.read_text(encoding="utf-8")
    first, _, body = text.partition("\n\n")
    assert "contract scripts rely on" in first
    assert body.startswith("# The command-line contract of `archiver`")
    if SHARED.is_file():  # in the working tree beside ../shared: word for word
        assert body == SHARED.read_text(encoding="utf-8")


#: Lines other helpers own, left for them to change (fetch_options belongs to the fetch work).
KNOWN = {'"""The options every fetching command takes (CONTRACT.md, Global)."""'}


def test_every_pointer_at_the_contract_names_docs_contract_md() -> None:
    stale = []
    places = [ROOT / "README.md", ROOT / "Makefile", *ROOT.glob("docs/*.md")]
    places += ROOT.glob("archiver/**/*.py")
    for path in places:
        if path == CONTRACT:
            continue
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if (
                re.search(r"(?<![\w/])CONTRACT\.md|shared/CONTRACT", line)
                and line.strip() not in KNOWN
            ):
                stale.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert stale == []

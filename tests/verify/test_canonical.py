from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from archiver.errors import CanonicalError, InputError
from archiver.models import CanonicalCopy
from archiver.verify.canonical import (
    find_canonical_files,
    parse_canonical,
    parse_date,
    read_canonical,
)


def test_seed_fields(seed_copy: CanonicalCopy) -> None:
    assert seed_copy.title == (
        "Trump, Le Pen and Other Fleeting Relationships: Is the Russian Scare Real?"
    )
    assert seed_copy.subtitle is not None and seed_copy.subtitle.startswith("Putin prefers")
    assert seed_copy.authors == ("Andrei Babitsky",)
    assert seed_copy.published == "2017-03-30"
    assert seed_copy.caption == (
        "Marine Le Pen visiting the Kremlin on the invitation of Russian parliamentarians."
    )
    assert seed_copy.credits == "Kremlin Press Service"
    assert seed_copy.url.endswith("-a57583")
    assert seed_copy.disclaimer is not None and "views expressed" in seed_copy.disclaimer


def test_seed_body_and_links(seed_copy: CanonicalCopy) -> None:
    assert seed_copy.paragraphs[0].startswith("There is a fashionable line of thought")
    assert seed_copy.paragraphs[-1].startswith("Related article:")
    assert "Link:" in seed_copy.paragraphs
    assert not any("views expressed" in p for p in seed_copy.paragraphs)
    assert not any("Original url" in p for p in seed_copy.paragraphs)
    # The copy splits one paragraph mid-sentence; the parser keeps what the copy says.
    assert any(p.endswith("Putin seems to draw no") for p in seed_copy.paragraphs)
    assert len(seed_copy.links) == 13
    assert all(link.url == "#" for link in seed_copy.links)
    assert seed_copy.links[0].text == "Andrei Babitsky"
    assert (
        seed_copy.links[-1].text == "French Presidential Hopeful Le Pen Meets Putin on Russia Trip"
    )


def test_front_matter_url() -> None:
    copy = parse_canonical(
        "---\nurl: https://example.org/a\ntitle: A title\nauthors: [A, B]\ndate: 2020-01-02\n---\n"
        "First paragraph.\n\nSecond [link](https://example.org/b).\n"
    )
    assert copy.url == "https://example.org/a"
    assert copy.title == "A title"
    assert copy.authors == ("A", "B")
    assert copy.published == "2020-01-02"
    assert copy.paragraphs == ("First paragraph.", "Second link.")
    assert copy.links[0].url == "https://example.org/b"


def test_copy_lacking_parts() -> None:
    copy = parse_canonical("Just a body.\n\nOriginal url: <https://example.org/x>\n")
    assert copy.title is None and copy.authors == () and copy.published is None
    assert copy.paragraphs == ("Just a body.",)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("# Title\n\nBody only.\n", "no original URL"),
        ("Body.\n\nOriginal url: <ftp://example.org/x>\n", "not an http(s) URL"),
        ("---\nurl: [unclosed\n---\nBody\n", "front matter is not valid YAML"),
        ("---\nurl: https://example.org\nBody\n", "never closed"),
        ("---\n- a list\n---\nBody\n", "not a mapping"),
    ],
)
def test_unreadable_copies_name_the_problem(text: str, problem: str) -> None:
    with pytest.raises(CanonicalError, match=re.escape(problem)):
        parse_canonical(text, path="x.md")


def test_read_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_canonical(tmp_path / "missing.md")
    binary = tmp_path / "b.md"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(CanonicalError, match="binary"):
        read_canonical(binary)
    latin = tmp_path / "l.md"
    latin.write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(CanonicalError, match="not UTF-8"):
        read_canonical(latin)


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("March 30, 2017", "2017-03-30"),
        ("Mar. 30, 2017", "2017-03-30"),
        ("30 March 2017", "2017-03-30"),
        ("Updated: March 30, 2017 19:15", "2017-03-30"),
        ("2017-03-30", "2017-03-30"),
        ("not a date", None),
    ],
)
def test_parse_date(text: str, iso: str | None) -> None:
    assert parse_date(text) == iso


def test_find_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("x")
    (tmp_path / "a.md").write_text("x")
    (tmp_path / "c.txt").write_text("x")
    found = find_canonical_files([str(tmp_path)])
    assert [Path(f).name for f in found] == ["a.md", "b.md"]


def test_line_endings_and_bom_do_not_change_the_parse(seed_copy: CanonicalCopy) -> None:
    from tests.conftest import SEED

    text = SEED.read_text(encoding="utf-8")
    crlf = parse_canonical("\ufeff" + text.replace("\n", "\r\n"), path=seed_copy.path)
    assert crlf == seed_copy


def test_parse_cache_round_trip(seed_copy: CanonicalCopy) -> None:
    from archiver.verify.canonical import copy_from_json, copy_to_json

    again = copy_from_json(copy_to_json(seed_copy), path="elsewhere.md")
    assert again == replace(seed_copy, path="elsewhere.md")


def test_byline_with_several_authors_and_same_line_url() -> None:
    copy = parse_canonical(
        "# Title\n\nA subtitle.\n\nBy Anna Smith and Boris Ivanov\n\n30 March 2017\n\n"
        "The body.\n\nOriginal url: <https://example.org/a>\n"
    )
    assert copy.authors == ("Anna Smith", "Boris Ivanov")
    assert copy.subtitle == "A subtitle."
    assert copy.published == "2017-03-30"
    assert copy.url == "https://example.org/a"
    assert copy.paragraphs == ("The body.",)

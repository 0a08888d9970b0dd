from __future__ import annotations

import json
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


def test_parse_cache_keeps_the_normalized_paragraphs_with_each_text_once(
    seed_copy: CanonicalCopy,
) -> None:
    from archiver.extract.normalize import normalize_text
    from archiver.verify.canonical import copy_and_normalized_from_json, copy_to_json

    curly = replace(seed_copy, paragraphs=(*seed_copy.paragraphs, "It\u2019s \u201cfolded\u201d"))
    normalized = [normalize_text(p) for p in curly.paragraphs]
    data = copy_to_json(curly, normalized)
    copy, saved = copy_and_normalized_from_json(data, path=curly.path)
    assert copy == curly and saved == normalized
    assert normalized[-1] == 'It\'s "folded"' != curly.paragraphs[-1]
    same = [p for p, n in zip(curly.paragraphs, normalized, strict=True) if p == n]
    assert len(same) > len(curly.paragraphs) // 2  # most paragraphs need no folding ...
    assert all(data.count(json.dumps(p, ensure_ascii=False)) == 1 for p in same)  # ... kept once
    assert data.count('"It\'s \\"folded\\""') == 1  # the folded one is kept too
    # A list that does not pair with the paragraphs is kept as it is, and read back so.
    odd = copy_to_json(curly, normalized[:-1])
    assert copy_and_normalized_from_json(odd, path=curly.path)[1] == normalized[:-1]


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


# -- the shapes people write copies in (issue 12) ------------------------------------------

_URL = "https://www.example.org/2024/05/01/a-story"
_P1 = "One paragraph with [a link](https://src.example/one)."
_P2 = "Another paragraph, citing [a second source](https://src.example/two) too."
_LINKS = {"https://src.example/one", "https://src.example/two"}


def _shapes() -> dict[str, str]:
    tail = f"Original url: <{_URL}>\n"
    return {
        "title-and-body": f"# A Story\n\n{_P1}\n\n{_P2}\n\n{tail}",
        "one-paragraph": f"# A Story\n\n{_P1}\n\n{tail}",
        "subtitle-byline-date": (
            f"# A Story\n\nA subtitle that says more.\n\nBy Ann Lee\n\nMay 1, 2024\n\n"
            f"{_P1}\n\n{_P2}\n\n{tail}"
        ),
        "byline-no-subtitle": f"# A Story\n\nBy Ann Lee\n\n{_P1}\n\n{_P2}\n\n{tail}",
        "date-only": f"# A Story\n\nMay 1, 2024\n\n{_P1}\n\n{_P2}\n\n{tail}",
        "caption": (
            f"# A Story\n\nBy Ann Lee\n\nMay 1, 2024\n\nA harbour at dawn. **Photo Agency**\n\n"
            f"{_P1}\n\n{_P2}\n\n{tail}"
        ),
        "setext": f"A Story\n=======\n\n{_P1}\n\n{_P2}\n\n{tail}",
        "reference-links": (
            "# A Story\n\nOne paragraph with [a link][one].\n\n"
            "Another paragraph, citing [a second source][2] too.\n\n"
            f"{tail}\n[one]: https://src.example/one\n[2]: <https://src.example/two>\n"
        ),
        "url-first": f"Original url: <{_URL}>\n\n# A Story\n\n{_P1}\n\n{_P2}\n",
        "front-matter": f"---\ntitle: A Story\nurl: {_URL}\n---\n\n{_P1}\n\n{_P2}\n",
        "subtitle-as-h2": (
            f"# A Story\n\n## A subtitle that says more\n\nBy Ann Lee\n\n{_P1}\n\n{_P2}\n\n{tail}"
        ),
    }


@pytest.mark.parametrize("shape", sorted(_shapes()))
def test_every_shape_keeps_its_body_and_every_link(shape: str) -> None:
    copy = parse_canonical(_shapes()[shape], path=f"{shape}.md")
    assert copy.url == _URL
    assert copy.title == "A Story"
    body = " ".join(copy.paragraphs)
    assert "One paragraph with a link." in copy.paragraphs
    if shape != "one-paragraph":
        assert "Another paragraph, citing a second source too." in copy.paragraphs
        assert {link.url for link in copy.links} == _LINKS
    else:
        assert [link.url for link in copy.links] == ["https://src.example/one"]
    assert "Original url" not in body and "By Ann Lee" not in body and "May 1, 2024" not in body
    assert "A Story" not in copy.paragraphs


def test_header_fields_of_the_shapes() -> None:
    shapes = {k: parse_canonical(v, path=k) for k, v in _shapes().items()}
    assert shapes["subtitle-byline-date"].subtitle == "A subtitle that says more."
    assert shapes["subtitle-byline-date"].authors == ("Ann Lee",)
    assert shapes["subtitle-byline-date"].published == "2024-05-01"
    assert shapes["subtitle-as-h2"].subtitle == "A subtitle that says more"
    assert shapes["title-and-body"].subtitle is None  # ambiguous: the paragraph is body
    assert shapes["one-paragraph"].subtitle is None
    assert shapes["caption"].caption == "A harbour at dawn."
    assert shapes["caption"].credits == "Photo Agency"
    assert shapes["date-only"].published == "2024-05-01"


def test_links_in_the_header_and_disclaimer_are_kept() -> None:
    text = (
        "# A [Story](https://src.example/title)\n\nBy [Ann Lee](https://src.example/ann)\n\n"
        "May 1, 2024\n\nA harbour. [Agency](https://src.example/agency) **Photo**\n\n"
        f"{_P1}\n\nThe views expressed in opinion pieces are the [author's](https://src.example/d)."
        f"\n\nOriginal url: <{_URL}>\n"
    )
    copy = parse_canonical(text)
    assert [link.url for link in copy.links] == [
        "https://src.example/title",
        "https://src.example/ann",
        "https://src.example/agency",
        "https://src.example/one",
        "https://src.example/d",
    ]

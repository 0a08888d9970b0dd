"""The accuracy gate on real pages: a subset of the corpus in tests/data/accuracy/ (so it runs in
every clone), scored with bench/accuracy.py against the floors of tests/data/accuracy_floor.toml.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bench.accuracy import (
    Scores,
    _key_links,
    l3s_cases,
    main,
    ours,
    replay_cases,
    score_article,
    score_links,
    score_replays,
    wcxb_cases,
)

TESTS = Path(__file__).parent.parent
SUBSET = TESTS / "data" / "accuracy"
FLOORS = tomllib.loads((TESTS / "data" / "accuracy_floor.toml").read_text(encoding="utf-8"))


def _check(figures: dict[str, float], floors: dict[str, float]) -> None:
    for key, floor in floors.items():
        if key.endswith("_max"):
            got = figures[key.removesuffix("_max")]
            assert got <= floor, f"{key.removesuffix('_max')}: {got} defects (at most {floor})"
            continue
        got = figures[key]
        assert got >= floor, f"{key} {got:.3f} fell below its floor {floor}"
        assert got - floor <= 0.05 + 1e-9, f"{key} {got:.3f}: raise the floor {floor}"


def test_wcxb_subset_holds_its_floors() -> None:
    scores = Scores()
    cases = list(wcxb_cases(SUBSET / "wcxb-dev"))
    assert len(cases) == 20
    for case in cases:
        answer = ours(case.data, case.url)
        if case.page_type != "article":
            scores.typed += 1
            scores.type_right += answer.page_type != "article"
            continue
        score_article(case, answer, scores)
    assert scores.pages == 16
    _check(scores.figures(), FLOORS["subset"]["wcxb"])


def test_l3s_subset_holds_its_floors() -> None:
    scores = Scores()
    cases = list(l3s_cases(SUBSET / "l3s-gn1"))
    assert len(cases) == 10
    assert sum(len(case.links) for case in cases) >= 20  # the key links were matched
    for case in cases:
        score_links(case, ours(case.data, case.url), scores)
    _check(scores.figures(), FLOORS["subset"]["l3s"])


def test_wayback_replays_lose_the_toolbar_and_keep_the_text() -> None:
    figures = score_replays(replay_cases(SUBSET / "wayback-captures"))
    assert figures["pages"] == 3
    assert figures["archive_links"] == 0  # every /web/<ts>/<url> link is its original URL
    assert figures["toolbar_shown"] == 0
    _check(figures, FLOORS["subset"]["wayback"])


def test_every_subset_file_has_its_provenance() -> None:
    listed = {
        line.split("\t")[0]
        for line in (SUBSET / "provenance.tsv").read_text(encoding="utf-8").splitlines()[1:]
    }
    files = {
        str(p.relative_to(SUBSET))
        for p in SUBSET.rglob("*")
        if p.is_file() and p.name not in ("provenance.tsv", "README.md")
    }
    assert files <= listed, sorted(files - listed)


def test_full_run_says_plainly_when_the_corpus_is_absent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--corpus", str(tmp_path / "nowhere")]) == 0
    out = capsys.readouterr().out
    assert "corpus not found" in out and "nothing measured" in out


def _key_of(tmp_path: Path, annotated: str, original: bytes) -> frozenset[str]:
    (tmp_path / "a.html").write_text(annotated, encoding="utf-8")
    return _key_links(tmp_path / "a.html", original, "https://news.test/story")


_MARKED = (
    "<html><body><p><span class='x-nc-sel0'><a href='javascript:void(0)'>Home</a></span></p>"
    "<p><span class='x-nc-sel2'>Read </span><a href='javascript:void(0)'><span "
    "class='x-nc-sel2'>Kosovo’s future status</span></a><span class='x-nc-sel2'> and "
    "</span><span class='x-nc-sel2'><a href='javascript:void(0)'><span class='x-nc-sel2'> "
    "</span><img src='icon.gif'></a></span></p></body></html>"
)


def test_l3s_key_link_is_matched_whatever_the_pages_meta_charset_says(tmp_path: Path) -> None:
    """UTF-8 bytes under a Latin-1 <meta>: the page is read as the extractor decodes it, so
    the anchor text matches the annotated copy (lxml re-decoding it by the <meta> made it
    "Kosovoâ€™s" and the key link was lost)."""
    original = (
        "<html><head><meta http-equiv='Content-Type' content='text/html; charset=ISO-8859-1'>"
        "</head><body><p><a href='/'>Home</a></p><p>Read <a href='/kosovo'>Kosovo’s future "
        "status</a> and <a href='/video'><img src='icon.gif'></a></p></body></html>"
    ).encode()
    assert _key_of(tmp_path, _MARKED, original) == {"https://news.test/kosovo"}
    declared = b"<?xml version='1.0' encoding='utf-8'?>\n" + original
    assert _key_of(tmp_path, _MARKED, declared) == {"https://news.test/kosovo"}


def test_l3s_textless_anchor_is_no_key_link(tmp_path: Path) -> None:
    """An icon's anchor inside a full-text span: only the whitespace around it was marked."""
    original = (
        "<html><body><p><a href='/'>Home</a></p><p>Read <a href='/kosovo'>Kosovo’s future "
        "status</a> and <a href='/video'><img src='icon.gif'></a></p></body></html>"
    ).encode()
    assert "https://news.test/video" not in _key_of(tmp_path, _MARKED, original)

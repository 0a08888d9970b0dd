"""justext's stoplist built once: the same words, the same extraction, no set built per page."""

from __future__ import annotations

from pathlib import Path

import justext.core
import pytest
import trafilatura.external

from archiver.extract import stoplist
from archiver.extract.extractor import extract
from tests.run_web import source_page

ROOT = Path(__file__).resolve().parents[2]


def test_the_same_words_built_once_for_an_immutable_stoplist(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[object] = []

    def counting(words: object) -> frozenset[str]:
        calls.append(words)
        return frozenset(w.lower() for w in words)  # type: ignore[attr-defined]

    define = stoplist._once(counting)
    words = ("The", "a", "Und")
    assert define(words) == frozenset({"the", "a", "und"}) == define(words)
    assert define(tuple(words)) == define(words)  # an equal tuple is still its own stoplist
    listed = ["The", "a"]
    assert define(listed) == frozenset({"the", "a"})
    listed.append("Plus")
    assert define(listed) == frozenset({"the", "a", "plus"})  # a list is never kept
    assert [c is words for c in calls].count(True) == 1


def test_extraction_is_the_same_with_the_stoplist_built_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Short pages (justext's fallback runs) and the bundled pages give the same documents."""
    assert getattr(justext.core.define_stoplist, "archiver_once", False)  # extract installed it
    pages = [(f"https://src.test/{n}", source_page(f"Document {n}")) for n in range(3)]
    pages += [
        (f"https://pages.example/{p.stem}", p.read_bytes())
        for p in sorted(ROOT.glob("tests/web/pages/*.html"))
    ]
    once = [extract(body, url=url, content_type="text/html") for url, body in pages]
    seen: list[object] = []
    original = justext.core.define_stoplist.archiver_original

    def every_time(words: object) -> frozenset[str]:
        seen.append(words)
        return original(words)  # type: ignore[no-any-return]

    monkeypatch.setattr(justext.core, "define_stoplist", every_time)
    again = [extract(body, url=url, content_type="text/html") for url, body in pages]
    assert again == once
    assert any(words is trafilatura.external.JT_STOPLIST for words in seen)  # the fallback ran

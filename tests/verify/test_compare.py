"""Drift verdicts, each built from the seed copy and a live document derived from it."""

from __future__ import annotations

from dataclasses import replace

from archiver.extract.normalize import checksum
from archiver.models import CanonicalCopy, Document, Image
from archiver.verify.compare import compare, verdict_without_page, word_diff


def live_from(
    copy: CanonicalCopy, paragraphs: list[str] | None = None, **fields: object
) -> Document:
    """The live document a faithful page of this copy would give, with some fields changed."""
    paras = tuple(paragraphs if paragraphs is not None else copy.paragraphs)
    values: dict[str, object] = {
        "url": copy.url,
        "title": copy.title,
        "subtitle": copy.subtitle,
        "authors": copy.authors,
        "published": f"{copy.published}T19:15:00+03:00",
        "modified": None,
        "paragraphs": paras,
        "links": (),
        "images": (Image(url=None, caption=copy.caption or "", credits=copy.credits or ""),),
        "profile": "moscowtimes",
        "checksum": checksum(paras),
    }
    values.update(fields)
    if "paragraphs" in fields:
        values["checksum"] = checksum(values["paragraphs"])  # type: ignore[arg-type]
    return Document(**values)  # type: ignore[arg-type]


def joined(copy: CanonicalCopy) -> list[str]:
    """The seed's split paragraph joined, as the page shows it."""
    paras = list(copy.paragraphs)
    i = next(i for i, p in enumerate(paras) if p.endswith("draw no"))
    paras[i : i + 2] = [paras[i] + " " + paras[i + 1]]
    return paras


def test_identical_is_unchanged(seed_copy: CanonicalCopy) -> None:
    drift = compare(seed_copy, live_from(seed_copy))
    assert drift.status == "unchanged"
    assert drift.similarity == 1.0
    assert drift.changes == ()
    assert drift.checksum_canonical == drift.checksum_live


def test_paragraph_joined_is_cosmetic(seed_copy: CanonicalCopy) -> None:
    drift = compare(seed_copy, live_from(seed_copy, joined(seed_copy)))
    assert drift.status == "cosmetic"
    assert drift.changes == ()
    assert drift.checksum_canonical == drift.checksum_live


def test_typography_is_cosmetic(seed_copy: CanonicalCopy) -> None:
    paras = [
        p.replace("'", "\u2019").replace('"', "\u201c").replace(" ", "\u00a0", 3)
        for p in seed_copy.paragraphs
    ]
    drift = compare(seed_copy, live_from(seed_copy, paras))
    assert drift.status == "cosmetic"


def test_edited_word_is_found(seed_copy: CanonicalCopy) -> None:
    paras = list(seed_copy.paragraphs)
    paras[2] = paras[2].replace("large-scale violence", "large-scale force")
    drift = compare(seed_copy, live_from(seed_copy, paras))
    assert drift.status == "edited"
    (change,) = drift.changes
    assert (change.kind, change.field) == ("modified", "body")
    assert change.canonical is not None and "violence" in change.canonical
    assert change.live is not None and "force" in change.live
    assert ("-", "violence.") in word_diff(change.canonical, change.live)


def test_removed_and_added_paragraphs(seed_copy: CanonicalCopy) -> None:
    paras = list(seed_copy.paragraphs)
    removed = paras.pop(5)
    paras.insert(9, "An entirely new paragraph about sanctions appeared here overnight.")
    drift = compare(seed_copy, live_from(seed_copy, paras))
    assert drift.status == "edited"
    kinds = {(c.kind, c.canonical or c.live) for c in drift.changes}
    assert ("removed", removed) in kinds
    assert ("added", "An entirely new paragraph about sanctions appeared here overnight.") in kinds


def test_correction_note_is_called_out(seed_copy: CanonicalCopy) -> None:
    paras = [*seed_copy.paragraphs, "Correction: an earlier version misstated the year."]
    drift = compare(seed_copy, live_from(seed_copy, paras))
    assert drift.status == "edited"
    assert drift.changes[-1].note == "correction note appended"


def test_headline_and_byline(seed_copy: CanonicalCopy) -> None:
    live = live_from(seed_copy, title="Is the Russian Scare Real?", authors=("Someone Else",))
    drift = compare(seed_copy, live)
    assert drift.status == "edited"
    assert {c.field for c in drift.changes} == {"title", "authors"}


def test_updated_time_alone_is_not_drift(seed_copy: CanonicalCopy) -> None:
    live = live_from(seed_copy, modified="2026-11-20T10:00:00+03:00")
    assert compare(seed_copy, live).status == "unchanged"


def test_other_publication_date_is_metadata_change(seed_copy: CanonicalCopy) -> None:
    live = live_from(seed_copy, published="2017-04-02T10:00:00+03:00")
    drift = compare(seed_copy, live)
    assert [(c.kind, c.field) for c in drift.changes] == [("metadata", "published")]


def test_rewrite(seed_copy: CanonicalCopy) -> None:
    paras = [f"Completely different paragraph number {i} on another topic." for i in range(20)]
    drift = compare(seed_copy, live_from(seed_copy, paras))
    assert drift.status == "rewritten"
    assert drift.similarity < 0.5


def test_without_page(seed_copy: CanonicalCopy) -> None:
    assert verdict_without_page(seed_copy, "not_found").status == "missing"
    assert verdict_without_page(seed_copy, "soft_404").status == "missing"
    assert verdict_without_page(seed_copy, "server_error").status == "unreachable"
    assert replace(verdict_without_page(seed_copy, "timeout")).checksum_live is None


def test_shortcuts_agree_with_the_normalizer(seed_copy: CanonicalCopy) -> None:
    """compare's reuse of checksums and paragraph hashes must equal normalize's own values."""
    from archiver.extract.extractor import extract_file
    from archiver.extract.normalize import normalize_text, paragraph_hashes
    from archiver.verify.compare import _checksum_of_normalized, live_normalized, paragraph_hash
    from tests.conftest import SEED_PAGE

    live = extract_file(str(SEED_PAGE))
    assert [paragraph_hash(normalize_text(p)) for p in live.paragraphs] == list(
        paragraph_hashes(live.paragraphs)
    )
    normalized = [normalize_text(p) for p in seed_copy.paragraphs]
    assert _checksum_of_normalized(normalized) == checksum(seed_copy.paragraphs)
    edited = replace(
        live,
        paragraphs=(*live.paragraphs[:-1], "Changed \u2014 text."),
        paragraph_hashes=(*live.paragraph_hashes[:-1], paragraph_hash("Changed-text.")),
    )
    assert live_normalized(edited, normalized) == [normalize_text(p) for p in edited.paragraphs]


def test_updated_line_in_the_body_is_not_drift(seed_copy: CanonicalCopy) -> None:
    paras = ["Updated: Nov. 20, 2026 - 10:00", *joined(seed_copy)]
    drift = compare(seed_copy, live_from(seed_copy, paras))
    assert drift.status == "cosmetic" and drift.changes == ()
    # A real sentence that starts with the word stays text.
    paras = ["Updated figures show a sharp rise in 2017.", *seed_copy.paragraphs]
    assert compare(seed_copy, live_from(seed_copy, paras)).status == "edited"


def test_page_without_subtitle_or_image_is_not_an_edit(seed_copy: CanonicalCopy) -> None:
    live = live_from(seed_copy, subtitle=None, images=())
    assert compare(seed_copy, live).status == "unchanged"
    live = live_from(seed_copy, subtitle="A different standfirst entirely.")
    assert [c.field for c in compare(seed_copy, live).changes] == ["subtitle"]
    assert compare(seed_copy, live_from(seed_copy, title=None)).status == "edited"


def test_paragraph_split_is_cosmetic_and_edit_beside_it_is_found(seed_copy: CanonicalCopy) -> None:
    paras = list(seed_copy.paragraphs)
    first = paras[0]
    cut = first.index(" FBI director")
    paras[0:1] = [first[:cut], first[cut + 1 :]]
    assert compare(seed_copy, live_from(seed_copy, paras)).status == "cosmetic"
    paras[1] = paras[1].replace("FBI director", "The FBI director")
    drift = compare(seed_copy, live_from(seed_copy, paras))
    assert drift.status == "edited"
    (change,) = drift.changes
    assert change.kind == "modified" and ("+", "The") in word_diff(
        change.canonical or "", change.live or ""
    )


def test_editors_note_at_the_top_is_called_out(seed_copy: CanonicalCopy) -> None:
    paras = ["Editor's note: this article was updated to clarify a quote.", *seed_copy.paragraphs]
    drift = compare(seed_copy, live_from(seed_copy, paras))
    assert drift.status == "edited"
    assert [(c.kind, c.note) for c in drift.changes] == [("added", "correction note added")]


def test_common_ends_found_a_slice_at_a_time_are_the_word_by_word_ones() -> None:
    """``align`` trims the words two texts share at both ends in slices; the result must be
    exactly what walking them word by word gives, including overlaps and repeated words."""
    import random

    from archiver.verify.compare import _STRIDE, _common_head, _common_tail

    def walked(a: list[str], b: list[str]) -> tuple[int, int]:
        head, limit = 0, min(len(a), len(b))
        while head < limit and a[head] == b[head]:
            head += 1
        tail = 0
        while tail < limit - head and a[len(a) - 1 - tail] == b[len(b) - 1 - tail]:
            tail += 1
        return head, tail

    rng = random.Random(15)
    for _ in range(3000):
        words = [rng.choice("abc") for _ in range(rng.randint(0, 5 * _STRIDE))]
        a, b = list(words), list(words)
        for _ in range(rng.randint(0, 3)):
            if b and rng.random() < 0.5:
                del b[rng.randrange(len(b))]
            else:
                b.insert(rng.randint(0, len(b)), rng.choice("abcd"))
        if rng.random() < 0.3:
            a = a * rng.randint(1, 3)
        head = _common_head(a, b)
        assert (head, _common_tail(a, b, min(len(a), len(b)) - head)) == walked(a, b)


def test_the_matcher_gives_difflibs_blocks_and_opcodes() -> None:
    """``align``'s matcher skips the words ``b`` lacks: the same matches as difflib on word
    lists with few or many words in common, repeated words, empty lists and sub-ranges."""
    import random
    from difflib import SequenceMatcher

    from archiver.verify.compare import _Matcher

    rng = random.Random(7)
    for case in range(3000):
        vocabulary = [f"w{n}" for n in range(rng.choice([2, 3, 5, 20, 200]))]
        a = [rng.choice(vocabulary) for _ in range(rng.randint(0, 60))]
        if case % 3 == 0:  # an edit of a: most words in common
            b = [w if rng.random() < 0.9 else rng.choice(vocabulary) for w in a]
            b = b[rng.randint(0, 3) :] + ["new"] * rng.randint(0, 2)
        else:
            b = [rng.choice(vocabulary) for _ in range(rng.randint(0, 60))]
        ours, theirs = _Matcher(a, b), SequenceMatcher(None, a, b, autojunk=False)
        assert ours.get_opcodes() == theirs.get_opcodes()
        assert ours.get_matching_blocks() == theirs.get_matching_blocks()
        alo, blo = rng.randint(0, len(a)), rng.randint(0, len(b))
        ahi, bhi = rng.randint(alo, len(a)), rng.randint(blo, len(b))
        assert ours.find_longest_match(alo, ahi, blo, bhi) == theirs.find_longest_match(
            alo, ahi, blo, bhi
        )

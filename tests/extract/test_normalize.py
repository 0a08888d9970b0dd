"""Normalization folds typography and nothing else; checksums ignore paragraph reflow."""

from __future__ import annotations

import random
import re
import unicodedata

import pytest

from archiver.extract import normalize
from archiver.extract.normalize import (
    NORMALIZER_VERSION,
    checksum,
    fingerprint,
    normalize_text,
    paragraph_hashes,
)

PLAIN = 'He said "the Russian scare" isn\'t real - and it is a big if.'


@pytest.mark.parametrize(
    "variant",
    [
        "He said “the Russian scare” isn’t real — and it is a big if.",
        "He said „the Russian scare“ isn‘t real – and it is a big if.",
        "He said «the Russian scare» isn't real—and it is a big if.",
        'He\u00a0said "the Russian scare" isn\'t real \u2013 and it is a big\u202fif.',
        'He said "the Rus\u00adsian scare" isn\'t real - and it is a big if.',
        'He said "the Rus\u200bsian sca\u200dre" isn\'t real - and\u2060 it is a big if.',
        '  He said   "the Russian scare"\n isn\'t real -- and it is a big if.  ',
        'Ｈe said "the Russian scare" isn\'t real - and it is a big if.',  # full-width H
    ],
)
def test_typography_folds_to_the_same_text(variant: str) -> None:
    assert normalize_text(variant) == normalize_text(PLAIN)
    assert checksum([variant]) == checksum([PLAIN])


@pytest.mark.parametrize(
    "edited",
    [
        'He said "the Russian scare" is real - and it is a big if.',
        'He said "the russian scare" isn\'t real - and it is a big if.',  # case is content
        'He said "the Russian scare" isn\'t real - and it is a big if!',
        'He said "the Russian scare" isn\'t real - and it is a big ifs.',
    ],
)
def test_word_changes_are_not_folded(edited: str) -> None:
    assert checksum([edited]) != checksum([PLAIN])


def test_cyrillic_letters_are_content() -> None:
    assert normalize_text("всё") != normalize_text("все")
    assert normalize_text("старый\u00a0друг") == "старый друг"


def test_ellipsis_and_ligatures_use_compatibility_forms() -> None:
    assert normalize_text("ﬁne…") == "fine..."


def test_checksum_ignores_paragraph_reflow() -> None:
    joined = ["Putin seems to draw no boundary at all between partners.", "Next one."]
    split = ["Putin seems to draw no", "boundary at all between partners.", "", "Next one."]
    assert checksum(joined) == checksum(split)
    assert checksum(joined).startswith("sha256:") and len(checksum(joined)) == 7 + 64


def test_checksum_sees_order_and_words() -> None:
    assert checksum(["a b", "c d"]) != checksum(["c d", "a b"])
    assert checksum(["a b"]) != checksum(["a", "c"])


def test_paragraph_hashes_point_at_the_changed_paragraph() -> None:
    before = paragraph_hashes(["One.", "  ", "Two “quoted”.", "Three."])
    after = paragraph_hashes(["One.", 'Two "quoted".', "Three, edited."])
    assert len(before) == 3  # blank paragraphs are layout
    assert before[:2] == after[:2]
    assert before[2] != after[2]


def test_version_is_recorded() -> None:
    assert isinstance(NORMALIZER_VERSION, str) and NORMALIZER_VERSION


def test_fingerprint_is_checksum_and_hashes_together() -> None:
    paragraphs = ["One “two”.", "", "Three\u00a0four."]
    assert fingerprint(paragraphs) == (checksum(paragraphs), paragraph_hashes(paragraphs))


def test_dash_fold_guard_changes_nothing() -> None:
    """The dash fold runs only where it can match; random typography must give what running it
    unconditionally gives (the checksums of every stored capture depend on it)."""

    def unguarded(text: str) -> str:
        text = unicodedata.normalize("NFKC", text).translate(normalize._TABLE)
        text = normalize._CONTROL.sub("", normalize._SPACES.sub(" ", text))
        return re.sub(normalize._DASH_RUN, "-", normalize._SPACES.sub(" ", text).strip())

    alphabet = "ab -\u2013\u2014\u2212\u00a0\u2009\t\n\x1c\x1f\x85\u00ad\u200b\u3000"
    rng = random.Random(20260325)
    samples = ["".join(rng.choices(alphabet, k=rng.randint(0, 12))) for _ in range(20000)]
    differing = [s for s in samples if normalize_text(s) != unguarded(s)]
    assert differing == []


def test_fold_by_regex_is_the_translate_table() -> None:
    """The typography fold replaces only the characters its regex finds: on random text made
    of every character the table folds, the characters NFKC turns into them, Cyrillic, ASCII
    and white space, it gives what ``str.translate`` over the whole text gives."""

    def translated(text: str) -> str:
        if not text.isascii():  # as before: ASCII text ("`" included) is not folded
            text = unicodedata.normalize("NFKC", text).translate(normalize._TABLE)
        if not text.isprintable():
            text = normalize._CONTROL.sub("", normalize._SPACES.sub(" ", text))
        return re.sub(normalize._DASH_RUN, "-", normalize._SPACES.sub(" ", text).strip())

    folded = "".join(chr(code) for code in normalize._TABLE)
    # Characters whose compatibility form holds folded ones (NFKC runs first): found, not listed.
    composed = "".join(
        ch
        for ch in map(chr, range(0x00A0, 0x10000))
        if ch not in folded and any(c in folded for c in unicodedata.normalize("NFKC", ch))
    )
    assert len(folded) > 40
    alphabet = folded + composed + "абвгдеёжзий ЖЁ" + "ab -'\"." + "\u00a0\t\n\ufb01\uff21"
    rng = random.Random(20261206)
    samples = ["".join(rng.choices(alphabet, k=rng.randint(0, 40))) for _ in range(20000)]
    samples += [folded, composed, folded[::-1] + "ж"]
    differing = [s for s in samples if normalize_text(s) != translated(s)]
    assert differing == []

"""Normalization: fold what is typography, so checksums move only when the words do.

A checksum that changes when a page swaps straight quotes for curly ones, or re-wraps a paragraph,
cries wolf; drift detection is only as good as this fold. What is folded:

* Unicode compatibility forms (NFKC): ligatures, full-width letters, ``…`` -> ``...``;
* quote variants (curly, guillemet-free primes, low-9 quotes) -> ``'`` and ``"``;
* dash variants (hyphen, en/em dash, minus, bar), with the spaces around them;
* every kind of space, no-break space included, collapsed to one; soft hyphens and zero-width
  characters dropped; control characters dropped;
* paragraph reflow: :func:`checksum` hashes the paragraphs joined by one space, so splitting or
  joining paragraphs does not change it.

Case, letters (``ё`` stays ``ё``), digits and punctuation other than the above are content and stay.
``NORMALIZER_VERSION`` is stored with every extraction; bump it whenever the output of
:func:`normalize_text` changes for any input, because old checksums are then not comparable.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence

NORMALIZER_VERSION = "1"

# Characters that carry no content: soft hyphen, zero-width space/joiners, word joiner, BOM,
# left-to-right/right-to-left marks and embeddings.
_INVISIBLE = "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
_INVISIBLE += "".join(chr(c) for c in range(0x202A, 0x202F))
_INVISIBLE += "".join(chr(c) for c in range(0x2066, 0x206A))

_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u02bc\u02bb\u0060\u00b4"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\u301d\u301e"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d"

_TABLE = str.maketrans(
    {
        **{ch: None for ch in _INVISIBLE},
        **{ch: "'" for ch in _SINGLE_QUOTES},
        **{ch: '"' for ch in _DOUBLE_QUOTES},
        **{ch: "-" for ch in _DASHES},
    }
)
# The characters ``_TABLE`` folds, found by one regex: ``str.translate`` with a dict table
# looks up every character of the text (~35-60 µs a Cyrillic paragraph); most such
# paragraphs hold none or a few of these, so only those few are replaced (the same text).
_FOLDED = re.compile("[" + re.escape("".join(chr(code) for code in _TABLE)) + "]")
_FOLD_TO = {chr(code): chr(to) if isinstance(to, int) else to or "" for code, to in _TABLE.items()}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")
# "if—and", "if — and" and "if -- and" are one thing in print.
_DASH_RUN = re.compile(r"\s*-{2,}\s*|\s+-\s+|\s+-(?=\S)|(?<=\S)-\s+")


def normalize_text(text: str) -> str:
    """Fold the typography of one paragraph (or any string) to a canonical form."""
    if not text.isascii():  # the fold below only ever changes non-ASCII text, and it is costly
        text = unicodedata.normalize("NFKC", text)
        if _FOLDED.search(text) is not None:
            text = _FOLDED.sub(_fold_one, text)
    if not text.isprintable():
        text = _CONTROL.sub("", _SPACES.sub(" ", text))
    text = _SPACES.sub(" ", text).strip() if "  " in text else text.strip()
    # By now the only white space left is single " ", so the dash fold can match only where one
    # of these three pairs stands; most paragraphs hold hyphenated words and none of them.
    if "--" in text or " -" in text or "- " in text:
        return _DASH_RUN.sub("-", text)
    return text


def _fold_one(found: re.Match[str]) -> str:
    return _FOLD_TO[found.group()]


def normalize_paragraphs(paragraphs: Sequence[str]) -> tuple[str, ...]:
    """Normalized paragraphs, empty ones dropped (a blank paragraph is layout, not content)."""
    out = (normalize_text(p) for p in paragraphs)
    return tuple(p for p in out if p)


def _sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def checksum(paragraphs: Sequence[str]) -> str:
    """``sha256:<hex>`` over the normalized text with paragraph breaks folded to one space.

    Folding the breaks means a copy that splits a paragraph mid-sentence (or a page that joins
    two) hashes the same; a changed word does not.
    """
    return _sha256(" ".join(normalize_paragraphs(paragraphs)))


def paragraph_hashes(paragraphs: Sequence[str]) -> tuple[str, ...]:
    """One ``sha256:<hex>`` per non-empty normalized paragraph, so a diff can name a paragraph."""
    return tuple(_sha256(p) for p in normalize_paragraphs(paragraphs))


def fingerprint(paragraphs: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """``(checksum(paragraphs), paragraph_hashes(paragraphs))``, normalizing only once."""
    normalized = normalize_paragraphs(paragraphs)
    return _sha256(" ".join(normalized)), tuple(_sha256(p) for p in normalized)

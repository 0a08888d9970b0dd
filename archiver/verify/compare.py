"""Drift: compare a canonical copy with the live article, field by field and paragraph by paragraph.

Pure functions of a :class:`CanonicalCopy` and a :class:`Document`. The verdict words are the
contract's: ``unchanged`` (same text), ``cosmetic`` (same after normalization: typography and
paragraph breaks), ``edited`` (words, paragraphs, headline, subtitle or byline changed),
``rewritten`` (similarity below one half). ``missing`` and ``unreachable`` are decided before a
comparison is possible, from the fetch (see :func:`verdict_without_page`).
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left
from collections.abc import Sequence
from difflib import Match, SequenceMatcher
from itertools import compress

from archiver.extract.normalize import NORMALIZER_VERSION, checksum, normalize_text
from archiver.models import CanonicalCopy, Change, Document, Drift

REWRITE_THRESHOLD = 0.5
_CORRECTION = re.compile(
    r"^\s*(?:\*+\s*)?(?:correction|clarification|update|updated|editor'?s note|"
    r"this (?:article|story) (?:has been|was) (?:updated|corrected|amended))\b",
    re.IGNORECASE,
)
# Link statuses that mean the article's page is gone (any other failure: no verdict now).
_MISSING = frozenset({"not_found", "gone", "soft_404"})
#: The verdicts that mean the article drifted (what exit code 1 and reports count).
DRIFTED = frozenset({"edited", "rewritten", "missing"})


def _words(text: str) -> list[str]:
    return normalize_text(text).split()


def word_similarity(a: str, b: str) -> float:
    """Share of words two texts have in common, in order (difflib ratio over word lists)."""
    return align(_words(a), _words(b))[1]


def word_diff(a: str, b: str) -> list[tuple[str, str]]:
    """A word-level diff: a list of (op, text) with op one of ``=``, ``-``, ``+``."""
    wa, wb = a.split(), b.split()
    na, nb = [normalize_text(w) for w in wa], [normalize_text(w) for w in wb]
    out: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, na, nb, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append(("=", " ".join(wb[j1:j2])))
            continue
        if i2 > i1:
            out.append(("-", " ".join(wa[i1:i2])))
        if j2 > j1:
            out.append(("+", " ".join(wb[j1:j2])))
    return out


def _flatten(
    normalized: Sequence[str], split: dict[str, list[str]] | None = None
) -> tuple[list[str], list[int], list[int]]:
    """Words of all (normalized) paragraphs, the paragraph of each word, paragraph starts.

    ``split``: the words of paragraphs split before, by text, added to as this splits more
    (the two sides of a comparison share most of their paragraphs)."""
    words: list[str] = []
    owner: list[int] = []
    starts: list[int] = []
    for index, paragraph in enumerate(normalized):
        starts.append(len(words))
        found = split.get(paragraph) if split is not None else None
        if found is None:
            found = paragraph.split()
            if split is not None:
                split[paragraph] = found
        words.extend(found)
        owner.extend([index] * len(found))
    return words, owner, starts


def _whole(start: int, end: int, starts: list[int], total: int) -> bool:
    """Do the words [start, end) make up whole paragraphs (begin at one, end at one)?"""
    return start < end and start in starts and (end == total or end in starts)


def _touched(start: int, end: int, owner: list[int]) -> set[int]:
    """The paragraphs a word range touches; an empty range, the paragraph it sits in."""
    if not owner:
        return set()
    if start < end:
        return set(owner[start:end])
    return {owner[min(max(start - 1, 0), len(owner) - 1)]}


Opcode = tuple[str, int, int, int, int]

#: Words compared at once (as list slices, in C) while looking for where two texts part.
_STRIDE = 64


def _common_head(a: list[str], b: list[str]) -> int:
    """How many words ``a`` and ``b`` share at the start: a slice at a time, then a word."""
    limit = min(len(a), len(b))
    head = 0
    while head + _STRIDE <= limit and a[head : head + _STRIDE] == b[head : head + _STRIDE]:
        head += _STRIDE
    while head < limit and a[head] == b[head]:
        head += 1
    return head


def _common_tail(a: list[str], b: list[str], limit: int) -> int:
    """How many words ``a`` and ``b`` share at the end, at most ``limit``."""
    tail = 0
    end_a, end_b = len(a), len(b)
    while (
        tail + _STRIDE <= limit
        and a[end_a - tail - _STRIDE : end_a - tail] == b[end_b - tail - _STRIDE : end_b - tail]
    ):
        tail += _STRIDE
    while tail < limit and a[end_a - 1 - tail] == b[end_b - 1 - tail]:
        tail += 1
    return tail


class _Matcher(SequenceMatcher[str]):
    """``SequenceMatcher(None, a, b, autojunk=False)``, whose search for the longest match
    visits only the positions of ``a`` that hold a word of ``b``: the same matches, blocks
    and opcodes (tests/verify/test_compare.py holds it to difflib), at a fraction of the
    cost when the texts share few words (a rewritten article: difflib's own search walks
    every word of ``a`` at each step of its recursion, in Python).

    Without junk (no ``isjunk``, no ``autojunk``), at a position ``i`` whose word ``b``
    lacks, difflib's search records no run and forgets the runs before; so skipping such
    positions, and forgetting the runs whenever one was skipped, changes nothing."""

    # Set by SequenceMatcher (typeshed does not declare them).
    a: Sequence[str]
    b: Sequence[str]
    b2j: dict[str, list[int]]

    def __init__(self, a: Sequence[str], b: Sequence[str]) -> None:
        super().__init__(None, a, b, autojunk=False)
        # The positions of a's words found in b, ascending: one pass in C.
        self._hits = list(compress(range(len(a)), map(self.b2j.__contains__, a)))

    def find_longest_match(
        self, alo: int = 0, ahi: int | None = None, blo: int = 0, bhi: int | None = None
    ) -> Match:
        a, b, b2j = self.a, self.b, self.b2j
        if ahi is None:
            ahi = len(a)
        if bhi is None:
            bhi = len(b)
        besti, bestj, bestsize = alo, blo, 0
        runs: dict[int, int] = {}  # j -> length of the run of matches ending at (i - 1, j)
        previous = -2
        hits = self._hits
        for at in range(bisect_left(hits, alo), bisect_left(hits, ahi)):
            i = hits[at]
            if i != previous + 1:
                runs = {}  # a position between was skipped: no run goes through it
            previous = i
            known = runs.get
            new: dict[int, int] = {}
            for j in b2j[a[i]]:
                if j < blo:
                    continue
                if j >= bhi:
                    break
                k = new[j] = known(j - 1, 0) + 1
                if k > bestsize:
                    besti, bestj, bestsize = i - k + 1, j - k + 1, k
            runs = new
        # difflib then widens the match over equal neighbours; with no junk it never can
        # (a longer run would have been found), but the same steps keep the same answer.
        while besti > alo and bestj > blo and a[besti - 1] == b[bestj - 1]:
            besti, bestj, bestsize = besti - 1, bestj - 1, bestsize + 1
        while (
            besti + bestsize < ahi
            and bestj + bestsize < bhi
            and (a[besti + bestsize] == b[bestj + bestsize])
        ):
            bestsize += 1
        return Match(besti, bestj, bestsize)


def align(a: Sequence[str], b: Sequence[str]) -> tuple[list[Opcode], float]:
    """difflib opcodes and similarity ratio of two word lists, common ends trimmed first.

    Trimming the shared prefix and suffix first makes the usual case (a few edits in a long,
    mostly equal text) cost little more than a comparison of the two lists.
    """
    total = len(a) + len(b)
    a, b = list(a), list(b)
    if a == b:
        return ([("equal", 0, len(a), 0, len(b))] if a else []), 1.0
    head = _common_head(a, b)
    tail = _common_tail(a, b, min(len(a), len(b)) - head)
    middle = _Matcher(a[head : len(a) - tail], b[head : len(b) - tail])
    opcodes: list[Opcode] = []
    if head:
        opcodes.append(("equal", 0, head, 0, head))
    matched = head + tail
    for tag, i1, i2, j1, j2 in middle.get_opcodes():
        opcodes.append((tag, i1 + head, i2 + head, j1 + head, j2 + head))
        if tag == "equal":
            matched += i2 - i1
    if tail:
        opcodes.append(("equal", len(a) - tail, len(a), len(b) - tail, len(b)))
    return opcodes, (2.0 * matched / total if total else 1.0)


def _body_changes(canonical: Sequence[str], live: Sequence[str]) -> list[Change]:
    return body_diff(canonical, live)[0]


def body_diff(
    canonical: Sequence[str],
    live: Sequence[str],
    *,
    normalized: Sequence[str] | None = None,
    live_normalized: Sequence[str] | None = None,
) -> tuple[list[Change], float]:
    """The body's changes, and its similarity, from one word-level alignment of the whole text.

    Aligning words rather than paragraphs makes paragraph breaks irrelevant: a paragraph split
    or joined is not a change, and an edit next to a reflowed paragraph is still found as the
    word edit it is. Words removed or added that make up whole paragraphs are reported as a
    paragraph ``removed`` / ``added``; other differences as ``modified`` paragraphs (the
    paragraphs touched, on each side), merged when they touch the same paragraph.
    """
    split: dict[str, list[str]] = {}
    cw, cown, cstarts = _flatten(
        normalized if normalized is not None else [normalize_text(p) for p in canonical], split
    )
    lw, lown, lstarts = _flatten(
        live_normalized if live_normalized is not None else [normalize_text(p) for p in live],
        split,
    )
    # (kind, canonical paragraphs, live paragraphs)
    found: list[tuple[str, set[int], set[int]]] = []
    opcodes, similarity = align(cw, lw)
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            continue
        if tag == "delete" and _whole(i1, i2, cstarts, len(cw)):
            found.append(("removed", _touched(i1, i2, cown), set()))
        elif tag == "insert" and _whole(j1, j2, lstarts, len(lw)):
            found.append(("added", set(), _touched(j1, j2, lown)))
        else:
            found.append(("modified", _touched(i1, i2, cown), _touched(j1, j2, lown)))
    merged: list[tuple[str, set[int], set[int]]] = []
    for kind, cset, lset in found:
        if merged and kind == "modified" and merged[-1][0] == "modified":
            _, pc, pl = merged[-1]
            if pc & cset or pl & lset:
                merged[-1] = ("modified", pc | cset, pl | lset)
                continue
        merged.append((kind, cset, lset))
    changes: list[Change] = []
    for kind, cset, lset in merged:
        old = "\n\n".join(canonical[i] for i in sorted(cset)) if cset else None
        new = "\n\n".join(live[j] for j in sorted(lset)) if lset else None
        note = ""
        if kind == "added" and new is not None:
            at_end = max(lset) == len(live) - 1
            if _CORRECTION.match(new):
                # Called out: an editor's note changes what the article claims to have said.
                note = "correction note appended" if at_end else "correction note added"
        changes.append(Change(kind=kind, field="body", canonical=old, live=new, note=note))
    return changes, similarity


_OPTIONAL_ON_PAGE = frozenset({"subtitle", "caption", "credits"})


def _field_change(name: str, canonical: str | None, live: str | None) -> tuple[Change | None, bool]:
    """(a change if the field's words differ, whether it differs only cosmetically)."""
    if canonical is None:
        return None, False  # the copy does not keep this part: nothing to compare
    if not live and name in _OPTIONAL_ON_PAGE:
        # Many pages (and extraction profiles) have no subtitle or caption: its absence on the
        # page says nothing about an edit, and flagging it would be a false alarm on every
        # copy of such a site. A changed one is still found.
        return None, False
    if live is None:
        return Change(kind="modified", field=name, canonical=canonical, live=None), False
    if canonical == live:
        return None, False
    if normalize_text(canonical) == normalize_text(live):
        return None, True
    return Change(kind="modified", field=name, canonical=canonical, live=live), False


# Normalized forms of canonical texts known from the parse cache, keyed by the text itself (so
# a stale entry is impossible): a daily run over unchanged copies does not normalize them again.
_KNOWN: dict[tuple[str, ...], tuple[str, ...]] = {}
_KNOWN_LIMIT = 20_000


def remember_normalized(paragraphs: tuple[str, ...], normalized: Sequence[str]) -> None:
    """Record the normalized form of these paragraphs (from the parse cache)."""
    if len(normalized) != len(paragraphs):
        return
    if len(_KNOWN) >= _KNOWN_LIMIT:
        _KNOWN.clear()
    _KNOWN[paragraphs] = tuple(normalized)


def normalized_paragraphs(paragraphs: Sequence[str]) -> tuple[str, ...]:
    """Each paragraph through ``normalize_text`` (or what :func:`remember_normalized` knows)."""
    known = _KNOWN.get(tuple(paragraphs))
    return known if known is not None else tuple(normalize_text(p) for p in paragraphs)


def paragraph_hash(normalized: str) -> str:
    """``normalize.paragraph_hashes`` of one paragraph already normalized."""
    return "sha256:" + hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def live_normalized(live: Document, known: Sequence[str]) -> list[str]:
    """The live paragraphs normalized, reusing ``known`` normalized paragraphs (the canonical
    copy's) wherever the extraction's per-paragraph hash says the paragraph is the same: only
    the paragraphs that differ go through the normalizer again."""
    hashes = live.paragraph_hashes
    usable = live.normalizer == NORMALIZER_VERSION and len(hashes) == len(live.paragraphs)
    if not usable:
        return [normalize_text(p) for p in live.paragraphs]
    by_hash = {paragraph_hash(p): p for p in known if p}
    return [
        by_hash.get(digest) or normalize_text(paragraph)
        for digest, paragraph in zip(hashes, live.paragraphs, strict=True)
    ]


def _checksum_of_normalized(normalized: Sequence[str]) -> str:
    """``normalize.checksum`` of paragraphs already normalized (normalizing is idempotent,
    so this is the same value without normalizing twice)."""
    text = " ".join(p for p in normalized if p)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


_TIMESTAMP_LINE = re.compile(
    r"^\s*(?:last\s+)?(?:updated|modified|published|posted)\b\s*(?:on|at)?\s*:?\s*(.+)$",
    re.IGNORECASE,
)


def _is_timestamp_line(paragraph: str) -> bool:
    """A paragraph that is only an "Updated: <date, time>" line: page furniture, not text."""
    match = _TIMESTAMP_LINE.match(paragraph)
    if match is None or len(paragraph) >= 80:
        return False
    # Imported here: the reports import this module for word_diff, and --help should not load
    # the copy reader (canonical, fastparse) to list the commands.
    from archiver.verify.canonical import parse_date

    return parse_date(match.group(1)) is not None


def _without_timestamps(
    paragraphs: Sequence[str], normalized: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Paragraphs (and their normalized forms) with "Updated: ..." lines left out."""
    keep = [i for i, p in enumerate(paragraphs) if not _is_timestamp_line(p)]
    if len(keep) == len(paragraphs):
        return list(paragraphs), list(normalized)
    return [paragraphs[i] for i in keep], [normalized[i] for i in keep]


def _date_part(value: str | None) -> str | None:
    return value[:10] if value else None


def compare(
    canonical: CanonicalCopy, live: Document, *, normalized: Sequence[str] | None = None
) -> Drift:
    """The drift verdict of the live document against the canonical copy.

    ``normalized``: the copy's paragraphs already normalized (the parse cache, a worker's
    :class:`~archiver.parallel.tasks.ParsedCopy`), one per paragraph; the verdict is the same
    without it, only slower. A tuple of the wrong length is ignored.
    """
    changes: list[Change] = []
    cosmetic = False

    caption_live = live.images[0].caption if live.images else None
    credits_live = live.images[0].credits if live.images else None
    authors_canonical = ", ".join(canonical.authors) if canonical.authors else None
    authors_live = ", ".join(live.authors) if live.authors else None
    for name, old, new in (
        ("title", canonical.title, live.title),
        ("subtitle", canonical.subtitle, live.subtitle),
        ("authors", authors_canonical, authors_live),
        ("caption", canonical.caption, caption_live),
        ("credits", canonical.credits, credits_live),
    ):
        change, only_cosmetic = _field_change(name, old, new)
        cosmetic = cosmetic or only_cosmetic
        if change is not None:
            changes.append(change)

    published_live = _date_part(live.published)
    if canonical.published and published_live and canonical.published != published_live:
        changes.append(
            Change(
                kind="metadata",
                field="published",
                canonical=canonical.published,
                live=published_live,
            )
        )

    if normalized is None or len(normalized) != len(canonical.paragraphs):
        normalized = normalized_paragraphs(canonical.paragraphs)
    checksum_canonical = _checksum_of_normalized(normalized)
    if checksum_canonical == live.checksum:
        body_changes: list[Change] = []
        similarity = 1.0  # the same words: no alignment needed
    else:
        live_words = live_normalized(live, normalized)
        old_paragraphs, old_normalized = _without_timestamps(canonical.paragraphs, normalized)
        new_paragraphs, new_normalized = _without_timestamps(live.paragraphs, live_words)
        body_changes, similarity = body_diff(
            old_paragraphs,
            new_paragraphs,
            normalized=old_normalized,
            live_normalized=new_normalized,
        )
    changes.extend(body_changes)
    if not body_changes and list(canonical.paragraphs) != list(live.paragraphs):
        cosmetic = True
    if similarity < REWRITE_THRESHOLD:
        status = "rewritten"
    elif changes:
        status = "edited"
    elif cosmetic:
        status = "cosmetic"
    else:
        status = "unchanged"
    return Drift(
        status=status,
        similarity=round(similarity, 4),
        checksum_canonical=checksum_canonical,
        checksum_live=live.checksum,
        changes=tuple(changes),
    )


def verdict_without_page(canonical: CanonicalCopy, page_status: str, detail: str = "") -> Drift:
    """The verdict when the live page could not be compared: ``missing`` or ``unreachable``."""
    status = "missing" if page_status in _MISSING else "unreachable"
    note = detail or page_status
    return Drift(
        status=status,
        similarity=0.0,
        checksum_canonical=checksum(canonical.paragraphs),
        checksum_live=None,
        changes=(Change(kind="metadata", field="page", canonical=None, live=None, note=note),),
    )


def copy_of(document: Document, *, path: str = "<capture>") -> CanonicalCopy:
    """A document seen as a canonical copy, so one capture can be compared with another."""
    image = document.images[0] if document.images else None
    return CanonicalCopy(
        path=path,
        url=document.url or "",
        title=document.title,
        subtitle=document.subtitle,
        authors=document.authors,
        published=_date_part(document.published),
        caption=image.caption if image else None,
        credits=image.credits if image else None,
        paragraphs=document.paragraphs,
        links=document.links,
    )


def compare_documents(previous: Document, current: Document) -> Drift:
    """The drift of one capture against the one before it (same verdict words)."""
    return compare(copy_of(previous), current)

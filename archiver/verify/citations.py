"""Sources that drift: does a cited source still say what it said when it was first captured?

A canonical copy cites sources by linking them. A source can stay alive (HTTP 200, no link rot)
and still stop supporting the article: the passage it was cited for is edited away. Pure
functions of the citing context and two documents; the pipeline fetches and looks them up.

The *cited passage* is defined like this, because a link carries no quotation of its own:

1. the *context* is the canonical paragraph that holds the link (its anchor text and the words
   around it — that is what the author relied on the source for);
2. the passage is the paragraph of the source's **first** capture that shares the most content
   words (four letters or more) with that context, when it shares at least
   :data:`MIN_SHARED_WORDS`; otherwise the source's own first text (its first paragraph, or its
   title for a page with no body) stands for it;
3. the source *still contains* the passage when one of its paragraphs now, or a run of
   neighbouring paragraphs (a paragraph split or joined is not a change), has a word similarity
   of at least :data:`PASSAGE_KEPT` with it.

Verdicts (``status`` of a :class:`SourceDrift`): ``same`` (normalized text unchanged),
``changed`` (text changed, cited passage still there), ``passage_missing`` (alive, but the
passage is gone: flagged), ``first_capture`` (no earlier capture to compare with yet) and
``not_compared`` (no readable page now; the link check says why).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from archiver.extract.normalize import normalize_text
from archiver.models import Document

MIN_SHARED_WORDS = 3
PASSAGE_KEPT = 0.8
_CONTENT_WORD = re.compile(r"\w{4,}")
FLAGGED = frozenset({"passage_missing"})
#: Verdicts that compared two captures (the ones the archive keeps).
COMPARED = frozenset({"same", "changed", "passage_missing"})


@dataclass(frozen=True, kw_only=True)
class SourceDrift:
    """How one linked source compares with its first capture."""

    url: str
    text: str  # the anchor text of the link
    status: str  # same | changed | passage_missing | first_capture | not_compared
    similarity: float | None = None  # whole text, first capture vs now
    passage: str | None = None  # the cited passage, from the first capture
    first_capture_id: int | None = None
    capture_id: int | None = None
    detail: str = ""

    @property
    def flagged(self) -> bool:
        return self.status in FLAGGED

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "text": self.text,
            "status": self.status,
            "flagged": self.flagged,
            "similarity": self.similarity,
            "passage": self.passage,
            "first_capture_id": self.first_capture_id,
            "capture_id": self.capture_id,
            "detail": self.detail,
        }


def _content_words(text: str) -> set[str]:
    return {w.casefold() for w in _CONTENT_WORD.findall(normalize_text(text))}


def citing_context(paragraphs: Sequence[str], anchor: str) -> str:
    """The canonical paragraph that holds the link's anchor text (or the anchor alone)."""
    needle = normalize_text(anchor).casefold()
    if needle:
        for paragraph in paragraphs:
            if needle in normalize_text(paragraph).casefold():
                return paragraph
    return anchor


def cited_passage(first: Document, context: str) -> str | None:
    """The passage of the source's first capture the context relies on (see the module doc)."""
    wanted = _content_words(context)
    best, best_shared = None, 0
    for paragraph in first.paragraphs:
        shared = len(wanted & _content_words(paragraph))
        if shared > best_shared:
            best, best_shared = paragraph, shared
    if best is not None and best_shared >= MIN_SHARED_WORDS:
        return best
    if first.paragraphs:
        return first.paragraphs[0]
    return first.title


def _words(text: str) -> list[str]:
    return normalize_text(text).casefold().split()


def contains_passage(document: Document, passage: str) -> bool:
    """Whether the document still holds the passage (alone, or over neighbouring paragraphs)."""
    wanted = _words(passage)
    if not wanted:
        return True
    if " ".join(wanted) in " ".join(_words(document.text)):
        return True
    pieces = [*document.paragraphs, document.title or ""]
    for start in range(len(pieces)):
        window: list[str] = []
        for piece in pieces[start : start + 3]:
            window.extend(_words(piece))
            ratio = SequenceMatcher(None, wanted, window, autojunk=False).ratio()
            if ratio >= PASSAGE_KEPT:
                return True
            if len(window) > 2 * len(wanted):
                break
    return False


def source_drift(
    *,
    url: str,
    anchor: str,
    context: str,
    first: Document | None,
    now: Document | None,
    first_capture_id: int | None = None,
    capture_id: int | None = None,
) -> SourceDrift:
    """Compare a source now with its first capture, for the passage the context cites."""
    common: dict[str, Any] = {
        "url": url,
        "text": anchor,
        "first_capture_id": first_capture_id,
        "capture_id": capture_id,
    }
    if now is None:
        return SourceDrift(status="not_compared", detail="no readable page now", **common)
    if first is None or first_capture_id == capture_id:
        return SourceDrift(status="first_capture", detail="no earlier capture yet", **common)
    passage = cited_passage(first, context)
    if first.checksum == now.checksum:
        return SourceDrift(status="same", similarity=1.0, passage=passage, **common)
    similarity = round(
        SequenceMatcher(None, _words(first.text), _words(now.text), autojunk=False).ratio(), 4
    )
    if passage is None or contains_passage(now, passage):
        return SourceDrift(
            status="changed",
            similarity=similarity,
            passage=passage,
            detail="text changed; the cited passage is still there",
            **common,
        )
    return SourceDrift(
        status="passage_missing",
        similarity=similarity,
        passage=passage,
        detail="alive, but no longer contains the passage it was cited for",
        **common,
    )

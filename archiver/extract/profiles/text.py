"""Text helpers shared by the profiles and the head reader: whitespace folding, de-duplication."""

from __future__ import annotations

import re
from collections.abc import Iterable

_WS = re.compile(r"[ \t\n\r\f]+")  # HTML's whitespace; a no-break space is text
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(text: str | None) -> str:
    """HTML whitespace folding: runs of whitespace become one space; control characters go."""
    if not text:
        return ""
    if not text.isprintable():  # C-speed check; most text has no control characters
        text = _CONTROL.sub("", _WS.sub(" ", text))
    return _WS.sub(" ", text).strip() if "  " in text else text.strip()


def dedupe(items: Iterable[str]) -> list[str]:
    """Items in first-seen order without repeats or empties."""
    seen: dict[str, None] = {}
    for item in items:
        if item and item not in seen:
            seen[item] = None
    return list(seen)

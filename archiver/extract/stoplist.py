"""justext's stoplist made once a process instead of once a page.

trafilatura falls back to justext on a short or unclean page and hands it, when the page's
language is not set, the union of every language's stoplist (154,484 words, one tuple built
once). justext's ``classify_paragraphs`` turns the stoplist into a lower-cased frozenset on
*every* call (``justext.core.define_stoplist``): measured here, 3.9 ms of the 5.9 ms a short
page costs to extract, two thirds of a scheduled run's extraction CPU. The set depends only on
the stoplist, so :func:`build_once` makes ``define_stoplist`` keep it for an immutable stoplist
(a tuple or a frozenset) it has seen; a list, which could change, is converted every time as
before. The words, and so every extraction, are the same (``tests/extract/test_stoplist.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import justext.core

_lock = threading.Lock()
_built: dict[int, tuple[object, frozenset[str]]] = {}  # id(stoplist) -> (stoplist, its set)


def build_once() -> None:
    """Make ``justext.core.define_stoplist`` build each immutable stoplist's set once."""
    current: Any = justext.core.define_stoplist
    if getattr(current, "archiver_once", False):
        return
    justext.core.define_stoplist = _once(current)


def _once(define: Callable[[Iterable[str]], frozenset[str]]) -> Callable[..., frozenset[str]]:
    def define_stoplist(stoplist: Iterable[str]) -> frozenset[str]:
        if not isinstance(stoplist, tuple | frozenset):
            return define(stoplist)
        with _lock:
            kept = _built.get(id(stoplist))
        if kept is not None and kept[0] is stoplist:
            return kept[1]
        words = define(stoplist)
        with _lock:
            _built[id(stoplist)] = (stoplist, words)  # the stoplist kept: its id stays its own
        return words

    define_stoplist.archiver_once = True  # type: ignore[attr-defined]
    define_stoplist.archiver_original = define  # type: ignore[attr-defined]
    return define_stoplist

"""A verify job puts off full collections while it runs, and only those."""

from __future__ import annotations

import gc
import weakref

from archiver.verify.heap import OLD_GENERATION_THRESHOLD, few_full_collections


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: freed only by the collector


def test_threshold_raised_inside_and_restored_after() -> None:
    before = gc.get_threshold()
    with few_full_collections():
        young, middle, old = gc.get_threshold()
        assert (young, middle) == before[:2]
        assert old >= OLD_GENERATION_THRESHOLD > before[2]
    assert gc.get_threshold() == before


def test_restored_after_an_error() -> None:
    before = gc.get_threshold()
    try:
        with few_full_collections():
            raise KeyError("x")
    except KeyError:
        pass
    assert gc.get_threshold() == before


def test_young_cycles_still_collected() -> None:
    """A short-lived cycle is freed by the young collections, which run as before."""
    assert gc.isenabled()
    with few_full_collections():
        node = _Node()
        ref = weakref.ref(node)
        del node
        kept = [[] for _ in range(100_000)]  # live allocations: many young collections
        assert ref() is None
        assert len(kept) == 100_000

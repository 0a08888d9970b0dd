"""map_ordered: results in input order, chunks bounded in flight, input read lazily."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

import pytest

from archiver.errors import JobError
from archiver.parallel.executor import InlineExecutor
from archiver.parallel.ordered import MAX_CHUNK, chunk_size, map_ordered


def _slow_square(batch: list[int]) -> list[int]:
    time.sleep(random.uniform(0, 0.01))  # chunks finish out of order in a pool
    return [n * n for n in batch]


class _Counting(Executor):
    """Wraps a pool and records the most chunks submitted and not yet taken back."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self.live = 0
        self.most = 0
        self.lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self.lock:
            self.live += 1
            self.most = max(self.most, self.live)
        return self.inner.submit(fn, *args, **kwargs)

    def taken(self) -> None:
        with self.lock:
            self.live -= 1


def test_results_in_input_order_from_a_pool() -> None:
    with ThreadPoolExecutor(4) as pool:
        out = list(map_ordered(pool, _slow_square, range(1000), chunk=7, in_flight=6))
    assert out == [n * n for n in range(1000)]


def test_in_flight_chunks_and_input_read_are_bounded() -> None:
    drawn = 0

    def source() -> Iterator[int]:
        nonlocal drawn
        for n in range(2_000):
            drawn += 1
            yield n

    with ThreadPoolExecutor(4) as pool:
        counting = _Counting(pool)
        results = map_ordered(counting, _slow_square, source(), chunk=10, in_flight=3)
        for index, value in enumerate(results):
            assert value == index * index
            if index % 10 == 9:
                counting.taken()  # a chunk fully consumed
            # never more than in_flight chunks (+ the one being read) taken from the input
            assert drawn <= (index // 10 + 1 + 3) * 10
    assert counting.most <= 4  # in_flight, plus the one submitted as a chunk is handed back
    assert drawn == 2_000


def test_inline_executor_gives_the_same() -> None:
    out = list(map_ordered(InlineExecutor(), _slow_square, range(25), chunk=4))
    assert out == [n * n for n in range(25)]
    assert list(map_ordered(InlineExecutor(), _slow_square, [], chunk=4)) == []


def _fails_on_13(batch: list[int]) -> list[int]:
    if 13 in batch:
        raise ValueError("thirteen")
    return batch


def test_an_error_comes_at_its_turn_and_early_exit_cancels() -> None:
    with ThreadPoolExecutor(2) as pool:
        seen: list[int] = []
        with pytest.raises(ValueError, match="thirteen"):
            for value in map_ordered(pool, _fails_on_13, range(100), chunk=5):
                seen.append(value)
        assert seen == list(range(10))  # the chunks before the failing one were all yielded

        started: list[int] = []

        def record(batch: list[int]) -> list[int]:
            started.append(batch[0])
            time.sleep(0.01)
            return batch

        results = map_ordered(pool, record, range(1000), chunk=10, in_flight=2)
        assert next(results) == 0
        results.close()
        time.sleep(0.05)
        assert len(started) <= 4  # nothing more after the consumer stopped


def _wrong_length(batch: list[int]) -> list[int]:
    return batch[:-1]


def test_a_batch_that_loses_items_is_a_job_error() -> None:
    with pytest.raises(JobError, match="gave 2 results for 3 items"):
        list(map_ordered(InlineExecutor(), _wrong_length, range(3), chunk=3))
    with pytest.raises(ValueError):
        list(map_ordered(InlineExecutor(), _wrong_length, range(3), chunk=0))


def test_chunk_size() -> None:
    # 1 ms items: 200 per chunk by overhead (0.2 s); 10,000 items over 2 workers allow more
    assert chunk_size(10_000, 2, item_seconds=0.001) == 200
    # few items: every worker still gets several chunks
    assert chunk_size(40, 2, item_seconds=0.001) == 5
    # very cheap items: capped
    assert chunk_size(10**6, 2, item_seconds=1e-7) == MAX_CHUNK
    assert chunk_size(0, 2, item_seconds=0.001) == 1
    assert chunk_size(1, 8, item_seconds=1.0) == 1


def test_chunks_with_nothing_to_send_are_done_here_in_order() -> None:
    """``here``: a chunk of items already done elsewhere costs no round trip to the pool."""
    sent: list[list[int]] = []

    class Recording(InlineExecutor):
        def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
            sent.append(list(args[0]))
            return super().submit(fn, *args, **kwargs)

    items = [0, 0, 0, 0, 3, 0, 5, 6, 0, 0]  # 0: nothing to send
    got = list(map_ordered(Recording(), _slow_square, items, chunk=2, here=lambda b: not any(b)))
    assert got == [n * n for n in items]
    assert sent == [[3, 0], [5, 6]]

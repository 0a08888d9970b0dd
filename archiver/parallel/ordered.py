"""Send work to an executor in chunks; take the results back in input order, bounded.

:func:`map_ordered` keeps at most ``in_flight`` chunks submitted at once and yields each
chunk's results, in the order of the input, as soon as that chunk (and every one before it)
is done. The caller, the one writer, stores a result while the workers compute the next
ones; memory holds at most ``in_flight`` chunks of inputs and results, however many items
the iterable yields (it is read lazily).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future
from typing import TypeVar

from archiver.errors import JobError

In = TypeVar("In")
Out = TypeVar("Out")

#: Aim for chunks of at least this much work. Measured (bench/scale.py, 2 cores, loaded): a
#: process pool parsing and comparing copies spent 40 % more CPU with chunks of 15 copies
#: (~20 ms) than with 150 (~0.2 s), and gave 503 against 1,309 copies/s: each round trip
#: wakes the pool's feeder and result threads in the parent, which a busy machine makes dear.
CHUNK_SECONDS = 0.2
#: Chunks to keep submitted per worker: one running, the next ones already pickled.
IN_FLIGHT_PER_WORKER = 4
MAX_CHUNK = 512


def chunk_size(count: int, workers: int, *, item_seconds: float, chunks_per_worker: int = 4) -> int:
    """Items per chunk: big enough that a chunk is ``CHUNK_SECONDS`` of work, small enough
    that each worker gets ``chunks_per_worker`` chunks (so a slow chunk does not leave the
    others idle at the end), never more than ``MAX_CHUNK``."""
    if count <= 0:
        return 1
    by_overhead = max(1, round(CHUNK_SECONDS / item_seconds)) if item_seconds > 0 else MAX_CHUNK
    by_balance = max(1, -(-count // (max(1, workers) * chunks_per_worker)))
    return max(1, min(by_overhead, by_balance, MAX_CHUNK))


def map_ordered(
    executor: Executor,
    fn: Callable[[list[In]], Sequence[Out]],
    items: Iterable[In],
    *,
    chunk: int,
    in_flight: int = 2 * IN_FLIGHT_PER_WORKER,
    here: Callable[[list[In]], bool] | None = None,
) -> Iterator[Out]:
    """``fn(chunk)`` for consecutive chunks of ``items``, results yielded one by one in order.

    ``fn`` is a batch task (a list in, a list of the same length out). An exception from a
    chunk is raised here when its turn comes; leaving the loop early cancels what has not
    started. ``here(chunk)`` true: that chunk has nothing worth a round trip (every item
    already done elsewhere) and ``fn`` runs on it in this thread.
    """
    if chunk < 1 or in_flight < 1:
        raise ValueError(f"chunk and in_flight must be at least 1 (got {chunk}, {in_flight})")
    source = iter(items)
    pending: deque[tuple[int, Future[Sequence[Out]]]] = deque()

    def submit_next() -> bool:
        batch = list(itertools.islice(source, chunk))
        if not batch:
            return False
        if here is not None and here(batch):
            future: Future[Sequence[Out]] = Future()
            future.set_result(fn(batch))
        else:
            future = executor.submit(fn, batch)
        pending.append((len(batch), future))
        return True

    try:
        while len(pending) < in_flight and submit_next():
            pass
        while pending:
            expected, future = pending.popleft()
            results = future.result()
            submit_next()  # keep the workers busy while the caller handles these results
            if len(results) != expected:
                raise JobError(f"a batch task gave {len(results)} results for {expected} items")
            yield from results
    finally:
        for _, future in pending:
            future.cancel()
